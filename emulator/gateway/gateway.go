// Package gateway is inquir's HTTP front door: it matches a request to a
// route, asks the compiled policy whether the caller's API key may call it,
// and only then hands an API Gateway proxy event to the function.
//
// A rejected request (401, 403, 404, 405, 413) never reaches the Invoker.
package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/inquir-dev/inquir/emulator/config"
	"github.com/inquir-dev/inquir/emulator/internal/uuid"
	"github.com/inquir-dev/inquir/emulator/plans"
	"github.com/inquir-dev/inquir/emulator/policy"
	"github.com/inquir-dev/inquir/emulator/redact"
)

// MaxBodyBytes is the largest request body a function is handed, as AWS
// Lambda's 6 MB payload limit; a larger one gets 413.
const MaxBodyBytes = 6 << 20

// Options configure a Gateway.
type Options struct {
	// Invoker runs functions; required.
	Invoker Invoker
	// Log receives one line per request and the reason of every rejection.
	// If nil, nothing is logged.
	Log *slog.Logger
	// RequestLog, if set, receives the one line per request instead of
	// Log, in the text Log's slog.TextHandler would write, from a buffer
	// that one goroutine drains: a request never waits for the writer.
	// When the buffer is full a line is dropped and counted in
	// /_inquir/stats (log_lines_dropped). Build it on Redactor.Writer so
	// that no secret reaches it. Close writes what is buffered.
	RequestLog io.Writer
	// Clock is what every rule about time is judged by: keys' expiry and
	// not_before, plans' buckets and quota windows. If nil, the system
	// clock. A *policy.ManualClock also serves /_inquir/clock, which moves
	// it.
	Clock policy.Clock
	// Now, if set, is the clock's Now (tests that only need an instant set
	// it alone). If nil, Clock.Now.
	Now func() time.Time
	// FunctionStats, if set, adds the runtimes' counters to /_inquir/stats.
	FunctionStats func() map[string]FunctionStats
	// Redactor, if set, learns the secrets of every policy put in force and
	// hides them in the error text /_inquir/stats shows and the log's
	// error fields. If nil, nothing is redacted.
	Redactor *redact.Redactor
	// Page, if set, is the live page: it hears of every request but the
	// built-ins' and answers the paths under /_inquir/ that the gateway
	// does not (see Page). If nil, those paths are 404.
	Page Page
}

// Gateway serves HTTP under the policy in force. The zero value is not
// usable; call New, then SetPolicy before serving.
type Gateway struct {
	opts   Options
	policy atomic.Pointer[policy.Policy]
	stats  stats
	lines  *lineWriter    // nil without Options.RequestLog
	plans  *plans.Limiter // the usage plans' buckets and quotas, across reloads
	authz  *authorizerCache
}

// New returns a Gateway with no policy: it answers 503 until SetPolicy.
func New(opts Options) *Gateway {
	if opts.Log == nil {
		opts.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.Clock == nil {
		opts.Clock = policy.SystemClock{}
	}
	if opts.Now == nil {
		opts.Now = opts.Clock.Now
	}
	g := &Gateway{opts: opts, plans: plans.New(), authz: newAuthorizerCache()}
	g.stats.init()
	if opts.RequestLog != nil {
		g.lines = newLineWriter(opts.RequestLog)
	}
	return g
}

// Close writes the request lines still buffered and stops the goroutine
// that writes them; a request served after Close has its line written at
// once. It is safe to call twice, and a no-op without Options.RequestLog.
func (g *Gateway) Close() {
	if g.lines != nil {
		g.lines.close()
	}
}

// SetPolicy puts p in force. Requests under way finish under the policy they
// started with; the next request sees p. The Redactor learns p's secrets
// first, so no answer under p can show one.
func (g *Gateway) SetPolicy(p *policy.Policy) {
	if p != nil {
		g.opts.Redactor.Update(p.Config)
		// Before the policy: a key that gains a plan is limited from the
		// first request the new policy lets through.
		ps, keys := plansOf(p.Config)
		g.plans.SetPlans(ps, keys, g.opts.Now())
		g.authz.setConfig(p.Config)
		g.stats.changed(p.ChangesFrom(g.policy.Load()))
	}
	g.policy.Store(p)
}

// Policy returns the policy in force, or nil.
func (g *Gateway) Policy() *policy.Policy { return g.policy.Load() }

// RecordReload counts a reload for /_inquir/stats: applied when err is nil,
// refused (keeping err's message as the last error) otherwise.
func (g *Gateway) RecordReload(err error) { g.stats.reload(err, g.configID()) }

// RecordUnchangedReload counts a reload that found the policy in force.
func (g *Gateway) RecordUnchangedReload() { g.stats.reloadUnchanged(g.configID()) }

// configID is the id of the config in force, "" before any.
func (g *Gateway) configID() string {
	if p := g.policy.Load(); p != nil {
		return p.ID()
	}
	return ""
}

// ServeHTTP routes, authorizes and invokes; see the package comment.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	now := g.opts.Now()  // one instant to judge keys and stamp the event
	p := g.policy.Load() // one policy for the whole request, whatever reloads meanwhile
	rec := &logEntry{status: http.StatusOK}
	names := headerNames(r) // taken for every request, so the next takes its own
	defer func() { g.logRequest(r, rec, time.Since(start)) }()
	if p == nil {
		rec.status = g.fail(w, http.StatusServiceUnavailable, "not_ready", "the gateway has no config loaded yet")
		return
	}

	m := p.MatchRequest(r)
	rec.policy, rec.route = p, m.Route
	switch {
	case m.Builtin:
		rec.builtin = true
		rec.status = g.serveBuiltin(w, r, p, m.Path)
		return
	case m.Refused != "":
		// The function would read this request as another one than the
		// router did (policy.Match); nothing runs and nothing is built.
		if m.Route != nil {
			rec.function = m.Route.Function
		}
		rec.reason = "ambiguous_request"
		g.stats.reject(rec.reason)
		rec.status = g.answer(w, p, http.StatusBadRequest, "bad_request", m.Refused)
		return
	case refusedQueryChar(r.URL.RawQuery):
		// API Gateway refuses these before routing; nothing runs.
		rec.reason = "bad_query"
		g.stats.reject(rec.reason)
		rec.status = g.answer(w, p, http.StatusBadRequest, "bad_request", refusedQueryMessage)
		return
	case m.Route == nil && len(m.Allow) > 0:
		w.Header().Set("Allow", strings.Join(m.Allow, ", "))
		rec.status = g.reject(w, p, http.StatusMethodNotAllowed, "method_not_allowed", "this path does not answer "+r.Method)
		return
	case m.Route == nil:
		rec.status = g.reject(w, p, http.StatusNotFound, "not_found", "")
		return
	}
	route := m.Route
	rec.function = route.Function

	// The key, then the key's plan, then the route's Lambda authorizer,
	// as API Gateway orders them; but when the authorizer is what picks
	// the key (api_key_source = "authorizer"), it runs first.
	var (
		az  *authorized
		ref *authorizerRefusal
		d   policy.Decision
		rej *rejection
	)
	keyFromAuthorizer := route.NeedsKey() && route.Authorizer != "" && p.Config.Gateway.APIKeySource == config.KeySourceAuthorizer
	if keyFromAuthorizer {
		if az, ref = g.runAuthorizer(r.Context(), p, route, r, m, d, names, now, rec); ref != nil {
			rec.status = g.refuseByAuthorizer(w, p, route, rec, ref)
			return
		}
		d, rej = g.authorizeSecret(p, route, az.answer.UsageIdentifierKey, now)
		if g.opts.Page != nil {
			rec.usageKey = az.answer.UsageIdentifierKey // for the page to hide
		}
		if rej != nil && d.Outcome == policy.MissingKey {
			rej.message = "the route's authorizer named no API key (usageIdentifierKey)"
		}
	} else {
		d, rej = g.authorize(p, route, r, now)
	}
	rec.decided, rec.outcome = true, d.Outcome
	if d.Key != nil {
		rec.keyID = d.Key.ID
	}
	if rej != nil {
		rec.reason = rej.reason
		g.stats.reject(rej.reason)
		if rec.status = rejectV2(w, p, route, d.Outcome); rec.status != 0 {
			return // payload 2.0 under compat = "aws": an HTTP API's answer (serve_v2.go)
		}
		if d.Outcome == policy.MissingKey && p.Config.Gateway.Compat == config.CompatInquir {
			w.Header().Set("WWW-Authenticate", `ApiKey header="`+p.Config.Gateway.KeyHeader+`"`)
		}
		rec.status = g.reject(w, p, rej.code, rej.errCode, rej.message)
		return
	}

	// The key's usage plan: its bucket, then its quota.
	var ticket plans.Ticket
	if d.Outcome == policy.Allowed {
		var status int
		if status, rec.reason, ticket = g.limit(w, p, r, route, d.Key, now); status != 0 {
			g.stats.reject(rec.reason)
			rec.status = status
			return
		}
	}

	if route.Authorizer != "" && !keyFromAuthorizer {
		if az, ref = g.runAuthorizer(r.Context(), p, route, r, m, d, names, now, rec); ref != nil {
			g.plans.Refund(ticket)
			rec.status = g.refuseByAuthorizer(w, p, route, rec, ref)
			return
		}
	}

	// Only an authorized request has its body read. A request refused from
	// here on spends none of its key's quota.
	if r.ContentLength > MaxBodyBytes {
		g.plans.Refund(ticket)
		rec.status = g.answer(w, p, http.StatusRequestEntityTooLarge, "payload_too_large", "the request body is over 6 MB")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
	if err != nil {
		g.plans.Refund(ticket)
		rec.status = g.answer(w, p, http.StatusBadRequest, "bad_request", "the request body could not be read")
		return
	}
	if len(body) > MaxBodyBytes {
		g.plans.Refund(ticket)
		rec.status = g.answer(w, p, http.StatusRequestEntityTooLarge, "payload_too_large", "the request body is over 6 MB")
		return
	}
	// A form body's _method field overrides the method for Laravel,
	// Symfony and Rails: judged as MatchRequest judges the headers, on the
	// whole body the function would get.
	if f := p.MatchForm(m, r.Header.Values("Content-Type"), body); f.Refused != "" {
		g.plans.Refund(ticket)
		rec.reason = "ambiguous_request"
		g.stats.reject(rec.reason)
		rec.status = g.answer(w, p, http.StatusBadRequest, "bad_request", f.Refused)
		return
	}

	reqID := uuid.New()
	rec.requestID, rec.body = reqID, body
	if route.Payload == config.Payload2 {
		rec.status = g.serveV2(w, r, p, m, d, az, body, rec, now) // an HTTP API's event and answer (serve_v2.go)
		return
	}
	ev := newEvent(r, m, d, body, reqID, p.Config.Gateway.KeyHeader, names, now)
	if az != nil {
		ev.setAuthorizer(az)
	}
	binaryTypes := p.Config.Gateway.BinaryMediaTypes
	if binaryRequest(binaryTypes, r) {
		ev.setBody(body, true)
	}
	trace := requestTraceRoot(r, now)
	ev.addForwarded(r, names, trace)
	ctx := WithTraceID(r.Context(), trace)
	g.stats.invoke(route.Function)
	var out Response
	ctx, worker := g.invokeContext(ctx)
	if ei, ok := g.opts.Invoker.(EventInvoker); ok && ei.TakesEvent(route.Function) {
		typed := ev.typed()
		rec.typedEvent = typed
		out, err = ei.InvokeEvent(ctx, route.Function, typed)
	} else {
		rec.event = marshalEvent(&ev)
		out.JSON, err = g.opts.Invoker.Invoke(ctx, route.Function, rec.event)
	}
	if worker != nil {
		rec.worker = *worker
	}
	if err != nil {
		rec.err = err
		if errors.Is(err, ErrBuildFailed) {
			// The compiler's output was logged, as lines, as the build
			// failed; the request's one line names the failure alone.
			first, _, _ := strings.Cut(err.Error(), "\n")
			rec.err = errors.New(strings.TrimSuffix(first, ":"))
		}
		rec.status = g.invokeFailed(w, p, err)
		return
	}
	var resp *proxyResponse
	if out.Value != nil {
		resp, err = responseOf(out.Value)
	} else {
		resp, err = parseResponse(out.JSON)
	}
	if err != nil {
		// In AWS's words, and what it would answer: the handler that passes
		// here must not fail in production.
		rec.err = fmt.Errorf("function %s: %w (API Gateway answers 502)", route.Function, err)
		g.stats.functionError()
		rec.status = g.answer(w, p, http.StatusBadGateway, "function_error", "the function failed")
		return
	}
	if resp.IsBase64Encoded && !binaryAccepted(binaryTypes, r) {
		// API Gateway sends the base64 text unless the caller's first
		// Accept type is a binary media type.
		resp.IsBase64Encoded = false
	}
	rec.answer = resp
	rec.status = writeResponse(w, resp)
}

// rejection is how a refused key is answered.
type rejection struct {
	code    int
	errCode string // the body's "error"
	message string // the body's "message"
	reason  string // for the log and stats; never sent
}

// authorize asks the policy; a nil rejection means go on.
func (g *Gateway) authorize(p *policy.Policy, route *policy.Route, r *http.Request, now time.Time) (policy.Decision, *rejection) {
	values := r.Header.Values(p.Config.Gateway.KeyHeader)
	if len(values) > 1 {
		// Two key headers could be read differently by the next hop; no
		// answer is safe but a refusal.
		if route.Public() {
			return policy.Decision{Outcome: policy.Public}, nil
		}
		return policy.Decision{Outcome: policy.InvalidKey}, &rejection{http.StatusUnauthorized, "invalid_api_key", "send one API key, in one " + p.Config.Gateway.KeyHeader + " header", "multiple_keys"}
	}
	secret := ""
	if len(values) == 1 {
		secret = values[0]
	}
	return g.authorizeSecret(p, route, secret, now)
}

// authorizeSecret asks the policy about secret, read from the key header
// or given by the route's authorizer; a nil rejection means go on.
func (g *Gateway) authorizeSecret(p *policy.Policy, route *policy.Route, secret string, now time.Time) (policy.Decision, *rejection) {
	d := p.Authorize(route, secret, now)
	switch d.Outcome {
	case policy.MissingKey:
		return d, &rejection{http.StatusUnauthorized, "missing_api_key", "this route needs an API key in the " + p.Config.Gateway.KeyHeader + " header", "missing_api_key"}
	case policy.InvalidKey:
		return d, &rejection{http.StatusUnauthorized, "invalid_api_key", "the API key is not valid", d.Reason.String()}
	case policy.Forbidden:
		return d, &rejection{http.StatusForbidden, "forbidden", "this API key may not call this route", "forbidden"}
	}
	return d, nil
}

// refuseByAuthorizer answers a request the route's Lambda authorizer
// refused, or failed on: inquir's body, or API Gateway's under compat =
// "aws".
func (g *Gateway) refuseByAuthorizer(w http.ResponseWriter, p *policy.Policy, route *policy.Route, rec *logEntry, ref *authorizerRefusal) int {
	if ref.err != nil {
		rec.err = ref.err
	}
	if ref.notRun != nil {
		return g.invokeFailed(w, p, ref.notRun)
	}
	rec.reason = ref.reason
	g.stats.reject(ref.reason)
	switch {
	case p.Config.Gateway.Compat == config.CompatAWS && route.Payload == config.Payload2:
		// An HTTP API words its authorizer's refusals as its others.
		body := map[int][]byte{http.StatusUnauthorized: awsUnauthorizedV2, http.StatusForbidden: awsForbiddenV2}[ref.status]
		if body == nil {
			body = awsInternalErrorV2
		}
		writeJSONBody(w, ref.status, body)
		return ref.status
	case p.Config.Gateway.Compat == config.CompatAWS:
		if ref.status == http.StatusInternalServerError {
			w.Header().Set("X-Amzn-ErrorType", "AuthorizerConfigurationException")
		}
		writeJSONBody(w, ref.status, ref.awsBody)
		return ref.status
	}
	return g.fail(w, ref.status, ref.errCode, ref.message)
}

// reject answers a request the gateway refuses; under compat = "aws" every
// refusal reads as AWS API Gateway's would.
func (g *Gateway) reject(w http.ResponseWriter, p *policy.Policy, code int, errCode, message string) int {
	if p != nil && p.Config.Gateway.Compat == config.CompatAWS {
		w.Header().Del("Allow")
		body := awsForbiddenBody
		if code == http.StatusNotFound || code == http.StatusMethodNotAllowed {
			if p.Config.Gateway.Payload == config.Payload2 {
				// An HTTP API's answer when no route matches the method
				// and path (aws/aws-lambda-dotnet#1909, AWS's Lambda
				// test tool: "Not Found" for HTTP APIs).
				writeJSONBody(w, http.StatusNotFound, awsNotFoundV2)
				return http.StatusNotFound
			}
			// What API Gateway REST APIs answer for a path or method with no
			// resource behind it.
			body = awsMissingTokenBody
		}
		writeJSONBody(w, http.StatusForbidden, body)
		return http.StatusForbidden
	}
	return g.fail(w, code, errCode, message)
}

// fail writes inquir's error body.
func (g *Gateway) fail(w http.ResponseWriter, code int, errCode, message string) int {
	writeJSONBody(w, code, appendErrorBody(make([]byte, 0, 32+len(errCode)+len(message)), errCode, message))
	return code
}

// invokeFailed maps an Invoker error to 502, 503 or 504. The error itself
// goes to the log, never to the caller: it may hold a stack trace.
func (g *Gateway) invokeFailed(w http.ResponseWriter, p *policy.Policy, err error) int {
	switch {
	case errors.Is(err, ErrTimeout):
		g.stats.functionError()
		return g.answer(w, p, http.StatusGatewayTimeout, "function_timeout", "the function did not answer in time")
	case errors.Is(err, ErrBusy):
		w.Header().Set("Retry-After", "1")
		return g.answer(w, p, http.StatusServiceUnavailable, "function_busy", "every worker of the function is busy; retry")
	case errors.Is(err, ErrBuilding):
		w.Header().Set("Retry-After", "10")
		return g.answer(w, p, http.StatusServiceUnavailable, "function_building", "the function is still being built; retry")
	case errors.Is(err, ErrBuildFailed):
		g.stats.functionError()
		return g.answer(w, p, http.StatusBadGateway, "function_build_failed", "the function does not build; the inquir dev log has the compiler's output")
	case errors.Is(err, context.Canceled):
		// The caller went away; nobody reads this answer.
		return g.answer(w, p, 499, "client_closed_request", "")
	}
	g.stats.functionError()
	return g.answer(w, p, http.StatusBadGateway, "function_error", "the function failed")
}

// logEntry collects what the request's log line says, and what the live
// page is handed besides (Exchange).
type logEntry struct {
	status    int
	function  string
	keyID     string
	reason    string
	requestID string
	err       error
	// authorizer names the route's Lambda authorizer, and authorizerCache
	// says whether its answer came from the cache ("hit") or a run
	// ("miss"); both "" on routes without one.
	authorizer      string
	authorizerCache string

	builtin    bool   // one of /_inquir/'s: not shown on the page
	worker     string // NoteWorker's, for the page
	usageKey   string // the authorizer's usageIdentifierKey: a secret the page hides
	policy     *policy.Policy
	route      *policy.Route
	decided    bool
	outcome    policy.Outcome
	body       []byte
	event      []byte
	typedEvent any // *events.APIGatewayProxyRequest, *events.APIGatewayV2HTTPRequest
	answer     *proxyResponse
}

// logRequest writes the request's one line. It names the key id, never the
// key: not even an unknown key's value is written.
func (g *Gateway) logRequest(r *http.Request, e *logEntry, d time.Duration) {
	g.stats.request()
	errText := ""
	if e.err != nil {
		errText = g.opts.Redactor.String(e.err.Error())
	}
	if g.opts.Page != nil && !e.builtin {
		g.opts.Page.Observe(e.exchange(r, d, errText))
	}
	if g.lines != nil {
		bp := linePool.Get().(*[]byte)
		*bp = appendLogLine((*bp)[:0], time.Now(), r.Method, r.URL.EscapedPath(), e.status, d, e, errText)
		g.lines.write(*bp)
		if cap(*bp) <= 4<<10 {
			linePool.Put(bp)
		}
		return
	}
	attrs := []any{
		"method", r.Method, "path", r.URL.EscapedPath(), "status", e.status,
		"duration", d.Round(time.Microsecond).String(),
	}
	if e.function != "" {
		attrs = append(attrs, "function", e.function)
	}
	if e.keyID != "" {
		attrs = append(attrs, "key", e.keyID)
	}
	if e.authorizer != "" {
		attrs = append(attrs, "authorizer", e.authorizer)
	}
	if e.authorizerCache != "" {
		attrs = append(attrs, "authorizer_cache", e.authorizerCache)
	}
	if e.reason != "" {
		attrs = append(attrs, "reason", e.reason)
	}
	if e.requestID != "" {
		attrs = append(attrs, "request_id", e.requestID)
	}
	if e.err != nil {
		attrs = append(attrs, "error", errText)
	}
	g.opts.Log.Info("request", attrs...)
}
