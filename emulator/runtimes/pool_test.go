//go:build unix

package runtimes

import (
	"context"
	"testing"
	"time"

	"github.com/inquir-dev/inquir/emulator/config"
)

// TestWarmWorkerNeedsNoLookup checks that an invocation a warm worker
// takes does not prepare the function again: node is looked up on PATH
// when a worker starts, not on every call, so a PATH without node fails a
// start but not a call to a worker already running.
func TestWarmWorkerNeedsNoLookup(t *testing.T) {
	fn := nodeFunction(t, "fn", "esm.mjs")
	fn.Concurrency = 1
	h := newManager(t, fn)
	pid := h.pid(t, "fn")

	t.Setenv("PATH", t.TempDir())
	if again := h.pid(t, "fn"); again != pid {
		t.Errorf("the call ran in pid %d, want the warm worker %d", again, pid)
	}
	if got := h.Stats()["fn"]; got.WorkersStarted != 1 {
		t.Errorf("Stats = %+v, want 1 worker started", got)
	}
}

// TestWaitersServedInOrder checks that callers waiting for a busy pool's
// worker get it in the order they came, each release waking one of them
// rather than all of them to race for it.
func TestWaitersServedInOrder(t *testing.T) {
	p := newPool(&Manager{}, config.Function{Name: "fn", Runtime: config.RuntimeProcess, Concurrency: 1, Timeout: time.Minute}, &counters{})
	w := &worker{p: p, done: make(chan struct{})}
	p.workers[w] = struct{}{} // the pool is full, and w busy

	const n = 5
	ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
	defer cancel()
	got := make(chan int, n)
	for i := range n {
		go func() {
			if _, err := p.acquire(ctx); err != nil {
				t.Errorf("waiter %d: %v", i, err)
			}
			got <- i
		}()
		waitFor(t, waitTimeout, "the waiter to queue", func() bool {
			p.mu.Lock()
			defer p.mu.Unlock()
			return len(p.waiters) == i+1
		})
	}
	for i := range n {
		p.release(w)
		if g := <-got; g != i {
			t.Fatalf("release %d went to waiter %d, want %d", i, g, i)
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.waiters) != 0 || len(p.idle) != 0 {
		t.Errorf("%d waiters and %d idle workers left, want none", len(p.waiters), len(p.idle))
	}
}

// TestWaiterGivesUp checks that a caller that stops waiting leaves the
// queue, and that a worker released afterwards goes back to the pool.
func TestWaiterGivesUp(t *testing.T) {
	p := newPool(&Manager{}, config.Function{Name: "fn", Runtime: config.RuntimeProcess, Concurrency: 1, Timeout: time.Minute}, &counters{})
	w := &worker{p: p, done: make(chan struct{})}
	p.workers[w] = struct{}{}

	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() {
		_, err := p.acquire(ctx)
		errc <- err
	}()
	waitFor(t, waitTimeout, "the waiter to queue", func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return len(p.waiters) == 1
	})
	cancel()
	if err := <-errc; err != context.Canceled {
		t.Fatalf("acquire = %v, want context.Canceled", err)
	}
	p.release(w)
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.waiters) != 0 || len(p.idle) != 1 {
		t.Errorf("%d waiters and %d idle workers, want 0 and 1", len(p.waiters), len(p.idle))
	}
}
