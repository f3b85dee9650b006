//go:build unix

package runtimes

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestCrashLoopBackoff checks the backoff schedule: none for the first
// failures, then doubling from 100ms up to 5s, and a clean slate once the
// failures fall out of the window or a worker answers.
func TestCrashLoopBackoff(t *testing.T) {
	var c crashLoop
	start := time.Unix(1_000_000, 0)
	want := []time.Duration{0, 0, 100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond,
		800 * time.Millisecond, 1600 * time.Millisecond, 3200 * time.Millisecond, 5 * time.Second, 5 * time.Second}
	now := start
	for i, w := range want {
		now = now.Add(10 * time.Millisecond)
		n, _, backoff := c.fail(now)
		if n != i+1 || backoff != w {
			t.Errorf("failure %d: n=%d backoff=%s, want n=%d backoff=%s", i+1, n, backoff, i+1, w)
		}
	}
	if loop, left := c.state(now); !loop || left != 5*time.Second {
		t.Errorf("state = %v, %s; want a crash loop with 5s left", loop, left)
	}
	if loop, left := c.state(now.Add(crashWindow + time.Second)); loop || left != 0 {
		t.Errorf("state once the window passed = %v, %s; want no loop", loop, left)
	}

	var spaced crashLoop
	for i := range 5 {
		if _, _, backoff := spaced.fail(start.Add(time.Duration(i) * (crashWindow + time.Second))); backoff != 0 {
			t.Errorf("failure %d, each a window apart from the last: backoff %s, want none", i+1, backoff)
		}
	}

	c.succeed()
	if loop, left := c.state(now); loop || left != 0 {
		t.Errorf("state after a success = %v, %s; want no loop", loop, left)
	}
}

// TestCrashLoop checks that a function whose workers keep dying is held
// back: requests during the backoff fail at once, stats and the log say
// so, and a worker that answers ends the loop. The crash-loop clock moves
// only when the test moves it: every failure lands in the window and a
// backoff ends when the test says, however long a loaded machine takes to
// start and reap each worker.
func TestCrashLoop(t *testing.T) {
	t.Parallel()
	t.Run("exits at start", func(t *testing.T) {
		t.Parallel()
		fn := processFunction(t, "boom")
		fn.Command = []string{"python3", "-c", "import sys; sys.exit(4)"}
		fn.Concurrency = 1
		clock := newManualClock()
		h := newManagerWith(t, Options{Now: clock.Now}, fn)
		starts := failUntilCrashLoop(t, h, "boom", "/hello", "exited before asking for an invocation")
		if starts < crashThreshold {
			t.Errorf("backed off after %d failed starts, want %d", starts, crashThreshold)
		}
		got := h.Stats()["boom"]
		if !got.CrashLoop || got.LastExit != "exit status 4" {
			t.Errorf("Stats = %+v, want a crash loop and the last exit", got)
		}
		if !strings.Contains(h.log.String(), "function boom crashed 3 times in ") || !strings.Contains(h.log.String(), "; next start in 0.1s") {
			t.Errorf("the log does not say the function is crash-looping:\n%s", h.log)
		}

		clock.Advance(time.Duration(got.BackoffMS) * time.Millisecond)
		if left := h.Stats()["boom"].BackoffMS; left != 0 {
			t.Fatalf("BackoffMS = %d once the clock passed the backoff, want 0", left)
		}
		if _, err := h.call(t.Context(), "boom", "/hello", nil); err == nil || errors.Is(err, ErrCrashLoop) {
			t.Errorf("call after the backoff: got error %v, want another failed start", err)
		}
		if got := h.Stats()["boom"].WorkersStarted; got != int64(starts+1) {
			t.Errorf("WorkersStarted = %d, want %d: none during the backoff", got, starts+1)
		}
		// Each failure in a row doubles the backoff.
		if want := fmt.Sprintf("function boom crashed %d times in ", starts+1); !strings.Contains(h.log.String(), want) {
			t.Errorf("the log does not say %q:\n%s", want, h.log)
		}
		if want := "; next start in " + fmtSeconds(minBackoff<<(starts+1-crashThreshold)); !strings.Contains(h.log.String(), want) {
			t.Errorf("the log does not show the backoff doubling to %q:\n%s", want, h.log)
		}
	})

	t.Run("init errors", func(t *testing.T) {
		t.Parallel()
		h := newManagerWith(t, Options{Now: newManualClock().Now}, nodeFunction(t, "syntax", "syntax.mjs"))
		for range crashThreshold {
			if _, err := h.call(t.Context(), "syntax", "/hello", nil); err == nil {
				t.Fatal("invoking a module with a syntax error succeeded")
			}
		}
		got := h.Stats()["syntax"]
		if !got.CrashLoop || !strings.HasPrefix(got.LastExit, "init error Runtime.UserCodeSyntaxError: ") || got.Crashes != 0 {
			t.Errorf("Stats = %+v, want a crash loop from init errors (which are not crashes)", got)
		}
	})

	t.Run("a worker that answers ends it", func(t *testing.T) {
		t.Parallel()
		clock := newManualClock()
		h := newManagerWith(t, Options{Now: clock.Now}, processFunction(t, "flaky"))
		crashes := failUntilCrashLoop(t, h, "flaky", "/crash", "exit status 3")
		clock.Advance(time.Duration(h.Stats()["flaky"].BackoffMS) * time.Millisecond)
		h.mustCall(t, "flaky", "/hello", nil)
		if got := h.Stats()["flaky"]; got.CrashLoop || got.BackoffMS != 0 || got.Crashes != int64(crashes) {
			t.Errorf("Stats = %+v, want the loop over and %d crashes counted", got, crashes)
		}
		// A single crash now starts the next worker at once.
		if _, err := h.call(t.Context(), "flaky", "/crash", nil); errors.Is(err, ErrCrashLoop) {
			t.Fatal(err)
		}
		h.mustCall(t, "flaky", "/hello", nil)
	})
}

// failUntilCrashLoop invokes fn with path, each call failing as want says,
// until a call is refused with ErrCrashLoop, and returns how many failed
// first. A call refused at once shows the caller is not kept waiting for
// the backoff; a slow machine may fail more calls before one lands in it.
func failUntilCrashLoop(t *testing.T, h *harness, fn, path, want string) int {
	t.Helper()
	for failed := 0; failed < 20; failed++ {
		_, err := h.call(t.Context(), fn, path, nil)
		switch {
		case errors.Is(err, ErrCrashLoop):
			if !strings.Contains(err.Error(), "last: ") {
				t.Errorf("crash-loop error %q does not say how the last worker ended", err)
			}
			if got := h.Stats()[fn]; !got.CrashLoop {
				t.Errorf("Stats = %+v during the backoff, want a crash loop", got)
			}
			return failed
		case err == nil || !strings.Contains(err.Error(), want):
			t.Fatalf("call %d: got error %v, want one mentioning %q", failed+1, err, want)
		}
	}
	t.Fatal("the function never backed off")
	return 0
}
