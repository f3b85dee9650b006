// Package redact keeps secrets out of what inquir shows: it replaces every
// configured key secret and every value a function's env resolves to with
// "[redacted]", in error text the built-in endpoints show and, through
// Writer, in every line of the log.
//
// It is the last defence: the code that writes a log line or an error is
// meant never to hold a secret in the first place, but a function's own
// error text (an init error quoting its database password) is beyond
// inquir's reach until it is shown.
package redact

import (
	"bytes"
	"encoding/json"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/inquir-dev/inquir/emulator/config"
)

// Mask is what a secret is replaced with.
const Mask = "[redacted]"

// MinLen is the shortest value that is redacted, in bytes. Shorter values
// are left alone: a function's env commonly holds "1", "true", "info" or a
// port, and replacing every "true" or "8080" in the log would make it
// unreadable while hiding nothing worth hiding. A key secret shorter than
// this is a configuration lint warns about, not one the log can protect.
const MinLen = 6

// Redactor replaces known secrets in text. The zero value is not usable;
// call New. A nil *Redactor redacts nothing, so optional wiring stays simple.
// It is safe for concurrent use.
//
// Values are only ever added: a secret rotated out of the config, or a
// revoked one, stays a secret, and a log line that quotes it still hides it.
type Redactor struct {
	mu     sync.Mutex // serializes Add
	values map[string]bool
	repl   atomic.Pointer[strings.Replacer]
}

// New returns a Redactor that knows no secrets yet.
func New() *Redactor {
	r := &Redactor{values: map[string]bool{}}
	r.repl.Store(strings.NewReplacer())
	return r
}

// Add teaches the Redactor values to hide. Values shorter than MinLen are
// ignored. Each value is also hidden as strconv.Quote and JSON would escape
// it, since log lines quote values that hold spaces, quotes or control
// characters.
func (r *Redactor) Add(values ...string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	changed := false
	for _, v := range values {
		if len(v) < MinLen {
			continue
		}
		for _, form := range forms(v) {
			if !r.values[form] {
				r.values[form] = true
				changed = true
			}
		}
	}
	if !changed {
		return
	}
	all := make([]string, 0, len(r.values))
	for v := range r.values {
		all = append(all, v)
	}
	// strings.Replacer tries its patterns in argument order at each
	// position: the longest first, so a secret that contains another is
	// hidden whole rather than leaving its tail behind.
	sort.Slice(all, func(i, j int) bool {
		if len(all[i]) != len(all[j]) {
			return len(all[i]) > len(all[j])
		}
		return all[i] < all[j]
	})
	pairs := make([]string, 0, 2*len(all))
	for _, v := range all {
		pairs = append(pairs, v, Mask)
	}
	r.repl.Store(strings.NewReplacer(pairs...))
}

// forms are the spellings of v that text may hold: v itself, and v as Go
// quoting (slog's text handler) and JSON escape it, without the quotes.
func forms(v string) []string {
	out := []string{v}
	q := strconv.Quote(v)
	if q = q[1 : len(q)-1]; q != v {
		out = append(out, q)
	}
	if b, err := json.Marshal(v); err == nil {
		if j := string(b[1 : len(b)-1]); j != v && j != q {
			out = append(out, j)
		}
	}
	return out
}

// Update adds every secret cfg can resolve now: each key's env:, file: and
// literal secrets (a sha256: entry has no plaintext), and every value of
// each function's env, resolved as the runtimes resolve it when a worker
// starts. A reference that does not resolve (an unset variable, a missing
// file) is skipped: it has no value to leak. Call it whenever a config is
// put in force.
func (r *Redactor) Update(cfg *config.Config) {
	if r == nil || cfg == nil {
		return
	}
	var values []string
	for _, k := range cfg.Keys {
		for _, s := range k.Secrets {
			switch s.Kind {
			case config.SecretLiteral:
				values = append(values, s.Value)
			case config.SecretEnv:
				if v, ok := config.LookupEnv(s.Value); ok {
					values = append(values, v)
				}
			case config.SecretFile:
				if v, err := config.ResolveValue("", "file:"+s.Value); err == nil {
					values = append(values, v)
				}
			}
		}
	}
	for _, f := range cfg.Functions {
		for _, ref := range f.Env {
			if v, err := config.ResolveValue(f.Dir, ref); err == nil {
				values = append(values, v)
			}
		}
	}
	r.Add(values...)
}

// String returns s with every known secret replaced by Mask.
func (r *Redactor) String(s string) string {
	if r == nil {
		return s
	}
	return r.repl.Load().Replace(s)
}

// maxLine is how much of a line Writer holds while waiting for its end. A
// longer line is redacted and written in pieces; a secret that straddles a
// piece boundary could then pass, which is why it is far longer than any
// line inquir or a sane function writes.
const maxLine = 256 << 10

// Writer returns an io.Writer that redacts whole lines before writing them
// to w: a secret split across two Write calls is still found. A partial
// last line is held until its newline arrives (or Flush). It is safe for
// concurrent use; each line reaches w in one Write.
func (r *Redactor) Writer(w io.Writer) *Writer { return &Writer{r: r, w: w} }

// Writer is the io.Writer that Redactor.Writer returns.
type Writer struct {
	r   *Redactor
	w   io.Writer
	mu  sync.Mutex
	buf []byte // the start of a line whose end has not arrived
}

// Write redacts and writes every complete line of p, holding back the rest.
// It reports len(p) written unless w fails.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	end := bytes.LastIndexByte(w.buf, '\n') + 1
	if end == 0 && len(w.buf) < maxLine {
		return len(p), nil
	}
	if end == 0 {
		end = len(w.buf)
	}
	_, err := io.WriteString(w.w, w.r.String(string(w.buf[:end])))
	w.buf = append(w.buf[:0], w.buf[end:]...)
	if err != nil {
		return 0, err
	}
	return len(p), nil
}

// Flush redacts and writes a held partial line, if any.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) == 0 {
		return nil
	}
	_, err := io.WriteString(w.w, w.r.String(string(w.buf)))
	w.buf = w.buf[:0]
	return err
}
