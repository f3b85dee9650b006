package main

import (
	"os"
	"testing"
	"time"
)

// TestCPUTime: /proc's CPU time of a process grows while it computes, and
// matches what the kernel says of it through getrusage.
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
	self := selfCPU()
	if got := cpuTime(pid); got > self+20*time.Millisecond || got < self-20*time.Millisecond {
		t.Errorf("cpuTime %s, getrusage %s: more than two ticks apart", got, self)
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
