package runtimeapi

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// waitTimeout bounds every wait of these tests.
const waitTimeout = 10 * time.Second

const arn = "arn:aws:lambda:eu-west-3:000000000000:function:fn"

// serve starts s on an httptest server and returns its host:port, the
// worker's AWS_LAMBDA_RUNTIME_API. The test's cleanup closes s first, so a
// poll still waiting ends.
func serve(t *testing.T, s *Server) string {
	t.Helper()
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	t.Cleanup(s.Close)
	return ts.Listener.Addr().String()
}

// newServer is New with the test's function and a log that goes nowhere.
func newServer(opts Options) *Server {
	opts.Function, opts.FunctionARN = "fn", arn
	opts.Log = slog.New(slog.DiscardHandler)
	return New(opts)
}

// answer is what the API answered a request.
type answer struct {
	status int
	header http.Header
	body   string
	err    error
}

// fakeWorker is a worker as the server sees it: a client of its Runtime
// API, here the test's own, making the requests a runtime makes.
type fakeWorker struct{ addr string }

// do makes one request; header holds name, value pairs.
func (w fakeWorker) do(method, path, body string, header ...string) answer {
	req, err := http.NewRequest(method, "http://"+w.addr+path, strings.NewReader(body))
	if err != nil {
		return answer{err: err}
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return answer{err: err}
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return answer{status: res.StatusCode, header: res.Header, body: string(b), err: err}
}

// poll starts a GET /next; its answer arrives on the channel.
func (w fakeWorker) poll() <-chan answer {
	c := make(chan answer, 1)
	go func() { c <- w.do("GET", "/2018-06-01/runtime/invocation/next", "") }()
	return c
}

// waitUntil fails the test if cond does not hold within waitTimeout.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(waitTimeout); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s", waitTimeout, what)
		}
	}
}

// hand hands inv to the worker's poll.
func hand(t *testing.T, s *Server, inv *Invocation) {
	t.Helper()
	select {
	case s.Next() <- inv:
	case <-time.After(waitTimeout):
		t.Fatal("the worker did not take the invocation")
	}
}

// received waits for the answer to a poll.
func received(t *testing.T, c <-chan answer) answer {
	t.Helper()
	select {
	case a := <-c:
		if a.err != nil {
			t.Fatal(a.err)
		}
		return a
	case <-time.After(waitTimeout):
		t.Fatal("the poll was not answered")
		return answer{}
	}
}

// outcome waits for inv's result.
func outcome(t *testing.T, inv *Invocation) Result {
	t.Helper()
	select {
	case res := <-inv.Result():
		return res
	case <-time.After(waitTimeout):
		t.Fatalf("invocation %s has no result", inv.ID)
		return Result{}
	}
}

// TestRuntimeAPI checks the Runtime API's answers to requests that are not
// the worker's own, made on its address while its poll waits: a second
// poller, a request id that is not in flight, an init error once the
// worker serves, and attempts to start an invocation, which the API has no
// route for. None of them disturbs the worker: its own poll takes the
// invocation it is handed, with Lambda's headers, and its answer is the
// invocation's result.
func TestRuntimeAPI(t *testing.T) {
	var initErrors atomic.Int32
	s := newServer(Options{InitError: func(ErrorReport) { initErrors.Add(1) }})
	w := fakeWorker{serve(t, s)}
	poll := w.poll()
	select {
	case <-s.Ready():
	case <-time.After(waitTimeout):
		t.Fatal("a worker that polls is not ready")
	}
	waitUntil(t, "the worker's poll to wait", s.Waiting)

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
			a := w.do(tt.method, tt.path, `{"statusCode":200}`)
			if a.err != nil || a.status != tt.want || !strings.Contains(a.body, tt.wantType) {
				t.Errorf("%s %s = %d %s (%v), want %d %s", tt.method, tt.path, a.status, a.body, a.err, tt.want, tt.wantType)
			}
		})
	}
	if n := initErrors.Load(); n != 0 {
		t.Errorf("InitError was called %d times for a worker past its init", n)
	}

	// None of that disturbed the worker's own poll.
	if !s.Waiting() {
		t.Fatal("the worker's poll no longer waits")
	}
	inv := NewInvocation([]byte(`{"path":"/hello"}`), time.Minute)
	hand(t, s, inv)
	got := received(t, poll)
	if got.status != http.StatusOK || got.body != `{"path":"/hello"}` {
		t.Fatalf("GET /next = %d %q, want 200 and the event", got.status, got.body)
	}
	for name, want := range map[string]string{
		"Content-Type":                        "application/json",
		"Lambda-Runtime-Aws-Request-Id":       inv.ID,
		"Lambda-Runtime-Deadline-Ms":          strconv.FormatInt(inv.Deadline.UnixMilli(), 10),
		"Lambda-Runtime-Invoked-Function-Arn": arn,
		"Lambda-Runtime-Trace-Id":             inv.TraceID,
	} {
		if v := got.header.Get(name); v != want {
			t.Errorf("GET /next: %s = %q, want %q", name, v, want)
		}
	}
	if s.Waiting() {
		t.Error("the server says the worker waits while it holds an invocation")
	}
	a := w.do("POST", "/2018-06-01/runtime/invocation/"+inv.ID+"/response", `{"statusCode":200,"body":"hello"}`)
	if a.status != http.StatusAccepted || a.body != `{"status":"OK"}` {
		t.Errorf("POST /response = %d %s, want 202", a.status, a.body)
	}
	if res := outcome(t, inv); res.Err != nil || string(res.Body) != `{"statusCode":200,"body":"hello"}` {
		t.Errorf("result %q, %v; want the response posted", res.Body, res.Err)
	}
	// The id is answered: a second answer finds nothing in flight.
	if a := w.do("POST", "/2018-06-01/runtime/invocation/"+inv.ID+"/response", `{}`); a.status != http.StatusBadRequest {
		t.Errorf("a second POST /response = %d %s, want 400", a.status, a.body)
	}
}

// TestOutcomes checks what becomes of an invocation handed to the worker,
// by what the worker does next.
func TestOutcomes(t *testing.T) {
	tests := []struct {
		name       string
		act        func(w fakeWorker, id string) answer
		wantStatus int
		wantBody   string // the result's body
		wantErr    string // in the result's error
	}{
		{
			name: "response",
			act: func(w fakeWorker, id string) answer {
				return w.do("POST", "/2018-06-01/runtime/invocation/"+id+"/response", `{"statusCode":201}`)
			},
			wantStatus: http.StatusAccepted, wantBody: `{"statusCode":201}`,
		},
		{
			name: "handler error",
			act: func(w fakeWorker, id string) answer {
				return w.do("POST", "/2018-06-01/runtime/invocation/"+id+"/error",
					`{"errorType":"TypeError","errorMessage":"boom","stackTrace":["at f"]}`)
			},
			wantStatus: http.StatusAccepted, wantErr: "function fn: handler error TypeError: boom",
		},
		{
			name: "handler error in plain text",
			act: func(w fakeWorker, id string) answer {
				return w.do("POST", "/2018-06-01/runtime/invocation/"+id+"/error", "  it broke\n",
					"Lambda-Runtime-Function-Error-Type", "Runtime.Crash")
			},
			wantStatus: http.StatusAccepted, wantErr: "handler error Runtime.Crash: it broke",
		},
		{
			name: "response too large",
			act: func(w fakeWorker, id string) answer {
				return w.do("POST", "/2018-06-01/runtime/invocation/"+id+"/response", strings.Repeat("x", maxResponseBytes+1))
			},
			wantStatus: http.StatusRequestEntityTooLarge, wantErr: "exceeds Lambda's 6291456-byte limit",
		},
		{
			name: "next without answering",
			act: func(w fakeWorker, id string) answer {
				// The second poll stays open until the test's cleanup.
				w.poll()
				return answer{}
			},
			wantErr: "worker asked for the next invocation without answering",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(Options{})
			w := fakeWorker{serve(t, s)}
			poll := w.poll()
			inv := NewInvocation([]byte(`{}`), time.Minute)
			hand(t, s, inv)
			received(t, poll)
			if a := tt.act(w, inv.ID); a.err != nil || a.status != tt.wantStatus {
				t.Errorf("the worker's request = %d %s (%v), want %d", a.status, a.body, a.err, tt.wantStatus)
			}
			res := outcome(t, inv)
			if string(res.Body) != tt.wantBody {
				t.Errorf("result body %q, want %q", res.Body, tt.wantBody)
			}
			if tt.wantErr == "" && res.Err != nil || tt.wantErr != "" && (res.Err == nil || !strings.Contains(res.Err.Error(), tt.wantErr)) {
				t.Errorf("result error %v, want %q", res.Err, tt.wantErr)
			}
		})
	}
}

// TestInitError checks that an init error posted before the worker's
// first poll is accepted and handed to Options.InitError, decoded.
func TestInitError(t *testing.T) {
	var (
		mu  sync.Mutex
		got []ErrorReport
	)
	s := newServer(Options{InitError: func(e ErrorReport) {
		mu.Lock()
		got = append(got, e)
		mu.Unlock()
	}})
	w := fakeWorker{serve(t, s)}
	a := w.do("POST", "/2018-06-01/runtime/init/error",
		`{"errorType":"Runtime.HandlerNotFound","errorMessage":"index.handler is undefined or not exported","trace":["at a","at b"]}`,
		"Lambda-Runtime-Function-Error-Type", "Runtime.HandlerNotFound")
	if a.err != nil || a.status != http.StatusAccepted {
		t.Fatalf("POST /init/error = %d %s (%v), want 202", a.status, a.body, a.err)
	}
	mu.Lock()
	defer mu.Unlock()
	want := ErrorReport{Type: "Runtime.HandlerNotFound", Message: "index.handler is undefined or not exported",
		Stack: []string{"at a", "at b"}, Trace: []string{"at a", "at b"}}
	if len(got) != 1 || got[0].Type != want.Type || got[0].Message != want.Message || !slices.Equal(got[0].Stack, want.Stack) {
		t.Errorf("InitError got %+v, want one %+v", got, want)
	}
	select {
	case <-s.Ready():
		t.Error("a worker that never polled is ready")
	default:
	}
}

// TestNextContentLength checks that GET /next answers an event with its
// length, whatever its size, rather than in chunks once it outgrows the
// server's buffer, as Lambda's Runtime API does.
func TestNextContentLength(t *testing.T) {
	s := newServer(Options{})
	srv := httptest.NewServer(s)
	defer srv.Close()
	defer s.Close()

	ev := []byte(`{"body":"` + strings.Repeat("x", 64<<10) + `"}`)
	inv := NewInvocation(ev, time.Minute)
	go func() { s.Next() <- inv }()
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
	if got := res.Header.Get("Lambda-Runtime-Aws-Request-Id"); got != inv.ID {
		t.Errorf("Lambda-Runtime-Aws-Request-Id = %q, want %q", got, inv.ID)
	}
}

// TestParseErrorReport checks how error reports are read, as the runtimes
// that post them write them.
func TestParseErrorReport(t *testing.T) {
	tests := []struct {
		name, body, header string
		want               ErrorReport
	}{
		{"aws-lambda-go", `{"errorMessage":"boom","errorType":"errorString","stackTrace":["main.go:3"]}`, "",
			ErrorReport{Message: "boom", Type: "errorString", Stack: []string{"main.go:3"}}},
		{"node RIC", `{"errorType":"TypeError","errorMessage":"x is not a function","trace":["TypeError: x","    at f"]}`, "",
			ErrorReport{Message: "x is not a function", Type: "TypeError", Stack: []string{"TypeError: x", "    at f"}, Trace: []string{"TypeError: x", "    at f"}}},
		{"type from the header", `{"errorMessage":"boom"}`, "Runtime.ExitError",
			ErrorReport{Message: "boom", Type: "Runtime.ExitError"}},
		{"the body's type wins", `{"errorMessage":"boom","errorType":"ValueError"}`, "Runtime.ExitError",
			ErrorReport{Message: "boom", Type: "ValueError"}},
		{"plain text", "Traceback (most recent call last):\n  boom\n", "",
			ErrorReport{Message: "Traceback (most recent call last):\n  boom", Type: "Unknown"}},
		{"empty", "", "", ErrorReport{Type: "Unknown"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := parseErrorReport([]byte(tt.body), tt.header)
			if got.Message != tt.want.Message || got.Type != tt.want.Type ||
				!slices.Equal(got.Stack, tt.want.Stack) || !slices.Equal(got.Trace, tt.want.Trace) {
				t.Errorf("parseErrorReport(%q, %q) = %+v, want %+v", tt.body, tt.header, got, tt.want)
			}
		})
	}
}

// TestClose checks that Close ends the worker's poll and the server: Serve
// returns http.ErrServerClosed, and the address refuses connections.
func TestClose(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := newServer(Options{})
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()
	w := fakeWorker{ln.Addr().String()}
	poll := w.poll()
	waitUntil(t, "the worker's poll to wait", s.Waiting)

	s.Close()
	s.Close() // twice is fine
	select {
	case err := <-served:
		if !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve returned %v, want http.ErrServerClosed", err)
		}
	case <-time.After(waitTimeout):
		t.Fatal("Serve did not return after Close")
	}
	select {
	case <-poll:
	case <-time.After(waitTimeout):
		t.Fatal("the worker's poll still waits after Close")
	}
	if c, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		c.Close()
		t.Errorf("%s still accepts connections after Close", ln.Addr())
	}
}
