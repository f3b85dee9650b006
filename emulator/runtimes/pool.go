package runtimes

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/inquir-dev/inquir/emulator/config"
	"github.com/inquir-dev/inquir/emulator/gateway"
	"github.com/inquir-dev/inquir/emulator/runtimeapi"
)

// errRetry means nothing of the function ran for this event and Invoke may
// try again: the pool was replaced, or a warm worker had died while idle.
var errRetry = errors.New("the invocation never started")

// minStartTimeout bounds a cold start when the function's timeout is
// shorter: starting node or a fresh binary can take longer than a short
// handler timeout, and a start is not part of the invocation.
const minStartTimeout = 10 * time.Second

// pool holds one function's workers: at most concurrency of them, started
// on demand and kept warm.
type pool struct {
	m           *Manager
	fn          config.Function // as configured; SetFunctions compares it
	timeout     time.Duration
	concurrency int
	c           *counters

	buildMu sync.Mutex
	build   *build // the current or last build (go, go-plugin)

	loop crashLoop
	// slots bound the go-plugin handler calls running at once: one token
	// per call, returned when the handler returns.
	slots      chan struct{}
	envMu      sync.Mutex
	envApplied bool                        // go-plugin: its env is in inquir's environment
	plugin     atomic.Pointer[pluginReady] // go-plugin: set once env and build are ready
	// runners take go-plugin calls (dispatch); runnerCount counts them.
	runners     chan *pluginCall
	runnerCount atomic.Int64
	gone        chan struct{} // closed when the pool is retired

	mu      sync.Mutex
	retired bool
	workers map[*worker]struct{} // every worker not yet exited, busy or idle
	idle    []*worker            // most recently used last
	// waiters are the acquires waiting for a worker, first come first.
	// A worker that frees up, or exits and leaves room for a new one, wakes
	// the first of them to look again, rather than all of them to race for
	// it; a retiring pool wakes them all. A caller that arrives meanwhile
	// may take the worker first: it is running already, where the waiter
	// has to be woken, so the worker is busy sooner.
	waiters []chan struct{}
}

func newPool(m *Manager, fn config.Function, c *counters) *pool {
	p := &pool{
		m:           m,
		fn:          fn,
		timeout:     fn.Timeout,
		concurrency: fn.Concurrency,
		c:           c,
		workers:     map[*worker]struct{}{},
	}
	if p.timeout <= 0 {
		p.timeout = config.DefaultTimeout
	}
	if p.concurrency <= 0 {
		p.concurrency = config.DefaultConcurrency
	}
	p.slots = make(chan struct{}, p.concurrency)
	p.runners = make(chan *pluginCall)
	p.gone = make(chan struct{})
	return p
}

// invoke runs one invocation on one of the pool's workers.
func (p *pool) invoke(ctx context.Context, event []byte) ([]byte, error) {
	if p.fn.Runtime == config.RuntimeGoPlugin {
		return p.invokePlugin(ctx, event)
	}
	w, err := p.acquire(ctx)
	if err != nil {
		return nil, err
	}
	if err := p.awaitReady(ctx, w); err != nil {
		return nil, err
	}
	gateway.NoteWorker(ctx, "pid "+strconv.Itoa(w.pid))

	// The deadline starts here, once the worker waits in /next: neither the
	// build nor the wait for a free worker nor a cold start counts against
	// the function's timeout.
	inv := runtimeapi.NewInvocation(event, p.timeout)
	if root := gateway.TraceID(ctx); root != "" {
		// The event's X-Amzn-Trace-Id and Lambda's trace header name one
		// trace, as on AWS.
		inv.TraceID = runtimeapi.TraceHeader(root)
	}
	deadline := time.After(p.timeout)
	select {
	case w.api.Next() <- inv:
	case <-w.done:
		// The worker had reached /next, so it started fine and died since;
		// no handler code has seen this event, so another worker may.
		return nil, fmt.Errorf("function %s: worker (pid %d) exited while idle (%s): %w", p.fn.Name, w.pid, w.status(), errRetry)
	case <-deadline:
		p.discard(w)
		return nil, fmt.Errorf("function %s: worker (pid %d) did not take the invocation within %s: %w", p.fn.Name, w.pid, p.timeout, ErrTimeout)
	case <-ctx.Done():
		p.release(w)
		return nil, ctx.Err()
	}
	p.c.invocations.Add(1)
	return p.await(ctx, w, inv, deadline)
}

// await waits for the outcome of inv, handed to w, and puts w back in the
// pool or discards it.
func (p *pool) await(ctx context.Context, w *worker, inv *runtimeapi.Invocation, deadline <-chan time.Time) ([]byte, error) {
	select {
	case res := <-inv.Result():
		// The worker answered, even if with the handler's error: whatever
		// failed before, the function runs.
		p.loop.succeed()
		p.release(w)
		return res.Body, res.Err
	case <-w.done:
		// A worker may post its response and exit at once; the response
		// was delivered before the exit was noticed, and it stands.
		select {
		case res := <-inv.Result():
			return res.Body, res.Err
		default:
		}
		return nil, fmt.Errorf("function %s: worker (pid %d) exited during invocation %s (%s); its last output lines are in the log",
			p.fn.Name, w.pid, inv.ID, w.status())
	case <-deadline:
		select {
		case res := <-inv.Result():
			p.release(w)
			return res.Body, res.Err
		default:
		}
		p.c.timeouts.Add(1)
		// The handler may be stuck in a loop or blocked on a call that
		// never returns; only killing its process group frees the slot
		// and whatever it spawned.
		p.discard(w)
		p.m.log.Warn("function timed out; worker killed", "function", p.fn.Name, "request_id", inv.ID, "pid", w.pid, "timeout", p.timeout)
		return nil, fmt.Errorf("function %s: invocation %s ran past its %s timeout: %w", p.fn.Name, inv.ID, p.timeout, ErrTimeout)
	case <-ctx.Done():
		// The caller has gone but the handler still runs. The worker is
		// not free until it answers or times out, so settle that in the
		// background rather than hand a busy worker to someone else.
		go p.await(context.WithoutCancel(ctx), w, inv, deadline)
		return nil, ctx.Err()
	}
}

// awaitReady waits for a freshly started worker to ask for its first
// invocation. It is the readiness check of a start: the worker reached
// /next, or it failed, exited or hung, and the error says which.
func (p *pool) awaitReady(ctx context.Context, w *worker) error {
	select {
	case <-w.api.Ready():
		return nil
	default:
	}
	t := time.NewTimer(max(p.timeout, minStartTimeout))
	defer t.Stop()
	select {
	case <-w.api.Ready():
		return nil
	case <-w.initFailed:
		p.discard(w)
		return w.initError()
	case <-w.done:
		if err := w.initError(); err != nil {
			return err
		}
		return w.startError()
	case <-t.C:
		p.discard(w)
		return fmt.Errorf("function %s: worker (pid %d) did not ask for an invocation within %s of starting; is its init stuck? %w",
			p.fn.Name, w.pid, max(p.timeout, minStartTimeout), ErrTimeout)
	case <-ctx.Done():
		// The worker is starting fine as far as we know: keep it warm for
		// the next caller.
		p.release(w)
		return ctx.Err()
	}
}

// acquire returns an idle worker, or a worker it starts if the pool has
// room, or waits for one to free up, for at most the function's timeout.
// Only a start prepares the function (waits for its build, finds node):
// a warm worker is taken as it is, with no file system look-up.
func (p *pool) acquire(ctx context.Context) (*worker, error) {
	var (
		busy <-chan time.Time
		argv []string
	)
	for {
		p.mu.Lock()
		if p.retired {
			p.mu.Unlock()
			return nil, fmt.Errorf("function %s was replaced while waiting for a worker: %w", p.fn.Name, errRetry)
		}
		for len(p.idle) > 0 {
			w := p.idle[len(p.idle)-1]
			p.idle = p.idle[:len(p.idle)-1]
			if !w.exited() {
				p.mu.Unlock()
				return w, nil
			}
		}
		if len(p.workers) < p.concurrency {
			if wait := p.loop.wait(p.m.now()); wait > 0 {
				p.mu.Unlock()
				return nil, p.crashLoopError(wait)
			}
			if argv == nil {
				// Outside the lock: a build may take minutes. Then look
				// again, since a worker may have freed up meanwhile.
				p.mu.Unlock()
				p.noteBuildWait()
				var err error
				if argv, err = p.prepare(ctx); err != nil {
					return nil, err
				}
				continue
			}
			w := p.m.newWorker(p)
			p.workers[w] = struct{}{}
			p.mu.Unlock()
			if err := p.m.startWorker(w, argv); err != nil {
				p.forget(w)
				return nil, err
			}
			return w, nil
		}
		wait := make(chan struct{}, 1)
		p.waiters = append(p.waiters, wait)
		p.mu.Unlock()

		if busy == nil {
			t := time.NewTimer(p.timeout)
			defer t.Stop()
			busy = t.C
		}
		select {
		case <-wait:
		case <-busy:
			p.stopWaiting(wait)
			return nil, fmt.Errorf("function %s: all %d workers stayed busy for %s: %w", p.fn.Name, p.concurrency, p.timeout, ErrBusy)
		case <-ctx.Done():
			p.stopWaiting(wait)
			return nil, ctx.Err()
		}
	}
}

// stopWaiting takes an acquire that gives up out of the waiters. If it was
// woken meanwhile, the wake-up goes on to the next waiter.
func (p *pool) stopWaiting(wait chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if i := slices.Index(p.waiters, wait); i >= 0 {
		p.waiters = slices.Delete(p.waiters, i, i+1)
		return
	}
	p.wakeOne()
}

// crashLoopError is what a request gets while the pool backs off: at
// once, rather than after waiting out the backoff, so a caller learns fast
// that the function is broken and requests do not pile up behind it.
func (p *pool) crashLoopError(wait time.Duration) error {
	n, span := p.loop.recent(p.m.now())
	p.c.mu.Lock()
	last := p.c.lastExit
	p.c.mu.Unlock()
	return fmt.Errorf("function %s: its workers failed %d times in %s (last: %s); no worker starts for another %s: %w",
		p.fn.Name, n, span.Round(100*time.Millisecond), last, wait.Round(10*time.Millisecond), ErrCrashLoop)
}

// failed records that a worker of the pool died without being asked to, or
// failed to initialise, and says so in the log if the function is now in a
// crash loop.
func (p *pool) failed(how string) {
	p.c.setLastExit(how)
	n, span, backoff := p.loop.fail(p.m.now())
	if backoff > 0 {
		p.m.log.Warn(fmt.Sprintf("function %s crashed %d times in %s; next start in %s",
			p.fn.Name, n, fmtSeconds(span), fmtSeconds(backoff)),
			"function", p.fn.Name, "last_exit", how)
	}
}

// fmtSeconds writes d as seconds with one decimal, as "0.4s" or "5.0s".
func fmtSeconds(d time.Duration) string {
	return fmt.Sprintf("%.1fs", d.Seconds())
}

// release returns w to the idle list after an invocation, or stops it if
// it must not take another.
func (p *pool) release(w *worker) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.retired || w.isStopping() || w.exited() {
		go w.stop()
		return
	}
	w.idleSince = time.Now()
	p.idle = append(p.idle, w)
	p.wakeOne()
}

// discard kills w; its exit frees its place in the pool.
func (p *pool) discard(w *worker) {
	p.mu.Lock()
	p.idle = slices.DeleteFunc(p.idle, func(x *worker) bool { return x == w })
	p.mu.Unlock()
	w.kill()
}

// forget removes w from the pool once it has exited (or failed to start).
func (p *pool) forget(w *worker) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.workers, w)
	p.idle = slices.DeleteFunc(p.idle, func(x *worker) bool { return x == w })
	// Its place is free: a waiter may start a worker in it.
	p.wakeOne()
}

// wakeOne wakes the first acquire waiting for a worker, if any, to look
// again. p.mu is held.
func (p *pool) wakeOne() {
	if len(p.waiters) > 0 {
		p.waiters[0] <- struct{}{}
		p.waiters = slices.Delete(p.waiters, 0, 1)
	}
}

// retire takes the pool out of service: idle workers stop now, busy ones
// when their invocation ends, and waiting callers move to the new pool.
func (p *pool) retire() {
	p.mu.Lock()
	if !p.retired {
		close(p.gone)
	}
	p.retired = true
	idle := p.idle
	p.idle = nil
	// Every waiter looks again, finds the pool retired and moves on.
	for _, wait := range p.waiters {
		wait <- struct{}{}
	}
	p.waiters = nil
	p.mu.Unlock()
	for _, w := range idle {
		go w.stop()
	}
}

// reap stops the workers idle since before cutoff.
func (p *pool) reap(cutoff time.Time) {
	p.mu.Lock()
	var stale []*worker
	p.idle = slices.DeleteFunc(p.idle, func(w *worker) bool {
		if w.idleSince.Before(cutoff) {
			stale = append(stale, w)
			return true
		}
		return false
	})
	p.mu.Unlock()
	for _, w := range stale {
		p.m.log.Debug("stopping idle worker", "function", p.fn.Name, "pid", w.pid)
		go w.stop()
	}
}
