package main

import (
	"os"
	"testing"
	"time"
)

// TestCPUTime: /proc's CPU time of a process grows while it computes, and
// never runs ahead of what the kernel says of it through getrusage.
func TestCPUTime(t *testing.T) {
	pid := os.Getpid()
	start := cpuTime(pid)
	deadline := time.Now().Add(time.Minute)
	x := 0
	for cpuTime(pid) < start+50*time.Millisecond {
		if time.Now().After(deadline) {
			t.Fatalf("cpuTime stayed at %s for a minute of computing", cpuTime(pid))
		}
		for i := range 1_000_000 {
			x += i
		}
	}
	// /proc counts whole ticks of the same total getrusage reads, so read
	// after it, getrusage is never less (one tick of rounding aside).
	got := cpuTime(pid)
	if self := selfCPU(); got > self+time.Second/clockTicks {
		t.Errorf("cpuTime %s is more than getrusage's %s read after it", got, self)
	}
	_ = x
}

func TestPerRequest(t *testing.T) {
	r := loadResult{requests: 4}
	if got := r.perRequest(2 * time.Millisecond); got != "500" {
		t.Errorf("2ms over 4 requests = %s µs, want 500", got)
	}
	if got := (loadResult{}).perRequest(time.Second); got != "-" {
		t.Errorf("no requests: %q, want -", got)
	}
}
