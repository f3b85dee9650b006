//go:build unix

package runtimes

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/inquir-dev/inquir/emulator/config"
)

// The tests in this file hold the node bootstrap to what AWS's own client
// for node (aws-lambda-nodejs-runtime-interface-client) does: its context,
// when an invocation is done, its log lines and its error reports.

// shapesFunction is a node function running one export of shapes.cjs.
func shapesFunction(t *testing.T, name, export string) config.Function {
	fn := nodeFunction(t, name, "shapes.cjs")
	fn.Export = export
	return fn
}

var uuidPattern = `[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}`

// TestNodeContext checks the context a handler gets: every field the RIC
// sets, the log group and stream from the variables inquir sets as Lambda
// does (a function's own env may not set them: Lambda reserves them).
func TestNodeContext(t *testing.T) {
	h := newManager(t, shapesFunction(t, "ctx", "context"))

	type nodeContext struct {
		AWSRequestID       string   `json:"awsRequestId"`
		FunctionName       string   `json:"functionName"`
		FunctionVersion    string   `json:"functionVersion"`
		InvokedFunctionArn string   `json:"invokedFunctionArn"`
		MemoryLimitInMB    any      `json:"memoryLimitInMB"`
		LogGroupName       string   `json:"logGroupName"`
		LogStreamName      string   `json:"logStreamName"`
		Remaining          int64    `json:"remaining"`
		Waits              bool     `json:"callbackWaitsForEmptyEventLoop"`
		Methods            []string `json:"methods"`
		HasClientContext   bool     `json:"hasClientContext"`
		ClientContext      string   `json:"clientContext"`
		Identity           string   `json:"identity"`
	}
	get := func(fn string) nodeContext {
		var got nodeContext
		if err := json.Unmarshal([]byte(h.mustCall(t, fn, "/", nil).Body), &got); err != nil {
			t.Fatal(err)
		}
		return got
	}

	got := get("ctx")
	if !regexp.MustCompile(`^` + uuidPattern + `$`).MatchString(got.AWSRequestID) {
		t.Errorf("awsRequestId = %q, want a UUID", got.AWSRequestID)
	}
	if got.Remaining <= 0 || got.Remaining > (10*time.Second).Milliseconds() {
		t.Errorf("getRemainingTimeInMillis() = %d, want within the 10s timeout", got.Remaining)
	}
	// One stream per execution environment, named as Lambda names them.
	if !regexp.MustCompile(`^\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}$`).MatchString(got.LogStreamName) {
		t.Errorf("logStreamName = %q, want YYYY/MM/DD/[$LATEST] and 32 hex digits", got.LogStreamName)
	}
	want := nodeContext{
		AWSRequestID:       got.AWSRequestID,
		FunctionName:       "ctx",
		FunctionVersion:    "$LATEST",
		InvokedFunctionArn: "arn:aws:lambda:us-east-1:000000000000:function:ctx",
		MemoryLimitInMB:    "128", // a string, from the environment, as in the RIC
		LogGroupName:       "/aws/lambda/ctx",
		LogStreamName:      got.LogStreamName,
		Remaining:          got.Remaining,
		Waits:              true,
		Methods:            []string{"function", "function", "function"},
		HasClientContext:   true,
		ClientContext:      "undefined",
		Identity:           "undefined",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("context (-want +got):\n%s", diff)
	}
}

// TestNodeHandlerShapes runs callback-style, synchronous, promise and
// context-method handlers, and compares what they answer with what the RIC
// answers for them.
func TestNodeHandlerShapes(t *testing.T) {
	tests := []struct {
		export string
		want   string   // the raw response, if the invocation succeeds
		errs   []string // what the error says, if it fails
	}{
		{export: "callbackLater", want: `{"statusCode":200,"body":"called back"}`},
		// The response is serialised once the event loop is empty.
		{export: "callbackWaits", want: `{"statusCode":200,"body":"changed after the callback"}`},
		// ... or at once, with a timer pending far past the 10s timeout.
		{export: "callbackNoWait", want: `{"statusCode":200,"body":"as called back"}`},
		{export: "syncReturn", want: `null`},
		{export: "promiseReturn", want: `{"statusCode":200,"body":"from a promise"}`},
		{export: "succeed", want: `{"statusCode":200,"body":"via context.succeed"}`},
		{export: "done", want: `{"statusCode":200,"body":"via context.done"}`},
		{export: "twice", want: `{"statusCode":200,"body":"first"}`},
		{export: "fail", errs: []string{"handler error Error: failed via context.fail"}},
		{export: "callbackError", errs: []string{"handler error Error: failed via callback"}},
		{export: "callbackString", errs: []string{"handler error string: a plain string"}},
		{export: "throws", errs: []string{"handler error RangeError: thrown synchronously"}},
		{export: "rejects", errs: []string{"handler error TypeError: rejected"}},
		{export: "circular", errs: []string{"handler error Error: Unable to stringify response body"}},
		{export: "neverSettles", errs: []string{"handler error Runtime.NodeJsExit: The Lambda runtime client detected an unexpected Node.js exit code"}},
		{export: "uncaught", errs: []string{"handler error Error: thrown from a timer"}},
		{export: "unhandled", errs: []string{"handler error Runtime.UnhandledPromiseRejection: Error: nobody caught this"}},
	}
	var fns []config.Function
	for _, tt := range tests {
		fns = append(fns, shapesFunction(t, tt.export, tt.export))
	}
	h := newManager(t, fns...)
	for _, tt := range tests {
		t.Run(tt.export, func(t *testing.T) {
			got, err := h.Invoke(t.Context(), tt.export, event("/", nil))
			if tt.errs == nil {
				if err != nil {
					t.Fatalf("invoking %s: %v", tt.export, err)
				}
				if string(got) != tt.want {
					t.Errorf("response %s, want %s", got, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("invoking %s answered %s, want an error", tt.export, got)
			}
			for _, want := range tt.errs {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
		})
	}
	// The RIC logs each failed invocation's error, tagged with its request id.
	if want := regexp.MustCompile(`\t` + uuidPattern + `\tERROR\tInvoke Error \t\{"errorType":"RangeError","errorMessage":"thrown synchronously","stack":\["RangeError: thrown synchronously"`); !want.MatchString(h.out.String()) {
		t.Errorf("the worker output has no Invoke Error line matching %s:\n%s", want, h.out)
	}
}

// TestNodeLogLines checks console output is tagged as the RIC tags it:
// time, request id (undefined outside an invocation), level, message.
func TestNodeLogLines(t *testing.T) {
	quiet := shapesFunction(t, "quiet", "logs")
	quiet.Env = map[string]string{"AWS_LAMBDA_LOG_LEVEL": "warn"}
	h := newManager(t, shapesFunction(t, "logs", "logs"), quiet)

	id := h.mustCall(t, "logs", "/", nil).Body
	const ts = `\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z`
	for _, line := range []string{
		`\[logs\] ` + ts + `\tundefined\tINFO\tshapes loaded`,
		`\[logs\] ` + ts + `\t` + id + `\tINFO\tlog formatted`,
		`\[logs\] ` + ts + `\t` + id + `\tINFO\tinfo \{ a: 1 \}`,
		`\[logs\] ` + ts + `\t` + id + `\tDEBUG\tdebug`,
		`\[logs\] ` + ts + `\t` + id + `\tWARN\twarn`,
		`\[logs\] ` + ts + `\t` + id + `\tERROR\terror`,
	} {
		waitOutput(t, h, regexp.MustCompile(`(?m)^`+line+`$`))
	}

	// AWS_LAMBDA_LOG_LEVEL leaves out the levels below it.
	id = h.mustCall(t, "quiet", "/", nil).Body
	waitOutput(t, h, regexp.MustCompile(`(?m)^\[quiet\] `+ts+`\t`+id+`\tERROR\terror$`))
	// ERROR goes to stderr, INFO and DEBUG to stdout, copied apart: stop
	// the worker, whose exit is counted only once both pipes are drained,
	// so a line the filter let through would be in the output by now.
	if err := h.Refresh("quiet"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, waitTimeout, "the quiet worker stopped", func() bool { return h.Stats()["quiet"].WorkersRunning == 0 })
	for _, level := range []string{"INFO", "DEBUG"} {
		if strings.Contains(h.out.String(), "[quiet] ") && regexp.MustCompile(`\[quiet\] [^\n]*\t`+level+`\t`).MatchString(h.out.String()) {
			t.Errorf("AWS_LAMBDA_LOG_LEVEL=warn let a %s line through:\n%s", level, h.out)
		}
	}
}

// waitOutput waits for the workers' output to match re: it is copied from
// their pipes as they write, not by the time the invocation returns.
func waitOutput(t *testing.T, h *harness, re *regexp.Regexp) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !re.MatchString(h.out.String()) {
		if time.Now().After(deadline) {
			t.Fatalf("the worker output never matched %s:\n%s", re, h.out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestNodeInitErrors checks a module that cannot start is an init error of
// the type the RIC reports.
func TestNodeInitErrors(t *testing.T) {
	tests := []struct {
		name, module, export string
		want                 string
	}{
		{"syntax", "syntax.mjs", "handler", "init error Runtime.UserCodeSyntaxError: SyntaxError: "},
		{"missing-require", "missingdep.cjs", "handler", "init error Runtime.ImportModuleError: Error: Cannot find module './no-such-module'"},
		// An ES module's missing import is node's own error, as in the RIC,
		// which only wraps require's MODULE_NOT_FOUND.
		{"missing-import", "missingdep.mjs", "handler", "init error Error: Cannot find package 'no-such-package'"},
		{"throws", "initthrows.mjs", "handler", "init error TypeError: bad configuration"},
		{"not-exported", "shapes.cjs", "nope", "init error Runtime.HandlerNotFound: shapes.nope is undefined or not exported"},
		{"not-a-function", "shapes.cjs", "notAFunction", "init error Runtime.HandlerNotFound: shapes.notAFunction is not a function"},
	}
	var fns []config.Function
	for _, tt := range tests {
		fn := nodeFunction(t, tt.name, tt.module)
		fn.Export = tt.export
		fns = append(fns, fn)
	}
	h := newManager(t, fns...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := h.call(t.Context(), tt.name, "/", nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got error %v, want one saying %q", err, tt.want)
			}
		})
	}
	// The RIC logs the error as an uncaught exception, outside any invocation.
	waitOutput(t, h, regexp.MustCompile(`(?m)^\[throws\] \S+\tundefined\tERROR\tUncaught Exception \t\{"errorType":"TypeError","errorMessage":"bad configuration"`))
}

// TestNodeRuntimeAPIAddress runs the bootstrap against a Runtime API at a
// plain host:port, as Lambda documents AWS_LAMBDA_RUNTIME_API: it serves
// one invocation, and an init error goes to /2018-06-01/runtime/init/error
// with the error type in its header, as the RIC sends it.
func TestNodeRuntimeAPIAddress(t *testing.T) {
	requireCommand(t, "node")
	bootstrap := filepath.Join(t.TempDir(), "bootstrap.mjs")
	if err := os.WriteFile(bootstrap, bootstrapJS, 0o644); err != nil {
		t.Fatal(err)
	}

	type request struct {
		Method, Path, ErrorType, Body string
	}
	// run runs the bootstrap with module until it exits, and returns what
	// it asked of the Runtime API. The second GET /next is answered 410,
	// which ends it.
	run := func(t *testing.T, module string) []request {
		var (
			mu   sync.Mutex
			seen []request
			gets int
		)
		srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			mu.Lock()
			seen = append(seen, request{r.Method, r.URL.Path, r.Header.Get("Lambda-Runtime-Function-Error-Type"), string(body)})
			if r.Method == http.MethodGet {
				gets++
			}
			first := gets == 1
			mu.Unlock()
			switch {
			case r.Method == http.MethodGet && first:
				rw.Header().Set("Lambda-Runtime-Aws-Request-Id", "req-1")
				rw.Header().Set("Lambda-Runtime-Deadline-Ms", "99999999999999")
				_, _ = rw.Write(event("/hello", nil))
			case r.Method == http.MethodGet:
				rw.WriteHeader(http.StatusGone)
			default:
				rw.WriteHeader(http.StatusAccepted)
			}
		}))
		defer srv.Close()

		ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
		defer cancel()
		cmd := exec.CommandContext(ctx, "node", bootstrap)
		cmd.Env = []string{
			"PATH=" + os.Getenv("PATH"),
			"AWS_LAMBDA_RUNTIME_API=" + strings.TrimPrefix(srv.URL, "http://"),
			"INQUIR_HANDLER_MODULE=" + testdata(t, "node", module),
		}
		out, _ := cmd.CombinedOutput()
		if ctx.Err() != nil {
			t.Fatalf("the bootstrap was still running after %s:\n%s", waitTimeout, out)
		}
		mu.Lock()
		defer mu.Unlock()
		return seen
	}

	t.Run("invocation", func(t *testing.T) {
		want := []request{
			{Method: "GET", Path: "/2018-06-01/runtime/invocation/next"},
			{Method: "POST", Path: "/2018-06-01/runtime/invocation/req-1/response", Body: `{"statusCode":200,"body":"hello from node esm /hello"}`},
			{Method: "GET", Path: "/2018-06-01/runtime/invocation/next"},
		}
		if diff := cmp.Diff(want, run(t, "esm.mjs")); diff != "" {
			t.Errorf("Runtime API requests (-want +got):\n%s", diff)
		}
	})

	t.Run("init error", func(t *testing.T) {
		got := run(t, "noexport.mjs")
		if len(got) != 1 {
			t.Fatalf("Runtime API requests %+v, want one init error", got)
		}
		var report struct {
			ErrorType    string   `json:"errorType"`
			ErrorMessage string   `json:"errorMessage"`
			Trace        []string `json:"trace"`
		}
		if err := json.Unmarshal([]byte(got[0].Body), &report); err != nil {
			t.Fatalf("init error body %q: %v", got[0].Body, err)
		}
		if got[0].Method != "POST" || got[0].Path != "/2018-06-01/runtime/init/error" ||
			got[0].ErrorType != "Runtime.HandlerNotFound" || report.ErrorType != "Runtime.HandlerNotFound" ||
			!strings.HasPrefix(report.ErrorMessage, "noexport.handler is undefined or not exported") || len(report.Trace) == 0 {
			t.Errorf("init error %+v (report %+v), want POST /2018-06-01/runtime/init/error of Runtime.HandlerNotFound with a trace", got[0], report)
		}
	})
}
