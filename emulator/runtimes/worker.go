package runtimes

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/inquir-dev/inquir/emulator/config"
	"github.com/inquir-dev/inquir/emulator/runtimeapi"
)

const (
	// stopGrace is how long a worker has between SIGTERM and SIGKILL.
	stopGrace = 2 * time.Second
	// drainTimeout bounds reading a worker's output after it exited: a
	// process that left the group could hold the pipes open forever.
	drainTimeout = 2 * time.Second
	// tailLines is how many stderr lines a failed start reports in the log.
	tailLines = 10
)

// worker is one child process serving one function over the Runtime API.
// Each worker has a Runtime API server of its own on 127.0.0.1, so its
// AWS_LAMBDA_RUNTIME_API is the plain host:port Lambda gives, and the
// address alone says which worker a request is about.
type worker struct {
	m    *Manager
	p    *pool
	name string // the function's

	// Its Runtime API server, closed when the process exits.
	api     *runtimeapi.Server
	addr    string        // 127.0.0.1:PORT
	served  chan struct{} // closed when api.Serve returned; nil if it never ran
	apiGone chan struct{} // closed when the server is closed
	apiOnce sync.Once

	initFailed chan struct{} // closed when it posts /init/error
	initOnce   sync.Once
	started    chan struct{} // closed once a start was attempted
	done       chan struct{} // closed once it exited, was reaped, and its output drained

	// Set before started is closed.
	cmd *exec.Cmd
	pid int
	// Set before done is closed.
	exitErr error

	stderr lineTail

	mu       sync.Mutex
	initErr  error
	stopping bool // asked to stop: its exit is not a crash

	idleSince time.Time // guarded by p.mu
	stopOnce  sync.Once

	refusedLogged atomic.Bool // a refused Runtime API caller was logged
}

func (m *Manager) newWorker(p *pool) *worker {
	w := &worker{
		m:          m,
		p:          p,
		name:       p.fn.Name,
		apiGone:    make(chan struct{}),
		initFailed: make(chan struct{}),
		started:    make(chan struct{}),
		done:       make(chan struct{}),
		stderr:     lineTail{max: tailLines},
	}
	w.api = runtimeapi.New(runtimeapi.Options{
		Function:    p.fn.Name,
		FunctionARN: p.arn(),
		Log:         m.log,
		PID:         func() int { return w.pid },
		InitError:   w.failInit,
	})
	return w
}

// startWorker starts w's process running argv. On error w has been
// unregistered and will never run.
func (m *Manager) startWorker(w *worker, argv []string) error {
	// The server is up before the process starts: the worker may call
	// /next before Start returns.
	if err := w.serveAPI(); err != nil {
		w.abandon(err)
		return fmt.Errorf("function %s: starting the worker's Lambda Runtime API server: %w", w.name, err)
	}
	env, err := w.p.env(w.addr)
	if err != nil {
		w.abandon(err)
		return err
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		w.abandon(errClosed)
		return errClosed
	}
	m.live[w] = struct{}{}
	m.workers.Add(1)
	m.mu.Unlock()

	err = w.start(argv, env)
	if err != nil {
		m.unregister(w)
		m.workers.Done()
		w.abandon(err)
		return fmt.Errorf("function %s: starting worker %s: %w", w.name, argv[0], err)
	}
	return nil
}

// serveAPI starts the worker's Runtime API server on a port of its own.
// Loopback only: it hands out events, which carry caller data, and takes
// responses; nothing off this machine may reach it.
func (w *worker) serveAPI() error {
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	w.addr = tcp.Addr().String()
	var ln net.Listener = &callerListener{Listener: tcp, w: w}
	if w.m.anyCaller {
		ln = tcp
	}
	w.served = make(chan struct{})
	go func() {
		defer close(w.served)
		if err := w.api.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			w.m.log.Error("lambda runtime API server stopped", "function", w.name, "err", err)
		}
	}()
	return nil
}

// callerListener accepts only the connections that w's own process (or a
// process it started) opened: the Runtime API hands out events, which carry
// callers' data, and takes answers that callers receive, so any other
// process of the machine that finds the port (a port scan, another
// function reading a worker's environ) must neither take an event nor
// forge an answer. A token in the worker's environment would not do: a
// process of the same user reads it in /proc. Refused connections are
// closed unanswered and counted; the first one of each worker is logged.
type callerListener struct {
	net.Listener
	w *worker
}

func (l *callerListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		// The worker may connect before startWorker has its pid: wait for
		// the start to be over, one way or the other.
		select {
		case <-l.w.started:
		case <-l.w.apiGone:
			c.Close()
			continue
		}
		ok, err := connOwnedBy(c, l.w.pid)
		if ok {
			return c, nil
		}
		c.Close()
		l.w.p.c.apiRefused.Add(1)
		if l.w.refusedLogged.CompareAndSwap(false, true) {
			l.w.m.log.Warn("refused a connection to a worker's Lambda Runtime API from a process that is not the worker (counted in stats as runtime_api_refused; only the first is logged)",
				"function", l.w.name, "pid", l.w.pid, "remote", c.RemoteAddr().String(), "err", err)
		}
	}
}

// closeAPI closes the worker's Runtime API server, its listener and every
// connection to it, and waits until it stopped serving: from now on its
// address refuses connections. It is safe to call more than once.
func (w *worker) closeAPI() {
	w.apiOnce.Do(func() {
		close(w.apiGone)
		w.api.Close()
		if w.served != nil {
			<-w.served
		}
	})
}

// abandon marks a worker that never ran as finished.
func (w *worker) abandon(err error) {
	w.closeAPI()
	w.exitErr = err
	close(w.started)
	close(w.done)
}

// start runs the process with its output piped to the Manager's Output.
func (w *worker) start(argv []string, env []string) error {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = w.p.taskRoot()
	cmd.Env = env
	cmd.SysProcAttr = sysProcAttr()

	// os.Pipe rather than cmd.StdoutPipe: Wait then neither closes the read
	// ends under the readers nor waits on a grandchild that inherited the
	// write ends, so a worker is reaped as soon as it exits and its output
	// is still drained to the end.
	outR, outW, err := os.Pipe()
	if err != nil {
		return err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return err
	}
	cmd.Stdout, cmd.Stderr = outW, errW
	err = cmd.Start()
	// The child holds its own copies; ours would keep the pipes open and
	// the readers from ever seeing EOF.
	outW.Close()
	errW.Close()
	if err != nil {
		outR.Close()
		errR.Close()
		return err
	}
	w.cmd = cmd
	w.pid = cmd.Process.Pid
	close(w.started)
	w.p.c.workersStarted.Add(1)
	w.p.c.workersRunning.Add(1)
	w.m.log.Debug("started worker", "function", w.name, "pid", w.pid)

	prefix := "[" + w.name + "] "
	var drained sync.WaitGroup
	drained.Add(2)
	go func() {
		defer drained.Done()
		w.m.out.copyLines(outR, prefix, nil)
	}()
	go func() {
		defer drained.Done()
		w.m.out.copyLines(errR, prefix, &w.stderr)
	}()
	go w.wait(&drained, outR, errR)
	return nil
}

// wait reaps the process, cleans up its group and drains its output, then
// closes done and takes the worker out of the Manager and its pool.
func (w *worker) wait(drained *sync.WaitGroup, pipes ...*os.File) {
	err := w.cmd.Wait()
	// Whatever the worker left behind in its group (a handler's child
	// process, say) goes with it.
	_ = terminate(w.cmd.Process, true)
	drainedc := make(chan struct{})
	go func() {
		drained.Wait()
		close(drainedc)
	}()
	select {
	case <-drainedc:
	case <-time.After(drainTimeout):
	}
	for _, f := range pipes {
		f.Close()
	}
	<-drainedc

	w.exitErr = err
	w.mu.Lock()
	crashed := !w.stopping
	w.mu.Unlock()
	// Counts and the pool are settled before done is closed, so whoever
	// waits on done sees them as they are after the exit.
	w.m.unregister(w)
	w.closeAPI()
	w.p.forget(w)
	w.p.c.workersRunning.Add(-1)
	if crashed {
		w.p.c.crashes.Add(1)
		w.m.log.Warn("worker exited", "function", w.name, "pid", w.pid, "status", w.status(), "stderr", w.stderr.String())
		w.p.failed(w.status())
	} else {
		w.m.log.Debug("worker stopped", "function", w.name, "pid", w.pid, "status", w.status())
	}
	close(w.done)
	w.m.workers.Done()
}

// stop asks the worker's process group to exit, kills it after stopGrace,
// and returns once it has exited. It is safe to call more than once.
func (w *worker) stop() {
	w.stopOnce.Do(func() {
		<-w.started
		w.markStopping()
		if w.cmd == nil {
			return
		}
		_ = terminate(w.cmd.Process, false)
		t := time.NewTimer(stopGrace)
		defer t.Stop()
		select {
		case <-w.done:
		case <-t.C:
			_ = terminate(w.cmd.Process, true)
		}
	})
	<-w.done
}

// kill stops the worker's process group at once, without waiting.
func (w *worker) kill() {
	<-w.started
	w.markStopping()
	if w.cmd != nil {
		_ = terminate(w.cmd.Process, true)
	}
}

func (w *worker) markStopping() {
	w.mu.Lock()
	w.stopping = true
	w.mu.Unlock()
}

func (w *worker) isStopping() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stopping
}

func (w *worker) exited() bool {
	select {
	case <-w.done:
		return true
	default:
		return false
	}
}

// status describes how the process ended: "exit status 3", "signal: killed".
// It is only meaningful once the process has been reaped.
func (w *worker) status() string {
	var exit *exec.ExitError
	switch {
	case w.exitErr == nil:
		return "exit status 0"
	case errors.As(w.exitErr, &exit):
		return exit.Error()
	default:
		return w.exitErr.Error()
	}
}

// failInit takes the report of a worker that posted /init/error
// before its first poll: the start waiting for it fails and the worker is
// discarded.
func (w *worker) failInit(e runtimeapi.ErrorReport) {
	w.m.log.Warn("function failed to initialise", "function", w.name, "error_type", e.Type, "error_message", e.Message,
		"stack", strings.Join(e.Stack, "\n"))
	err := fmt.Errorf("function %s: init error %s: %s", w.name, e.Type, e.Message)
	// Not a crash (the worker is asked to stop), but a start that failed:
	// it counts towards a crash loop like one.
	w.p.failed(truncate(fmt.Sprintf("init error %s: %s", e.Type, e.Message), 300))
	w.setInitError(err)
	// Marked before the worker hears back and exits on its own, so its
	// exit does not count as a crash.
	w.markStopping()
	go w.stop()
}

// truncate shortens s to at most n bytes, on a rune boundary, saying
// that it did.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}

// setInitError records what the worker reported to /init/error.
func (w *worker) setInitError(err error) {
	w.mu.Lock()
	if w.initErr == nil {
		w.initErr = err
	}
	w.mu.Unlock()
	w.initOnce.Do(func() { close(w.initFailed) })
}

// initError is the error the worker reported to /init/error, if any.
func (w *worker) initError() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.initErr
}

// startError explains a worker that exited before asking for an
// invocation, with the likely causes for its runtime.
func (w *worker) startError() error {
	var hint string
	switch w.p.fn.Runtime {
	case config.RuntimeGo:
		hint = "does the package's main call lambda.Start from github.com/aws/aws-lambda-go/lambda?"
	case config.RuntimeNode:
		hint = "did the module fail to load (a syntax error, a missing import, a throw at top level)?"
	default:
		hint = "does the command speak the AWS Lambda Runtime API, reading AWS_LAMBDA_RUNTIME_API?"
	}
	// The exit itself was logged, with the stderr tail, when it was reaped.
	return fmt.Errorf("function %s: worker (pid %d) exited before asking for an invocation (%s): %s its last stderr lines are in the log",
		w.name, w.pid, w.status(), hint)
}

// baseEnv names the variables a worker takes from inquir's environment,
// when set there: what a program needs to run at all. Nothing else of
// inquir's environment reaches a function, so no key's env: secret and no
// other function's env does either.
var baseEnv = []string{"PATH", "HOME", "LANG", "TMPDIR"}

// memorySize is AWS_LAMBDA_FUNCTION_MEMORY_SIZE: Lambda's default, as
// inquir has no memory setting.
const memorySize = "128"

// nodeExecutionEnv is AWS_EXECUTION_ENV for the node runtime.
const nodeExecutionEnv = "AWS_Lambda_nodejs20.x"

// env is the environment of a new worker whose Runtime API is at api,
// built from scratch as Lambda builds it: a small base from inquir's
// environment, then the function's env table (resolved now), then the
// variables Lambda defines and INQUIR_GATEWAY_URL, which win.
func (p *pool) env(api string) ([]string, error) {
	vars := p.m.baseEnviron()
	vars["TZ"] = ":UTC"
	fnEnv, err := p.resolveEnv()
	if err != nil {
		return nil, err
	}
	for k, v := range fnEnv {
		vars[k] = v
	}
	// A process function's handler is its own runtime's business: on AWS
	// it is configuration, so the function's env may set it.
	handler, ownHandler := fnEnv["_HANDLER"]
	for k, v := range p.lambdaVars() {
		if k == "_HANDLER" && ownHandler && p.fn.Runtime == config.RuntimeProcess {
			v = handler
		}
		vars[k] = v
	}
	vars["AWS_LAMBDA_RUNTIME_API"] = api
	vars["AWS_LAMBDA_LOG_STREAM_NAME"] = newLogStreamName(time.Now())
	vars["AWS_LAMBDA_INITIALIZATION_TYPE"] = "on-demand"
	if p.fn.Runtime == config.RuntimeNode {
		vars["AWS_EXECUTION_ENV"] = nodeExecutionEnv
		if dir := p.m.bootstrapDir(); dir != "" {
			vars["LAMBDA_RUNTIME_DIR"] = dir
		}
		// The bootstrap's own settings: what it imports and calls.
		vars["INQUIR_HANDLER_MODULE"] = p.fn.Path
		vars["INQUIR_HANDLER_EXPORT"] = p.export()
	}
	env := make([]string, 0, len(vars))
	for _, k := range slices.Sorted(maps.Keys(vars)) {
		env = append(env, k+"="+vars[k])
	}
	return env, nil
}

// resolveEnv resolves the function's env table: env: and file: references
// are read now.
func (p *pool) resolveEnv() (map[string]string, error) {
	vars := make(map[string]string, len(p.fn.Env))
	for _, k := range slices.Sorted(maps.Keys(p.fn.Env)) {
		v, err := config.ResolveValue(p.fn.Dir, p.fn.Env[k])
		if err != nil {
			// The error names the variable or file, never a value.
			return nil, fmt.Errorf("function %s: resolving env %s: %w", p.fn.Name, k, err)
		}
		vars[k] = v
	}
	if p.m.resolved != nil {
		p.m.resolved(slices.Collect(maps.Values(vars))...)
	}
	return vars, nil
}

// lambdaVars are the variables Lambda defines for the function, spelled as
// Lambda spells them, that are the same for all its workers and for a
// go-plugin function; and INQUIR_GATEWAY_URL.
func (p *pool) lambdaVars() map[string]string {
	region := p.region()
	return map[string]string{
		"AWS_REGION":                      region,
		"AWS_DEFAULT_REGION":              region,
		"AWS_LAMBDA_FUNCTION_NAME":        p.fn.Name,
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": memorySize,
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/" + p.fn.Name,
		"LAMBDA_TASK_ROOT":                p.taskRoot(),
		"_HANDLER":                        p.handler(),
		"INQUIR_GATEWAY_URL":              p.m.gatewayURL,
	}
}

// region is the AWS Region the function is told it runs in.
func (p *pool) region() string {
	if p.fn.Region == "" {
		return config.DefaultRegion
	}
	return p.fn.Region
}

// arn is the function's ARN, as Lambda hands it to an invocation.
func (p *pool) arn() string {
	return "arn:aws:lambda:" + p.region() + ":000000000000:function:" + p.fn.Name
}

// taskRoot is the function's folder, Lambda's LAMBDA_TASK_ROOT and the
// working folder of its workers: where a handler's relative paths resolve.
// For node it is the module's folder, for go the package's; a process
// function's command is configured relative to the config's folder, so
// that is its root.
func (p *pool) taskRoot() string {
	switch p.fn.Runtime {
	case config.RuntimeNode:
		return filepath.Dir(p.fn.Path)
	case config.RuntimeGo, config.RuntimeGoPlugin:
		return p.fn.Path
	default:
		return p.fn.Dir
	}
}

// handler is _HANDLER as Lambda sets it: for node, FILE.EXPORT with the
// module's name without its extension (index.handler); for Go, which runs
// on an OS-only runtime, the executable's conventional name, bootstrap;
// for a process, the same unless its env names one.
func (p *pool) handler() string {
	if p.fn.Runtime == config.RuntimeNode {
		base := filepath.Base(p.fn.Path)
		return strings.TrimSuffix(base, filepath.Ext(base)) + "." + p.export()
	}
	return "bootstrap"
}

// newLogStreamName returns a log stream name in Lambda's shape, one per
// execution environment: 2026/01/02/[$LATEST]<32 hex digits>.
func newLogStreamName(now time.Time) string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return now.UTC().Format("2006/01/02") + "/[$LATEST]" + hex.EncodeToString(b[:])
}

// bootstrapDir is the folder of the node bootstrap once written, or "".
func (m *Manager) bootstrapDir() string {
	m.bootstrapMu.Lock()
	defer m.bootstrapMu.Unlock()
	if m.bootstrapPath == "" {
		return ""
	}
	return filepath.Dir(m.bootstrapPath)
}

func (p *pool) export() string {
	if p.fn.Export == "" {
		return config.DefaultExport
	}
	return p.fn.Export
}

// unregister forgets w: Close no longer stops it.
func (m *Manager) unregister(w *worker) {
	m.mu.Lock()
	delete(m.live, w)
	m.mu.Unlock()
}

// lineWriter writes whole lines from every worker to one io.Writer, so
// lines of concurrent workers never interleave mid-line.
type lineWriter struct {
	mu sync.Mutex
	w  io.Writer
}

// copyLines copies r to the writer line by line, each prefixed; tail, if
// not nil, keeps the last lines.
func (l *lineWriter) copyLines(r io.Reader, prefix string, tail *lineTail) {
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		line, err := br.ReadSlice('\n')
		if len(line) > 0 {
			line = bytes.TrimRight(line, "\r\n")
			l.mu.Lock()
			// Best effort: a worker must not stall on a broken log.
			_, _ = io.WriteString(l.w, prefix+string(line)+"\n")
			l.mu.Unlock()
			if tail != nil {
				tail.add(string(line))
			}
		}
		// A line longer than the buffer comes out in pieces, each on a line
		// of its own, rather than growing without bound.
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return
		}
	}
}

// writeBlock writes text, each line prefixed, in one write: no other
// line comes between them.
func (l *lineWriter) writeBlock(prefix, text string) {
	if strings.TrimSpace(text) == "" {
		return
	}
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		b.WriteString(prefix + strings.TrimRight(line, "\r") + "\n")
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	_, _ = io.WriteString(l.w, b.String()) // best effort, as copyLines
}

// lineTail keeps the last max lines written to it.
type lineTail struct {
	mu    sync.Mutex
	max   int
	lines []string
}

func (t *lineTail) add(line string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.lines = append(t.lines, line)
	if len(t.lines) > t.max {
		t.lines = t.lines[len(t.lines)-t.max:]
	}
}

// String returns the kept lines, joined by newlines.
func (t *lineTail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.Join(t.lines, "\n")
}
