//go:build unix

package runtimes

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/inquir-dev/inquir/emulator/config"
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
			x.mu.Lock()
			polling := x.polling && x.current == nil
			x.mu.Unlock()
			if polling {
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

// TestRuntimeAPI checks the Runtime API's answers to requests that are not
// the worker's own, made on the worker's address by a process the caller
// check lets through: a second poller, a request id that is not in flight, an
// init error once the worker serves, and attempts to start an invocation,
// which the API has no route for. None of them disturbs the worker.
func TestRuntimeAPI(t *testing.T) {
	h := newManager(t, processFunction(t, "fn"))
	// The requests come from this process, which the caller check refuses
	// (TestRuntimeAPIIntruder); this test is about the protocol's answers.
	h.anyCaller = true
	pid := h.pid(t, "fn")
	w := liveWorker(t, h, "fn")
	if host, port, err := net.SplitHostPort(w.addr); err != nil || host != "127.0.0.1" || port == "0" {
		t.Fatalf("worker address %q, want 127.0.0.1:PORT", w.addr)
	}

	tests := []struct {
		name, method, path string
		want               int
		wantType           string
	}{
		{"a second poller", "GET", "/2018-06-01/runtime/invocation/next", http.StatusForbidden, "InvalidStateTransition"},
		{"response to an id not in flight", "POST", "/2018-06-01/runtime/invocation/some-id/response", http.StatusBadRequest, "InvalidRequestID"},
		{"error for an id not in flight", "POST", "/2018-06-01/runtime/invocation/some-id/error", http.StatusBadRequest, "InvalidRequestID"},
		{"init error once serving", "POST", "/2018-06-01/runtime/init/error", http.StatusForbidden, "InvalidStateTransition"},
		{"posting an invocation", "POST", "/2018-06-01/runtime/invocation", http.StatusNotFound, ""},
		{"posting to next", "POST", "/2018-06-01/runtime/invocation/next", http.StatusMethodNotAllowed, ""},
		{"invoke API", "POST", "/2015-03-31/functions/fn/invocations", http.StatusNotFound, ""},
		{"a path prefix", "GET", "/w/x/2018-06-01/runtime/invocation/next", http.StatusNotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := apiCall(t, w.addr, tt.method, tt.path, `{"statusCode":200}`)
			if status != tt.want || !strings.Contains(body, tt.wantType) {
				t.Errorf("%s %s = %d %s, want %d %s", tt.method, tt.path, status, body, tt.want, tt.wantType)
			}
		})
	}

	// None of that disturbed the worker: the same process answers, and it
	// took no invocation it was not handed.
	if got, want := h.mustCall(t, "fn", "/hello", nil).Body, "hello from python /hello"; got != want {
		t.Errorf("body %q, want %q", got, want)
	}
	if again := h.pid(t, "fn"); again != pid {
		t.Errorf("the function now runs in pid %d, want the worker %d", again, pid)
	}
	if got := h.Stats()["fn"]; got.Invocations != 3 || got.WorkersStarted != 1 || got.Crashes != 0 {
		t.Errorf("Stats = %+v, want 3 invocations by 1 worker", got)
	}
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

// TestNextContentLength checks that GET /next answers an event with its
// length, whatever its size, rather than in chunks once it outgrows the
// server's buffer, as Lambda's Runtime API does.
func TestNextContentLength(t *testing.T) {
	m := &Manager{log: slog.New(slog.DiscardHandler)}
	p := newPool(m, config.Function{Name: "fn", Runtime: config.RuntimeProcess}, &counters{})
	w := m.newWorker(p)
	srv := httptest.NewServer(m.runtimeAPI(w))
	defer srv.Close()

	ev := []byte(`{"body":"` + strings.Repeat("x", 64<<10) + `"}`)
	inv := newInvocation(ev, time.Minute)
	go func() { w.next <- inv }()
	res, err := http.Get(srv.URL + "/2018-06-01/runtime/invocation/next")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if res.ContentLength != int64(len(ev)) || len(res.TransferEncoding) != 0 || string(body) != string(ev) {
		t.Errorf("GET /next: Content-Length %d, Transfer-Encoding %v, %d bytes; want Content-Length %d and the event",
			res.ContentLength, res.TransferEncoding, len(body), len(ev))
	}
	if got := res.Header.Get("Lambda-Runtime-Aws-Request-Id"); got != inv.id {
		t.Errorf("Lambda-Runtime-Aws-Request-Id = %q, want %q", got, inv.id)
	}
}
