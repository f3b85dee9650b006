// Package emulator runs inquir's gateway and functions together: the value
// behind `inquir dev`, and what Go tests embed to get a real gateway on
// loopback.
//
// The packages below it each do one thing: config reads inquir.toml, policy
// compiles it into who-may-call-what, gateway serves HTTP under that policy,
// runtimes runs the functions, runtimeapi serves each worker the Lambda
// Runtime API, lint, verify and export check and carry the same policy
// elsewhere, inquirscript is the testscript harness.
//
// The reference a user reads sits beside the code it describes, as
// README.md files: this folder's (reloads and key rotation, the security
// model, the layout), config's (every field of inquir.toml), runtimes'
// (each runtime, a function's environment, the Runtime API), gateway's
// (every answer, and the differences from AWS), lint's, verify's and
// export's.
package emulator

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"

	"github.com/inquir-dev/inquir/emulator/config"
	"github.com/inquir-dev/inquir/emulator/gateway"
	"github.com/inquir-dev/inquir/emulator/lint"
	"github.com/inquir-dev/inquir/emulator/policy"
	"github.com/inquir-dev/inquir/emulator/redact"
	"github.com/inquir-dev/inquir/emulator/runtimes"
)

// Options configure an Emulator.
type Options struct {
	// ConfigPath is the inquir.toml to serve. If zero, "inquir.toml".
	ConfigPath string
	// Listen overrides the config's gateway.listen when set. Port 0 picks a
	// free port; URL reports it.
	Listen string
	// Log receives the request log and the emulator's own messages. If nil,
	// nothing is logged. It is written as given: build it on
	// Redactor.Writer so that no secret reaches it.
	Log *slog.Logger
	// RequestLog, if set, receives the request log instead of Log, in the
	// same text, written from a buffer so that no request waits for it
	// (gateway.Options.RequestLog). Build it on Redactor.Writer too.
	RequestLog io.Writer
	// Output receives the functions' stdout and stderr, line by line,
	// through the Redactor. If nil, os.Stderr.
	Output io.Writer
	// Redactor learns every key secret and function env value of each
	// config put in force, and hides them in Output, in /_inquir/stats and
	// in the request log's error fields. If nil, the emulator makes its own.
	Redactor *redact.Redactor
	// Limits bound what callers can hold of the server; a zero field takes
	// its default.
	Limits Limits
	// CacheDir holds builds. If zero, the user's cache folder.
	CacheDir string
	// Invoker, if set, runs the functions instead of inquir's runtimes:
	// for tests of the gateway alone, and for embedding.
	Invoker gateway.Invoker
	// Policy, if set, is served instead of the config at ConfigPath (which
	// Reload still reads). inquir verify serves a policy whose secrets it
	// made itself.
	Policy *policy.Policy
	// Clock is what every rule about time is judged by (keys' expiry and
	// not_before, plans' buckets and quotas). If nil, the system clock. A
	// *policy.ManualClock stands still until POST /_inquir/clock moves it,
	// and is refused unless the emulator listens on loopback.
	Clock policy.Clock
	// Page, if set, is the live page at /_inquir/ (package page, which
	// needs the Emulator: Attach it once Start returns). If nil, its paths
	// answer 404 and no request is kept for it. If it has a Close method,
	// Close calls it as the server shuts down, so that its streams end
	// and do not hold Close for its whole grace period.
	Page gateway.Page
	// HideSecretEnv takes every variable that an env: reference of a config
	// put in force names (keys' secrets, functions' env) out of the process
	// environment, keeping it in memory for reloads and worker starts
	// (config.HideEnv): a go-plugin function runs in this process and must
	// not read them with os.Getenv. inquir dev sets it; it changes the
	// environment of the whole process, so an embedder opts in.
	HideSecretEnv bool
}

// Emulator is a running gateway with its functions.
type Emulator struct {
	opts     Options
	log      *slog.Logger
	gateway  *gateway.Gateway
	runtimes *runtimes.Manager
	server   *http.Server
	listener net.Listener
	served   chan error

	reloadMu sync.Mutex // one reload at a time
	// lastRefused identifies the last refused read (its error and the
	// config file's digest), so reading the same broken file again is not
	// a second refusal; guarded by reloadMu.
	lastRefused string
	closeOnce   sync.Once
	closeErr    error

	// watchHook, if set before Watch, hears each reload the watcher tries:
	// its outcome (reloadApplied, ...) and the id of the config it read.
	watchHook func(outcome, config string)
}

// Start loads the config, listens and serves in the background. A config
// that does not load is returned as an error (a *config.Error, or several
// joined) and nothing is started.
func Start(opts Options) (*Emulator, error) {
	if opts.ConfigPath == "" {
		opts.ConfigPath = "inquir.toml"
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	p := opts.Policy
	if p == nil {
		var err error
		if p, err = policy.Load(opts.ConfigPath); err != nil {
			return nil, err
		}
		// A route open or uncallable by accident is refused here, not only
		// by lint in CI.
		if err := lint.Guard(p); err != nil {
			return nil, err
		}
	}
	addr := p.Config.Gateway.Listen
	if opts.Listen != "" {
		addr = opts.Listen
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", addr, err)
	}
	if _, manual := opts.Clock.(*policy.ManualClock); manual {
		// Whoever can reach /_inquir/clock can make every key expire or
		// every quota reset: only this machine may.
		if tcp, ok := ln.Addr().(*net.TCPAddr); !ok || !tcp.IP.IsLoopback() {
			ln.Close()
			return nil, fmt.Errorf("a manual clock needs a loopback listen address, not %s: anyone who reaches /_inquir/clock moves it", ln.Addr())
		}
	}
	if opts.Redactor == nil {
		opts.Redactor = redact.New()
	}
	// The redactor learns the keys' secrets when the gateway puts the
	// policy in force (SetPolicy, below, before anything is served), and
	// each function env value as a worker resolves it (Resolved).
	output := opts.Output
	if output == nil {
		output = os.Stderr
	}
	limits := opts.Limits.withDefaults()
	cl := newConnLimiter(gateway.PreserveHeaderCase(ln), limits.MaxConnections)
	e := &Emulator{opts: opts, log: log, listener: cl, served: make(chan error, 1)}
	gwOpts := gateway.Options{Invoker: opts.Invoker, Log: log, RequestLog: opts.RequestLog, Redactor: opts.Redactor, Clock: opts.Clock, Page: opts.Page}
	if opts.Invoker == nil {
		rt, err := runtimes.New(runtimes.Options{CacheDir: opts.CacheDir, Log: log, Output: opts.Redactor.Writer(output), GatewayURL: e.URL(),
			Resolved: opts.Redactor.Add})
		if err != nil {
			ln.Close()
			return nil, fmt.Errorf("starting the function runtimes: %w", err)
		}
		rt.SetFunctions(p.Config.Functions)
		e.runtimes = rt
		gwOpts.Invoker, gwOpts.FunctionStats = rt, func() map[string]gateway.FunctionStats {
			stats := rt.Stats()
			out := make(map[string]gateway.FunctionStats, len(stats))
			for name, s := range stats {
				out[name] = s
			}
			return out
		}
	}
	e.gateway = gateway.New(gwOpts)
	e.gateway.SetPolicy(p)
	e.hideSecretEnv(p)
	e.server = limits.server(e.gateway, cl)
	if c, ok := opts.Page.(interface{ Close() }); ok {
		e.server.RegisterOnShutdown(c.Close)
	}
	// Header names reach functions as the client spelled them.
	e.server.ConnContext = gateway.ConnContext
	go func() { e.served <- e.server.Serve(cl) }()
	return e, nil
}

// hideSecretEnv hides the variables p's env: references name, if the
// options say so; see Options.HideSecretEnv.
func (e *Emulator) hideSecretEnv(p *policy.Policy) {
	if !e.opts.HideSecretEnv {
		return
	}
	if hid := config.HideEnv(p.Config.EnvNames()...); len(hid) > 0 {
		e.log.Debug("took the variables the config's env: references name out of the process environment, so no go-plugin function reads them", "variables", hid)
	}
}

// URL is the gateway's base URL, as http://127.0.0.1:PORT.
func (e *Emulator) URL() string { return "http://" + e.listener.Addr().String() }

// Policy returns the policy in force.
func (e *Emulator) Policy() *policy.Policy { return e.gateway.Policy() }

// Gateway returns the HTTP handler, for its stats.
func (e *Emulator) Gateway() *gateway.Gateway { return e.gateway }

// FunctionStats returns the runtimes' counters for each function: builds,
// workers, crashes. It is empty when Options.Invoker runs the functions.
func (e *Emulator) FunctionStats() map[string]runtimes.FunctionStats {
	if e.runtimes == nil {
		return nil
	}
	return e.runtimes.Stats()
}

// Prepare builds every function that needs a build, logging failures; it
// returns when all are done or ctx ends. Requests do not wait for it: a
// request to a function still building waits for that build alone.
func (e *Emulator) Prepare(ctx context.Context) {
	if e.runtimes == nil {
		return
	}
	var building []string
	cold := false
	for _, f := range e.Policy().Config.Functions {
		if f.Runtime == config.RuntimeGo || f.Runtime == config.RuntimeGoPlugin {
			building = append(building, f.Name)
			cold = cold || !e.runtimes.Built(f.Name)
		}
	}
	switch {
	case len(building) > 0 && cold:
		// The first build on a machine compiles the standard library and
		// every dependency: say so, or a quiet minute reads as a hang. A
		// function built before with this cache folder finds them in go
		// build's cache, and a warning every start would be noise.
		e.log.Info("building functions "+strings.Join(building, ", ")+"; a first build on this machine can take a minute or two, and requests to them wait for it",
			"functions", strings.Join(building, ","))
	case len(building) > 0:
		e.log.Info("building functions "+strings.Join(building, ", ")+"; requests to them wait for it",
			"functions", strings.Join(building, ","))
	}
	var wg sync.WaitGroup
	for _, f := range e.Policy().Config.Functions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// A failed build is logged by runtimes, with the compiler's
			// output as lines; any other failure to prepare is logged here.
			if err := e.runtimes.Prepare(ctx, f.Name); err != nil && ctx.Err() == nil && !errors.Is(err, runtimes.ErrBuildFailed) {
				e.log.Error("build failed", "function", f.Name, "error", err)
			}
		}()
	}
	wg.Wait()
}

// Reload reads the config again and puts it in force if it is valid. An
// invalid config is refused and the one in force stays: nothing becomes
// more open. Requests under way finish under the policy they started with.
//
// A file: secret that is missing or empty does not hold the reload back:
// that secret is revoked, and a key left without one is disabled (see
// policy.Reload); each is logged as a warning. A config that declares
// nothing at all (no keys, functions or routes: an emptied file) is
// refused.
func (e *Emulator) Reload() error {
	_, err := e.reload(nil)
	if errors.Is(err, errUnchanged) {
		return nil
	}
	return err
}

// errUnchanged is reload's answer when the files hold what is in force.
var errUnchanged = errors.New("the config and its secrets are unchanged")

// errSuperseded drops a reload whose files changed while they were read.
var errSuperseded = errors.New("a watched file changed while it was read; the next reload reads it again")

// reload is Reload with a last check: unchanged, if set, is asked after the
// config is read and before it is put in force, and a false drops it with
// errSuperseded (neither applied nor refused). It returns the id of the
// config it read, "" if none loaded.
func (e *Emulator) reload(unchanged func() bool) (string, error) {
	e.reloadMu.Lock()
	defer e.reloadMu.Unlock()
	old := e.Policy()
	p, err := policy.Reload(e.opts.ConfigPath, old)
	if err == nil && declaresNothing(p) {
		err = fmt.Errorf("reading %s: it declares no keys, functions or routes (saved empty, or caught half-written); to serve nothing, stop inquir dev", p.Config.File)
	}
	if err == nil {
		err = lint.Guard(p)
	}
	if err == nil && unchanged != nil && !unchanged() {
		e.log.Debug("config read while it was being written; reading it again", "config", p.ID())
		return p.ID(), errSuperseded
	}
	if err != nil {
		id := ""
		if p != nil {
			id = p.ID()
		}
		// The same broken file read again (a save's late event, SIGHUP) is
		// not a second refusal: one save, one refusal.
		refused := err.Error()
		if b, rerr := os.ReadFile(e.opts.ConfigPath); rerr == nil {
			sum := sha256.Sum256(b)
			refused += "\x00" + hex.EncodeToString(sum[:])
		}
		if refused == e.lastRefused {
			e.gateway.RecordUnchangedReload()
			e.log.Info("config read again, still refused for the same reasons; the last good config stays in force", "config", old.ID())
			return id, errUnchanged
		}
		e.lastRefused = refused
		e.gateway.RecordReload(err)
		e.log.Error("config refused; the last good config stays in force", "config", old.ID(), "error", err)
		return id, err
	}
	e.lastRefused = ""
	if p.SameAs(old) {
		// Nothing to apply: a save with no change, SIGHUP, or a save whose
		// last event reached the watcher after the reload that read it.
		e.gateway.RecordUnchangedReload()
		e.log.Info("config read again, unchanged; nothing to apply", "config", p.ID())
		return p.ID(), errUnchanged
	}
	if e.opts.Listen == "" && old.Config.Gateway.Listen != p.Config.Gateway.Listen {
		e.log.Warn("gateway.listen changed; it takes effect when inquir dev restarts", "listening", e.URL())
	}
	if e.runtimes != nil {
		// Workers of functions whose settings did not change stay warm: a
		// key rotation restarts nothing.
		e.runtimes.SetFunctions(p.Config.Functions)
	}
	e.gateway.SetPolicy(p)
	e.hideSecretEnv(p)
	e.gateway.RecordReload(nil)
	for _, r := range p.Revoked {
		if r.Disabled {
			e.log.Warn("key disabled: its secret file is missing or empty; requests with its old secret are refused until the file holds a secret again", "key", r.KeyID, "file", r.File, "error", r.Err)
		} else {
			e.log.Warn("secret revoked: its secret file is missing or empty; the key's other secrets still work", "key", r.KeyID, "file", r.File, "error", r.Err)
		}
	}
	e.log.Info("config reloaded", "config", p.ID())
	return p.ID(), nil
}

// declaresNothing is an inquir.toml with no keys, functions or routes:
// putting it in force would stop every worker and answer 404 everywhere,
// which no one means by a save.
func declaresNothing(p *policy.Policy) bool {
	c := p.Config
	return len(c.Keys) == 0 && len(c.Functions) == 0 && len(c.Routes) == 0
}

// Close stops accepting requests, lets those under way finish until ctx
// ends, then stops every function worker. It is safe to call twice.
func (e *Emulator) Close(ctx context.Context) error {
	e.closeOnce.Do(func() {
		err := e.server.Shutdown(ctx)
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			err = e.server.Close()
		}
		if e.runtimes != nil {
			err = errors.Join(err, e.runtimes.Close())
		}
		e.gateway.Close() // the request lines still buffered
		e.closeErr = err
		if serr := <-e.served; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
			e.closeErr = errors.Join(e.closeErr, serr)
		}
	})
	return e.closeErr
}
