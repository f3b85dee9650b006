//go:build unix

package runtimes

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/inquir-dev/inquir/emulator/config"
)

// TestBuildProgress checks that a build says it goes on while it runs, so a
// first build on a cold machine does not look like a hang, and that Stats
// tells where each function's build stands.
func TestBuildProgress(t *testing.T) {
	t.Parallel()
	h := newManagerWith(t, Options{BuildProgress: time.Millisecond}, goFunction(t, "gofn"), processFunction(t, "py"))
	if got := h.Stats()["gofn"].Build; got != BuildPending {
		t.Errorf("Build before any build = %q, want %q", got, BuildPending)
	}
	if got := h.Stats()["py"].Build; got != BuildNone {
		t.Errorf("Build of a process function = %q, want %q", got, BuildNone)
	}
	if err := h.Prepare(t.Context(), "gofn"); err != nil {
		t.Fatal(err)
	}
	if got := h.Stats()["gofn"].Build; got != BuildReady {
		t.Errorf("Build after Prepare = %q, want %q", got, BuildReady)
	}
	// A go build takes far longer than a millisecond, even from a warm cache.
	if !strings.Contains(h.log.String(), "still building function gofn (") {
		t.Errorf("the log does not say the build goes on:\n%s", h.log)
	}
}

// TestBuildWaitIsBounded checks that an invocation waits for its function's
// build at most MaxBuildWait, says so in the log, and fails with
// ErrBuilding; the build goes on, and the next invocation gets it.
func TestBuildWaitIsBounded(t *testing.T) {
	t.Parallel()
	// No build finishes within a nanosecond, so the first call gives up.
	h := newManagerWith(t, Options{MaxBuildWait: time.Nanosecond}, goFunction(t, "gofn"))
	_, err := h.call(t.Context(), "gofn", "/hello", nil)
	if !errors.Is(err, ErrBuilding) {
		t.Fatalf("first call: got error %v, want ErrBuilding", err)
	}
	if !strings.Contains(h.log.String(), "a request waits for function gofn to finish building") {
		t.Errorf("the log does not say the request waits for the build:\n%s", h.log)
	}
	waitFor(t, DefaultMaxBuildWait, "the build finished", func() bool { return h.Stats()["gofn"].Build == BuildReady })
	if got := h.mustCall(t, "gofn", "/hello", nil).StatusCode; got != 200 {
		t.Errorf("call after the build: status %d, want 200", got)
	}
	if got := h.Stats()["gofn"].Builds; got != 1 {
		t.Errorf("Builds = %d, want 1: the call that gave up did not start another", got)
	}
}

// TestLockFile checks the machine-wide lock plugin builds take turns with:
// a second taker waits, says so once, and gets the lock once it is freed.
func TestLockFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "build.lock")
	unlock, err := lockFile(t.Context(), path, func() { t.Error("the first taker was told to wait") })
	if err != nil {
		t.Fatal(err)
	}
	waited := make(chan struct{})
	got := make(chan error, 1)
	go func() {
		unlock2, err := lockFile(t.Context(), path, func() { close(waited) })
		if err == nil {
			unlock2()
		}
		got <- err
	}()
	select {
	case <-waited:
	case err := <-got:
		t.Fatalf("the second taker got the lock while the first held it (err %v)", err)
	case <-time.After(waitTimeout):
		t.Fatal("the second taker was never told to wait")
	}
	unlock()
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(waitTimeout):
		t.Fatal("the second taker never got the lock once it was freed")
	}
}

// TestRestartReusesBuild checks that a function whose sources did not
// change since the last build is not linked again when inquir starts anew
// with the same cache folder: go build finds its output up to date and
// keeps the file, and the function serves from it.
func TestRestartReusesBuild(t *testing.T) {
	dir := t.TempDir()
	fn := goFunction(t, "gofn")
	staging := func() os.FileInfo {
		t.Helper()
		matches, _ := filepath.Glob(filepath.Join(dir, "build", "gofn-*.build"))
		if len(matches) != 1 {
			t.Fatalf("build folder holds %v, want one staging binary", matches)
		}
		fi, err := os.Stat(matches[0])
		if err != nil {
			t.Fatal(err)
		}
		return fi
	}
	start := func() *Manager {
		m, err := New(Options{CacheDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		m.SetFunctions([]config.Function{fn})
		if err := m.Prepare(t.Context(), "gofn"); err != nil {
			t.Fatal(err)
		}
		return m
	}
	first := start()
	before := staging()
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}

	second := start()
	defer second.Close()
	after := staging()
	// go build marks an up-to-date output fresh (its modification time)
	// but leaves the file itself; a link writes a new one.
	if !os.SameFile(before, after) {
		t.Errorf("the restart wrote a new binary: the unchanged sources were linked anew")
	}
	h := &harness{Manager: second, log: &syncBuffer{}, out: &syncBuffer{}}
	if got := h.mustCall(t, "gofn", "/hello", nil).StatusCode; got != 200 {
		t.Errorf("status %d from the reused build, want 200", got)
	}
}
