package gateway

import (
	"context"
	"errors"

	"github.com/aws/aws-lambda-go/events"
)

// Invoker runs a function with an event and returns its raw response.
// runtimes.Manager is the Invoker inquir dev uses.
type Invoker interface {
	Invoke(ctx context.Context, function string, event []byte) ([]byte, error)
}

// EventInvoker is an Invoker that runs some functions in inquir's own
// process (go-plugin) and can hand them the event as a value: the JSON that
// Invoke takes would be encoded here only to be decoded there. A
// runtimes.Manager is one.
type EventInvoker interface {
	Invoker
	// TakesEvent reports whether function is to be invoked with
	// InvokeEvent.
	TakesEvent(function string) bool
	// InvokeEvent runs function with ev, the event as aws-lambda-go
	// decodes its JSON, and returns its response: as a value when the
	// function returned one (Response.Value), else as JSON (Response.JSON).
	// The gateway maps a value exactly as it would map the value's JSON.
	InvokeEvent(ctx context.Context, function string, ev *events.APIGatewayProxyRequest) (Response, error)
}

// Response is a function's answer to InvokeEvent: Value, the response as
// a go-plugin Handler returned it, or else JSON, the bytes a worker posted
// (what Invoke returns).
type Response struct {
	Value *events.APIGatewayProxyResponse
	JSON  []byte
}

// Errors an Invoker returns, wrapped, that the gateway answers with a
// status of their own (it tests them with errors.Is). Any other error means
// the function failed (502); its text is diagnostic and goes to the log,
// never to the caller.
var (
	// ErrTimeout means the function did not answer within its timeout
	// (504).
	ErrTimeout = errors.New("function timed out")
	// ErrBusy means every worker the function may have stayed busy for a
	// whole timeout (503, with Retry-After: 1).
	ErrBusy = errors.New("all workers of the function are busy")
	// ErrBuilding means the function's build was still running after the
	// Invoker stopped waiting for it (503, with Retry-After: 10). The
	// build goes on.
	ErrBuilding = errors.New("function is still building")
	// ErrBuildFailed means the function's sources do not build (502,
	// function_build_failed). The error's text carries the compiler's
	// output, which the Invoker logged as the build failed: the request's
	// log line names the failure with the error's first line alone.
	ErrBuildFailed = errors.New("function does not build")
)

// FunctionStats is what the Invoker counts for one function; /_inquir/stats
// shows it under "functions", as it marshals to JSON.
type FunctionStats interface {
	// Redacted returns the stats with redact applied to every text that
	// may quote what the function read or wrote: an init error holding
	// the database password it failed to connect with.
	Redacted(redact func(string) string) FunctionStats
}
