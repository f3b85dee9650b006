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
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf16"

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

// MinLineLen is the shortest line of a multi-line value that is redacted
// on its own, in bytes, after trimming spaces. The log is redacted a line at
// a time, so a PEM key a function prints arrives one line per log line and
// never matches whole: each of its lines must be a secret of its own. But
// the short lines of such a value are not secret, and hiding them would
// blank them wherever they appear: an empty line, "}" or "[default]" from a
// credentials file, "users:" from a kubeconfig. 16 keeps every base64 line
// of a PEM body (64 characters; only the last is shorter, and a last line
// under 16 characters gives away at most 11 bytes) and the lines of a
// credentials file that hold a value, and leaves out the structure around
// them. The armor lines of a PEM ("-----BEGIN PRIVATE KEY-----", 25 to 40
// characters) are identical in every PEM of their type, so they are left
// out by their shape (RFC 7468 section 2), not by their length.
const MinLineLen = 16

// Redactor replaces known secrets in text. The zero value is not usable;
// call New. A nil *Redactor redacts nothing, so optional wiring stays simple.
// It is safe for concurrent use.
//
// Values are only ever added: a secret rotated out of the config, or a
// revoked one, stays a secret, and a log line that quotes it still hides it.
type Redactor struct {
	mu     sync.Mutex // serializes Add
	values map[string]bool
	m      atomic.Pointer[matcher]
}

// matcher is the compiled set of spellings to hide.
type matcher struct {
	repl *strings.Replacer
	// heads has a bit set for the hash of the first headLen bytes of each
	// spelling. Most log lines hold no secret, and a scan of the line
	// against heads says so without the Replacer's work and allocations;
	// a line with a set bit, a likely secret, goes to the Replacer.
	heads [1 << headBits / 64]uint64
}

// headLen is how many leading bytes of a spelling heads hashes; every
// spelling is at least MinLen bytes long.
const headLen = 4

// headBits is the size of the hash heads keeps: 8 KiB of bits, so that a
// few hundred spellings leave a line's chance of a false hit small.
const headBits = 16

// head hashes the 4 bytes of x (little-endian) to headBits bits.
func head(x uint32) uint32 { return x * 0x9e3779b1 >> (32 - headBits) }

// mayHold reports whether s may hold a spelling: false means it holds none.
func (m *matcher) mayHold(s string) bool {
	if len(s) < headLen {
		return false
	}
	x := uint32(s[0]) | uint32(s[1])<<8 | uint32(s[2])<<16
	for i := headLen - 1; i < len(s); i++ {
		x = x&0xffffff | uint32(s[i])<<24
		if h := head(x); m.heads[h/64]&(1<<(h%64)) != 0 {
			return true
		}
		x >>= 8
	}
	return false
}

// New returns a Redactor that knows no secrets yet.
func New() *Redactor {
	r := &Redactor{values: map[string]bool{}}
	r.m.Store(&matcher{repl: strings.NewReplacer()})
	return r
}

// Add teaches the Redactor values to hide. Values shorter than MinLen are
// ignored. Each value is also hidden as strconv.Quote and JSON encoders
// escape it (see spellings), since log lines quote values that hold spaces,
// quotes or control characters, and functions print JSON. Each line of a
// multi-line value at least MinLineLen long, other than a PEM's armor, is
// hidden on its own too.
func (r *Redactor) Add(values ...string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	changed := false
	learn := func(v string) {
		for _, s := range spellings(v) {
			if !r.values[s] {
				r.values[s] = true
				changed = true
			}
		}
	}
	for _, v := range values {
		if len(v) < MinLen {
			continue
		}
		learn(v)
		if !strings.ContainsAny(v, "\n\r") {
			continue
		}
		for line := range strings.Lines(strings.ReplaceAll(v, "\r", "\n")) {
			line = strings.TrimSpace(line)
			if len(line) >= MinLineLen && !isArmor(line) {
				learn(line)
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
	m := &matcher{}
	pairs := make([]string, 0, 2*len(all))
	for _, v := range all {
		pairs = append(pairs, v, Mask)
		h := head(uint32(v[0]) | uint32(v[1])<<8 | uint32(v[2])<<16 | uint32(v[3])<<24)
		m.heads[h/64] |= 1 << (h % 64)
	}
	m.repl = strings.NewReplacer(pairs...)
	r.m.Store(m)
}

// spellings are the ways text may spell v: v itself, and v as Go quoting
// (slog's text handler) and the JSON encoders functions use would escape it,
// without the quotes. Most values have no character any of them escapes, and
// so one spelling.
func spellings(v string) []string {
	out := []string{v}
	add := func(s string) {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	q := strconv.Quote(v)
	add(q[1 : len(q)-1])
	// encoding/json, as json.Marshal escapes (<, > and & as \u003c...) and
	// as an Encoder with SetEscapeHTML(false) does.
	for _, html := range []bool{true, false} {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(html)
		if enc.Encode(v) == nil {
			j := bytes.TrimSuffix(b.Bytes(), []byte("\n"))
			add(string(j[1 : len(j)-1]))
		}
	}
	add(jsonEscape(v, false)) // JavaScript's JSON.stringify
	add(jsonEscape(v, true))  // Python's json.dumps, ensure_ascii by default
	return out
}

// jsonEscape escapes s as JSON.stringify does (ECMA-262, QuoteJSONString):
// the quote, the backslash and the control characters, \b, \f, \n, \r and
// \t by their short escapes; with ascii, also DEL and every non-ASCII
// character, as \uXXXX UTF-16 units (Python's json.dumps, ensure_ascii).
func jsonEscape(s string, ascii bool) string {
	var b strings.Builder
	for _, c := range s {
		switch c {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if c >= 0x20 && (!ascii || c < 0x7f) {
				b.WriteRune(c)
				continue
			}
			for _, u := range utf16.Encode([]rune{c}) {
				fmt.Fprintf(&b, `\u%04x`, u)
			}
		}
	}
	return b.String()
}

// isArmor reports whether line is a PEM encapsulation boundary, such as
// "-----BEGIN PRIVATE KEY-----" (RFC 7468 section 2; OpenPGP's armor has the
// same shape): alike in every PEM of its type, and no secret.
func isArmor(line string) bool {
	return len(line) > 10 && strings.HasPrefix(line, "-----") && strings.HasSuffix(line, "-----")
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
	m := r.m.Load()
	if !m.mayHold(s) {
		return s
	}
	return m.repl.Replace(s)
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
	held := len(w.buf)
	w.buf = append(w.buf, p...)
	// Only p can hold a newline: what was held had none. Scanning the whole
	// buffer would make a long line written a few bytes at a time cost the
	// square of its length.
	end := 0
	if i := bytes.LastIndexByte(p, '\n'); i >= 0 {
		end = held + i + 1
	}
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
