package redact

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

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
