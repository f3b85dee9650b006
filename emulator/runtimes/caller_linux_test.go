//go:build linux

package runtimes

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inquir-dev/inquir/emulator/config"
)

// TestRuntimeAPIIntruder runs a second local process beside a worker, one
// that found the worker's Runtime API address the way the review did (in
// the worker's /proc environ) and polls GET /invocation/next as fast as it
// can, answering whatever it takes with a forged response. It must get
// nothing and change nothing: every invocation, made while the worker is
// busy (when a poll of its own would be waiting for the next event) and
// across a restart (when it would race a new worker's first poll), reaches
// the worker and answers what the worker answers. The test's own process,
// which is inquir's and not the worker's, is refused too.
func TestRuntimeAPIIntruder(t *testing.T) {
	requireCommand(t, "python3")
	for _, tc := range []struct {
		name  string
		fn    func(testing.TB, string) config.Function
		hello string
	}{
		{"process", processFunction, "hello from python /hello"},
		{"go", goFunction, "hello from go /hello"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fn := tc.fn(t, "fn")
			// One worker: an invocation queued behind a busy worker goes to
			// whoever polls next, which is what an intruder tries to be.
			fn.Concurrency = 1
			h := newManager(t, fn)
			pid := h.pid(t, "fn")
			addr := environOf(t, pid)["AWS_LAMBDA_RUNTIME_API"]
			if addr == "" {
				t.Fatalf("worker %d has no AWS_LAMBDA_RUNTIME_API", pid)
			}

			in := startIntruder(t, addr)

			// The worker naps, the next call queues behind it: before the
			// caller check, the intruder's poll took it.
			var wg sync.WaitGroup
			for i := range 6 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					path := "/hello"
					if i%2 == 0 {
						path = "/nap"
					}
					res, err := h.call(t.Context(), "fn", path, nil)
					if err != nil {
						t.Errorf("invoking %s: %v", path, err)
						return
					}
					if want := strings.TrimSuffix(tc.hello, "/hello") + path; res.Body != want {
						t.Errorf("%s answered %q, want %q", path, res.Body, want)
					}
				}()
			}
			wg.Wait()
			// A new worker's first poll, raced by the intruder.
			if err := h.Refresh("fn"); err != nil {
				t.Fatal(err)
			}
			if got := h.mustCall(t, "fn", "/hello", nil).Body; got != tc.hello {
				t.Errorf("after a restart /hello answered %q, want %q", got, tc.hello)
			}

			got := in.stop(t)
			if got.Attempts == 0 {
				t.Fatal("the intruder made no attempt")
			}
			if len(got.Stolen) != 0 || got.Forged != 0 || len(got.Answered) != 0 {
				t.Errorf("the intruder got answers %v, took %d events (%q) and forged %d responses; want every connection refused",
					got.Answered, len(got.Stolen), got.Stolen, got.Forged)
			}
			st := h.Stats()["fn"]
			if st.Crashes != 0 || st.RuntimeAPIRefused == 0 {
				t.Errorf("Stats = %+v, want no crash and refused connections counted", st)
			}
			if n := strings.Count(h.log.String(), "refused a connection to a worker's Lambda Runtime API"); n > 2 {
				t.Errorf("the refusal was logged %d times, want at most once per worker", n)
			}

			// inquir's own process is not the worker either.
			w := liveWorker(t, h, "fn")
			c, err := net.Dial("tcp", w.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(waitTimeout))
			if _, err := c.Write([]byte("GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n")); err == nil {
				if b, _ := bufio.NewReader(c).ReadString('\n'); b != "" {
					t.Errorf("a connection from inquir's own process got %q, want it closed unanswered", b)
				}
			}
		})
	}
}

// environOf reads a process's initial environment from /proc.
func environOf(t *testing.T, pid int) map[string]string {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for _, kv := range bytes.Split(b, []byte{0}) {
		if k, v, ok := strings.Cut(string(kv), "="); ok {
			env[k] = v
		}
	}
	return env
}

// intruder is testdata/intruder/intruder.py, running.
type intruder struct {
	cmd   *exec.Cmd
	stdin interface{ Close() error }
	out   *bufio.Scanner
}

type intruderReport struct {
	Attempts int            `json:"attempts"`
	Refused  int            `json:"refused"`
	Answered map[string]int `json:"answered"`
	Stolen   []string       `json:"stolen"`
	Forged   int            `json:"forged"`
}

// startIntruder starts the intruder on addr and waits until it polls.
func startIntruder(t *testing.T, addr string) *intruder {
	t.Helper()
	cmd := exec.Command("python3", testdata(t, "intruder", "intruder.py"), addr, "120")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	in := &intruder{cmd: cmd, stdin: stdin, out: bufio.NewScanner(stdout)}
	if !in.out.Scan() || in.out.Text() != "polling" {
		t.Fatalf("the intruder did not start: %q %v", in.out.Text(), in.out.Err())
	}
	return in
}

// stop tells the intruder to stop and returns what it got.
func (in *intruder) stop(t *testing.T) intruderReport {
	t.Helper()
	in.stdin.Close()
	if !in.out.Scan() {
		t.Fatalf("the intruder reported nothing: %v", in.out.Err())
	}
	var r intruderReport
	if err := json.Unmarshal(in.out.Bytes(), &r); err != nil {
		t.Fatalf("the intruder's report %q: %v", in.out.Text(), err)
	}
	return r
}

// BenchmarkCallerCheck measures what the caller check adds to a new
// connection to a worker's Runtime API: a loopback dial and accept alone,
// and with connOwnedBy finding the client socket among this process's fds.
// (A go worker keeps one connection for its life; a client that dials per
// request pays it per request.)
func BenchmarkCallerCheck(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	for _, check := range []bool{false, true} {
		name := "dial+accept"
		if check {
			name += "+check"
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				c, err := net.Dial("tcp", ln.Addr().String())
				if err != nil {
					b.Fatal(err)
				}
				s, err := ln.Accept()
				if err != nil {
					b.Fatal(err)
				}
				if check {
					if ok, err := connOwnedBy(s, os.Getpid()); !ok {
						b.Fatalf("the check refused this process's own connection: %v", err)
					}
				}
				s.Close()
				c.Close()
			}
		})
	}
}

// TestSocketLookupsAgree checks the two ways of finding a client socket's
// inode, sock_diag and the /proc/net/tcp fallback, against each other on a
// real connection, and that both say "gone" once the client closed.
func TestSocketLookupsAgree(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	local, remote := s.LocalAddr().(*net.TCPAddr), s.RemoteAddr().(*net.TCPAddr)
	diag, err1 := diagInode(remote, local)
	proc, err2 := socketInode(remote, local)
	if err1 != nil || err2 != nil || diag == "" || diag != proc {
		t.Fatalf("sock_diag found %q (%v), /proc/net/tcp %q (%v); want the same inode", diag, err1, proc, err2)
	}
	if ok, err := connOwnedBy(s, os.Getpid()); !ok {
		t.Errorf("connOwnedBy refused this process's own connection: %v", err)
	}
	// A child of this process holds no copy of the socket (Go opens fds
	// close-on-exec), so it does not own the connection.
	other := exec.Command("sleep", "60")
	if err := other.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = other.Process.Kill(); _ = other.Wait() }()
	if ok, _ := connOwnedBy(s, other.Process.Pid); ok {
		t.Errorf("connOwnedBy says another process (%d) holds this process's socket", other.Process.Pid)
	}
	c.Close()
	// The client's socket may linger in FIN_WAIT for a moment, but it is
	// no longer any process's file.
	waitFor(t, waitTimeout, "the closed socket to leave this process's files", func() bool {
		ok, _ := connOwnedBy(s, os.Getpid())
		return !ok
	})
}
