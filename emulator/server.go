package emulator

import (
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// The server's bounds when Limits leaves them zero (SPEC, "Requests": the
// server bounds what a caller can hold).
const (
	// DefaultReadHeaderTimeout bounds the time to send a request's headers.
	DefaultReadHeaderTimeout = 10 * time.Second
	// DefaultReadTimeout bounds the time to send a whole request, body
	// included: a 6 MB body (the largest a function is handed) at 64 KB/s,
	// a poor mobile link, takes 96 s.
	DefaultReadTimeout = 2 * time.Minute
	// DefaultIdleTimeout is how long a keep-alive connection may wait for
	// its next request.
	DefaultIdleTimeout = 30 * time.Second
	// DefaultMaxHeaderBytes bounds a request's header block; a larger one
	// gets 431. AWS API Gateway takes 10 KB of headers.
	DefaultMaxHeaderBytes = 64 << 10
	// DefaultMaxConnections bounds the connections open at once: with the
	// functions' pipes it stays under a 4096-descriptor limit, the lowest
	// hard limit common on Linux and macOS. See Limits.MaxConnections.
	DefaultMaxConnections = 1024
)

// Limits bound what a caller can hold of the gateway's server. The zero
// value is the defaults above.
type Limits struct {
	// ReadHeaderTimeout: if zero, DefaultReadHeaderTimeout.
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds reading a whole request. Once it is read the
	// deadline is lifted, so a function may run past it. If zero,
	// DefaultReadTimeout.
	ReadTimeout time.Duration
	// IdleTimeout: if zero, DefaultIdleTimeout.
	IdleTimeout time.Duration
	// MaxHeaderBytes: if zero, DefaultMaxHeaderBytes.
	MaxHeaderBytes int
	// MaxConnections bounds open connections. When a new one arrives at the
	// bound, the connection idle longest (a keep-alive connection between
	// requests, else one that has not sent a whole request yet) is closed to
	// make room, so held idle connections never lock out a health check; if
	// every connection is serving a request, the new one is closed. If zero,
	// DefaultMaxConnections.
	MaxConnections int
}

func (l Limits) withDefaults() Limits {
	if l.ReadHeaderTimeout == 0 {
		l.ReadHeaderTimeout = DefaultReadHeaderTimeout
	}
	if l.ReadTimeout == 0 {
		l.ReadTimeout = DefaultReadTimeout
	}
	if l.IdleTimeout == 0 {
		l.IdleTimeout = DefaultIdleTimeout
	}
	if l.MaxHeaderBytes == 0 {
		l.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if l.MaxConnections == 0 {
		l.MaxConnections = DefaultMaxConnections
	}
	return l
}

// server is the http.Server for h on ln, under l.
func (l Limits) server(h http.Handler, ln *connLimiter) *http.Server {
	return &http.Server{
		Handler:           answerRefusalsAtOnce(h),
		ReadHeaderTimeout: l.ReadHeaderTimeout,
		ReadTimeout:       l.ReadTimeout,
		IdleTimeout:       l.IdleTimeout,
		MaxHeaderBytes:    l.MaxHeaderBytes,
		ConnState:         ln.track,
		// No WriteTimeout: a function's own timeout bounds its answer, and
		// a caller slow to read it holds one connection of MaxConnections.
	}
}

// unreadBodyGrace is how long a refusal waits for the rest of a body the
// handler did not read: enough for one already in flight on loopback, short
// enough to read as "at once" to a caller that never sends it.
const unreadBodyGrace = 20 * time.Millisecond

// answerRefusalsAtOnce wraps h so that an answer written before the
// request's body was read to its end (a 401, 403, 404, 405, 413 or 400:
// the gateway reads no body it refuses) closes the connection at once.
// Without it net/http, to keep the connection alive, reads up to 256 KB of
// the unread body before sending the answer, so a caller that declares a
// body and never sends it waits for ReadTimeout instead of its 401.
//
// It also lifts the read deadline once the request is wholly read:
// net/http would otherwise cancel the request's context when ReadTimeout
// passes, cutting short a function that runs longer.
func answerRefusalsAtOnce(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		if r.ContentLength == 0 {
			_ = rc.SetReadDeadline(time.Time{})
			h.ServeHTTP(w, r)
			return
		}
		body := &watchedBody{ReadCloser: r.Body, onEOF: func() { _ = rc.SetReadDeadline(time.Time{}) }}
		r.Body = body
		h.ServeHTTP(&closeUnread{ResponseWriter: w, body: body, rc: rc}, r)
	})
}

// watchedBody notes when the request body has been read to its end.
type watchedBody struct {
	io.ReadCloser
	mu    sync.Mutex
	eof   bool
	onEOF func()
}

func (b *watchedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		b.mu.Lock()
		first := !b.eof
		b.eof = true
		b.mu.Unlock()
		if first {
			b.onEOF()
		}
	}
	return n, err
}

func (b *watchedBody) done() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.eof
}

// closeUnread is the ResponseWriter of answerRefusalsAtOnce.
type closeUnread struct {
	http.ResponseWriter
	body        *watchedBody
	rc          *http.ResponseController
	wroteHeader bool
}

func (w *closeUnread) WriteHeader(code int) {
	if !w.wroteHeader && !w.body.done() {
		// net/http reads what is left of a small body (up to 256 KB)
		// before it answers, to keep the connection. A body that came with
		// the headers is read at once and the connection stays open, so a
		// client's next request needs no new connection; one that is not
		// there within unreadBodyGrace fails that read, and net/http answers
		// with Connection: close and closes rather than wait for bytes that
		// may never come.
		_ = w.rc.SetReadDeadline(time.Now().Add(unreadBodyGrace))
	}
	w.wroteHeader = true
	w.ResponseWriter.WriteHeader(code)
}

func (w *closeUnread) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the server's ResponseWriter.
func (w *closeUnread) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// connLimiter is a net.Listener that keeps at most max connections open; see
// Limits.MaxConnections. The http.Server reports each connection's state to
// track.
type connLimiter struct {
	net.Listener
	max   int
	mu    sync.Mutex
	seq   uint64 // orders state changes: the lowest idle seq has idled longest
	conns map[net.Conn]*connState
}

type connState struct {
	state http.ConnState
	seq   uint64
}

func newConnLimiter(ln net.Listener, max int) *connLimiter {
	return &connLimiter{Listener: ln, max: max, conns: map[net.Conn]*connState{}}
}

// Accept returns the next connection, first closing the longest idle one if
// the limiter is full, or closing the new one if no connection is idle.
func (l *connLimiter) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		l.mu.Lock()
		var victim net.Conn
		if len(l.conns) >= l.max {
			if victim = l.idlest(); victim != nil {
				delete(l.conns, victim)
			}
		}
		room := len(l.conns) < l.max
		if room {
			l.seq++
			l.conns[c] = &connState{state: http.StateNew, seq: l.seq}
		}
		l.mu.Unlock()
		if victim != nil {
			victim.Close()
		}
		if room {
			return c, nil
		}
		c.Close() // every connection is serving a request: refuse this one
	}
}

// idlest is the connection waiting longest for its next request, else the
// one waiting longest for its first; nil if all are serving. l.mu is held.
func (l *connLimiter) idlest() net.Conn {
	var best net.Conn
	var bestState *connState
	for c, s := range l.conns {
		if s.state != http.StateIdle && s.state != http.StateNew {
			continue
		}
		if bestState == nil || before(s, bestState) {
			best, bestState = c, s
		}
	}
	return best
}

// before orders eviction: idle connections before new ones, each oldest
// first.
func before(a, b *connState) bool {
	if (a.state == http.StateIdle) != (b.state == http.StateIdle) {
		return a.state == http.StateIdle
	}
	return a.seq < b.seq
}

// track follows each connection's state; it is the http.Server's ConnState.
func (l *connLimiter) track(c net.Conn, state http.ConnState) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s, ok := l.conns[c]
	if !ok {
		return // closed to make room
	}
	switch state {
	case http.StateClosed, http.StateHijacked:
		delete(l.conns, c)
	default:
		l.seq++
		s.state, s.seq = state, l.seq
	}
}
