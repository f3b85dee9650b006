package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/inquir-dev/inquir/emulator/policy"
)

// Page is the live page at /_inquir/ (package page): the one seam between
// it and the gateway. The gateway hands it every request it answers and
// sends it the requests for the page's own paths.
type Page interface {
	// Observe hears of a request once it is answered, from the goroutine
	// that served it, with its log line. It must not block: the page
	// keeps x in a bounded ring and its subscribers read from there.
	Observe(x Exchange)
	// ServeHTTP answers every path under /_inquir/ that is not one of the
	// gateway's own built-ins (health, routes, stats, usage, clock), any
	// method, once the gateway has checked Host as for every built-in.
	http.Handler
}

// Exchange is one request the gateway answered, as the live page shows
// it. The gateway never changes one once it is handed over, and neither
// may the page: Header and Body are the request's own.
//
// It holds what the request held, the key header's value included, so
// that the page can replay it: the page shows none of it without the
// redaction the log applies, and never the key header's value.
type Exchange struct {
	Time     time.Time // when the request arrived
	Duration time.Duration
	Method   string
	Path     string // as sent, escaped
	Query    string // the raw query, without '?'
	Header   http.Header
	// Body is the request body as the function got it; nil for a request
	// refused before its body was read. After Bound, BodySize is its
	// full length, and EventSize and AnswerSize those of the event and
	// the answer's body.
	Body                            []byte
	BodySize, EventSize, AnswerSize int
	// HeaderCut is how many header values Bound left out of Header
	// (maxKeptHeaderValues), 0 for none.
	HeaderCut int
	// Policy is the policy the request was judged by, nil before any;
	// Route the route it matched, nil when none did.
	Policy *policy.Policy
	Route  *policy.Route
	// Outcome is the policy's verdict on the key ("allowed", "public",
	// "missing_api_key", ...) and Decided whether it was asked.
	Outcome policy.Outcome
	Decided bool
	KeyID   string
	// Reason is the log's reason code for a refusal ("forbidden",
	// "unknown_key", "rate_limited", ...), "" for a request let through.
	Reason    string
	Status    int
	Function  string
	RequestID string
	// Authorizer is the route's Lambda authorizer, and AuthorizerCache
	// "hit" or "miss" as the log says; both "" when none ran.
	Authorizer, AuthorizerCache string
	// Worker names the worker that ran the function ("pid 4242",
	// "in-process"), when the Invoker said (NoteWorker); "" otherwise.
	Worker string
	// Err is the log's error text, already redacted.
	Err string
	// The event the function was handed: as JSON, or as the value a
	// go-plugin function was handed (EventJSON encodes it).
	event      []byte
	typedEvent any // *events.APIGatewayProxyRequest or *events.APIGatewayV2HTTPRequest
	// Answer is the function's response as the gateway mapped it; nil
	// when the function did not answer (a refusal, a failure).
	Answer *Answer
	// usageKey is the API key the route's authorizer named
	// (usageIdentifierKey, api_key_source = "authorizer"): UsageKey.
	usageKey string
}

// UsageKey is the API key the route's Lambda authorizer named
// (usageIdentifierKey) when api_key_source = "authorizer", "" otherwise:
// a secret, which the page hides wherever the request spelled it, never
// one to show.
func (x *Exchange) UsageKey() string { return x.usageKey }

// maxKeptHeaderValues bounds the header values Bound keeps. The header
// block is at most 64 KiB (MaxHeaderBytes), but as a parsed map 5,000
// one-byte fields take ten times that: 1,024 such requests kept 500 MB.
// A browser sends a few dozen.
const maxKeptHeaderValues = 256

// Bound cuts what x holds of bodies to at most n bytes each (on a UTF-8
// boundary), copied, so that an exchange kept for a while does not keep a
// 6 MB request or answer alive: Body, the event, the answer's body.
// BodySize, EventSize and AnswerSize keep the full lengths. A go-plugin
// event with a body over n is encoded here, to be cut. Of a header with
// more than maxKeptHeaderValues values it keeps that many, copied, by
// name in order, and HeaderCut counts the rest.
func (x *Exchange) Bound(n int) {
	x.boundHeader()
	x.BodySize = len(x.Body)
	if len(x.Body) > n {
		x.Body = bytes.Clone(x.Body[:cutAt(x.Body, n)])
	}
	if x.typedEvent != nil && typedBodyLen(x.typedEvent) > n {
		x.event, x.typedEvent = x.EventJSON(), nil
	}
	x.EventSize = len(x.event)
	if len(x.event) > n {
		x.event = bytes.Clone(x.event[:cutAt(x.event, n)])
	}
	if a := x.Answer; a != nil {
		x.AnswerSize = len(a.Body)
		if len(a.Body) > n {
			cut := *a
			cut.Body = strings.Clone(a.Body[:cutAt([]byte(a.Body[:n+1]), n)])
			x.Answer = &cut
		}
	}
}

// boundHeader keeps at most maxKeptHeaderValues of x.Header's values.
func (x *Exchange) boundHeader() {
	values := 0
	for _, vs := range x.Header {
		values += len(vs)
	}
	if values <= maxKeptHeaderValues {
		return
	}
	kept, left := make(http.Header, maxKeptHeaderValues), maxKeptHeaderValues
	names := slices.Sorted(maps.Keys(x.Header))
	if x.Policy != nil {
		// The key header first: the page hides its values wherever else
		// the request spelled them.
		key := http.CanonicalHeaderKey(x.Policy.Config.Gateway.KeyHeader)
		if i := slices.Index(names, key); i > 0 {
			names = append(append([]string{key}, names[:i]...), names[i+1:]...)
		}
	}
	for _, name := range names {
		vs := x.Header[name]
		take := min(len(vs), left)
		kept[name] = slices.Clone(vs[:take])
		if left -= take; left == 0 {
			break
		}
	}
	x.Header, x.HeaderCut = kept, values-maxKeptHeaderValues
}

// typedBodyLen is the length of the body of a go-plugin's event value.
func typedBodyLen(ev any) int {
	switch ev := ev.(type) {
	case *events.APIGatewayProxyRequest:
		return len(ev.Body)
	case *events.APIGatewayV2HTTPRequest:
		return len(ev.Body)
	}
	return 0
}

// cutAt is the largest length at most n that does not split a UTF-8
// sequence of b (len(b) > n).
func cutAt(b []byte, n int) int {
	for i := n; i > n-utf8.UTFMax && i > 0; i-- {
		if utf8.RuneStart(b[i]) {
			return i
		}
	}
	return n
}

// Answer is a function's response as the gateway read it.
type Answer struct {
	Status            int
	Headers           map[string]string
	MultiValueHeaders map[string][]string
	Body              string
	IsBase64Encoded   bool
}

// EventJSON is the event the function was handed, as JSON, or nil when no
// function was invoked.
func (x *Exchange) EventJSON() []byte {
	if x.event != nil || x.typedEvent == nil {
		return x.event
	}
	b, err := json.Marshal(x.typedEvent)
	if err != nil {
		return nil
	}
	return b
}

// exchange is the Exchange of a request the gateway answered.
func (e *logEntry) exchange(r *http.Request, d time.Duration, errText string) Exchange {
	x := Exchange{
		Time: time.Now().Add(-d), Duration: d, Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.RawQuery,
		Header: r.Header, Body: e.body, Policy: e.policy, Route: e.route, Outcome: e.outcome, Decided: e.decided,
		KeyID: e.keyID, Reason: e.reason, Status: e.status, Function: e.function, RequestID: e.requestID, Worker: e.worker, Err: errText,
		Authorizer: e.authorizer, AuthorizerCache: e.authorizerCache,
		event: e.event, typedEvent: e.typedEvent, usageKey: e.usageKey,
	}
	if a := e.answer; a != nil {
		x.Answer = &Answer{Status: a.StatusCode, Headers: a.Headers, MultiValueHeaders: a.MultiValueHeaders, Body: a.Body, IsBase64Encoded: a.IsBase64Encoded}
	}
	return x
}

// workerNoteKey is the context key of the slot NoteWorker fills.
type workerNoteKey struct{}

// NoteWorker tells the live page which worker runs the invocation whose
// context is ctx ("pid 4242"). An Invoker calls it once it has picked one;
// without a page there is no slot and it does nothing.
func NoteWorker(ctx context.Context, worker string) {
	if slot, ok := ctx.Value(workerNoteKey{}).(*string); ok {
		*slot = worker
	}
}

// invokeContext is ctx, the context a function is invoked with, with a
// slot for NoteWorker when a page listens (nil otherwise). The Invoker
// writes the slot before it returns; the gateway reads it after. The slot
// is a string of its own, not the log entry's field: that would move every
// request's entry to the heap.
func (g *Gateway) invokeContext(ctx context.Context) (context.Context, *string) {
	if g.opts.Page == nil {
		return ctx, nil
	}
	slot := new(string)
	return context.WithValue(ctx, workerNoteKey{}, slot), slot
}

// ownBuiltins are the paths the gateway answers itself; every other path
// under /_inquir/ is the page's.
var ownBuiltins = map[string]bool{"/_inquir/health": true, "/_inquir/routes": true, "/_inquir/stats": true, "/_inquir/usage": true, "/_inquir/clock": true}

// servePage hands a request to the page and returns the status it wrote.
// The page is handed the path as the gateway routed it (dot segments and
// doubled slashes folded), so it matches the gateway's notion of a
// built-in's path.
func (g *Gateway) servePage(w http.ResponseWriter, r *http.Request, path string) int {
	if r.URL.Path != path {
		u := *r.URL
		u.Path, u.RawPath = path, ""
		r = r.WithContext(r.Context())
		r.URL = &u
	}
	sw := &statusWriter{ResponseWriter: w}
	g.opts.Page.ServeHTTP(sw, r)
	if sw.status == 0 {
		return http.StatusOK
	}
	return sw.status
}

// statusWriter notes the status a handler writes. Unwrap lets
// http.ResponseController reach the connection's Flush (the page's
// Server-Sent Events).
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }
