package runtimes

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/inquir-dev/inquir/emulator/config"
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
type worker struct {
	m     *Manager
	p     *pool
	name  string // the function's
	token string // the secret path segment of its Runtime API address

	// next hands an invocation to the worker's pending GET /next.
	next chan *invocation

	ready      chan struct{} // closed at its first GET /next
	readyOnce  sync.Once
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
	current  *invocation // handed to the worker and not yet answered
	initErr  error
	stopping bool // asked to stop: its exit is not a crash

	idleSince time.Time // guarded by p.mu
	stopOnce  sync.Once
}

func (m *Manager) newWorker(p *pool) *worker {
	return &worker{
		m:          m,
		p:          p,
		name:       p.fn.Name,
		token:      rand.Text(),
		next:       make(chan *invocation),
		ready:      make(chan struct{}),
		initFailed: make(chan struct{}),
		started:    make(chan struct{}),
		done:       make(chan struct{}),
		stderr:     lineTail{max: tailLines},
	}
}

// startWorker starts w's process running argv. On error w has been
// unregistered and will never run.
func (m *Manager) startWorker(w *worker, argv []string) error {
	env, err := w.p.env(w.token)
	if err != nil {
		w.abandon(err)
		return err
	}
	// Register before starting: the worker may call /next before Start
	// returns, and the Runtime API must know its token by then.
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		w.abandon(errClosed)
		return errClosed
	}
	m.byToken[w.token] = w
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

// abandon marks a worker that never ran as finished.
func (w *worker) abandon(err error) {
	w.exitErr = err
	close(w.started)
	close(w.done)
}

// start runs the process with its output piped to the Manager's Output.
func (w *worker) start(argv []string, env []string) error {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = w.p.fn.Dir
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

func (w *worker) markReady() { w.readyOnce.Do(func() { close(w.ready) }) }

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

// env is the environment of a new worker: the emulator's, the function's
// env table resolved now, and the Lambda variables, which win.
func (p *pool) env(token string) ([]string, error) {
	var env []string
	for _, kv := range p.m.workerEnviron() {
		// aws-lambda-go serves its old RPC protocol instead of the Runtime
		// API when this is set.
		if !strings.HasPrefix(kv, "_LAMBDA_SERVER_PORT=") {
			env = append(env, kv)
		}
	}
	names := make([]string, 0, len(p.fn.Env))
	for k := range p.fn.Env {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		v, err := config.ResolveValue(p.fn.Dir, p.fn.Env[k])
		if err != nil {
			// The error names the variable or file, never a value.
			return nil, fmt.Errorf("function %s: resolving env %s: %w", p.fn.Name, k, err)
		}
		env = append(env, k+"="+v)
	}
	handler := p.fn.Name
	if p.fn.Runtime == config.RuntimeNode {
		handler = p.export()
		env = append(env,
			"INQUIR_HANDLER_MODULE="+p.fn.Path,
			"INQUIR_HANDLER_EXPORT="+p.export(),
		)
	}
	env = append(env,
		"AWS_LAMBDA_RUNTIME_API="+p.m.apiAddr+"/w/"+token,
		"AWS_LAMBDA_FUNCTION_NAME="+p.fn.Name,
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128",
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_REGION=us-east-1",
		"AWS_DEFAULT_REGION=us-east-1",
		"_HANDLER="+handler,
		"INQUIR_GATEWAY_URL="+p.m.gatewayURL,
	)
	return env, nil
}

func (p *pool) export() string {
	if p.fn.Export == "" {
		return config.DefaultExport
	}
	return p.fn.Export
}

// unregister forgets w's token: the Runtime API answers 404 to it from now.
func (m *Manager) unregister(w *worker) {
	m.mu.Lock()
	if m.byToken[w.token] == w {
		delete(m.byToken, w.token)
	}
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
