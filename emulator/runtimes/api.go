package runtimes

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/inquir-dev/inquir/emulator/internal/uuid"
)

// The Runtime API as Lambda serves it, at http://$AWS_LAMBDA_RUNTIME_API
// followed by this prefix. Each worker has a server of its own, so the
// host:port says which worker a request is about.
// https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html
const apiPrefix = "/2018-06-01/runtime"

const (
	// maxResponseBytes is Lambda's limit on a synchronous response.
	maxResponseBytes = 6 << 20
	// maxErrorBytes bounds an error report; only its message is kept.
	maxErrorBytes = 1 << 20
)

// invocation is one event handed to one worker.
type invocation struct {
	id       string
	traceID  string
	event    []byte
	deadline time.Time
	result   chan result // buffered: whoever answers never blocks
}

type result struct {
	body []byte
	err  error
}

func newInvocation(event []byte, timeout time.Duration) *invocation {
	return &invocation{
		id:       uuid.New(),
		traceID:  newTraceID(),
		event:    event,
		deadline: time.Now().Add(timeout),
		result:   make(chan result, 1),
	}
}

// runtimeAPI routes the Runtime API of one worker. It has no route that
// starts an invocation: workers only pull the ones Invoke hands them.
func (m *Manager) runtimeAPI(w *worker) http.Handler {
	mux := http.NewServeMux()
	route := func(pattern string, h func(http.ResponseWriter, *http.Request, *worker)) {
		mux.HandleFunc(pattern, func(rw http.ResponseWriter, r *http.Request) { h(rw, r, w) })
	}
	route("GET "+apiPrefix+"/invocation/next", m.next)
	route("POST "+apiPrefix+"/invocation/{id}/response", m.response)
	route("POST "+apiPrefix+"/invocation/{id}/error", m.invocationError)
	route("POST "+apiPrefix+"/init/error", m.initError)
	return mux
}

// next blocks until Invoke hands the worker an invocation, then returns
// the event with the invocation's headers. One poll at a time: while one
// waits, another is refused, so a second client of the worker's address
// cannot take the event the worker is waiting for.
func (m *Manager) next(rw http.ResponseWriter, r *http.Request, w *worker) {
	w.mu.Lock()
	if w.polling {
		w.mu.Unlock()
		m.log.Warn("refused a second GET /invocation/next on a worker's Runtime API while its own poll waits",
			"function", w.name, "pid", w.pid, "remote", r.RemoteAddr)
		apiError(rw, http.StatusForbidden, "InvalidStateTransition",
			"another GET /invocation/next is already waiting on this Runtime API")
		return
	}
	w.polling = true
	// Asking for the next invocation completes the previous one, as in
	// Lambda; a worker that never answered it has failed it.
	prev := w.current
	w.current = nil
	w.mu.Unlock()
	if prev != nil {
		prev.result <- result{err: fmt.Errorf("function %s: worker asked for the next invocation without answering %s", w.name, prev.id)}
	}
	if wantsChannel(r) {
		m.channel(rw, w)
		return
	}
	w.markReady()
	select {
	case inv := <-w.next:
		w.mu.Lock()
		w.current = inv
		w.polling = false
		w.mu.Unlock()
		// Canonical names, set as they are; and the length, so that an
		// event of more than a few KiB goes out as it is, not chunked.
		h := rw.Header()
		h["Content-Type"] = []string{"application/json"}
		h["Content-Length"] = []string{strconv.Itoa(len(inv.event))}
		h["Lambda-Runtime-Aws-Request-Id"] = []string{inv.id}
		h["Lambda-Runtime-Deadline-Ms"] = []string{strconv.FormatInt(inv.deadline.UnixMilli(), 10)}
		h["Lambda-Runtime-Invoked-Function-Arn"] = []string{w.p.arn()}
		h["Lambda-Runtime-Trace-Id"] = []string{inv.traceID}
		rw.WriteHeader(http.StatusOK)
		// A failed write means the worker is gone; its exit fails the
		// invocation.
		_, _ = rw.Write(inv.event)
	case <-r.Context().Done():
		w.stopPolling()
	case <-w.apiGone:
		w.stopPolling()
	}
}

func (w *worker) stopPolling() {
	w.mu.Lock()
	w.polling = false
	w.mu.Unlock()
}

// response delivers the worker's answer to the invocation.
func (m *Manager) response(rw http.ResponseWriter, r *http.Request, w *worker) {
	body, err := io.ReadAll(http.MaxBytesReader(rw, r.Body, maxResponseBytes))
	inv := w.take(r.PathValue("id"))
	if inv == nil {
		apiError(rw, http.StatusBadRequest, "InvalidRequestID", "no invocation with this id is in progress on this worker")
		return
	}
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		inv.result <- result{err: fmt.Errorf("function %s: response to %s exceeds Lambda's %d-byte limit", w.name, inv.id, maxResponseBytes)}
		apiError(rw, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "response exceeds the 6 MB limit")
		return
	case err != nil:
		inv.result <- result{err: fmt.Errorf("function %s: reading the response to %s: %w", w.name, inv.id, err)}
		apiError(rw, http.StatusBadRequest, "InvalidResponse", "reading the response failed")
		return
	}
	// aws-lambda-go reports a failure while it streams the response in
	// trailers; they are only readable once the body is.
	if typ := r.Trailer.Get("Lambda-Runtime-Function-Error-Type"); typ != "" {
		inv.result <- result{err: fmt.Errorf("function %s: handler error %s while sending the response to %s", w.name, typ, inv.id)}
	} else {
		inv.result <- result{body: body}
	}
	accepted(rw)
}

// invocationError fails the invocation with the error the worker reports.
func (m *Manager) invocationError(rw http.ResponseWriter, r *http.Request, w *worker) {
	e := readErrorReport(r)
	inv := w.take(r.PathValue("id"))
	if inv == nil {
		apiError(rw, http.StatusBadRequest, "InvalidRequestID", "no invocation with this id is in progress on this worker")
		return
	}
	m.log.Warn("function returned an error", "function", w.name, "request_id", inv.id,
		"error_type", e.Type, "error_message", e.Message, "stack", strings.Join(e.Stack, "\n"))
	inv.result <- result{err: fmt.Errorf("function %s: handler error %s: %s", w.name, e.Type, e.Message)}
	accepted(rw)
}

// initError records that the worker failed to initialise; the start
// waiting for it fails and the worker is discarded. Once the worker has
// asked for an invocation its init is over, and Lambda refuses an init
// error with 403 InvalidStateTransition (aws-lambda-runtime-interface-
// emulator, lambda/rapi/handler/initerror.go): so does inquir, and the
// worker carries on.
func (m *Manager) initError(rw http.ResponseWriter, r *http.Request, w *worker) {
	select {
	case <-w.ready:
		m.log.Warn("refused an init error from a worker that is past its init, as Lambda does (403)", "function", w.name, "pid", w.pid)
		apiError(rw, http.StatusForbidden, "InvalidStateTransition",
			"State transition from Running to InitError failed for runtime. Error: State transition is not allowed")
		return
	default:
	}
	e := readErrorReport(r)
	m.log.Warn("function failed to initialise", "function", w.name, "error_type", e.Type, "error_message", e.Message,
		"stack", strings.Join(e.Stack, "\n"))
	err := fmt.Errorf("function %s: init error %s: %s", w.name, e.Type, e.Message)
	// Not a crash (the worker is asked to stop), but a start that failed:
	// it counts towards a crash loop like one.
	w.p.failed(truncate(fmt.Sprintf("init error %s: %s", e.Type, e.Message), 300))
	w.setInitError(err)
	// Marked before the worker hears back and exits on its own, so its
	// exit does not count as a crash.
	w.markStopping()
	accepted(rw)
	go w.stop()
}

// truncate shortens s to at most n bytes, on a rune boundary, saying
// that it did.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}

// take returns the worker's current invocation and clears it, if its id
// is id; otherwise nil.
func (w *worker) take(id string) *invocation {
	w.mu.Lock()
	defer w.mu.Unlock()
	inv := w.current
	if inv == nil || inv.id != id {
		return nil
	}
	w.current = nil
	return inv
}

// errorReport is the body of /error and /init/error.
type errorReport struct {
	Message string   `json:"errorMessage"`
	Type    string   `json:"errorType"`
	Stack   []string `json:"stackTrace"`
	// Trace is the stack as the official Node runtime interface client
	// names it; Stack as aws-lambda-go and the Python client do.
	Trace []string `json:"trace"`
}

// readErrorReport decodes an error report, making do with what it can:
// a runtime that sends plain text still gets its message logged.
func readErrorReport(r *http.Request) errorReport {
	body, _ := io.ReadAll(io.LimitReader(r.Body, maxErrorBytes))
	return parseErrorReport(body, r.Header.Get("Lambda-Runtime-Function-Error-Type"))
}

// parseErrorReport decodes an error report's body; headerType is the
// Lambda-Runtime-Function-Error-Type it came with, if any.
func parseErrorReport(body []byte, headerType string) errorReport {
	var e errorReport
	if json.Unmarshal(body, &e) != nil {
		e = errorReport{Message: strings.TrimSpace(string(body))}
	}
	if len(e.Stack) == 0 {
		e.Stack = e.Trace
	}
	if e.Type == "" {
		e.Type = headerType
	}
	if e.Type == "" {
		e.Type = "Unknown"
	}
	return e
}

func accepted(rw http.ResponseWriter) {
	rw.Header().Set("Content-Type", "application/json")
	rw.WriteHeader(http.StatusAccepted)
	_, _ = io.WriteString(rw, `{"status":"OK"}`)
}

// apiError answers as the Lambda Runtime API does on errors.
func apiError(rw http.ResponseWriter, status int, typ, msg string) {
	rw.Header().Set("Content-Type", "application/json")
	rw.WriteHeader(status)
	_ = json.NewEncoder(rw).Encode(struct {
		Message string `json:"errorMessage"`
		Type    string `json:"errorType"`
	}{msg, typ})
}

// newTraceID returns an X-Ray style trace header value.
func newTraceID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("Root=1-%08x-%s;Sampled=0", time.Now().Unix(), hex.EncodeToString(b[:]))
}
