package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestMain lets the test binary be the bare server, as the program is.
func TestMain(m *testing.M) {
	if os.Getenv(roleEnv) == "bare" {
		os.Exit(serveBare(os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// TestRunStopsWhatItStarts runs the script for a moment on two targets. It
// asserts only that the table has their rows and that every process it
// started is gone, nothing listening where they listened: never a timing.
func TestRunStopsWhatItStarts(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs inquir dev")
	}
	for _, tool := range []string{"go", "node"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s on PATH", tool)
		}
	}
	// A generous bound for a cold, busy machine; it takes seconds on a warm one.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	// Bounded by count first (50 requests), by time only as a backstop a
	// busy machine never reaches: every row then has requests to show.
	code := run(ctx, []string{"-requests", "50", "-duration", "10s", "-warmup", "100ms", "-targets", "bare,401,401-page", "-page-rounds", "2", "-rotations", "2"}, &stdout, &stderr)
	out := stdout.String()
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, stderr.String())
	}
	for _, row := range []string{`(?m)^\s*bare\s+net/http echo\s+[1-9]\d*\s+\d+\s+\d+`, `(?m)^\s*401\s+POST /guarded \(no key\)\s+[1-9]\d*\s+\d+\s+\d+`,
		`(?m)^\s*401-page\s+POST /guarded \(no key, page open\)\s+[1-9]\d*\s+\d+\s+\d+`, `(?m)^the live page open \(401-page ÷ 401\): \d+\.\d+ ×.*\n  by round \(alternating\): \S+ \S+; median`} {
		if !regexp.MustCompile(row).MatchString(out) {
			t.Errorf("no row matching %s in:\n%s", row, out)
		}
	}
	if !strings.Contains(out, "none left, nothing listening") {
		t.Errorf("the run did not report its processes stopped:\n%s", out)
	}
	// Check for ourselves: every child's pid is gone, nothing listens.
	started := regexp.MustCompile(`started .*: pid (\d+), listening on http://(\S+)`).FindAllStringSubmatch(out, -1)
	if len(started) != 3 { // bare, inquir dev twice
		t.Fatalf("%d processes reported started, want 3:\n%s", len(started), out)
	}
	for _, m := range started {
		if runtime.GOOS != "linux" {
			break // /proc is Linux's
		}
		if _, err := os.Stat("/proc/" + m[1]); err == nil {
			t.Errorf("process %s is still there", m[1])
		}
		if c, err := net.DialTimeout("tcp", m[2], time.Second); err == nil {
			c.Close()
			t.Errorf("something still listens on %s", m[2])
		}
	}
}
