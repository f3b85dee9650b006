package emulator

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// boundsProject serves rotationConfig's GET /x plus a POST /x for stable,
// under limits, with inv as the functions.
func boundsProject(t *testing.T, inv interface {
	Invoke(context.Context, string, []byte) ([]byte, error)
}, limits Limits) *Emulator {
	t.Helper()
	dir := t.TempDir()
	cfg := rotationConfig(rotatingSecret(0)) + `
[[routes]]
method = "POST"
path = "/x"
function = "f"
keys = ["stable"]
`
	for name, content := range map[string]string{"fn.mjs": "export async function handler() {}\n", "inquir.toml": cfg} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	e, err := Start(Options{ConfigPath: filepath.Join(dir, "inquir.toml"), Listen: "127.0.0.1:0", Invoker: inv, Limits: limits})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := e.Close(ctx); err != nil {
			t.Error(err)
		}
	})
	return e
}

func dial(t *testing.T, e *Emulator) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", strings.TrimPrefix(e.URL(), "http://"), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// waitClosed reads c until the server closes it; it fails if that takes
// longer than d or the server sends more.
func waitClosed(t *testing.T, br *bufio.Reader, c net.Conn, d time.Duration) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(d))
	b, err := br.ReadByte()
	if err == nil {
		t.Fatalf("read %q after the answer, want the connection closed", b)
	}
	if !errors.Is(err, io.EOF) && !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("the connection was not closed within %v: %v", d, err)
	}
}

// TestRefusedBodyAnsweredAtOnce: a request refused before its body is read
// is answered at once and its connection closed, even when the declared
// body never comes (issue 9, fault 8). Nothing is invoked.
func TestRefusedBodyAnsweredAtOnce(t *testing.T) {
	inv := &okInvoker{}
	e := boundsProject(t, inv, Limits{})
	tests := []struct {
		name, request string
		want          int
	}{
		{"no key, small body", "POST /x HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\n", 401},
		{"no key, large body", "POST /x HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000000\r\n\r\n", 401},
		{"no key, chunked body", "POST /x HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n", 401},
		{"half a body", "POST /x HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\n{\"a\":", 401},
		{"forbidden key", "POST /x HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: " + rotatingSecret(0) + "\r\nContent-Length: 1000\r\n\r\n", 403},
		{"no route", "POST /nowhere HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\n", 404},
		{"wrong method", "PUT /x HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\n", 405},
		{"over 6 MB", "POST /x HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: " + stableSecret + "\r\nContent-Length: 7000000\r\n\r\n", 413},
		{"built-in", "POST /_inquir/stats HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\n", 405},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dial(t, e)
			defer c.Close()
			if _, err := io.WriteString(c, tt.request); err != nil {
				t.Fatal(err)
			}
			// The server would wait DefaultReadTimeout (2 minutes) for the
			// body; the answer must come long before.
			_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
			br := bufio.NewReader(c)
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatalf("no answer: %v", err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.want)
			}
			if !resp.Close {
				t.Errorf("the answer does not say Connection: close")
			}
			waitClosed(t, br, c, 20*time.Second)
		})
	}
	if n := inv.calls.Load(); n != 0 {
		t.Errorf("the function ran %d times for refused requests", n)
	}
}

// TestIdleConnectionsCannotLockOut holds 2,000 idle keep-alive connections,
// twice MaxConnections: the server closes the longest idle ones rather than
// run out of descriptors, and a health check still answers (issue 9,
// fault 8).
func TestIdleConnectionsCannotLockOut(t *testing.T) {
	const held = 2000
	var lim syscall.Rlimit
	// Each connection is two descriptors in this process: client and server.
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil || lim.Cur < 2*held+200 {
		t.Skipf("needs %d file descriptors; the limit is %d", 2*held+200, lim.Cur)
	}
	e := boundsProject(t, &okInvoker{}, Limits{})
	conns := make([]net.Conn, 0, held)
	readers := make([]*bufio.Reader, 0, held)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := 0; i < held; i++ {
		c := dial(t, e)
		conns = append(conns, c)
		if _, err := io.WriteString(c, "GET /_inquir/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		readers = append(readers, br)
	}

	resp, err := client.Get(e.URL() + "/_inquir/health")
	if err != nil {
		t.Fatalf("health check with %d idle connections held: %v", held, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("health: %d", resp.StatusCode)
	}

	// Count the connections the server closed. Each one it keeps blocks its
	// reader until the deadline, so read them all at once.
	var closed sync.WaitGroup
	var mu sync.Mutex
	nClosed := 0
	for i, c := range conns {
		closed.Add(1)
		go func() {
			defer closed.Done()
			_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
			if _, err := readers[i].ReadByte(); errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) {
				mu.Lock()
				nClosed++
				mu.Unlock()
			}
		}()
	}
	closed.Wait()
	if min := held - DefaultMaxConnections; nClosed < min {
		t.Errorf("the server closed %d of %d idle connections, want at least %d: it holds more than %d", nClosed, held, min, DefaultMaxConnections)
	}
}

// TestHeaderSizeBounded: a header block over MaxHeaderBytes gets 431.
func TestHeaderSizeBounded(t *testing.T) {
	inv := &okInvoker{}
	e := boundsProject(t, inv, Limits{})
	req, err := http.NewRequest("GET", e.URL()+"/x", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("x-api-key", stableSecret)
	req.Header.Set("X-Padding", strings.Repeat("a", 2*DefaultMaxHeaderBytes))
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("status %d, want 431", resp.StatusCode)
	}
	if n := inv.calls.Load(); n != 0 {
		t.Errorf("the function ran %d times", n)
	}
}

// slowInvoker answers once its request has outlived the server's
// ReadTimeout, and notes whether its context was cancelled meanwhile.
type slowInvoker struct {
	wait      time.Duration
	mu        sync.Mutex
	cancelled int
	calls     int
}

func (s *slowInvoker) Invoke(ctx context.Context, function string, event []byte) ([]byte, error) {
	s.mu.Lock()
	s.calls++
	s.mu.Unlock()
	select {
	case <-ctx.Done():
		s.mu.Lock()
		s.cancelled++
		s.mu.Unlock()
		return nil, ctx.Err()
	case <-time.After(s.wait):
	}
	return []byte(`{"statusCode":200,"body":"ok"}`), nil
}

// TestReadTimeoutBoundsTheRequestOnly: a body sent too slowly is cut off at
// ReadTimeout without running the function, and a function that runs past
// ReadTimeout is not cancelled by it.
func TestReadTimeoutBoundsTheRequestOnly(t *testing.T) {
	// Long enough that a small request arrives within it on a busy
	// machine; the function then runs past it.
	const readTimeout = time.Second
	inv := &slowInvoker{wait: 2 * readTimeout}
	e := boundsProject(t, inv, Limits{ReadTimeout: readTimeout})

	for _, method := range []string{"GET", "POST"} {
		t.Run("function runs past ReadTimeout/"+method, func(t *testing.T) {
			req, err := http.NewRequest(method, e.URL()+"/x", strings.NewReader(`{"a":1}`))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("x-api-key", stableSecret)
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("status %d, want 200", resp.StatusCode)
			}
		})
	}
	inv.mu.Lock()
	if inv.cancelled != 0 {
		t.Errorf("%d invocations were cancelled by the read deadline", inv.cancelled)
	}
	before := inv.calls
	inv.mu.Unlock()

	t.Run("slow body", func(t *testing.T) {
		c := dial(t, e)
		defer c.Close()
		fmt.Fprintf(c, "POST /x HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: %s\r\nContent-Length: 100\r\n\r\n{\"a\":", stableSecret)
		br := bufio.NewReader(c)
		_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
		// The body never completes: the server answers 400 or just closes.
		if resp, err := http.ReadResponse(br, nil); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("status %d, want 400", resp.StatusCode)
			}
		}
		waitClosed(t, br, c, 20*time.Second)
	})
	inv.mu.Lock()
	defer inv.mu.Unlock()
	if inv.calls != before {
		t.Errorf("the function ran for a body that never arrived")
	}
}

// TestRefusedWholeBodyKeepsConnection: a refused request whose small body
// arrived with it keeps its keep-alive connection, so a client sending many
// (a load test of the 401 path, a retry loop) does not pay a new connection
// for each; the function still runs for none of them.
func TestRefusedWholeBodyKeepsConnection(t *testing.T) {
	inv := &okInvoker{}
	e := boundsProject(t, inv, Limits{})
	c := dial(t, e)
	defer c.Close()
	br := bufio.NewReader(c)
	for i := range 3 {
		if _, err := io.WriteString(c, "POST /x HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 7\r\n\r\n{\"a\":1}"); err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
		_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("request %d: no answer on the same connection: %v", i+1, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || resp.Close {
			t.Fatalf("request %d: status %d, close %v; want 401 on a connection kept open", i+1, resp.StatusCode, resp.Close)
		}
	}
	if n := inv.calls.Load(); n != 0 {
		t.Errorf("the function ran %d times for refused requests", n)
	}
}
