//go:build unix

package runtimes

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/inquir-dev/inquir/emulator/config"
)

// rebuildTimeout bounds the wait for a rebuild: a Go build with a warm
// cache takes about a second.
const rebuildTimeout = 60 * time.Second

// Sources for TestWatch, one per runtime: each answers /pid with its
// process id and anything else with VERSION.
const (
	goWatchSource = `package main

import (
	"context"
	"os"
	"strconv"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

func handler(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	if req.Path == "/pid" {
		return events.APIGatewayProxyResponse{StatusCode: 200, Body: strconv.Itoa(os.Getpid())}, nil
	}
	return events.APIGatewayProxyResponse{StatusCode: 200, Body: VERSION}, nil
}

func main() { lambda.Start(handler) }
`
	nodeWatchSource = `export async function handler(event) {
  if (event.path === '/pid') return { statusCode: 200, body: String(process.pid) };
  return { statusCode: 200, body: VERSION };
}
`
	pythonWatchSource = `import json, os, urllib.request
base = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime"
while True:
    with urllib.request.urlopen(base + "/invocation/next") as res:
        rid = res.headers["Lambda-Runtime-Aws-Request-Id"]
        event = json.load(res)
    body = str(os.getpid()) if event["path"] == "/pid" else VERSION
    payload = json.dumps({"statusCode": 200, "body": body}).encode()
    urllib.request.urlopen(urllib.request.Request(base + "/invocation/" + rid + "/response", data=payload, method="POST")).read()
`
)

// TestWatch edits a function's source under a watching Manager, in every
// runtime: the new version serves without a restart of the Manager, the
// old workers go, a broken edit keeps the last good version (and its warm
// worker) serving with the error in the stats, and fixing it serves again.
func TestWatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		file    string // the source file, in the function's folder
		source  string
		broken  string // a source that does not build or load; "" if the runtime has no build
		workers bool
		fn      func(t *testing.T, dir string) config.Function
	}{
		{
			name: "go", file: "main.go", source: goWatchSource, broken: "package main\n\nfunc main() { VERSION }\n", workers: true,
			fn: func(t *testing.T, dir string) config.Function {
				fn := goFunction(t, "fn")
				fn.Path, fn.Dir = dir, dir
				return fn
			},
		},
		{
			name: "go-plugin", file: "main.go", source: pluginHandlerSource, broken: "package main\n\nfunc Handler() { VERSION }\n",
			fn: func(t *testing.T, dir string) config.Function {
				fn := pluginFunction(t, "fn", dir)
				fn.Dir = dir
				return fn
			},
		},
		{
			name: "node", file: "lib/index.mjs", source: nodeWatchSource, broken: "export async function handler( {\n// VERSION\n", workers: true,
			fn: func(t *testing.T, dir string) config.Function {
				fn := nodeFunction(t, "fn", "esm.mjs")
				fn.Path, fn.Dir = filepath.Join(dir, "lib", "index.mjs"), dir
				return fn
			},
		},
		{
			name: "process", file: "fn.py", source: pythonWatchSource, workers: true,
			fn: func(t *testing.T, dir string) config.Function {
				fn := processFunction(t, "fn")
				fn.Command, fn.Dir = []string{"python3", "fn.py"}, dir
				return fn
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			version := func(v string) string { return strings.Replace(tt.source, "VERSION", strconv.Quote(v), 1) }
			dir := pluginModule(t, map[string]string{tt.file: version("one")})
			write := func(content string) {
				t.Helper()
				// As many editors save: a new file renamed over the old one.
				path := filepath.Join(dir, tt.file)
				if err := os.WriteFile(path+".tmp", []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
				if err := os.Rename(path+".tmp", path); err != nil {
					t.Fatal(err)
				}
			}
			h := newManager(t, tt.fn(t, dir))
			stop, err := h.Watch()
			if err != nil {
				t.Fatal(err)
			}
			defer stop()
			body := func() string { return h.mustCall(t, "fn", "/", nil).Body }
			if got := body(); got != "one" {
				t.Fatalf("body %q, want one", got)
			}
			var pid int
			if tt.workers {
				pid = h.pid(t, "fn")
			}

			write(version("two"))
			waitFor(t, rebuildTimeout, "the edit serves", func() bool { return body() == "two" })
			if tt.workers {
				waitGone(t, pid)
				pid = h.pid(t, "fn")
			}
			if !strings.Contains(h.log.String(), "sources of function fn changed; rebuilding") || !strings.Contains(h.log.String(), "function fn now serves version 2 of its sources") {
				t.Errorf("the log does not tell the rebuild:\n%s", h.log)
			}

			if tt.broken != "" {
				write(tt.broken)
				waitFor(t, rebuildTimeout, "the broken edit is reported", func() bool { return h.Stats()["fn"].LastBuildError != "" })
				if got := body(); got != "two" {
					t.Errorf("after a broken edit: body %q, want the last good version's", got)
				}
				if tt.workers {
					if got := h.pid(t, "fn"); got != pid {
						t.Errorf("after a broken edit the function runs in pid %d, want its warm worker %d", got, pid)
					}
				}
				if !strings.Contains(h.log.String(), "the previous version keeps serving") {
					t.Errorf("the log does not say the previous version keeps serving:\n%s", h.log)
				}
			}

			// The first version again: for go-plugin, sources it loaded before,
			// which must load under a plugin path of their own.
			write(version("one"))
			waitFor(t, rebuildTimeout, "the fix serves", func() bool { return body() == "one" })
			got := h.Stats()["fn"]
			if got.LastBuildError != "" {
				t.Errorf("LastBuildError = %q after a good build", got.LastBuildError)
			}
			if tt.broken != "" && strings.HasPrefix(tt.name, "go") && got.Builds != 4 {
				t.Errorf("Builds = %d, want 4 (one per version, the broken one too)", got.Builds)
			}
		})
	}
}

// TestWatchEnvFile checks that a change to a file a function's env
// references restarts that function's workers, and no other's.
func TestWatchEnvFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	secret := filepath.Join(dir, "secrets", "agent.key")
	if err := os.MkdirAll(filepath.Dir(secret), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(secret, []byte("one\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	a := processFunction(t, "a")
	a.Env = map[string]string{"SEARCH_KEY": "file:" + secret}
	b := processFunction(t, "b")
	h := newManager(t, a, b)
	stop, err := h.Watch()
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	key := func() string { return h.mustCall(t, "a", "/env", map[string]string{"name": "SEARCH_KEY"}).Body }
	if got := key(); got != "one" {
		t.Fatalf("SEARCH_KEY = %q, want one", got)
	}
	pidA, pidB := h.pid(t, "a"), h.pid(t, "b")

	if err := os.WriteFile(secret, []byte("two\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	waitFor(t, waitTimeout, "the new key reaches the function", func() bool { return key() == "two" })
	waitGone(t, pidA)
	if got := h.pid(t, "b"); got != pidB {
		t.Errorf("function b runs in pid %d, want its warm worker %d: only a's env changed", got, pidB)
	}
	if got := h.Stats(); got["a"].Builds != 0 || got["b"].WorkersStarted != 1 {
		t.Errorf("Stats = %+v, want no build and b's one worker", got)
	}
	if !strings.Contains(h.log.String(), "env file of function a changed; restarting its workers") {
		t.Errorf("the log does not say why a restarted:\n%s", h.log)
	}
}
