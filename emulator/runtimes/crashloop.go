package runtimes

import (
	"sync"
	"time"
)

// A function is in a crash loop once crashThreshold of its workers failed
// within crashWindow; from then on each failure doubles the wait before
// the next worker may start, from minBackoff up to maxBackoff. One crash,
// or a crash now and then, starts the next worker at once: only a function
// that keeps dying is held back, so a broken build or a handler that exits
// on every event does not spin up a process per request.
const (
	crashWindow    = 10 * time.Second
	crashThreshold = 3
	minBackoff     = 100 * time.Millisecond
	maxBackoff     = 5 * time.Second
)

// crashLoop tracks one pool's recent worker failures. Its zero value is a
// function that has not failed. A new pool (a rebuild, a config change)
// starts with a clean slate: the fix for a crash loop is usually new code.
type crashLoop struct {
	mu       sync.Mutex
	failures []time.Time // within crashWindow of the last one, oldest first
	next     time.Time   // no worker starts before it
}

// fail records a failure at now and returns how many failures the window
// holds, the time they span, and the backoff before the next start (zero
// while the function is not in a crash loop).
func (c *crashLoop) fail(now time.Time) (n int, span, backoff time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.prune(now)
	c.failures = append(c.failures, now)
	n = len(c.failures)
	span = now.Sub(c.failures[0])
	if n < crashThreshold {
		return n, span, 0
	}
	backoff = maxBackoff
	if shift := n - crashThreshold; shift < 16 {
		backoff = min(minBackoff<<shift, maxBackoff)
	}
	c.next = now.Add(backoff)
	return n, span, backoff
}

// succeed records that a worker answered an invocation: whatever failed
// before, the function works now.
func (c *crashLoop) succeed() {
	c.mu.Lock()
	c.failures = c.failures[:0]
	c.next = time.Time{}
	c.mu.Unlock()
}

// wait returns how long before a worker may start; zero if one may now.
func (c *crashLoop) wait(now time.Time) time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return max(c.next.Sub(now), 0)
}

// state reports whether the function is in a crash loop at now, and the
// backoff left.
func (c *crashLoop) state(now time.Time) (inLoop bool, backoff time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.prune(now)
	return len(c.failures) >= crashThreshold, max(c.next.Sub(now), 0)
}

// recent returns the failures in the window at now and the time they span.
func (c *crashLoop) recent(now time.Time) (n int, span time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.prune(now)
	if len(c.failures) == 0 {
		return 0, 0
	}
	return len(c.failures), now.Sub(c.failures[0])
}

// prune drops failures older than crashWindow. c.mu is held.
func (c *crashLoop) prune(now time.Time) {
	i := 0
	for i < len(c.failures) && now.Sub(c.failures[i]) > crashWindow {
		i++
	}
	c.failures = c.failures[i:]
}
