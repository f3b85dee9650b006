//go:build unix

package runtimes

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/inquir-dev/inquir/emulator/config"
)

// waitTimeout bounds every wait for something that will happen (a worker
// started, a process group gone): long enough for a loaded 2-core machine,
// and only ever reached when the test fails.
const waitTimeout = 60 * time.Second

// cacheDir is shared by every test's Manager, so the node bootstrap is
// written once and go build's output lands in one place.
var cacheDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "inquir-runtimes-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	cacheDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// testdata returns the absolute path of a file under testdata.
func testdata(t testing.TB, elem ...string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join(append([]string{"testdata"}, elem...)...))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// requireCommand skips the test when a runtime's program is not installed.
func requireCommand(t testing.TB, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Skipf("%s is not on PATH", name)
	}
}

// The fixtures, one per runtime. Each answers by the event's path: /pid,
// /env?name=VAR, /crash (exit 3), /throw, /sleep (past any timeout).
func goFunction(t testing.TB, name string) config.Function {
	requireCommand(t, "go")
	return config.Function{
		Name: name, Runtime: config.RuntimeGo, Path: testdata(t, "gofn"),
		Timeout: 10 * time.Second, Concurrency: 2, Dir: testdata(t),
	}
}

func nodeFunction(t testing.TB, name, module string) config.Function {
	requireCommand(t, "node")
	return config.Function{
		Name: name, Runtime: config.RuntimeNode, Path: testdata(t, "node", module),
		Timeout: 10 * time.Second, Concurrency: 2, Dir: testdata(t, "node"),
	}
}

func processFunction(t testing.TB, name string) config.Function {
	requireCommand(t, "python3")
	return config.Function{
		Name: name, Runtime: config.RuntimeProcess, Command: []string{"./runtime.py"},
		Timeout: 10 * time.Second, Concurrency: 2, Dir: testdata(t, "process"),
	}
}

// syncBuffer is a bytes.Buffer safe for the concurrent writes of workers
// and the log.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// harness is a Manager under test, with what it logged and what its
// workers printed.
type harness struct {
	*Manager
	log, out *syncBuffer
}

// newManager starts a Manager with fns; the test's cleanup closes it and
// checks that no worker it started is left running.
func newManager(t testing.TB, fns ...config.Function) *harness {
	t.Helper()
	return newManagerWith(t, Options{}, fns...)
}

// newManagerWith is newManager with opts (Now, IdleTimeout); the harness
// sets the cache folder, log, output and gateway URL.
func newManagerWith(t testing.TB, opts Options, fns ...config.Function) *harness {
	t.Helper()
	h := &harness{log: &syncBuffer{}, out: &syncBuffer{}}
	opts.CacheDir = cacheDir
	opts.Log = slog.New(slog.NewTextHandler(h.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	opts.Output = h.out
	opts.GatewayURL = "http://127.0.0.1:8787"
	m, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	h.Manager = m
	m.SetFunctions(fns)
	t.Cleanup(func() {
		pids := h.pids()
		if err := m.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		for _, pid := range pids {
			if groupAlive(pid) {
				t.Errorf("process group %d is still alive after Close", pid)
			}
		}
		if t.Failed() {
			t.Logf("log:\n%s\nworker output:\n%s", h.log, h.out)
		}
	})
	return h
}

// pids returns the pids of the Manager's live workers.
func (h *harness) pids() []int {
	h.mu.Lock()
	defer h.mu.Unlock()
	var pids []int
	for w := range h.live {
		select {
		case <-w.started:
			if w.pid != 0 {
				pids = append(pids, w.pid)
			}
		default:
		}
	}
	return pids
}

// response is the part of an API Gateway proxy response the tests read.
type response struct {
	StatusCode int    `json:"statusCode"`
	Body       string `json:"body"`
}

// event returns an API Gateway proxy event for GET path.
func event(path string, query map[string]string) []byte {
	ev := map[string]any{
		"resource":              path,
		"path":                  path,
		"httpMethod":            "GET",
		"headers":               map[string]string{"accept": "*/*"},
		"queryStringParameters": query,
		"requestContext": map[string]any{
			"requestId": "test", "stage": "local", "httpMethod": "GET", "resourcePath": path,
			"identity": map[string]any{"apiKeyId": "tester", "sourceIp": "127.0.0.1"},
		},
		"body":            "",
		"isBase64Encoded": false,
	}
	b, err := json.Marshal(ev)
	if err != nil {
		panic(err)
	}
	return b
}

// call invokes fn with a GET of path and decodes the response.
func (h *harness) call(ctx context.Context, fn, path string, query map[string]string) (response, error) {
	raw, err := h.Invoke(ctx, fn, event(path, query))
	if err != nil {
		return response{}, err
	}
	var res response
	if err := json.Unmarshal(raw, &res); err != nil {
		return response{}, fmt.Errorf("decoding %q: %w", raw, err)
	}
	return res, nil
}

// mustCall is call that fails the test on error.
func (h *harness) mustCall(t *testing.T, fn, path string, query map[string]string) response {
	t.Helper()
	res, err := h.call(t.Context(), fn, path, query)
	if err != nil {
		t.Fatalf("invoking %s %s: %v", fn, path, err)
	}
	return res
}

// pid asks fn's worker for its pid.
func (h *harness) pid(t *testing.T, fn string) int {
	t.Helper()
	res := h.mustCall(t, fn, "/pid", nil)
	pid, err := strconv.Atoi(res.Body)
	if err != nil {
		t.Fatalf("/pid answered %q", res.Body)
	}
	return pid
}

// waitGone polls until no live process is left in the process group pgid,
// failing the test if one is still there after a few seconds.
func waitGone(t *testing.T, pgid int) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for groupAlive(pgid) {
		if time.Now().After(deadline) {
			t.Fatalf("process group %d still has live processes", pgid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// manualClock is a clock that moves only when the test moves it, for rules
// about time (crash-loop windows, backoffs) that must hold however slowly a
// loaded machine starts and stops workers.
type manualClock struct {
	mu  sync.Mutex
	now time.Time
}

func newManualClock() *manualClock { return &manualClock{now: time.Unix(1_000_000, 0)} }

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}
