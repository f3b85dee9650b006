//go:build unix

package runtimes

import (
	"encoding/json"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/inquir-dev/inquir/emulator/config"
)

// TestWorkerEnvironment checks a worker's whole environment in every
// runtime: exactly the variables Lambda defines, the function's own env, a
// small base and INQUIR_GATEWAY_URL; never a key's env: secret, another
// function's env, or anything else of inquir's environment.
func TestWorkerEnvironment(t *testing.T) {
	const keySecret, otherSecret = "key-secret-0123456789", "other-function-secret-0123456789"
	t.Setenv("INQUIR_TEST_KEY_SECRET", keySecret) // what a key's secret = "env:..." reads
	t.Setenv("INQUIR_TEST_OTHER_FN", otherSecret) // what another function's env reads
	t.Setenv("INQUIR_TEST_OWN", "own-value")
	t.Setenv("TZ", "America/New_York") // inquir's zone must not reach date code
	t.Setenv("HTTP_PROXY", "http://127.0.0.1:9")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAINQUIRTESTONLY00")
	t.Setenv("_LAMBDA_SERVER_PORT", "1") // would turn aws-lambda-go to its old RPC protocol

	tests := []struct {
		name     string
		fn       func(t *testing.T) config.Function
		root     string // LAMBDA_TASK_ROOT and working folder, under testdata
		handler  string
		nodeOnly bool
		traceID  bool // the runtime client sets _X_AMZN_TRACE_ID per invocation, as Lambda's do
	}{
		{"go", func(t *testing.T) config.Function { return goFunction(t, "fn") }, "gofn", "bootstrap", false, true},
		{"node", func(t *testing.T) config.Function { return nodeFunction(t, "fn", "esm.mjs") }, "node", "esm.handler", true, true},
		{"process", func(t *testing.T) config.Function {
			// The interpreter itself, not a launcher (a pyenv shim, say)
			// that would add variables of its own.
			fn := processFunction(t, "fn")
			out, err := exec.Command("python3", "-c", "import sys; print(sys.executable)").Output()
			if err != nil {
				t.Fatal(err)
			}
			fn.Command = []string{strings.TrimSpace(string(out)), "./runtime.py"}
			return fn
		}, "process", "bootstrap", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fn := tt.fn(t)
			fn.Region = "eu-west-3"
			fn.Env = map[string]string{"OWN": "env:INQUIR_TEST_OWN", "PLAIN": "plain"}
			other := processFunction(t, "other")
			other.Env = map[string]string{"OTHER": "env:INQUIR_TEST_OTHER_FN"}
			h := newManager(t, fn, other)
			h.mustCall(t, "other", "/hello", nil)

			raw := h.mustCall(t, "fn", "/environ", nil).Body
			var env map[string]string
			if err := json.Unmarshal([]byte(raw), &env); err != nil {
				t.Fatalf("/environ answered %q: %v", raw, err)
			}
			for k, v := range env {
				if strings.Contains(v, keySecret) || strings.Contains(v, otherSecret) {
					t.Errorf("the worker sees a secret in %s", k)
				}
			}

			root := testdata(t, tt.root)
			want := map[string]string{
				"AWS_DEFAULT_REGION":              "eu-west-3",
				"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
				"AWS_LAMBDA_FUNCTION_NAME":        "fn",
				"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
				"AWS_LAMBDA_INITIALIZATION_TYPE":  "on-demand",
				"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/fn",
				"AWS_LAMBDA_LOG_STREAM_NAME":      `^\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}$`,
				"AWS_LAMBDA_RUNTIME_API":          `^127\.0\.0\.1:[1-9][0-9]*$`,
				"AWS_REGION":                      "eu-west-3",
				"INQUIR_GATEWAY_URL":              "http://127.0.0.1:8787",
				"LAMBDA_TASK_ROOT":                root,
				"OWN":                             "own-value",
				"PLAIN":                           "plain",
				"TZ":                              ":UTC",
				"_HANDLER":                        tt.handler,
			}
			if tt.nodeOnly {
				want["AWS_EXECUTION_ENV"] = "AWS_Lambda_nodejs20.x"
				want["LAMBDA_RUNTIME_DIR"] = filepath.Join(cacheDir, "node")
				want["INQUIR_HANDLER_MODULE"] = fn.Path
				want["INQUIR_HANDLER_EXPORT"] = "handler"
			}
			if tt.traceID {
				want["_X_AMZN_TRACE_ID"] = `^Root=1-`
			}
			for _, k := range []string{"PATH", "HOME", "LANG", "TMPDIR"} {
				if v, ok := os.LookupEnv(k); ok {
					want[k] = v
				}
			}
			if diff := cmp.Diff(slices.Sorted(maps.Keys(want)), slices.Sorted(maps.Keys(env))); diff != "" {
				t.Errorf("variables (-want +got):\n%s", diff)
			}
			for k, w := range want {
				got := env[k]
				if strings.HasPrefix(w, "^") {
					if !regexp.MustCompile(w).MatchString(got) {
						t.Errorf("%s = %q, want a match of %s", k, got, w)
					}
				} else if got != w {
					t.Errorf("%s = %q, want %q", k, got, w)
				}
			}

			cwd := h.mustCall(t, "fn", "/cwd", nil).Body
			if !sameDir(cwd, root) {
				t.Errorf("working folder %s, want %s", cwd, root)
			}
		})
	}
}

// sameDir reports whether a and b name one folder, symlinks resolved.
func sameDir(a, b string) bool {
	ra, err1 := filepath.EvalSymlinks(a)
	rb, err2 := filepath.EvalSymlinks(b)
	return err1 == nil && err2 == nil && ra == rb
}
