package runtimes

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/inquir-dev/inquir/emulator/config"
)

// Rebuild makes the function's next version from its sources, as a change
// to them does, and swaps it in only if it is good: a Go function (go,
// go-plugin) builds, a node module loads. The function's workers then drain
// (each finishes the invocation it is on) and stop, and the next invocation
// starts a worker of the new version. If the new version is not good, the
// previous one keeps serving, and the error (with the compiler's output) is
// returned, logged and shown in FunctionStats.LastBuildError.
//
// The build runs under the Manager, not ctx: ctx only bounds the wait.
func (m *Manager) Rebuild(ctx context.Context, name string) error {
	return m.replace(ctx, name, "its sources changed", true)
}

// Restart replaces the function's workers with fresh ones, reusing its
// build: they read the function's env (file: references included) anew.
// A go-plugin function has its env put into inquir's environment again.
func (m *Manager) Restart(ctx context.Context, name string) error {
	return m.replace(ctx, name, "restart", false)
}

// replace readies a new pool for the function, then swaps it in and
// retires the old one. why is for the log.
func (m *Manager) replace(ctx context.Context, name, why string, rebuild bool) error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return errClosed
	}
	old, ok := m.pools[name]
	if !ok {
		m.mu.Unlock()
		return fmt.Errorf("replacing function %q: %w", name, ErrUnknownFunction)
	}
	next := m.newPool(old.fn)
	m.mu.Unlock()

	if !rebuild {
		old.buildMu.Lock()
		if old.build != nil && old.build.succeeded() {
			next.build = old.build
		}
		old.buildMu.Unlock()
	}
	start := time.Now()
	if err := next.ready(ctx, rebuild); err != nil {
		next.retire()
		if errors.Is(err, errClosed) || ctx.Err() != nil {
			return err
		}
		if rebuild {
			logged := err.Error()
			if errors.Is(err, ErrBuildFailed) {
				// Its compiler output was logged, as lines, as the build failed.
				logged, _, _ = strings.Cut(logged, "\n")
			}
			// Logged before the stats show the error: whoever sees it
			// there finds the line in the log.
			m.log.Error(fmt.Sprintf("function %s: the new version is not good; the previous version keeps serving", name), "function", name, "error", logged)
			next.c.setBuildError(err)
		} else {
			m.log.Error(fmt.Sprintf("function %s: cannot restart; its workers keep running as they are", name), "function", name, "error", err)
		}
		return err
	}
	if rebuild {
		next.c.setBuildError(nil)
	}

	m.mu.Lock()
	if m.closed || m.pools[name] != old {
		// The config changed meanwhile; the pool it made wins.
		m.mu.Unlock()
		next.retire()
		return nil
	}
	m.pools[name] = next
	version := next.c.versions.Add(1) + 1
	m.notifyWatchers()
	m.mu.Unlock()
	old.retire()

	elapsed := time.Since(start).Round(10 * time.Millisecond)
	if rebuild {
		m.log.Info(fmt.Sprintf("function %s now serves version %d of its sources (ready in %s); its old workers stop once their invocations finish", name, version, elapsed),
			"function", name, "version", version, "duration", elapsed)
	} else {
		m.log.Info(fmt.Sprintf("function %s restarted (%s); its old workers stop once their invocations finish", name, why), "function", name)
	}
	return nil
}

// ready makes a pool ready to take over: its env resolves, and, for a
// rebuild, its code builds (go), builds and loads (go-plugin) or loads
// (node). A process function has nothing to build.
func (p *pool) ready(ctx context.Context, rebuild bool) error {
	if p.fn.Runtime == config.RuntimeGoPlugin {
		if _, err := p.built(ctx); err != nil {
			return err
		}
		// A new pool applies the env anew: its file: references may have
		// changed.
		return p.m.applyPluginEnv(p)
	}
	if _, err := p.env("check"); err != nil {
		return err
	}
	if p.fn.Runtime == config.RuntimeNode && rebuild {
		return p.checkNode(ctx)
	}
	_, err := p.prepare(ctx)
	return err
}
