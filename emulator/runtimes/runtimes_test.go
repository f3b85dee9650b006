//go:build unix

package runtimes

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/inquir-dev/inquir/emulator/config"
)

// TestRuntimes runs the same life of a function in every runtime: a
// response, a warm worker reused, a handler error that keeps the worker, a
// crash that replaces it.
func TestRuntimes(t *testing.T) {
	tests := []struct {
		name      string
		fn        func(t *testing.T) config.Function
		hello     string
		wantBuild int64
	}{
		{
			name:      "go",
			fn:        func(t *testing.T) config.Function { return goFunction(t, "fn") },
			hello:     "hello from go /hello",
			wantBuild: 1,
		},
		{
			name:  "node ESM",
			fn:    func(t *testing.T) config.Function { return nodeFunction(t, "fn", "esm.mjs") },
			hello: "hello from node esm /hello",
		},
		{
			name:  "node CommonJS",
			fn:    func(t *testing.T) config.Function { return nodeFunction(t, "fn", "cjs.cjs") },
			hello: "hello from node cjs /hello",
		},
		{
			name:  "process",
			fn:    func(t *testing.T) config.Function { return processFunction(t, "fn") },
			hello: "hello from python /hello",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newManager(t, tt.fn(t))

			if got, want := h.mustCall(t, "fn", "/hello", nil), (response{200, tt.hello}); got != want {
				t.Errorf("/hello = %+v, want %+v", got, want)
			}

			first := h.pid(t, "fn")
			if again := h.pid(t, "fn"); again != first {
				t.Errorf("second call ran in pid %d, want the warm worker %d", again, first)
			}

			_, err := h.call(t.Context(), "fn", "/throw", nil)
			if err == nil || !strings.Contains(err.Error(), "deliberate failure") || errors.Is(err, ErrTimeout) {
				t.Errorf("/throw: got error %v, want the handler's error", err)
			}
			if after := h.pid(t, "fn"); after != first {
				t.Errorf("after a handler error the function ran in pid %d, want the same worker %d", after, first)
			}

			_, err = h.call(t.Context(), "fn", "/crash", nil)
			if err == nil || !strings.Contains(err.Error(), "exit status 3") {
				t.Errorf("/crash: got error %v, want one with the exit status", err)
			}
			waitGone(t, first)
			if fresh := h.pid(t, "fn"); fresh == first {
				t.Errorf("after a crash the function ran in the crashed pid %d", fresh)
			}

			build := BuildNone
			if tt.wantBuild > 0 {
				build = BuildReady
			}
			want := map[string]FunctionStats{
				"fn": {Invocations: 7, WorkersStarted: 2, WorkersRunning: 1, Builds: tt.wantBuild, Crashes: 1, LastExit: "exit status 3", Build: build},
			}
			if diff := cmp.Diff(want, h.Stats()); diff != "" {
				t.Errorf("Stats (-want +got):\n%s", diff)
			}
		})
	}
}

// TestEnv checks what a worker finds in its environment: the function's
// env table with env: and file: references resolved, and the variables
// inquir and the Lambda runtime clients rely on.
func TestEnv(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "agent.key"), []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("INQUIR_TEST_FROM_ENV", "from-env")
	fn := goFunction(t, "env")
	fn.Dir = dir
	fn.Env = map[string]string{
		"PLAIN":     "plain",
		"FROM_ENV":  "env:INQUIR_TEST_FROM_ENV",
		"FROM_FILE": "file:agent.key",
		// inquir's own variables win over the function's table.
		"AWS_LAMBDA_FUNCTION_NAME": "spoofed",
	}
	unsetEnv := processFunction(t, "unset-env")
	unsetEnv.Env = map[string]string{"SEARCH_KEY": "env:INQUIR_TEST_NOT_SET"}
	missingFile := processFunction(t, "missing-file")
	missingFile.Env = map[string]string{"SEARCH_KEY": "file:secrets/missing.key"}
	h := newManager(t, fn, unsetEnv, missingFile)

	for _, tt := range []struct{ name, want string }{
		{"PLAIN", "plain"},
		{"FROM_ENV", "from-env"},
		{"FROM_FILE", "from-file"},
		{"INQUIR_GATEWAY_URL", "http://127.0.0.1:8787"},
		{"AWS_LAMBDA_FUNCTION_NAME", "env"},
		{"AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"},
		{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"},
		{"AWS_REGION", "us-east-1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := h.mustCall(t, "env", "/env", map[string]string{"name": tt.name}).Body; got != tt.want {
				t.Errorf("%s = %q, want %q", tt.name, got, tt.want)
			}
		})
	}

	for _, tt := range []struct {
		fn   string
		want []string
	}{
		{"unset-env", []string{"function unset-env", "env SEARCH_KEY", "INQUIR_TEST_NOT_SET"}},
		{"missing-file", []string{"function missing-file", "env SEARCH_KEY", filepath.Join("secrets", "missing.key")}},
	} {
		t.Run(tt.fn, func(t *testing.T) {
			_, err := h.call(t.Context(), tt.fn, "/hello", nil)
			if err == nil {
				t.Fatal("invoking a function whose env does not resolve succeeded")
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
			if n := h.Stats()[tt.fn].WorkersStarted; n != 0 {
				t.Errorf("%d workers started; want none", n)
			}
		})
	}
}

// TestTimeout checks that an invocation past its timeout fails with
// ErrTimeout and costs the worker its whole process group.
func TestTimeout(t *testing.T) {
	fn := goFunction(t, "slow")
	fn.Timeout = time.Second
	fn.Concurrency = 1
	h := newManager(t, fn)
	if err := h.Prepare(t.Context(), "slow"); err != nil {
		t.Fatal(err)
	}
	first := h.pid(t, "slow")

	start := time.Now()
	_, err := h.call(t.Context(), "slow", "/sleep", nil)
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("/sleep: got error %v, want ErrTimeout", err)
	}
	if elapsed := time.Since(start); elapsed < fn.Timeout {
		t.Errorf("timed out after %s, before the %s timeout", elapsed, fn.Timeout)
	}
	// /sleep started a child of its own: the group must go, not only the
	// worker.
	waitGone(t, first)
	if fresh := h.pid(t, "slow"); fresh == first {
		t.Errorf("after a timeout the function ran in the killed pid %d", fresh)
	}
	if got := h.Stats()["slow"]; got.Timeouts != 1 || got.Crashes != 0 {
		t.Errorf("Stats = %+v, want 1 timeout and no crash", got)
	}
}

// TestBusy checks that a caller waits at most the function's timeout for a
// worker, then gets ErrBusy.
func TestBusy(t *testing.T) {
	fn := processFunction(t, "busy")
	fn.Timeout = time.Second
	fn.Concurrency = 1
	// The slow call's worker stays in its init until the test creates the
	// file release, and its own timeout only runs from then: it holds the
	// only slot past the whole wait of a caller that comes in meanwhile,
	// however late a busy machine lets the test send that call. (Half a
	// second of init sleep did, unless the test came in later than that.)
	release := filepath.Join(t.TempDir(), "release")
	fn.Env = map[string]string{"INIT_UNTIL": release}
	h := newManager(t, fn)

	slow := make(chan error, 1)
	go func() {
		_, err := h.call(context.Background(), "busy", "/sleep", nil)
		slow <- err
	}()
	deadline := time.Now().Add(waitTimeout)
	for h.Stats()["busy"].WorkersStarted == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the slow call started no worker")
		}
		time.Sleep(5 * time.Millisecond)
	}

	start := time.Now()
	_, err := h.call(t.Context(), "busy", "/hello", nil)
	if !errors.Is(err, ErrBusy) {
		t.Fatalf("call while the only worker is busy: got error %v, want ErrBusy", err)
	}
	if elapsed := time.Since(start); elapsed < fn.Timeout {
		t.Errorf("gave up after %s, before the %s timeout", elapsed, fn.Timeout)
	}
	if err := os.WriteFile(release, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := <-slow; !errors.Is(err, ErrTimeout) {
		t.Errorf("slow call: got error %v, want ErrTimeout", err)
	}
	if got, want := h.mustCall(t, "busy", "/hello", nil).Body, "hello from python /hello"; got != want {
		t.Errorf("after the busy spell: body %q, want %q", got, want)
	}
}

// TestCallerCancels checks that the caller's context aborts an invocation
// at once, and that the worker is only reused once its handler is done.
func TestCallerCancels(t *testing.T) {
	fn := processFunction(t, "cancel")
	fn.Timeout = 3 * time.Second
	h := newManager(t, fn)
	h.pid(t, "cancel") // warm, so the context ends mid-invocation, not mid-start

	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	_, err := h.call(ctx, "cancel", "/sleep", nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got error %v, want the context's", err)
	}
	// Returned at once: the handler it left behind has not yet run out its
	// timeout (a rule shown by order of events, not by a stopwatch).
	if n := h.Stats()["cancel"].Timeouts; n != 0 {
		t.Errorf("the call returned only after the handler timed out (%d timeouts); the context ended after 200ms", n)
	}
	// The abandoned handler still runs out its timeout in the background.
	deadline := time.Now().Add(waitTimeout)
	for h.Stats()["cancel"].Timeouts != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("Stats = %+v; the abandoned invocation never timed out", h.Stats()["cancel"])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestNode covers what is particular to the node bootstrap: the handler's
// context, a custom export, and modules that cannot start.
func TestNode(t *testing.T) {
	withExport := func(fn config.Function, export string) config.Function {
		fn.Export = export
		return fn
	}
	h := newManager(t,
		nodeFunction(t, "esm", "esm.mjs"),
		withExport(nodeFunction(t, "custom-export", "esm.mjs"), "main"),
		withExport(nodeFunction(t, "wrong-export", "esm.mjs"), "nope"),
		nodeFunction(t, "no-export", "noexport.mjs"),
		nodeFunction(t, "syntax", "syntax.mjs"),
		nodeFunction(t, "exits", "exits.mjs"),
	)

	t.Run("context", func(t *testing.T) {
		var got struct {
			RequestID    string `json:"requestId"`
			FunctionName string `json:"functionName"`
			Remaining    int64  `json:"remaining"`
		}
		if err := json.Unmarshal([]byte(h.mustCall(t, "esm", "/context", nil).Body), &got); err != nil {
			t.Fatal(err)
		}
		if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(got.RequestID) {
			t.Errorf("awsRequestId = %q, want a UUID", got.RequestID)
		}
		if got.FunctionName != "esm" {
			t.Errorf("functionName = %q, want esm", got.FunctionName)
		}
		if got.Remaining <= 0 || got.Remaining > (10*time.Second).Milliseconds() {
			t.Errorf("getRemainingTimeInMillis() = %d, want within the 10s timeout", got.Remaining)
		}
	})

	t.Run("custom export", func(t *testing.T) {
		if got, want := h.mustCall(t, "custom-export", "/hello", nil).Body, "hello from node esm /hello"; got != want {
			t.Errorf("body %q, want %q", got, want)
		}
	})

	for _, tt := range []struct {
		fn      string
		want    []string
		wantLog string // a line of the worker's stderr, which only the log shows
	}{
		{fn: "wrong-export", want: []string{"function wrong-export", "init error Runtime.HandlerNotFound", "does not export a function named nope"}},
		{fn: "no-export", want: []string{"init error Runtime.HandlerNotFound", "noexport.mjs does not export a function named handler"}},
		{fn: "syntax", want: []string{"init error Runtime.UserCodeSyntaxError", "SyntaxError"}},
		{fn: "exits", want: []string{"exited before asking for an invocation", "exit status 2"}, wantLog: "giving up during init"},
	} {
		t.Run(tt.fn, func(t *testing.T) {
			_, err := h.call(t.Context(), tt.fn, "/hello", nil)
			if err == nil {
				t.Fatal("invoking a module that cannot start succeeded")
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
			if tt.wantLog != "" {
				if strings.Contains(err.Error(), tt.wantLog) {
					t.Errorf("error %q holds the worker's output; it belongs in the log only", err)
				}
				deadline := time.Now().Add(waitTimeout)
				for !strings.Contains(h.log.String(), tt.wantLog) {
					if time.Now().After(deadline) {
						t.Fatalf("the log never showed the worker's last stderr line %q", tt.wantLog)
					}
					time.Sleep(10 * time.Millisecond)
				}
			}
		})
	}
}

// TestBuildFailure checks that compiler output reaches the error, and
// that a failed build is tried again rather than remembered.
func TestBuildFailure(t *testing.T) {
	requireCommand(t, "go")
	h := newManager(t, config.Function{
		Name: "broken", Runtime: config.RuntimeGo, Path: testdata(t, "gobroken"), Dir: testdata(t),
	})
	err := h.Prepare(t.Context(), "broken")
	if err == nil || !strings.Contains(err.Error(), "undefined: undefinedHandler") {
		t.Errorf("Prepare: got error %v, want the compiler's output", err)
	}
	_, err = h.call(t.Context(), "broken", "/hello", nil)
	if err == nil || !strings.Contains(err.Error(), "undefined: undefinedHandler") || !strings.Contains(err.Error(), "function broken") {
		t.Errorf("Invoke: got error %v, want the compiler's output", err)
	}
	if !errors.Is(err, ErrBuildFailed) {
		t.Errorf("Invoke: got error %v, want ErrBuildFailed (the gateway's 502 function_build_failed)", err)
	}
	if got := h.Stats()["broken"]; got.Builds != 2 || got.WorkersStarted != 0 {
		t.Errorf("Stats = %+v, want 2 builds and no worker", got)
	}
	if !strings.Contains(h.log.String(), "building function broken") {
		t.Errorf("log does not say it is building:\n%s", h.log)
	}
}

// TestConcurrentInvokes checks that callers arriving together share one
// build and at most Concurrency workers.
func TestConcurrentInvokes(t *testing.T) {
	fn := goFunction(t, "many")
	h := newManager(t, fn)
	const calls = 8
	var wg sync.WaitGroup
	errs := make(chan error, calls)
	for range calls {
		wg.Go(func() {
			_, err := h.call(t.Context(), "many", "/hello", nil)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	got := h.Stats()["many"]
	if got.Builds != 1 || got.Invocations != calls || got.WorkersStarted > int64(fn.Concurrency) {
		t.Errorf("Stats = %+v, want 1 build, %d invocations, at most %d workers", got, calls, fn.Concurrency)
	}
	if !regexp.MustCompile(`built function many in [0-9.]+m?s`).MatchString(h.log.String()) {
		t.Errorf("log does not say how long the build took:\n%s", h.log)
	}
}

// TestSetFunctions checks that a reload keeps the warm workers of an
// unchanged function, replaces those of a changed one once their
// invocation is over, and forgets a removed one.
func TestSetFunctions(t *testing.T) {
	a := processFunction(t, "a")
	b := processFunction(t, "b")
	h := newManager(t, a, b)
	pidA, pidB := h.pid(t, "a"), h.pid(t, "b")

	napped := make(chan error, 1)
	go func() {
		_, err := h.call(context.Background(), "b", "/nap", nil)
		napped <- err
	}()
	deadline := time.Now().Add(waitTimeout)
	for h.Stats()["b"].Invocations < 2 {
		if time.Now().After(deadline) {
			t.Fatal("the /nap call never reached a worker")
		}
		time.Sleep(5 * time.Millisecond)
	}
	changed := b
	changed.Env = map[string]string{"CHANGED": "yes"}
	h.SetFunctions([]config.Function{a, changed})

	if err := <-napped; err != nil {
		t.Errorf("the invocation in flight during the reload failed: %v", err)
	}
	if got := h.pid(t, "a"); got != pidA {
		t.Errorf("unchanged function a ran in pid %d, want its warm worker %d", got, pidA)
	}
	if got := h.pid(t, "b"); got == pidB {
		t.Errorf("changed function b still runs in its old worker %d", got)
	}
	waitGone(t, pidB)
	if got := h.mustCall(t, "b", "/env", map[string]string{"name": "CHANGED"}).Body; got != "yes" {
		t.Errorf("changed function b sees CHANGED=%q, want yes", got)
	}

	h.SetFunctions([]config.Function{changed})
	if _, err := h.call(t.Context(), "a", "/hello", nil); !errors.Is(err, ErrUnknownFunction) {
		t.Errorf("removed function a: got error %v, want ErrUnknownFunction", err)
	}
	waitGone(t, pidA)
	if _, ok := h.Stats()["a"]; ok {
		t.Error("Stats still lists removed function a")
	}
}

// TestRefresh checks that Refresh rebuilds a Go function and replaces its
// workers, as a change to its source does.
func TestRefresh(t *testing.T) {
	h := newManager(t, goFunction(t, "g"))
	before := h.pid(t, "g")
	if err := h.Refresh("g"); err != nil {
		t.Fatal(err)
	}
	if after := h.pid(t, "g"); after == before {
		t.Errorf("after Refresh the function still runs in pid %d", after)
	}
	waitGone(t, before)
	if got := h.Stats()["g"].Builds; got != 2 {
		t.Errorf("Builds = %d, want 2", got)
	}
	if err := h.Refresh("nope"); !errors.Is(err, ErrUnknownFunction) {
		t.Errorf("Refresh(nope): got %v, want ErrUnknownFunction", err)
	}
}

// TestClose checks that Close stops every worker of every runtime, busy
// ones included, with whatever they started.
func TestClose(t *testing.T) {
	h := newManager(t,
		goFunction(t, "g"),
		nodeFunction(t, "n", "esm.mjs"),
		processFunction(t, "p"),
	)
	for _, fn := range []string{"g", "n", "p"} {
		h.pid(t, fn)
	}
	// g's worker, now busy in /sleep with a child process of its own.
	busy := make(chan error, 1)
	go func() {
		_, err := h.call(context.Background(), "g", "/sleep", nil)
		busy <- err
	}()
	deadline := time.Now().Add(waitTimeout)
	for h.Stats()["g"].Invocations < 2 {
		if time.Now().After(deadline) {
			t.Fatal("the /sleep call never reached a worker")
		}
		time.Sleep(5 * time.Millisecond)
	}
	pids := h.pids()
	if len(pids) != 3 {
		t.Fatalf("%d workers alive, want 3", len(pids))
	}

	if err := h.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for _, pid := range pids {
		if groupAlive(pid) {
			t.Errorf("process group %d is alive after Close returned", pid)
		}
	}
	if err := <-busy; err == nil {
		t.Error("the invocation in flight at Close succeeded")
	}
	if err := h.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := h.call(t.Context(), "p", "/hello", nil); err == nil {
		t.Error("Invoke after Close succeeded")
	}
	for name, s := range h.Stats() {
		t.Errorf("Stats after Close lists %s: %+v", name, s)
	}
}
