// Package runtimes runs functions as child processes that speak the AWS
// Lambda Runtime API, or as Go plugins loaded into inquir, and invokes them.
//
// A Manager owns, per function, a pool of warm workers, each with a Runtime
// API server of its own on loopback. The gateway calls Invoke once a request is allowed;
// Invoke hands the event to an idle worker (starting one if the pool has
// room, building the function first if it is written in Go) and returns the
// function's response as the worker posted it. Workers pull invocations:
// the Runtime API has no endpoint that starts one, so the only way into a
// function is Invoke. A go-plugin function has no workers: Invoke calls its
// Handler in-process, at most Concurrency calls at once.
//
// A function whose workers keep dying is in a crash loop: no new worker
// starts for a backoff that doubles with every failure (see ErrCrashLoop).
// Watch rebuilds a function when its sources change and swaps its workers
// only once the new build is good.
package runtimes

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/inquir-dev/inquir/emulator/config"
	"github.com/inquir-dev/inquir/emulator/gateway"
)

// Errors Invoke returns. ErrTimeout, ErrBusy, ErrBuilding and
// ErrBuildFailed are the gateway's: it says what they mean to a caller and
// answers each with a status of its own. Any other error means the function failed (502); its
// text is diagnostic and belongs in the log, never in a response.
var (
	// ErrTimeout means the invocation ran past Function.Timeout (504). The
	// worker has been killed.
	ErrTimeout = gateway.ErrTimeout
	// ErrBusy means every one of the function's Concurrency workers stayed
	// busy for a whole Function.Timeout (503, with Retry-After).
	ErrBusy = gateway.ErrBusy
	// ErrUnknownFunction means no function of that name is configured.
	ErrUnknownFunction = errors.New("unknown function")
	// ErrBuilding means the function's build was still running after
	// Options.MaxBuildWait (503, with Retry-After). The build goes on.
	ErrBuilding = gateway.ErrBuilding
	// ErrBuildFailed means the function's sources did not build (go,
	// go-plugin): 502, function_build_failed. The error's text carries the
	// compiler's output, which the log showed as a block when the build
	// failed; FunctionStats.LastBuildError holds it too.
	ErrBuildFailed = gateway.ErrBuildFailed
	// ErrCrashLoop means the function's workers kept dying and no new one
	// may start until its backoff ends (502, like any function failure).
	ErrCrashLoop = errors.New("function is crash-looping")
)

// errClosed is returned by a Manager after Close.
var errClosed = errors.New("runtimes: manager is closed")

// DefaultIdleTimeout is how long a worker may stay idle before it is stopped.
const DefaultIdleTimeout = 5 * time.Minute

// Options configure a Manager. The zero value is usable.
type Options struct {
	// CacheDir is where Go builds and the node bootstrap are written. If
	// zero, filepath.Join(os.UserCacheDir(), "inquir").
	CacheDir string
	// Log receives the Manager's own messages: builds, worker starts and
	// exits, handler errors. If nil, they are discarded.
	Log *slog.Logger
	// Output receives what workers write to stdout and stderr, line by
	// line, each line prefixed with "[function] ". If nil, os.Stderr.
	Output io.Writer
	// GatewayURL is handed to every worker as INQUIR_GATEWAY_URL, so a
	// function can call another through the gateway, with a key.
	GatewayURL string
	// IdleTimeout is how long a warm worker may wait for an invocation
	// before it is stopped. If zero, DefaultIdleTimeout; if negative, idle
	// workers are kept until their function changes or Close.
	IdleTimeout time.Duration
	// Now is the clock crash loops are judged by: when a failure happened,
	// whether it is still in the window, when a backoff ends. If nil,
	// time.Now. Tests give a clock they move by hand, so the rule holds
	// however slowly a loaded machine starts and stops workers.
	Now func() time.Time
	// Resolved, if set, is told every value a function's env resolves to
	// as workers start (a file: it reads anew after the file changed, too),
	// before any worker can print it: inquir dev's redactor learns them so.
	Resolved func(values ...string)
	// BuildProgress is how often the log says a build goes on ("still
	// building orders (30s)…"). If zero, DefaultBuildProgress.
	BuildProgress time.Duration
	// MaxBuildWait bounds how long an invocation waits for its function's
	// build to finish before it fails with ErrBuilding. If zero,
	// DefaultMaxBuildWait.
	MaxBuildWait time.Duration
}

// Defaults for Options.
const (
	DefaultBuildProgress = 10 * time.Second
	// DefaultMaxBuildWait covers the first build on a cold, busy machine,
	// which compiles the standard library and every dependency.
	DefaultMaxBuildWait = 10 * time.Minute
)

// FunctionStats counts what happened to one function since the Manager
// started. Counts survive SetFunctions.
type FunctionStats struct {
	// Invocations is how many invocations were handed to a worker.
	Invocations int64 `json:"invocations"`
	// WorkersStarted is how many worker processes were started.
	WorkersStarted int64 `json:"workers_started"`
	// WorkersRunning is how many worker processes are alive now.
	WorkersRunning int64 `json:"workers_running"`
	// Builds is how many times the function was compiled (go, go-plugin),
	// failed builds included.
	Builds int64 `json:"builds"`
	// Crashes is how many workers exited without being asked to.
	Crashes int64 `json:"crashes"`
	// Timeouts is how many invocations ran past the function's timeout.
	Timeouts int64 `json:"timeouts"`
	// Abandoned is how many go-plugin handler calls are still running past
	// their timeout: a goroutine cannot be killed, so each keeps one of the
	// function's Concurrency slots until it returns.
	Abandoned int64 `json:"abandoned"`
	// CrashLoop is true while the function's workers keep dying: several
	// failures (crashes, exits at start, init errors) within a short window.
	CrashLoop bool `json:"crash_loop"`
	// BackoffMS is how long, in milliseconds, before the next worker may
	// start; 0 when one may start now. Requests meanwhile get 502.
	BackoffMS int64 `json:"backoff_ms"`
	// LastExit says how the last worker that failed ended: "exit status 3",
	// "signal: killed", or the init error it reported.
	LastExit string `json:"last_exit,omitempty"`
	// LastBuildError is the compiler's (or node's, or the plugin loader's)
	// error from the last build of the function's sources, if it failed;
	// empty once a build succeeds. After a failed rebuild the previous
	// version keeps serving.
	LastBuildError string `json:"last_build_error,omitempty"`
	// Build is where the function's build stands: BuildNone for runtimes
	// that build nothing (node, process), else BuildPending (not started),
	// BuildRunning, BuildReady or BuildFailed. During a rebuild it tells
	// the version in force, which serves meanwhile.
	Build string `json:"build"`
	// RuntimeAPIRefused is how many connections to the function's workers'
	// Lambda Runtime API were refused because a process other than the
	// worker (or one it started) opened them.
	RuntimeAPIRefused int64 `json:"runtime_api_refused,omitempty"`
}

// Redacted returns s with redact applied to LastExit and LastBuildError,
// which may quote the function's env; so FunctionStats is a
// gateway.FunctionStats.
func (s FunctionStats) Redacted(redact func(string) string) gateway.FunctionStats {
	s.LastExit = redact(s.LastExit)
	s.LastBuildError = redact(s.LastBuildError)
	return s
}

// Values of FunctionStats.Build.
const (
	BuildNone    = "none"
	BuildPending = "pending"
	BuildRunning = "building"
	BuildReady   = "ready"
	BuildFailed  = "failed"
)

// counters back FunctionStats; one per function name for the Manager's life.
type counters struct {
	invocations, workersStarted, workersRunning atomic.Int64
	builds, crashes, timeouts, abandoned        atomic.Int64
	versions                                    atomic.Int64 // sources swapped in by Rebuild
	apiRefused                                  atomic.Int64 // connections to a worker's API from another process

	mu             sync.Mutex
	lastExit       string
	lastBuildError string
}

func (c *counters) setLastExit(s string) {
	c.mu.Lock()
	c.lastExit = s
	c.mu.Unlock()
}

func (c *counters) setBuildError(err error) {
	c.mu.Lock()
	c.lastBuildError = ""
	if err != nil {
		c.lastBuildError = err.Error()
	}
	c.mu.Unlock()
}

// Manager runs and invokes functions. Create it with New; it is safe for
// concurrent use. Close stops every worker it started.
type Manager struct {
	log         *slog.Logger
	out         *lineWriter
	cacheDir    string
	gatewayURL  string
	idleTimeout time.Duration
	now         func() time.Time       // see Options.Now
	resolved    func(values ...string) // see Options.Resolved

	buildProgress, maxBuildWait time.Duration

	// ctx is cancelled by Close; builds run under it, not under a caller's
	// context, because a build is shared by every caller waiting on it.
	ctx     context.Context
	cancel  context.CancelFunc
	closing chan struct{} // closed by Close
	bg      sync.WaitGroup
	workers sync.WaitGroup // one count per registered worker, until it exits

	mu       sync.Mutex
	closed   bool
	pools    map[string]*pool     // the function set in force, by name
	live     map[*worker]struct{} // every worker started and not yet exited
	counters map[string]*counters

	bootstrapMu   sync.Mutex
	bootstrapPath string // the node bootstrap, once written

	// watchers are told when the function set changes, so they watch the
	// sources of the functions in force; see Watch.
	watchers map[chan struct{}]bool
	// pluginEnv is what go-plugin functions put in inquir's own
	// environment, by variable, and pluginVars what each go-plugin pool
	// asked for; see applyPluginEnv.
	pluginEnv  map[string]pluginEnvVar
	pluginVars map[*pool]map[string]string
	// builds numbers plugin builds, so each gets a path of its own.
	pluginBuilds atomic.Int64

	// anyCaller lets any local process use a worker's Runtime API, not
	// only the worker: for the tests of the protocol itself, which speak it
	// from the test's own process.
	anyCaller bool

	closeOnce sync.Once
}

// New returns a Manager. It has no functions until SetFunctions.
func New(opts Options) (*Manager, error) {
	cacheDir := opts.CacheDir
	if cacheDir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return nil, fmt.Errorf("locating a cache folder for function builds: %w (set Options.CacheDir)", err)
		}
		cacheDir = filepath.Join(base, "inquir")
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	out := opts.Output
	if out == nil {
		out = os.Stderr
	}
	idle := opts.IdleTimeout
	if idle == 0 {
		idle = DefaultIdleTimeout
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := &Manager{
		now:           now,
		resolved:      opts.Resolved,
		buildProgress: cmp.Or(opts.BuildProgress, DefaultBuildProgress),
		maxBuildWait:  cmp.Or(opts.MaxBuildWait, DefaultMaxBuildWait),
		log:           log,
		out:           &lineWriter{w: out},
		cacheDir:      cacheDir,
		gatewayURL:    opts.GatewayURL,
		idleTimeout:   idle,
		ctx:           ctx,
		cancel:        cancel,
		closing:       make(chan struct{}),
		pools:         map[string]*pool{},
		live:          map[*worker]struct{}{},
		counters:      map[string]*counters{},
		watchers:      map[chan struct{}]bool{},
		pluginEnv:     map[string]pluginEnvVar{},
		pluginVars:    map[*pool]map[string]string{},
	}
	if idle > 0 {
		m.bg.Add(1)
		go m.reapIdle()
	}
	if !callerCheckSupported {
		log.Warn("on this system a worker's Lambda Runtime API cannot tell its worker from another local process: any process that finds its port can take the worker's events")
	}
	return m, nil
}

// SetFunctions installs fns as the function set. A function whose
// configuration is unchanged keeps its pool, warm workers and build; the
// workers of a function that changed or is gone are stopped once their
// invocations finish, and a changed Go function is built again.
func (m *Manager) SetFunctions(fns []config.Function) {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return
	}
	next := make(map[string]*pool, len(fns))
	var retired []*pool
	for _, fn := range fns {
		if old, ok := m.pools[fn.Name]; ok && reflect.DeepEqual(old.fn, fn) {
			next[fn.Name] = old
			continue
		}
		next[fn.Name] = m.newPool(fn)
	}
	for name, old := range m.pools {
		if next[name] != old {
			retired = append(retired, old)
		}
	}
	m.pools = next
	m.forgetPluginEnv()
	m.notifyWatchers()
	m.mu.Unlock()
	for _, p := range retired {
		p.retire()
	}
}

// Refresh makes the function start afresh: a Go function is built again
// before its next invocation, and its current workers are stopped once
// their invocations finish. Unlike Rebuild it does not wait for a good
// build: a build that fails fails the next invocations.
func (m *Manager) Refresh(name string) error {
	m.mu.Lock()
	old, ok := m.pools[name]
	closed := m.closed
	if ok && !closed {
		m.pools[name] = m.newPool(old.fn)
	}
	m.mu.Unlock()
	switch {
	case closed:
		return errClosed
	case !ok:
		return fmt.Errorf("refreshing function %q: %w", name, ErrUnknownFunction)
	}
	old.retire()
	return nil
}

// newPool returns an empty pool for fn. m.mu is held.
func (m *Manager) newPool(fn config.Function) *pool {
	c := m.counters[fn.Name]
	if c == nil {
		c = &counters{}
		m.counters[fn.Name] = c
	}
	return newPool(m, fn, c)
}

// pool returns the pool in force for name.
func (m *Manager) pool(name string) (*pool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, errClosed
	}
	p, ok := m.pools[name]
	if !ok {
		return nil, fmt.Errorf("function %q: %w", name, ErrUnknownFunction)
	}
	return p, nil
}

// Prepare readies the function for its first invocation without invoking
// it: a Go function is built (once; concurrent callers share the build),
// a node function has its bootstrap written and node looked up. The wait is
// bounded by ctx; the build itself carries on for other callers.
func (m *Manager) Prepare(ctx context.Context, name string) error {
	p, err := m.pool(name)
	if err != nil {
		return err
	}
	_, err = p.prepare(ctx)
	return err
}

// Built reports whether the function built before with this Manager's
// cache folder (Options.CacheDir): a go function's binary from an earlier
// build is there, or a go-plugin function's stamp. Then go build's own
// cache holds the standard library and the dependencies the function
// needs, and a build takes seconds; otherwise a first build compiles them,
// a minute or two on a small machine. A function that builds nothing
// (node, process) reports true; an unknown one false.
func (m *Manager) Built(name string) bool {
	p, err := m.pool(name)
	if err != nil {
		return false
	}
	var path string
	switch p.fn.Runtime {
	case config.RuntimeGo:
		path = p.binPath()
	case config.RuntimeGoPlugin:
		path = p.builtStamp()
	default:
		return true
	}
	_, err = os.Stat(path)
	return err == nil
}

// Invoke runs the function name with event (the JSON of an API Gateway
// proxy event) and returns the JSON the function responded with.
//
// It returns ErrUnknownFunction, ErrBusy or ErrTimeout (wrapped: test with
// errors.Is) in the cases they describe, ctx's error if ctx ends first, and
// otherwise an error that names the function and what went wrong: a build
// failure with the compiler's output, a worker that could not start or
// exited, a handler error. No error holds the event.
func (m *Manager) Invoke(ctx context.Context, name string, event []byte) ([]byte, error) {
	// A few rounds at most: each retry follows a pool being replaced under
	// us, or a warm worker found dead before it was handed anything, and
	// in neither case has any handler code run for this event.
	var lastErr error
	for range 3 {
		p, err := m.pool(name)
		if err != nil {
			return nil, err
		}
		body, err := p.invoke(ctx, event)
		if errors.Is(err, errRetry) {
			lastErr = err
			continue
		}
		return body, err
	}
	return nil, lastErr
}

// TakesEvent reports whether the function runs in inquir's own process
// (go-plugin), so that InvokeEvent and InvokeEventV2 spare encoding its
// event as JSON.
func (m *Manager) TakesEvent(name string) bool {
	p, err := m.pool(name)
	return err == nil && p.fn.Runtime == config.RuntimeGoPlugin
}

// Response is a function's answer to InvokeEvent, as the gateway takes it:
// Value, the response as a go-plugin Handler returned it, or else JSON, the
// bytes a worker posted (what Invoke returns).
type Response = gateway.Response

// InvokeEvent is Invoke with the event as a value, as aws-lambda-go decodes
// it: a go-plugin function gets it as it is and its response comes back
// as a value too (Response.Value); any other is handed the event's JSON and
// its response is JSON (Response.JSON).
func (m *Manager) InvokeEvent(ctx context.Context, name string, ev *events.APIGatewayProxyRequest) (Response, error) {
	p, err := m.pool(name)
	if err != nil {
		return Response{}, err
	}
	if p.fn.Runtime != config.RuntimeGoPlugin {
		// Its settings changed since TakesEvent: a worker takes JSON.
		event, err := json.Marshal(ev)
		if err != nil {
			return Response{}, fmt.Errorf("function %s: encoding the event: %w", name, err)
		}
		out, err := m.Invoke(ctx, name, event)
		return Response{JSON: out}, err
	}
	return p.invokePluginEvent(ctx, ev)
}

// InvokeEventV2 is InvokeEvent for a payload 2.0 event: a go-plugin
// function gets it as it is, any other is handed its JSON. The response is
// JSON either way, as Invoke returns it.
func (m *Manager) InvokeEventV2(ctx context.Context, name string, ev *events.APIGatewayV2HTTPRequest) ([]byte, error) {
	p, err := m.pool(name)
	if err != nil {
		return nil, err
	}
	if p.fn.Runtime != config.RuntimeGoPlugin {
		event, err := json.Marshal(ev)
		if err != nil {
			return nil, fmt.Errorf("function %s: encoding the event: %w", name, err)
		}
		return m.Invoke(ctx, name, event)
	}
	return p.invokePluginEventV2(ctx, ev)
}

// Stats returns counts for each function in force.
func (m *Manager) Stats() map[string]FunctionStats {
	m.mu.Lock()
	pools := maps.Clone(m.pools)
	m.mu.Unlock()
	// m.mu is not held from here: a build holds its pool's buildMu while it
	// takes m.mu, and buildState takes buildMu.
	stats := make(map[string]FunctionStats, len(pools))
	now := m.now()
	for name, p := range pools {
		c := p.c
		inLoop, backoff := p.loop.state(now)
		c.mu.Lock()
		lastExit, buildErr := c.lastExit, c.lastBuildError
		c.mu.Unlock()
		stats[name] = FunctionStats{
			Invocations:    c.invocations.Load(),
			WorkersStarted: c.workersStarted.Load(),
			WorkersRunning: c.workersRunning.Load(),
			Builds:         c.builds.Load(),
			Crashes:        c.crashes.Load(),
			Timeouts:       c.timeouts.Load(),
			Abandoned:      c.abandoned.Load(),
			CrashLoop:      inLoop,
			BackoffMS:      backoff.Milliseconds(),
			LastExit:       lastExit,
			LastBuildError: buildErr,
			Build:          p.buildState(),

			RuntimeAPIRefused: c.apiRefused.Load(),
		}
	}
	return stats
}

// Close stops every worker (SIGTERM to its process group, then SIGKILL
// after a grace period), waits for them to exit, cancels builds under way
// and closes their Runtime API servers. Invocations in flight fail. Calling
// Close again returns the first call's result.
func (m *Manager) Close() error {
	m.closeOnce.Do(func() {
		m.mu.Lock()
		m.closed = true
		close(m.closing)
		pools := m.pools
		m.pools = map[string]*pool{}
		m.forgetPluginEnv()
		live := make([]*worker, 0, len(m.live))
		for w := range m.live {
			live = append(live, w)
		}
		m.mu.Unlock()

		m.cancel()
		for _, p := range pools {
			p.retire()
		}
		for _, w := range live {
			go w.stop()
		}
		m.workers.Wait()
		m.bg.Wait()
	})
	// Each worker's Runtime API server closes with its worker; nothing
	// here can fail, and the error is kept for callers that check it.
	return nil
}

// reapIdle stops workers that have waited longer than the idle timeout, so
// an emulator left running does not keep a process per function forever.
func (m *Manager) reapIdle() {
	defer m.bg.Done()
	tick := time.NewTicker(max(m.idleTimeout/4, time.Second))
	defer tick.Stop()
	for {
		select {
		case <-m.closing:
			return
		case now := <-tick.C:
			m.mu.Lock()
			pools := make([]*pool, 0, len(m.pools))
			for _, p := range m.pools {
				pools = append(pools, p)
			}
			m.mu.Unlock()
			for _, p := range pools {
				p.reap(now.Add(-m.idleTimeout))
			}
		}
	}
}
