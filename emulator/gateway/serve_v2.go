package gateway

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/inquir-dev/inquir/emulator/config"
	"github.com/inquir-dev/inquir/emulator/policy"
)

// This file serves the routes with payload = "2.0" as an HTTP API does,
// from the point where the request is authorized, limited and its body
// read: the event it builds (event_v2.go), how the answer is read
// (response_v2.go), and the errors an HTTP API answers under
// compat = "aws". Everything before, the key check above all, is the same
// for both payload format versions.

// EventV2Invoker is an Invoker that can hand a payload 2.0 event as a value
// to the functions it runs in inquir's own process (go-plugin), as
// EventInvoker does for payload 1.0. A runtimes.Manager is one.
type EventV2Invoker interface {
	Invoker
	// TakesEvent reports whether function is to be invoked with
	// InvokeEventV2.
	TakesEvent(function string) bool
	// InvokeEventV2 runs function with ev, the event as aws-lambda-go
	// decodes its JSON, and returns the JSON of its response, as Invoke
	// does.
	InvokeEventV2(ctx context.Context, function string, ev *events.APIGatewayV2HTTPRequest) ([]byte, error)
}

// HTTP API's own answers, as it words them (compat = "aws").
var (
	awsInternalErrorV2 = []byte(`{"message":"Internal Server Error"}` + "\n")
	awsUnauthorizedV2  = []byte(`{"message":"Unauthorized"}` + "\n")
	awsForbiddenV2     = []byte(`{"message":"Forbidden"}` + "\n")
	awsNotFoundV2      = []byte(`{"message":"Not Found"}` + "\n")
)

// serveV2 hands an authorized request to route's function as a payload
// 2.0 event and writes its answer as an HTTP API would. az is the route's
// Lambda authorizer's answer, or nil. It returns the status written.
func (g *Gateway) serveV2(w http.ResponseWriter, r *http.Request, p *policy.Policy, m policy.Match, d policy.Decision, az *authorized, body []byte, rec *logEntry, now time.Time) int {
	fn := m.Route.Function
	ev := newEventV2(r, m, d, body, rec.requestID, p.Config.Gateway.KeyHeader, now)
	if az != nil {
		ev.setAuthorizer(az)
	}
	trace := requestTraceRoot(r, now)
	ev.setTrace(trace)
	ctx := WithTraceID(r.Context(), trace)
	g.stats.invoke(fn)
	var out []byte
	var err error
	ctx, worker := g.invokeContext(ctx)
	if ei, ok := g.opts.Invoker.(EventV2Invoker); ok && ei.TakesEvent(fn) {
		typed := ev.typed()
		rec.typedEvent = typed
		out, err = ei.InvokeEventV2(ctx, fn, typed)
	} else {
		rec.event = ev.marshal()
		out, err = g.opts.Invoker.Invoke(ctx, fn, rec.event)
	}
	if worker != nil {
		rec.worker = *worker
	}
	if err != nil {
		rec.err = err
		if errors.Is(err, ErrBuildFailed) {
			first, _, _ := strings.Cut(err.Error(), "\n")
			rec.err = errors.New(strings.TrimSuffix(first, ":"))
		}
		return g.invokeFailedV2(w, p, err)
	}
	resp, err := parseResponseV2(out)
	if err != nil {
		rec.err = fmt.Errorf("function %s: %w (an HTTP API answers 500)", fn, err)
		g.stats.functionError()
		if p.Config.Gateway.Compat == config.CompatAWS {
			writeJSONBody(w, http.StatusInternalServerError, awsInternalErrorV2)
			return http.StatusInternalServerError
		}
		return g.fail(w, http.StatusBadGateway, "function_error", "the function failed")
	}
	if len(resp.Ignored) > 0 {
		// Sent here, they would make a handler work that loses them on AWS.
		g.opts.Log.Warn(fmt.Sprintf("function %s answered multiValueHeaders (%s), which an HTTP API (payload 2.0) does not send: they were left out; send cookies in cookies and other repeated headers comma-joined in headers", fn, strings.Join(resp.Ignored, ", ")),
			"function", fn)
	}
	rec.answer = &resp.proxyResponse
	return writeResponseV2(w, resp)
}

// setAuthorizer puts a Lambda authorizer's answer in the event as HTTP
// APIs do: its context, with the JSON types the authorizer wrote, in
// requestContext.authorizer.lambda (lambdaAuthorizer), beside the key's.
// The key's apiKeyId stays, as for payload 1.0: it is what inquir vouches
// for, whatever the authorizer's context says.
func (ev *eventV2) setAuthorizer(az *authorized) {
	ctx := map[string]any{}
	if a := ev.RequestContext.Authorizer; a != nil {
		maps.Copy(ctx, a.Lambda)
	}
	keyID, hasKey := ctx["apiKeyId"]
	if az.answer.RawContext != nil {
		maps.Copy(ctx, az.answer.RawContext)
	} else {
		for k, v := range az.answer.Context {
			ctx[k] = v
		}
	}
	if hasKey {
		ctx["apiKeyId"] = keyID
	}
	ev.RequestContext.Authorizer = lambdaAuthorizer(ctx)
}

// invokeFailedV2 answers an Invoker error on a payload 2.0 route. Under
// compat = "aws" it is what an HTTP API answers when the function fails,
// times out or is throttled: 500 {"message":"Internal Server Error"}
// (where a REST API answers 502 or 504). A build still running is
// inquir's own: invokeFailed's 503 with Retry-After, as on a 1.0 route.
func (g *Gateway) invokeFailedV2(w http.ResponseWriter, p *policy.Policy, err error) int {
	if p.Config.Gateway.Compat != config.CompatAWS || errors.Is(err, ErrBuilding) || errors.Is(err, context.Canceled) {
		return g.invokeFailed(w, p, err)
	}
	g.stats.functionError()
	writeJSONBody(w, http.StatusInternalServerError, awsInternalErrorV2)
	return http.StatusInternalServerError
}

// rejectV2 answers a refused key on a payload 2.0 route under
// compat = "aws" as an HTTP API whose Lambda authorizer reads the key
// header answers: 401 {"message":"Unauthorized"} when the request lacks
// the header (the authorizer's identity source), 403
// {"message":"Forbidden"} when the authorizer says no. It returns 0,
// writing nothing, where inquir's own answer stands.
func rejectV2(w http.ResponseWriter, p *policy.Policy, route *policy.Route, outcome policy.Outcome) int {
	if route.Payload != config.Payload2 || p.Config.Gateway.Compat != config.CompatAWS {
		return 0
	}
	if outcome == policy.MissingKey {
		writeJSONBody(w, http.StatusUnauthorized, awsUnauthorizedV2)
		return http.StatusUnauthorized
	}
	writeJSONBody(w, http.StatusForbidden, awsForbiddenV2)
	return http.StatusForbidden
}
