package page

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// The stream's pace. After each write a stream waits streamPause before the
// next, and sends at most streamBatch records per write, the newest: at
// most 1000 records a second per browser, more than anyone reads one by
// one, and one write and one flush per batch rather than per request.
// Records beyond that are skipped and counted (the page shows the count):
// under a load test the page shows a sample of the newest, and the stream
// costs the gateway a bounded amount whatever the rate of requests.
const (
	streamPause = 100 * time.Millisecond
	streamBatch = 100
	// keepAlive is how often an idle stream sends a comment, so a proxy
	// or the browser does not take the connection for dead.
	keepAlive = 15 * time.Second
	// defaultStreamWriteTimeout is Options.StreamWriteTimeout's default.
	defaultStreamWriteTimeout = 10 * time.Second
)

// serveEvents is the Server-Sent Events stream of requests (event
// "request", data a summary as JSON, id the record's id) and of the count
// of records this stream skipped (event "dropped"). A browser that
// reconnects sends Last-Event-ID and picks up after it.
func (pg *Page) serveEvents(w http.ResponseWriter, r *http.Request) {
	select {
	case <-pg.closed:
		writeError(w, http.StatusServiceUnavailable, "stopping", "inquir dev is stopping")
		return
	default:
	}
	rc := http.NewResponseController(w)
	after, _ := strconv.ParseUint(r.Header.Get("Last-Event-ID"), 10, 64)
	if v := r.URL.Query().Get("after"); v != "" {
		after, _ = strconv.ParseUint(v, 10, 64)
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	// A stream lives as long as the browser reads it: each write has a
	// deadline of its own (writeTimeout), so a tab that reads nothing
	// frees its goroutine and its connection; Close ends a write under
	// way at once.
	writeTimeout := pg.opts.StreamWriteTimeout
	if writeTimeout <= 0 {
		writeTimeout = defaultStreamWriteTimeout
	}
	done, exited := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(exited)
		select {
		case <-pg.closed:
			_ = rc.SetWriteDeadline(time.Now())
		case <-done:
		}
	}()
	// The watcher is gone before the handler returns: rc is not to be
	// used after.
	defer func() { close(done); <-exited }()
	s := pg.feed.subscribe(after)
	defer pg.feed.unsubscribe(s)
	var dropped uint64
	buf := []byte("retry: 1000\n\n")
	idle := time.NewTimer(keepAlive)
	defer idle.Stop()
	for {
		recs, skipped := pg.feed.next(s, streamBatch)
		for _, rec := range recs {
			b, err := json.Marshal(pg.summary(rec))
			if err != nil {
				continue
			}
			if m := rec.keyMask(); m != nil {
				b = []byte(m.String(string(b)))
			}
			buf = strconv.AppendUint(append(buf, "id: "...), rec.id, 10)
			buf = append(append(append(buf, "\nevent: request\ndata: "...), b...), "\n\n"...)
		}
		if skipped > 0 {
			dropped += skipped
			buf = strconv.AppendUint(append(buf, "event: dropped\ndata: "...), dropped, 10)
			buf = append(buf, "\n\n"...)
		}
		if len(buf) > 0 {
			_ = rc.SetWriteDeadline(time.Now().Add(writeTimeout))
			select {
			case <-pg.closed:
				// Checked after the deadline is set: a Close since
				// then has set it to now, and this write ends at once.
				return
			default:
			}
			if _, err := w.Write(buf); err != nil {
				return
			}
			if err := rc.Flush(); err != nil {
				return
			}
			buf = buf[:0]
			// A pause after each write, so that under load records go
			// out in batches.
			select {
			case <-time.After(streamPause):
			case <-r.Context().Done():
				return
			case <-pg.closed:
				return
			}
		}
		idle.Reset(keepAlive)
		select {
		case <-s.wake:
		case <-idle.C:
			buf = append(buf, ": keep-alive\n\n"...)
		case <-r.Context().Done():
			return
		case <-pg.closed:
			return
		}
	}
}
