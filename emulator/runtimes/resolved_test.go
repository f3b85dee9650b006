//go:build unix

package runtimes

import (
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
)

// TestResolvedValuesReported checks that every value a function's env
// resolves to is reported (Options.Resolved) before its worker runs, and
// again when a file: it reads holds a new value and the function starts
// afresh, as the source watcher makes it: inquir dev's redactor must know
// a rotated password before a worker can print it.
func TestResolvedValuesReported(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "db.txt")
	if err := os.WriteFile(secret, []byte("first-password-0123\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var seen []string
	fn := processFunction(t, "fn")
	fn.Env = map[string]string{"DB_PASSWORD": "file:" + secret}
	h := newManagerWith(t, Options{Resolved: func(values ...string) {
		mu.Lock()
		seen = append(seen, values...)
		mu.Unlock()
	}}, fn)
	reported := func(v string) bool {
		mu.Lock()
		defer mu.Unlock()
		return slices.Contains(seen, v)
	}

	h.mustCall(t, "fn", "/hello", nil)
	if !reported("first-password-0123") {
		t.Fatalf("the env value was not reported when the worker started; reported %q", seen)
	}
	if err := os.WriteFile(secret, []byte("second-password-4567\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := h.Refresh("fn"); err != nil {
		t.Fatal(err)
	}
	h.mustCall(t, "fn", "/hello", nil)
	if !reported("second-password-4567") {
		t.Fatalf("the rotated value was not reported when the new worker started; reported %q", seen)
	}
}
