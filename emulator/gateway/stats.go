package gateway

import (
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/inquir-dev/inquir/emulator/plans"
	"github.com/inquir-dev/inquir/emulator/policy"
)

// stats are the gateway's counters, shown at /_inquir/stats.
type stats struct {
	mu               sync.Mutex
	requests         int64
	rejections       map[string]int64 // by reason: missing_api_key, unknown_key, forbidden, ...
	invocations      map[string]int64 // by function: requests handed to the Invoker
	functionErrors   int64
	reloadsApplied   int64
	reloadsUnchanged int64
	reloadsRefused   int64
	lastReloadErr    string
	authorizers      map[string]*AuthorizerStats
	// history is the last maxReloadHistory reloads, oldest first;
	// pending is what the policy SetPolicy last put in force changed,
	// for the reload that recorded it.
	history []Reload
	pending policy.Changes
}

// AuthorizerStats count what one Lambda authorizer did.
type AuthorizerStats struct {
	// Invocations counts the times its function ran; CacheHits the
	// requests answered from its cache instead.
	Invocations int64 `json:"invocations"`
	CacheHits   int64 `json:"cache_hits"`
	// Denials counts policies (or simple responses) that refused the
	// request, cached or not: 403.
	Denials int64 `json:"denials"`
	// Unauthorized counts "Unauthorized" answers (401), MissingIdentity
	// the requests refused before it ran (an identity source absent, a
	// token that failed token_validation: 401), Errors the failures
	// (crash, timeout, bad answer: 500).
	Unauthorized    int64 `json:"unauthorized"`
	MissingIdentity int64 `json:"missing_identity"`
	Errors          int64 `json:"errors"`
}

// authorizer counts one event of the named authorizer: "invocation",
// "cache_hit", "denied", "unauthorized", "missing_identity" or "error".
func (s *stats) authorizer(name, event string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.authorizers[name]
	if a == nil {
		a = &AuthorizerStats{}
		s.authorizers[name] = a
	}
	switch event {
	case "invocation":
		a.Invocations++
	case "cache_hit":
		a.CacheHits++
	case "denied":
		a.Denials++
	case "unauthorized":
		a.Unauthorized++
	case "missing_identity":
		a.MissingIdentity++
	case "error":
		a.Errors++
	}
}

// maxReloadHistory bounds ReloadStats.History.
const maxReloadHistory = 50

// Reload is one config reload, as the live page's timeline shows it.
type Reload struct {
	Time time.Time `json:"time"`
	// Outcome is "applied", "refused" or "unchanged".
	Outcome string `json:"outcome"`
	// Config is the id of the config in force after it.
	Config string `json:"config,omitempty"`
	// Error is why a refused reload was refused, redacted.
	Error string `json:"error,omitempty"`
	// Changes is what an applied reload changed: key ids and routes.
	Changes *policy.Changes `json:"changes,omitempty"`
}

func (s *stats) remember(r Reload) {
	if len(s.history) == maxReloadHistory {
		s.history = append(s.history[:0], s.history[1:]...)
	}
	s.history = append(s.history, r)
}

func (s *stats) init() {
	s.rejections = map[string]int64{}
	s.invocations = map[string]int64{}
	s.authorizers = map[string]*AuthorizerStats{}
}

func (s *stats) request() {
	s.mu.Lock()
	s.requests++
	s.mu.Unlock()
}

func (s *stats) reject(reason string) {
	s.mu.Lock()
	s.rejections[reason]++
	s.mu.Unlock()
}

func (s *stats) invoke(function string) {
	s.mu.Lock()
	s.invocations[function]++
	s.mu.Unlock()
}

func (s *stats) functionError() {
	s.mu.Lock()
	s.functionErrors++
	s.mu.Unlock()
}

func (s *stats) reloadUnchanged(config string) {
	s.mu.Lock()
	s.reloadsUnchanged++
	s.remember(Reload{Time: time.Now(), Outcome: "unchanged", Config: config})
	s.mu.Unlock()
}

func (s *stats) reload(err error, config string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err == nil {
		s.reloadsApplied++
		c := s.pending
		s.pending = policy.Changes{}
		s.remember(Reload{Time: time.Now(), Outcome: "applied", Config: config, Changes: &c})
		return
	}
	s.reloadsRefused++
	s.lastReloadErr = err.Error()
	// Kept as the error's text: redacted when shown (Stats).
	s.remember(Reload{Time: time.Now(), Outcome: "refused", Config: config, Error: err.Error()})
}

// changed notes what the policy just put in force changed.
func (s *stats) changed(c policy.Changes) {
	s.mu.Lock()
	s.pending = c
	s.mu.Unlock()
}

// Stats is the body of /_inquir/stats.
type Stats struct {
	Config         string                   `json:"config"`
	Requests       int64                    `json:"requests"`
	Invocations    map[string]int64         `json:"invocations"`
	Rejections     map[string]int64         `json:"rejections"`
	FunctionErrors int64                    `json:"function_errors"`
	Reloads        ReloadStats              `json:"reloads"`
	Functions      map[string]FunctionStats `json:"functions,omitempty"`
	// Usage is each planned key's plan and what it spent of its quota
	// window (see plans.KeyUsage); absent when no key has a plan.
	Usage map[string]plans.KeyUsage `json:"usage,omitempty"`
	// Authorizers are each Lambda authorizer's counters; absent when the
	// config defines none.
	Authorizers map[string]AuthorizerStats `json:"authorizers,omitempty"`
	// LogLinesDropped counts request lines not written because the
	// request log's buffer was full (Options.RequestLog); absent when none.
	LogLinesDropped int64 `json:"log_lines_dropped,omitempty"`
}

// ReloadStats count config reloads.
type ReloadStats struct {
	// Applied counts reloads that put a changed config (or changed file:
	// secrets) in force.
	Applied int64 `json:"applied"`
	// Refused counts reloads that did not parse or validate; the last good
	// config stayed in force.
	Refused int64 `json:"refused"`
	// Unchanged counts reloads that found what is already in force (an
	// editor's save with no change, SIGHUP, a save seen twice): nothing was
	// applied.
	Unchanged int64  `json:"unchanged"`
	LastError string `json:"last_error,omitempty"`
	// History is the last 50 reloads, oldest first, with what each
	// applied one changed (the live page's timeline); absent before the
	// first reload.
	History []Reload `json:"history,omitempty"`
}

// Stats returns a snapshot of the counters.
func (g *Gateway) Stats() Stats {
	s := &g.stats
	s.mu.Lock()
	out := Stats{
		Requests:       s.requests,
		Invocations:    copyCounts(s.invocations),
		Rejections:     copyCounts(s.rejections),
		FunctionErrors: s.functionErrors,
		Reloads:        ReloadStats{Applied: s.reloadsApplied, Refused: s.reloadsRefused, Unchanged: s.reloadsUnchanged, LastError: g.opts.Redactor.String(s.lastReloadErr)},
	}
	for name, a := range s.authorizers {
		if out.Authorizers == nil {
			out.Authorizers = map[string]AuthorizerStats{}
		}
		out.Authorizers[name] = *a
	}
	for _, h := range s.history {
		h.Error = g.opts.Redactor.String(h.Error)
		out.Reloads.History = append(out.Reloads.History, h)
	}
	s.mu.Unlock()
	if g.lines != nil {
		out.LogLinesDropped = g.lines.dropped.Load()
	}
	if u := g.plans.Stats(g.opts.Now()); len(u) > 0 {
		out.Usage = u
	}
	if p := g.policy.Load(); p != nil {
		out.Config = p.ID()
		// Every function is listed, invoked or not, so a test can read a 0.
		for _, f := range p.Config.Functions {
			out.Invocations[f.Name] += 0
		}
		for _, a := range p.Config.Authorizers {
			if out.Authorizers == nil {
				out.Authorizers = map[string]AuthorizerStats{}
			}
			out.Authorizers[a.Name] = out.Authorizers[a.Name] // listed, so a test can read a 0
		}
	}
	if g.opts.FunctionStats != nil {
		out.Functions = g.opts.FunctionStats()
		// A function's own error text may quote its env: an init error
		// holding the database password it failed to connect with.
		for name, fs := range out.Functions {
			out.Functions[name] = fs.Redacted(g.opts.Redactor.String)
		}
	}
	return out
}

func copyCounts(m map[string]int64) map[string]int64 {
	out := make(map[string]int64, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// serveBuiltin answers inquir's own endpoints under /_inquir/.
func (g *Gateway) serveBuiltin(w http.ResponseWriter, r *http.Request, p *policy.Policy, path string) int {
	if !hostAllowed(r) {
		// 421 Misdirected Request (RFC 9110, 15.5.20): this server does not
		// answer for that authority. A web page that rebinds its own name to
		// 127.0.0.1 still sends its own name as Host; 403 would suggest a
		// credential could help, and none can. No detail in the body.
		g.stats.reject("builtin_host_not_loopback")
		return g.fail(w, http.StatusMisdirectedRequest, "misdirected_request", "")
	}
	if g.opts.Page != nil && !ownBuiltins[path] {
		return g.servePage(w, r, path)
	}
	allow := "GET, HEAD"
	if path == "/_inquir/clock" {
		allow = "GET, HEAD, POST"
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead && !(r.Method == http.MethodPost && path == "/_inquir/clock") {
		w.Header().Set("Allow", allow)
		return g.fail(w, http.StatusMethodNotAllowed, "method_not_allowed", "")
	}
	switch path {
	case "/_inquir/usage":
		return g.serveUsage(w, r)
	case "/_inquir/clock":
		return g.serveClock(w, r)
	case "/_inquir/health":
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "config": p.ID()})
		return http.StatusOK
	case "/_inquir/routes":
		writeJSON(w, http.StatusOK, p.Table(g.opts.Now()))
		return http.StatusOK
	case "/_inquir/stats":
		writeJSON(w, http.StatusOK, g.Stats())
		return http.StatusOK
	}
	return g.fail(w, http.StatusNotFound, "not_found", "")
}

// hostAllowed says whether a request may read the built-in endpoints. On a
// connection that arrived at a loopback address only a Host that names a
// loopback address or localhost (any port, [::1] bracketed) may, so a page
// loaded from another name cannot read them through DNS rebinding; an empty
// Host is refused. A connection to another address reached a listener the
// user made reachable by other names, and any Host is allowed there.
func hostAllowed(r *http.Request) bool {
	local, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if tcp, ok := local.(*net.TCPAddr); !ok || !tcp.IP.IsLoopback() {
		return true
	}
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	} else if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		host = host[1 : len(host)-1]
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
