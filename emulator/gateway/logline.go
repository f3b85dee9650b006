package gateway

import (
	"io"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"
)

// maxLogBuffer bounds the request lines waiting for the writer. A line
// that would not fit is dropped and counted (Stats.LogLinesDropped): a
// request never waits for a slow terminal or a full pipe.
const maxLogBuffer = 1 << 20

// lineWriter hands request lines to w from one goroutine, so the request
// path only appends to a buffer. Every line reaches w whole; lines that
// arrive together reach it in one Write, and after a Write the goroutine
// pauses (flushPause) so that under load lines go out in batches: one
// write, and one wake-up of whoever reads the log, per batch rather than
// per request. A line goes out at once unless a Write came less than
// flushPause before it; then it waits for the pause to end.
type lineWriter struct {
	w       io.Writer
	pause   func() // after each Write: time.Sleep(flushPause); tests stop it
	mu      sync.Mutex
	buf     []byte        // lines waiting; guarded by mu
	spare   []byte        // the last batch's buffer, for reuse; guarded by mu
	closed  bool          // guarded by mu; then lines go to w at once
	wake    chan struct{} // one pending signal: buf has lines
	done    chan struct{} // closed when run returns
	dropped atomic.Int64
}

func newLineWriter(w io.Writer) *lineWriter {
	l := &lineWriter{w: w, wake: make(chan struct{}, 1), done: make(chan struct{}), pause: func() { time.Sleep(flushPause) }}
	go l.run()
	return l
}

// write queues line, which ends in a newline; it never blocks on w.
func (l *lineWriter) write(line []byte) {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		// A request that outlived Close (a forced shutdown) still gets
		// its line, written here and now.
		_, _ = l.w.Write(line)
		return
	}
	if len(l.buf)+len(line) > maxLogBuffer {
		l.mu.Unlock()
		l.dropped.Add(1)
		return
	}
	l.buf = append(l.buf, line...)
	// Sent under mu, so Close cannot close wake in between.
	select {
	case l.wake <- struct{}{}:
	default:
	}
	l.mu.Unlock()
}

func (l *lineWriter) run() {
	defer close(l.done)
	for range l.wake {
		if l.flush() {
			l.pause()
		}
	}
	l.flush()
}

// flush writes the lines waiting, if any, and says whether there were.
func (l *lineWriter) flush() bool {
	l.mu.Lock()
	batch := l.buf
	l.buf = l.spare[:0]
	l.spare = nil
	l.mu.Unlock()
	if len(batch) == 0 {
		l.mu.Lock()
		l.spare = batch
		l.mu.Unlock()
		return false
	}
	_, _ = l.w.Write(batch)
	l.mu.Lock()
	if cap(batch) <= maxLogBuffer { // a burst's buffer is not kept forever
		l.spare = batch[:0]
	}
	l.mu.Unlock()
	return true
}

// flushPause is how long the line writer waits after a Write before the
// next: a line waits at most this long (and the Write's own time) before
// its Write starts, and under load the log costs one write per this much
// time rather than one per request.
const flushPause = 2 * time.Millisecond

// close writes what is queued and stops the goroutine; later lines are
// written directly. It is safe to call twice.
func (l *lineWriter) close() {
	l.mu.Lock()
	if !l.closed {
		l.closed = true
		close(l.wake)
	}
	l.mu.Unlock()
	<-l.done
}

// linePool holds the buffers request lines are formatted in.
var linePool = sync.Pool{New: func() any { b := make([]byte, 0, 256); return &b }}

// appendLogLine appends the request's line exactly as log/slog's
// TextHandler writes Info("request", attrs...) at t (TestLogLineMatchesSlog):
// key=value pairs, a value quoted when it is empty or holds a space, '=',
// '"' or a character that is not printable.
func appendLogLine(b []byte, t time.Time, method, path string, status int, d time.Duration, e *logEntry, errText string) []byte {
	b = append(b, "time="...)
	b = appendRFC3339Millis(b, t)
	b = append(b, " level=INFO msg=request method="...)
	b = appendTextValue(b, method)
	b = append(b, " path="...)
	b = appendTextValue(b, path)
	b = append(b, " status="...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, " duration="...)
	b = appendTextValue(b, d.Round(time.Microsecond).String())
	if e.function != "" {
		b = append(b, " function="...)
		b = appendTextValue(b, e.function)
	}
	if e.keyID != "" {
		b = append(b, " key="...)
		b = appendTextValue(b, e.keyID)
	}
	if e.authorizer != "" {
		b = append(b, " authorizer="...)
		b = appendTextValue(b, e.authorizer)
	}
	if e.authorizerCache != "" {
		b = append(b, " authorizer_cache="...)
		b = appendTextValue(b, e.authorizerCache)
	}
	if e.reason != "" {
		b = append(b, " reason="...)
		b = appendTextValue(b, e.reason)
	}
	if e.requestID != "" {
		b = append(b, " request_id="...)
		b = appendTextValue(b, e.requestID)
	}
	if e.err != nil {
		b = append(b, " error="...)
		b = appendTextValue(b, errText)
	}
	return append(b, '\n')
}

// appendRFC3339Millis is slog's time format: RFC 3339 with exactly three
// digits of milliseconds.
func appendRFC3339Millis(b []byte, t time.Time) []byte {
	const prefixLen = len("2006-01-02T15:04:05.000")
	n := len(b)
	// RFC3339Nano trims trailing zeros; a tenth of a millisecond more
	// keeps four digits, and the fourth is dropped.
	t = t.Truncate(time.Millisecond).Add(time.Millisecond / 10)
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b[:n+prefixLen], b[n+prefixLen+1:]...)
}

// appendTextValue writes s as slog's TextHandler writes a string value.
func appendTextValue(b []byte, s string) []byte {
	if textNeedsQuoting(s) {
		return strconv.AppendQuote(b, s)
	}
	return append(b, s...)
}

// textNeedsQuoting is slog's needsQuoting.
func textNeedsQuoting(s string) bool {
	if len(s) == 0 {
		return true
	}
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if b == ' ' || b == '=' || b == '"' || b < 0x20 {
				return true
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError || unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return true
		}
		i += size
	}
	return false
}
