//go:build unix

package runtimes

import (
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// liveWorker returns the function's one live worker, once it waits in
// GET /next with no invocation in hand.
func liveWorker(t *testing.T, h *harness, fn string) *worker {
	t.Helper()
	var w *worker
	waitFor(t, 10*time.Second, "a worker of "+fn+" waits in /next", func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		for x := range h.live {
			if x.name != fn {
				continue
			}
			if x.api.Waiting() {
				w = x
				return true
			}
		}
		return false
	})
	return w
}

// apiCall makes one request to a Runtime API address.
func apiCall(t *testing.T, addr, method, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, "http://"+addr+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// TestInitErrorDuringInvocation checks that an init error posted while the
// worker handles an invocation is refused, 403 as Lambda answers it, and
// neither fails the invocation nor costs the worker.
func TestInitErrorDuringInvocation(t *testing.T) {
	h := newManager(t, processFunction(t, "fn"))
	pid := h.pid(t, "fn")
	res, err := h.call(t.Context(), "fn", "/initerror", nil)
	if err != nil {
		t.Fatalf("the invocation failed: %v", err)
	}
	if res.Body != strconv.Itoa(http.StatusForbidden) {
		t.Errorf("POST /init/error during an invocation answered %s, want 403", res.Body)
	}
	if again := h.pid(t, "fn"); again != pid {
		t.Errorf("the function now runs in pid %d, want the worker %d", again, pid)
	}
}

// TestRuntimeAPIClosed checks that a worker's Runtime API goes with it: once
// the worker is stopped its address refuses connections.
func TestRuntimeAPIClosed(t *testing.T) {
	h := newManager(t, processFunction(t, "fn"))
	h.pid(t, "fn")
	w := liveWorker(t, h, "fn")
	addr := w.addr
	if host, port, err := net.SplitHostPort(addr); err != nil || host != "127.0.0.1" || port == "0" {
		t.Fatalf("worker address %q, want 127.0.0.1:PORT", addr)
	}
	if err := h.Refresh("fn"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-w.done:
	case <-time.After(30 * time.Second):
		t.Fatal("the worker did not stop")
	}
	if c, err := net.Dial("tcp", addr); err == nil {
		c.Close()
		t.Errorf("%s still accepts connections after its worker stopped", addr)
	}
	h.mu.Lock()
	n := len(h.live)
	h.mu.Unlock()
	if n != 0 {
		t.Errorf("%d workers still registered", n)
	}
}
