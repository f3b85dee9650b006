package policy

import (
	"sync"
	"time"
)

// Clock is the time every rule about time is judged by: a key's expires and
// not_before, a plan's buckets and quota windows. The gateway asks it once
// per request. SystemClock is the real one; a ManualClock lets a test (or
// inquir dev --clock=manual) move time itself, so no test sleeps.
type Clock interface {
	Now() time.Time
}

// SystemClock is the wall clock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// ManualClock stands still until Advance or Set moves it. The zero value
// starts at the zero time; NewManualClock starts at a given instant. It is
// safe for concurrent use.
type ManualClock struct {
	mu  sync.Mutex
	now time.Time
}

// NewManualClock returns a ManualClock at start.
func NewManualClock(start time.Time) *ManualClock { return &ManualClock{now: start} }

// Now returns the clock's instant.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d (a negative d is refused: time does
// not run backwards for a bucket or a quota) and returns the new instant.
func (c *ManualClock) Advance(d time.Duration) (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if d < 0 {
		return c.now, false
	}
	c.now = c.now.Add(d)
	return c.now, true
}

// Set moves the clock to t, backwards too: a test starts on the day it
// means to test. What a bucket or quota held is judged afresh from there.
func (c *ManualClock) Set(t time.Time) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
	return c.now
}
