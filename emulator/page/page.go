// Package page is inquir's live page at /_inquir/: the routes and who may
// call them, the keys and their state, and every request the gateway
// answers as it happens (a Server-Sent Events stream at /_inquir/events),
// with why a refused one was refused and the config line to change, a
// replay of it (as it was, as another key, with no key), the auth matrix of
// its route as `inquir verify` probes it, and a timeline of reloads.
//
// The gateway feeds it through one seam, gateway.Page: Observe is handed
// each answered request and puts it in a bounded ring (feed.go) that never
// blocks the gateway; each browser reads the ring at its own pace and is
// told how many records it missed. The gateway checks Host before handing
// over any path under /_inquir/, as for every built-in; the page refuses a
// state-changing call (replay, matrix) without its per-run token and from
// another origin (safety.go). Nothing it sends holds a secret: the key
// header's value never leaves the server, and bodies and events pass the
// same Redactor as the log.
package page

import (
	"embed"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/inquir-dev/inquir/emulator/gateway"
	"github.com/inquir-dev/inquir/emulator/policy"
	"github.com/inquir-dev/inquir/emulator/redact"
)

//go:embed assets
var assets embed.FS

// Source is what the page shows: the gateway it is part of, and where
// replays and the matrix's probes are sent, as real requests. An
// *emulator.Emulator is one.
type Source interface {
	// Policy is the policy in force.
	Policy() *policy.Policy
	// Gateway is the gateway, for its counters (usage, invocations,
	// reloads).
	Gateway() *gateway.Gateway
	// URL is the gateway's base URL, "http://127.0.0.1:PORT".
	URL() string
}

// Options tune the page. The zero value is usable.
type Options struct {
	// Now is the clock keys' states are judged by (the gateway's). If
	// nil, time.Now.
	Now func() time.Time
	// Redactor hides the configured secrets and function env values in
	// what the page shows, as in the log. If nil, nothing is redacted.
	Redactor *redact.Redactor
	// Client sends replays and probes. If nil, one with a 30 s timeout;
	// a redirect is never followed (a key must not travel elsewhere).
	Client *http.Client
	// RingSize is how many requests the page keeps. If zero, 1024.
	RingSize int
	// StreamWriteTimeout bounds one write to a stream: a browser that
	// reads nothing for that long (a frozen or suspended tab) has its
	// stream ended, rather than hold a goroutine and one of the server's
	// connections. If zero, 10 s.
	StreamWriteTimeout time.Duration
}

// Page is the live page; it implements gateway.Page. The zero value is not
// usable; call New.
type Page struct {
	opts   Options
	source atomic.Pointer[Source] // nil until Attach
	feed   *feed
	token  string
	lint   lintCache
	// closed ends every stream (Close): a server shutting down waits for
	// the handlers under way, and a stream would never end of itself.
	closed    chan struct{}
	closeOnce sync.Once
}

// New returns a page that has seen no request yet, with a token of its
// own for state-changing calls. It keeps requests at once, and answers its
// paths 503 until Attach: hand it to the gateway (emulator.Options.Page),
// then Attach the emulator.
func New(opts Options) *Page {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Client == nil {
		opts.Client = &http.Client{Timeout: 30 * time.Second}
	}
	c := *opts.Client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	opts.Client = &c
	if opts.RingSize <= 0 {
		opts.RingSize = 1024
	}
	return &Page{opts: opts, feed: newFeed(opts.RingSize), token: newToken(), closed: make(chan struct{})}
}

// Close ends the page's streams, and a stream asked for later gets 503;
// the rest of the page still answers. It is safe to call twice. The
// Emulator calls it as its server shuts down.
func (pg *Page) Close() { pg.closeOnce.Do(func() { close(pg.closed) }) }

// Attach makes the page show s.
func (pg *Page) Attach(s Source) { pg.source.Store(&s) }

// src is the attached Source, or nil.
func (pg *Page) src() Source {
	if s := pg.source.Load(); s != nil {
		return *s
	}
	return nil
}

// policy is the policy in force, or nil.
func (pg *Page) policy() *policy.Policy {
	if s := pg.src(); s != nil {
		return s.Policy()
	}
	return nil
}

// stats are the gateway's counters.
func (pg *Page) stats() gateway.Stats {
	if s := pg.src(); s != nil {
		return s.Gateway().Stats()
	}
	return gateway.Stats{}
}

// url is the gateway's base URL.
func (pg *Page) url() string {
	if s := pg.src(); s != nil {
		return s.URL()
	}
	return ""
}

// Observe keeps x for the page; see gateway.Page. It does not block.
func (pg *Page) Observe(x gateway.Exchange) {
	x.Bound(maxKept)
	pg.feed.add(x)
}

// Dropped is how many records the page's streams have skipped, in all,
// because a browser read slower than the gateway answered.
func (pg *Page) Dropped() uint64 { return pg.feed.dropped.Load() }

// ServeHTTP answers the page's paths; the gateway has checked Host.
func (pg *Page) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	if !onLoopback(r) {
		// The page sends requests with the keys' secrets: only this
		// machine may drive it, whatever address inquir dev listens on.
		writeError(w, http.StatusForbidden, "forbidden", "the live page answers only on a loopback address; open it on this machine (http://127.0.0.1:PORT/_inquir/)")
		return
	}
	if h := proxied(r); h != "" {
		// A proxy or tunnel on this machine (ngrok, cloudflared, a
		// reverse proxy) connects from loopback for whoever reached it.
		writeError(w, http.StatusForbidden, "forbidden", "the live page does not answer a request a proxy forwarded ("+h+"); open it on this machine (http://127.0.0.1:PORT/_inquir/)")
		return
	}
	if pg.src() == nil {
		writeError(w, http.StatusServiceUnavailable, "not_ready", "the page is starting")
		return
	}
	switch {
	case path == "/_inquir" || path == "/_inquir/":
		pg.get(w, r, pg.serveIndex)
	case path == "/_inquir/app.js" || path == "/_inquir/style.css":
		pg.get(w, r, pg.serveAsset)
	case path == "/_inquir/events":
		pg.get(w, r, sameSite(pg.serveEvents))
	case path == "/_inquir/api/state":
		pg.get(w, r, sameSite(pg.serveState))
	case strings.HasPrefix(path, "/_inquir/api/requests/"):
		pg.get(w, r, sameSite(pg.serveRequest))
	case path == "/_inquir/api/replay":
		pg.post(w, r, pg.serveReplay)
	case path == "/_inquir/api/matrix":
		pg.post(w, r, pg.serveMatrix)
	default:
		writeError(w, http.StatusNotFound, "not_found", "")
	}
}

// get serves a read: GET or HEAD only.
func (pg *Page) get(w http.ResponseWriter, r *http.Request, h http.HandlerFunc) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", "")
		return
	}
	h(w, r)
}

// post serves a state-changing call: POST, from the page itself (safety.go).
func (pg *Page) post(w http.ResponseWriter, r *http.Request, h http.HandlerFunc) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", "")
		return
	}
	if code, msg := pg.refuse(r); code != 0 {
		writeError(w, code, "forbidden", msg)
		return
	}
	h(w, r)
}

func (pg *Page) serveAsset(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/_inquir/")
	b, err := assets.ReadFile("assets/" + name)
	if err != nil {
		writeError(w, http.StatusNotFound, "not_found", "")
		return
	}
	ct := "text/css; charset=utf-8"
	if strings.HasSuffix(name, ".js") {
		ct = "text/javascript; charset=utf-8"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(b)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "internal_error", err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_, _ = w.Write(append(b, '\n'))
}

func writeError(w http.ResponseWriter, code int, errCode, msg string) {
	body := map[string]string{"error": errCode}
	if msg != "" {
		body["message"] = msg
	}
	b, _ := json.Marshal(body)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(append(b, '\n'))
}
