//go:build unix

package runtimes

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/inquir-dev/inquir/emulator/config"
)

// pluginFunction returns a go-plugin function for the package in dir,
// skipping the test where this test binary cannot load plugins.
func pluginFunction(t testing.TB, name, dir string) config.Function {
	t.Helper()
	requireCommand(t, "go")
	if _, err := readHostBuild(); err != nil {
		t.Skipf("this test binary cannot load plugins: %v", err)
	}
	return config.Function{
		Name: name, Runtime: config.RuntimeGoPlugin, Path: dir,
		Timeout: 10 * time.Second, Concurrency: 2, Dir: testdata(t),
	}
}

// pluginModule writes a module requiring aws-lambda-go, as the fixtures'
// go.mod do, with the given files, and returns its folder.
func pluginModule(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	sum, err := os.ReadFile(testdata(t, "gofn", "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	all := map[string]string{
		"go.mod": "module example.com/inquirtest/tmp\n\ngo 1.26\n\nrequire github.com/aws/aws-lambda-go v1.55.1\n",
		"go.sum": string(sum),
	}
	for name, content := range files {
		all[name] = content
	}
	for name, content := range all {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// waitFor polls cond until it holds, failing the test after deadline.
func waitFor(t *testing.T, deadline time.Duration, what string, cond func() bool) {
	t.Helper()
	end := time.Now().Add(deadline)
	for !cond() {
		if time.Now().After(end) {
			t.Fatalf("%s: not so after %s", what, deadline)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestGoPlugin runs a plugin's Handler in-process: responses (the same
// bytes as from a go worker), env, the Lambda context, a handler error, a
// panic that inquir survives, and a timeout whose goroutine is abandoned
// and keeps its slot until it returns.
func TestGoPlugin(t *testing.T) {
	// Not parallel: it checks inquir's own environment, which the Managers
	// of other plugin tests would change meanwhile.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "agent.key"), []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fn := pluginFunction(t, "plug", testdata(t, "goplugin"))
	fn.Dir = dir
	// A timeout generous for every call on a busy machine; /stuck below
	// shortens it, so only that call waits it out.
	fn.Timeout = waitTimeout
	fn.Concurrency = 1
	fn.Env = map[string]string{"INQUIR_TEST_PLUGIN_KEY": "file:agent.key"}
	fn.Region = "eu-west-3"
	// The same package as a go worker, to compare the bytes of responses.
	worker := fn
	worker.Name, worker.Runtime, worker.Timeout, worker.Env = "worker", config.RuntimeGo, 10*time.Second, nil
	h := newManager(t, fn, worker)
	ctx, cancel := context.WithTimeout(t.Context(), DefaultMaxBuildWait) // a cold build compiles the standard library for plugins
	defer cancel()
	if err := h.Prepare(ctx, "plug"); err != nil {
		t.Fatal(err)
	}

	if got, want := h.mustCall(t, "plug", "/hello", nil), (response{200, "hello from go-plugin /hello"}); got != want {
		t.Errorf("/hello = %+v, want %+v", got, want)
	}
	for _, tt := range []struct{ name, want string }{
		{"INQUIR_TEST_PLUGIN_KEY", "from-file"},
		{"INQUIR_GATEWAY_URL", "http://127.0.0.1:8787"},
		{"AWS_REGION", "eu-west-3"},
		{"AWS_DEFAULT_REGION", "eu-west-3"},
		{"AWS_LAMBDA_FUNCTION_NAME", "plug"},
		{"AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"},
		{"AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/plug"},
		{"LAMBDA_TASK_ROOT", fn.Path},
	} {
		if got := h.mustCall(t, "plug", "/env", map[string]string{"name": tt.name}).Body; got != tt.want {
			t.Errorf("%s = %q, want %q", tt.name, got, tt.want)
		}
	}
	// The response is encoded as aws-lambda-go encodes it in a worker.
	fromPlugin, err := h.Invoke(t.Context(), "plug", event("/rich", nil))
	if err != nil {
		t.Fatal(err)
	}
	fromWorker, err := h.Invoke(t.Context(), "worker", event("/rich", nil))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(fromPlugin, fromWorker) {
		t.Errorf("the runtimes answer differently:\ngo-plugin: %q\ngo:        %q", fromPlugin, fromWorker)
	}
	// The per-call context, as aws-lambda-go fills it in a worker. (Its
	// package variables are fixed by the first plugin this test binary
	// loads, which depends on the order tests run in.)
	if got, want := h.mustCall(t, "plug", "/lambdacontext", nil).Body, " arn:aws:lambda:eu-west-3:000000000000:function:plug"; !strings.HasSuffix(got, want) {
		t.Errorf("/lambdacontext = %q, want it to end in %q", got, want)
	}
	if got := h.mustCall(t, "plug", "/context", nil).Body; !strings.HasSuffix(got, " true") || len(got) < 36 {
		t.Errorf("/context = %q, want a request id and a deadline ahead", got)
	}

	_, err = h.call(t.Context(), "plug", "/throw", nil)
	if err == nil || !strings.Contains(err.Error(), "deliberate failure") || errors.Is(err, ErrTimeout) {
		t.Errorf("/throw: got error %v, want the handler's error", err)
	}
	_, err = h.call(t.Context(), "plug", "/panic", nil)
	if err == nil || !strings.Contains(err.Error(), "handler panicked: deliberate panic") {
		t.Errorf("/panic: got error %v, want the panic", err)
	}
	if !strings.Contains(h.log.String(), "goroutine") {
		t.Errorf("the log has no stack trace of the panic:\n%s", h.log)
	}
	h.mustCall(t, "plug", "/hello", nil) // inquir survived it
	// A handler that ends its goroutine fails the call at once, not at the
	// timeout, and leaves no call running.
	_, err = h.call(t.Context(), "plug", "/goexit", nil)
	if err == nil || !strings.Contains(err.Error(), "handler called runtime.Goexit") || errors.Is(err, ErrTimeout) {
		t.Errorf("/goexit: got error %v, want one saying the handler called runtime.Goexit", err)
	}
	if got := h.Stats()["plug"]; got.Abandoned != 0 || got.Timeouts != 0 {
		t.Errorf("after /goexit, Stats = %+v, want no call abandoned or timed out", got)
	}
	h.mustCall(t, "plug", "/hello", nil)

	release := filepath.Join(dir, "release")
	const stuckTimeout = 300 * time.Millisecond
	p, err := h.pool("plug")
	if err != nil {
		t.Fatal(err)
	}
	p.timeout = stuckTimeout // no call is under way: the next ones read it
	start := time.Now()
	_, err = h.call(t.Context(), "plug", "/stuck", map[string]string{"until": release})
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("/stuck: got error %v, want ErrTimeout", err)
	}
	if elapsed := time.Since(start); elapsed < stuckTimeout || elapsed > 30*time.Second {
		t.Errorf("timed out after %s, want about the %s timeout", elapsed, stuckTimeout)
	}
	if got := h.Stats()["plug"]; got.Abandoned != 1 || got.Timeouts != 1 {
		t.Errorf("Stats = %+v, want 1 abandoned call and 1 timeout", got)
	}
	// The abandoned call still holds the only slot.
	if _, err := h.call(t.Context(), "plug", "/hello", nil); !errors.Is(err, ErrBusy) {
		t.Errorf("call while the abandoned one runs: got error %v, want ErrBusy", err)
	}
	if err := os.WriteFile(release, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, waitTimeout, "the abandoned call returned", func() bool { return h.Stats()["plug"].Abandoned == 0 })
	h.mustCall(t, "plug", "/hello", nil)
	if !strings.Contains(h.log.String(), "an abandoned handler call returned") {
		t.Errorf("the log does not say the abandoned call returned:\n%s", h.log)
	}
	got := h.Stats()["plug"]
	if got.Builds != 1 || got.WorkersStarted != 0 || got.Invocations != 19 {
		t.Errorf("Stats = %+v, want 1 build, no worker, 19 invocations", got)
	}
}

const pluginHandlerSource = `package main

import (
	"context"

	"github.com/aws/aws-lambda-go/events"
)

func Handler(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	return events.APIGatewayProxyResponse{StatusCode: 200, Body: VERSION}, nil
}
`

// TestGoPluginErrors checks that a plugin that cannot be used gets one
// error naming the cause and the fix.
func TestGoPluginErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		setup func(t *testing.T)
		want  []string
		// loaded: the plugin built and failed to load, so the same
		// sources are not built and loaded again.
		loaded bool
	}{
		{
			name:   "no Handler",
			files:  map[string]string{"main.go": "package main\n\nfunc handler() {}\n"},
			want:   []string{"function bad", "exports no Handler", "func Handler(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error)"},
			loaded: true,
		},
		{
			name: "Handler of another type",
			files: map[string]string{"main.go": `package main

import "github.com/aws/aws-lambda-go/events"

func Handler(req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	return events.APIGatewayProxyResponse{}, nil
}
`},
			want:   []string{"Handler in", "has type func(events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error)", "want func Handler(ctx context.Context"},
			loaded: true,
		},
		{
			name:  "not package main",
			files: map[string]string{"lib.go": "package lib\n\nfunc Handler() {}\n"},
			want:  []string{"holds package lib", "a plugin must be package main"},
		},
		{
			name: "other versions of shared packages",
			// The plugin's aws-lambda-go is not inquir's: a stand-in with an
			// events package of its own.
			files: map[string]string{
				"go.mod":             "module example.com/inquirtest/tmp\n\ngo 1.26\n\nrequire github.com/aws/aws-lambda-go v1.55.1\n\nreplace github.com/aws/aws-lambda-go => ./fork\n",
				"fork/go.mod":        "module github.com/aws/aws-lambda-go\n\ngo 1.26\n",
				"fork/events/api.go": "package events\n\ntype APIGatewayProxyRequest struct{ Path string }\n\ntype APIGatewayProxyResponse struct{ StatusCode int }\n",
				"main.go": `package main

import (
	"context"

	"github.com/aws/aws-lambda-go/events"
)

func Handler(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	return events.APIGatewayProxyResponse{StatusCode: 200}, nil
}
`,
			},
			want: []string{
				// A test binary does not list its dependencies, so the error
				// cannot name inquir's version; the inquir command does.
				"the plugin cannot load: it was built with github.com/aws/aws-lambda-go => ./fork, but inquir with another version",
				"package github.com/aws/aws-lambda-go/events differs",
				"require github.com/aws/aws-lambda-go the version inquir was built with", "go.mod",
				`use runtime = "go", which runs the same handler as a child process`,
			},
			loaded: true,
		},
		{
			name:  "another toolchain",
			files: map[string]string{"main.go": strings.Replace(pluginHandlerSource, "VERSION", `"x"`, 1)},
			// A go command that says it is another version than the one
			// that built this test binary.
			setup: func(t *testing.T) {
				real, err := exec.LookPath("go")
				if err != nil {
					t.Fatal(err)
				}
				bin := t.TempDir()
				script := "#!/bin/sh\nif [ \"$1 $2\" = \"env GOVERSION\" ]; then echo go1.0.0-other; exit 0; fi\nexec " + real + " \"$@\"\n"
				if err := os.WriteFile(filepath.Join(bin, "go"), []byte(script), 0o755); err != nil {
					t.Fatal(err)
				}
				t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
			},
			want: []string{"is go1.0.0-other but inquir was built with " + runtime.Version(), "the very same toolchain", `use runtime = "go"`},
		},
		{
			name:  "compile error",
			files: map[string]string{"main.go": "package main\n\nfunc Handler() { undefinedThing() }\n"},
			// Named as the user knows the file, not as the overlay does.
			want: []string{"go build -buildmode=plugin", "\n./main.go:3:18: undefined: undefinedThing"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := pluginModule(t, tt.files)
			if tt.setup != nil {
				tt.setup(t)
			}
			h := newManager(t, pluginFunction(t, "bad", dir))
			_, err := h.call(t.Context(), "bad", "/hello", nil)
			if err == nil {
				t.Fatal("invoking an unusable plugin succeeded")
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q\ndoes not mention %q", err, want)
				}
			}
			if got := h.Stats()["bad"].LastBuildError; got != err.Error() {
				t.Errorf("LastBuildError = %q, want the error", got)
			}

			// A failed build is tried again by the next call, unless the
			// plugin built and failed to load: then the same sources are
			// not loaded again.
			builds := h.Stats()["bad"].Builds
			_, again := h.call(t.Context(), "bad", "/hello", nil)
			if again == nil || again.Error() != err.Error() {
				t.Errorf("second call: got error %v, want the same", again)
			}
			if got := h.Stats()["bad"].Builds; tt.loaded && got != builds {
				t.Errorf("after a second call: %d builds, want still %d", got, builds)
			}
		})
	}
}

// TestPluginCallsRaceTheirDeadline runs many calls of an in-process
// handler (a Go function standing in for a loaded plugin) whose run times
// straddle the timeout, from parallel callers: each call answers or times
// out, the counts agree with what callers saw, every abandoned call
// returns its slot, and retiring the pool ends every runner goroutine.
func TestPluginCallsRaceTheirDeadline(t *testing.T) {
	fn := config.Function{Name: "race", Runtime: config.RuntimeGoPlugin, Path: t.TempDir(), Timeout: time.Millisecond, Concurrency: 3}
	h := newManager(t, fn)
	p, err := h.pool("race")
	if err != nil {
		t.Fatal(err)
	}
	var ran atomic.Int64
	p.plugin.Store(&pluginReady{arn: "arn:test", handler: pluginFunc{v1: func(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		ran.Add(1)
		n, _ := strconv.Atoi(req.Path[1:])
		time.Sleep(time.Duration(n%5) * 500 * time.Microsecond) // 0 to 2 ms: about half outlive the timeout
		if lc, ok := lambdacontext.FromContext(ctx); !ok || lc.InvokedFunctionArn != "arn:test" || lc.AwsRequestID == "" {
			return events.APIGatewayProxyResponse{}, errors.New("no Lambda context")
		}
		return events.APIGatewayProxyResponse{StatusCode: 200, Body: req.Path}, nil
	}}})

	const callers, calls = 6, 40
	var answered, timedOut, busy atomic.Int64
	var wg sync.WaitGroup
	for c := range callers {
		wg.Go(func() {
			for i := range calls {
				path := "/" + strconv.Itoa(c*calls+i)
				res, err := h.InvokeEvent(t.Context(), "race", &events.APIGatewayProxyRequest{Path: path})
				switch {
				case err == nil && res.Value != nil && res.Value.Body == path:
					answered.Add(1)
				case errors.Is(err, ErrTimeout):
					timedOut.Add(1)
				case errors.Is(err, ErrBusy):
					busy.Add(1) // every slot held by abandoned calls for a whole timeout
				default:
					t.Errorf("call %s: got %+v, %v; want its answer or ErrTimeout", path, res.Value, err)
				}
			}
		})
	}
	wg.Wait()
	waitFor(t, waitTimeout, "every abandoned call returned", func() bool { return h.Stats()["race"].Abandoned == 0 })
	st := h.Stats()["race"]
	t.Logf("%d answers, %d timeouts, %d busy", answered.Load(), timedOut.Load(), busy.Load())
	if st.Timeouts != timedOut.Load() || st.Invocations != answered.Load()+timedOut.Load() || ran.Load() != st.Invocations {
		t.Errorf("Stats = %+v, handler ran %d times; callers saw %d answers, %d timeouts, %d busy", st, ran.Load(), answered.Load(), timedOut.Load(), busy.Load())
	}
	// A runner frees its slot just after its caller wakes: wait for that,
	// rather than race it.
	waitFor(t, waitTimeout, "every slot freed after every call returned", func() bool { return len(p.slots) == 0 })
	// A pool that is replaced (a rebuild, a config change) ends its runners.
	if err := h.Refresh("race"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, waitTimeout, "every runner goroutine of the retired pool ended", func() bool { return p.runnerCount.Load() == 0 })
}
