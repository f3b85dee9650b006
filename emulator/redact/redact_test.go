package redact

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/inquir-dev/inquir/emulator/config"
)

func TestString(t *testing.T) {
	r := New()
	r.Add("hunter2-db-password", "hunter2", "1", "true", `quo"te-secret`)
	tests := []struct{ name, in, want string }{
		{"plain", "connect: password hunter2-db-password refused", "connect: password [redacted] refused"},
		{"the longer secret wins", "hunter2-db-password/hunter2", "[redacted]/[redacted]"},
		{"short values are left alone", "retry=1 ok=true", "retry=1 ok=true"},
		{"Go-quoted form", `error="bad quo\"te-secret"`, `error="bad [redacted]"`},
		{"nothing to hide", "all well", "all well"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := r.String(tt.in); got != tt.want {
				t.Errorf("String(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
	var nilR *Redactor
	if got := nilR.String("hunter2-db-password"); got != "hunter2-db-password" {
		t.Errorf("a nil Redactor changed the text: %q", got)
	}
}

func TestUpdate(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "key")
	if err := os.WriteFile(keyFile, []byte("file-key-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "db.pass"), []byte("file-env-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("REDACT_TEST_KEY", "env-key-secret")
	t.Setenv("REDACT_TEST_ENV", "env-env-secret")
	cfg := &config.Config{
		Keys: []config.Key{{ID: "k", Secrets: []config.SecretRef{
			{Kind: config.SecretLiteral, Value: "literal-key-secret"},
			{Kind: config.SecretEnv, Value: "REDACT_TEST_KEY"},
			{Kind: config.SecretFile, Value: keyFile},
			{Kind: config.SecretFile, Value: filepath.Join(dir, "gone")}, // revoked: nothing to hide
			{Kind: config.SecretSHA256, Value: strings.Repeat("ab", 32)},
		}}},
		Functions: []config.Function{{Name: "f", Dir: dir, Env: map[string]string{
			"PLAIN": "plain-env-secret",
			"FROM":  "env:REDACT_TEST_ENV",
			"FILE":  "file:db.pass",
			"LEVEL": "info",
		}}},
	}
	r := New()
	r.Update(cfg)
	in := "literal-key-secret env-key-secret file-key-secret plain-env-secret env-env-secret file-env-secret level=info"
	want := "[redacted] [redacted] [redacted] [redacted] [redacted] [redacted] level=info"
	if got := r.String(in); got != want {
		t.Errorf("String = %q, want %q", got, want)
	}

	// A later config without the values keeps them hidden: a rotated-out
	// secret is still a secret.
	r.Update(&config.Config{})
	if got := r.String(in); got != want {
		t.Errorf("after a reload String = %q, want %q", got, want)
	}
}

func TestWriterSplitsAndLog(t *testing.T) {
	r := New()
	r.Add("s3cr3t-value")
	var out bytes.Buffer
	w := r.Writer(&out)
	// A secret split across writes is still found: lines are redacted whole.
	for _, p := range []string{"first s3c", "r3t-value line\nsecond ", "s3cr3t-value", "\npartial s3cr3t-val", "ue"} {
		if _, err := w.Write([]byte(p)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	want := "first [redacted] line\nsecond [redacted]\npartial [redacted]"
	if out.String() != want {
		t.Errorf("got %q, want %q", out.String(), want)
	}

	// slog's text handler quotes a value with spaces; the secret is found in it.
	out.Reset()
	log := slog.New(slog.NewTextHandler(w, nil))
	log.Error("init failed", "error", "dial db: password s3cr3t-value rejected")
	if strings.Contains(out.String(), "s3cr3t") || !strings.Contains(out.String(), "[redacted]") {
		t.Errorf("log line not redacted: %q", out.String())
	}
}

func TestWriterConcurrent(t *testing.T) {
	r := New()
	r.Add("s3cr3t-value")
	var out bytes.Buffer
	w := r.Writer(&out)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 100; j++ {
				_, _ = w.Write([]byte("line s3cr3t-value end\n"))
			}
		}()
	}
	wg.Wait()
	for _, line := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
		if line != "line [redacted] end" {
			t.Fatalf("line %q", line)
		}
	}
}

// tricky is a secret with every kind of character a JSON encoder escapes
// one way or another: a quote and a backslash, HTML's <>&, non-ASCII (é and
// an emoji beyond the BMP), control characters with a short escape (\t) and
// without one, U+2028 and DEL.
const tricky = "tr1cky-s3cr3t\"q\\b<s>&é🔑\x01\t\u2028\x7fend"

// TestJSONSpellings: a function that JSON-quotes a secret in its output
// writes it escaped; every common encoder's spelling is hidden (issue 22).
// The spellings are written out as each encoder produces them (node and
// python3 printed these), not computed by the code under test.
func TestJSONSpellings(t *testing.T) {
	r := New()
	r.Add(tricky)
	spellings := []struct{ name, s string }{
		{"raw", tricky},
		{"Go strconv.Quote, as slog's text handler", `tr1cky-s3cr3t\"q\\b<s>&é🔑\x01\t\u2028\x7fend`},
		{"Go encoding/json", `tr1cky-s3cr3t\"q\\b\u003cs\u003e\u0026é🔑\u0001\t\u2028` + "\x7fend"},
		{"Go encoding/json, SetEscapeHTML(false)", `tr1cky-s3cr3t\"q\\b<s>&é🔑\u0001\t\u2028` + "\x7fend"},
		{"JavaScript JSON.stringify", `tr1cky-s3cr3t\"q\\b<s>&é🔑\u0001\t` + "\u2028\x7fend"},
		{"Python json.dumps (ensure_ascii)", `tr1cky-s3cr3t\"q\\b<s>&\u00e9\ud83d\udd11\u0001\t\u2028\u007fend`},
	}
	// The Go spellings above are what this Go's encoding/json writes.
	b, _ := json.Marshal(tricky)
	if got := string(b[1 : len(b)-1]); got != spellings[2].s {
		t.Fatalf("encoding/json spells it %q; the table says %q", got, spellings[2].s)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(tricky)
	if got := strings.TrimSuffix(buf.String(), "\n"); got != `"`+spellings[3].s+`"` {
		t.Fatalf("encoding/json without HTML escaping spells it %q; the table says %q", got, spellings[3].s)
	}
	for _, sp := range spellings {
		t.Run(sp.name, func(t *testing.T) {
			in := `{"password":"` + sp.s + `","user":"admin"}`
			want := `{"password":"` + Mask + `","user":"admin"}`
			if got := r.String(in); got != want {
				t.Errorf("String(%q) = %q, want %q", in, got, want)
			}
		})
	}
}

// TestMultiLine: the log is redacted a line at a time, so a multi-line
// secret (a PEM key in a file:) that a function prints shows up one line per
// log line; each of its lines is hidden on its own, but not its armor, its
// blank lines or lines too short to be worth hiding (issue 22).
func TestMultiLine(t *testing.T) {
	key := testPEM(t)
	creds := "[default]\r\n\r\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\r\nregion = eu-west-1\r\n}"
	r := New()
	r.Add(strings.TrimSpace(key), creds)

	var out bytes.Buffer
	w := r.Writer(&out)
	// As a worker's output arrives: each line prefixed, one Write each.
	for _, text := range []string{key, creds} {
		for _, line := range strings.Split(text, "\n") {
			_, _ = w.Write([]byte("[fn] " + strings.TrimRight(line, "\r") + "\n"))
		}
	}
	body := strings.Split(strings.TrimSpace(key), "\n")
	var want strings.Builder
	for _, line := range body {
		if strings.HasPrefix(line, "-----") {
			want.WriteString("[fn] " + line + "\n") // armor: in every PEM alike
		} else {
			want.WriteString("[fn] " + Mask + "\n")
		}
	}
	want.WriteString("[fn] \n") // the key's final newline: an empty line
	want.WriteString("[fn] [default]\n[fn] \n[fn] " + Mask + "\n[fn] " + Mask + "\n[fn] }\n")
	if diff := cmp.Diff(want.String(), out.String()); diff != "" {
		t.Errorf("log (-want +got):\n%s", diff)
	}

	// The short and common lines of a secret are not hidden everywhere else.
	for _, s := range []string{"-----END PRIVATE KEY----- written", "[default]", "a } b", "x\n\ny"} {
		if got := r.String(s); got != s {
			t.Errorf("String(%q) = %q; nothing in it is secret", s, got)
		}
	}
}

// TestStringEveryOffset: a secret is found wherever it starts and ends in
// the text, the filter in front of the Replacer included.
func TestStringEveryOffset(t *testing.T) {
	r := New()
	r.Add("s3cr3t-value", tricky)
	b, _ := json.Marshal(tricky)
	for _, secret := range []string{"s3cr3t-value", tricky, string(b[1 : len(b)-1])} {
		for before := 0; before < 9; before++ {
			for after := 0; after < 5; after++ {
				in := strings.Repeat("a", before) + secret + strings.Repeat("z", after)
				if strings.Contains(r.String(in), secret[:6]) {
					t.Errorf("String(%q) = %q", in, r.String(in))
				}
			}
		}
	}
	for _, s := range []string{"", "s3c", "s3cr3t-valu"} {
		if got := r.String(s); got != s {
			t.Errorf("String(%q) = %q", s, got)
		}
	}
}
