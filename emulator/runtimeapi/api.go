// Package runtimeapi serves the AWS Lambda Runtime API to one worker: the
// process that runs a function's handler and pulls its invocations from
// http://$AWS_LAMBDA_RUNTIME_API. It speaks the published protocol, and,
// to inquir's own node bootstrap, the invocation channel (channel.go); it
// knows nothing of how workers are started, pooled or built.
//
// Whoever runs the worker hands a Server an Invocation (Next) once the
// worker polls (Ready), and reads the worker's answer from the
// Invocation's Result. The API has no route that starts an invocation:
// workers only pull the ones they are handed.
// https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html
package runtimeapi

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/inquir-dev/inquir/emulator/internal/uuid"
)

// The Runtime API as Lambda serves it, at http://$AWS_LAMBDA_RUNTIME_API
// followed by this prefix. Each worker has a server of its own, so the
// host:port says which worker a request is about.
const apiPrefix = "/2018-06-01/runtime"

const (
	// maxResponseBytes is Lambda's limit on a synchronous response.
	maxResponseBytes = 6 << 20
	// maxErrorBytes bounds an error report; only its message is kept.
	maxErrorBytes = 1 << 20
)

// Invocation is one event handed to one worker.
type Invocation struct {
	ID       string // Lambda-Runtime-Aws-Request-Id
	TraceID  string // Lambda-Runtime-Trace-Id
	Event    []byte
	Deadline time.Time   // Lambda-Runtime-Deadline-Ms
	result   chan Result // buffered: whoever answers never blocks
}

// Result is a worker's outcome of an invocation: the response it posted,
// or why the invocation failed (the handler's error, a response over
// Lambda's limit, a worker that asked for the next one without answering).
type Result struct {
	Body []byte
	Err  error
}

// NewInvocation returns an invocation of event, with a new request id,
// due within timeout from now.
func NewInvocation(event []byte, timeout time.Duration) *Invocation {
	return &Invocation{
		ID:       uuid.New(),
		TraceID:  newTraceID(),
		Event:    event,
		Deadline: time.Now().Add(timeout),
		result:   make(chan Result, 1),
	}
}

// Result delivers the invocation's outcome, once.
func (inv *Invocation) Result() <-chan Result { return inv.result }

// Options configure a Server.
type Options struct {
	// Function is the name of the function the worker runs: the errors an
	// invocation fails with and the log lines say it.
	Function string
	// FunctionARN is handed to the worker with every invocation
	// (Lambda-Runtime-Invoked-Function-Arn).
	FunctionARN string
	// Log receives the errors the handler reported and what the worker
	// did that the API refused. If nil, they are discarded.
	Log *slog.Logger
	// PID, if set, says the worker's process id for the log lines about
	// what the worker did; it is called as each is written, since the
	// server serves before the worker's process starts.
	PID func() int
	// InitError, if set, is called with the report of a worker that posts
	// /init/error before its first poll, before the worker hears back:
	// its init failed, and whoever runs it is to stop it.
	InitError func(ErrorReport)
}

// Server is the Runtime API of one worker; it is an http.Handler. Create
// it with New, serve it with Serve, and Close it when the worker is gone.
type Server struct {
	opts Options
	log  *slog.Logger
	mux  *http.ServeMux
	srv  *http.Server

	// next hands an invocation to the worker's pending GET /next.
	next chan *Invocation

	ready     chan struct{} // closed at its first GET /next
	readyOnce sync.Once
	gone      chan struct{} // closed by Close
	closeOnce sync.Once

	mu      sync.Mutex
	current *Invocation // handed to the worker and not yet answered
	polling bool        // a GET /invocation/next is waiting, or a channel is open
	conn    net.Conn    // the invocation channel's connection, while open
}

// New returns the Runtime API server of one worker.
func New(opts Options) *Server {
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		opts:  opts,
		log:   log,
		next:  make(chan *Invocation),
		ready: make(chan struct{}),
		gone:  make(chan struct{}),
	}
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("GET "+apiPrefix+"/invocation/next", s.nextInvocation)
	s.mux.HandleFunc("POST "+apiPrefix+"/invocation/{id}/response", s.response)
	s.mux.HandleFunc("POST "+apiPrefix+"/invocation/{id}/error", s.invocationError)
	s.mux.HandleFunc("POST "+apiPrefix+"/init/error", s.initError)
	s.srv = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		// No read or write timeout: /next is a long poll that lasts as long
		// as the worker stays idle.
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	return s
}

// ServeHTTP routes the Runtime API.
func (s *Server) ServeHTTP(rw http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(rw, r) }

// Serve serves the API on ln until Close, and returns as http.Server's
// Serve does: http.ErrServerClosed after Close. The listener decides who
// may connect.
func (s *Server) Serve(ln net.Listener) error { return s.srv.Serve(ln) }

// Next takes an invocation to hand to the worker: a send on it completes
// once the worker's poll (or channel) has taken it.
func (s *Server) Next() chan<- *Invocation { return s.next }

// Ready is closed once the worker first asked for an invocation: its
// init is over.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Waiting reports whether the worker waits for an invocation: its GET
// /next or its channel is open, and no invocation is in its hands.
func (s *Server) Waiting() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.polling && s.current == nil
}

// Channel reports whether the worker's invocation channel is open.
func (s *Server) Channel() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conn != nil
}

// Close ends the worker's poll, closes the server and every connection to
// it, the invocation channel's too. It does not wait for Serve to return.
// It is safe to call more than once.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.gone)
		_ = s.srv.Close()
		// A channel's connection was hijacked from the server, so Close
		// left it open.
		s.mu.Lock()
		if s.conn != nil {
			_ = s.conn.Close()
		}
		s.mu.Unlock()
	})
}

// workerAttrs are the attributes that name the worker in a log line.
func (s *Server) workerAttrs(attrs ...any) []any {
	if s.opts.PID == nil {
		return append([]any{"function", s.opts.Function}, attrs...)
	}
	return append([]any{"function", s.opts.Function, "pid", s.opts.PID()}, attrs...)
}

// nextInvocation blocks until the server is handed an invocation, then
// returns the event with the invocation's headers. One poll at a time:
// while one waits, another is refused, so a second client of the worker's
// address cannot take the event the worker is waiting for.
func (s *Server) nextInvocation(rw http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if s.polling {
		s.mu.Unlock()
		s.log.Warn("refused a second GET /invocation/next on a worker's Runtime API while its own poll waits",
			s.workerAttrs("remote", r.RemoteAddr)...)
		apiError(rw, http.StatusForbidden, "InvalidStateTransition",
			"another GET /invocation/next is already waiting on this Runtime API")
		return
	}
	s.polling = true
	// Asking for the next invocation completes the previous one, as in
	// Lambda; a worker that never answered it has failed it.
	prev := s.current
	s.current = nil
	s.mu.Unlock()
	if prev != nil {
		prev.result <- Result{Err: fmt.Errorf("function %s: worker asked for the next invocation without answering %s", s.opts.Function, prev.ID)}
	}
	if wantsChannel(r) {
		s.channel(rw)
		return
	}
	s.markReady()
	select {
	case inv := <-s.next:
		s.mu.Lock()
		s.current = inv
		s.polling = false
		s.mu.Unlock()
		// Canonical names, set as they are; and the length, so that an
		// event of more than a few KiB goes out as it is, not chunked.
		h := rw.Header()
		h["Content-Type"] = []string{"application/json"}
		h["Content-Length"] = []string{strconv.Itoa(len(inv.Event))}
		h["Lambda-Runtime-Aws-Request-Id"] = []string{inv.ID}
		h["Lambda-Runtime-Deadline-Ms"] = []string{strconv.FormatInt(inv.Deadline.UnixMilli(), 10)}
		h["Lambda-Runtime-Invoked-Function-Arn"] = []string{s.opts.FunctionARN}
		h["Lambda-Runtime-Trace-Id"] = []string{inv.TraceID}
		rw.WriteHeader(http.StatusOK)
		// A failed write means the worker is gone; its exit fails the
		// invocation.
		_, _ = rw.Write(inv.Event)
	case <-r.Context().Done():
		s.stopPolling()
	case <-s.gone:
		s.stopPolling()
	}
}

func (s *Server) stopPolling() {
	s.mu.Lock()
	s.polling = false
	s.mu.Unlock()
}

func (s *Server) markReady() { s.readyOnce.Do(func() { close(s.ready) }) }

// response delivers the worker's answer to the invocation.
func (s *Server) response(rw http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(rw, r.Body, maxResponseBytes))
	inv := s.take(r.PathValue("id"))
	if inv == nil {
		apiError(rw, http.StatusBadRequest, "InvalidRequestID", "no invocation with this id is in progress on this worker")
		return
	}
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		inv.result <- Result{Err: fmt.Errorf("function %s: response to %s exceeds Lambda's %d-byte limit", s.opts.Function, inv.ID, maxResponseBytes)}
		apiError(rw, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "response exceeds the 6 MB limit")
		return
	case err != nil:
		inv.result <- Result{Err: fmt.Errorf("function %s: reading the response to %s: %w", s.opts.Function, inv.ID, err)}
		apiError(rw, http.StatusBadRequest, "InvalidResponse", "reading the response failed")
		return
	}
	// aws-lambda-go reports a failure while it streams the response in
	// trailers; they are only readable once the body is.
	if typ := r.Trailer.Get("Lambda-Runtime-Function-Error-Type"); typ != "" {
		inv.result <- Result{Err: fmt.Errorf("function %s: handler error %s while sending the response to %s", s.opts.Function, typ, inv.ID)}
	} else {
		inv.result <- Result{Body: body}
	}
	accepted(rw)
}

// invocationError fails the invocation with the error the worker reports.
func (s *Server) invocationError(rw http.ResponseWriter, r *http.Request) {
	e := readErrorReport(r)
	inv := s.take(r.PathValue("id"))
	if inv == nil {
		apiError(rw, http.StatusBadRequest, "InvalidRequestID", "no invocation with this id is in progress on this worker")
		return
	}
	s.log.Warn("function returned an error", "function", s.opts.Function, "request_id", inv.ID,
		"error_type", e.Type, "error_message", e.Message, "stack", strings.Join(e.Stack, "\n"))
	inv.result <- Result{Err: &HandlerError{Function: s.opts.Function, Type: e.Type, Message: e.Message}}
	accepted(rw)
}

// HandlerError is the error a handler reported through /error: its
// errorType and errorMessage. An authorizer that answers
// callback("Unauthorized") or throws Error("Unauthorized") reports one with
// that message, which API Gateway answers with 401.
type HandlerError struct {
	Function, Type, Message string
}

func (e *HandlerError) Error() string {
	return fmt.Sprintf("function %s: handler error %s: %s", e.Function, e.Type, e.Message)
}

// HandlerMessage is the handler's errorMessage; the gateway reads it
// through this method, as it imports no runtime.
func (e *HandlerError) HandlerMessage() string { return e.Message }

// initError hands Options.InitError the report of a worker that failed to
// initialise. Once the worker has asked for an invocation its init is
// over, and Lambda refuses an init error with 403 InvalidStateTransition
// (aws-lambda-runtime-interface-emulator, lambda/rapi/handler/initerror.go):
// so does inquir, and the worker carries on.
func (s *Server) initError(rw http.ResponseWriter, r *http.Request) {
	select {
	case <-s.ready:
		s.log.Warn("refused an init error from a worker that is past its init, as Lambda does (403)", s.workerAttrs()...)
		apiError(rw, http.StatusForbidden, "InvalidStateTransition",
			"State transition from Running to InitError failed for runtime. Error: State transition is not allowed")
		return
	default:
	}
	e := readErrorReport(r)
	if s.opts.InitError != nil {
		s.opts.InitError(e)
	}
	accepted(rw)
}

// take returns the worker's current invocation and clears it, if its id
// is id; otherwise nil.
func (s *Server) take(id string) *Invocation {
	s.mu.Lock()
	defer s.mu.Unlock()
	inv := s.current
	if inv == nil || inv.ID != id {
		return nil
	}
	s.current = nil
	return inv
}

// ErrorReport is the body of /error and /init/error.
type ErrorReport struct {
	Message string   `json:"errorMessage"`
	Type    string   `json:"errorType"`
	Stack   []string `json:"stackTrace"`
	// Trace is the stack as the official Node runtime interface client
	// names it; Stack as aws-lambda-go and the Python client do.
	Trace []string `json:"trace"`
}

// readErrorReport decodes an error report, making do with what it can:
// a runtime that sends plain text still gets its message logged.
func readErrorReport(r *http.Request) ErrorReport {
	body, _ := io.ReadAll(io.LimitReader(r.Body, maxErrorBytes))
	return parseErrorReport(body, r.Header.Get("Lambda-Runtime-Function-Error-Type"))
}

// parseErrorReport decodes an error report's body; headerType is the
// Lambda-Runtime-Function-Error-Type it came with, if any.
func parseErrorReport(body []byte, headerType string) ErrorReport {
	var e ErrorReport
	if json.Unmarshal(body, &e) != nil {
		e = ErrorReport{Message: strings.TrimSpace(string(body))}
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

// newTraceID returns an X-Ray style trace header value with a new Root.
func newTraceID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return TraceHeader(fmt.Sprintf("1-%08x-%s", time.Now().Unix(), hex.EncodeToString(b[:])))
}

// TraceHeader returns the Lambda-Runtime-Trace-Id of an invocation whose
// X-Ray trace id is root ("1-5bef4de7-ad49b0e87f6ef6c87fc2e700"), as
// Lambda sends it: "Root=<root>;Parent=<16 hex digits>;Sampled=0". The
// one who invokes sets Invocation.TraceID to it so that the function sees
// the trace id the caller's X-Amzn-Trace-Id header holds.
func TraceHeader(root string) string {
	var p [8]byte
	_, _ = rand.Read(p[:])
	return "Root=" + root + ";Parent=" + hex.EncodeToString(p[:]) + ";Sampled=0"
}
