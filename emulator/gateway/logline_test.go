package gateway

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/inquir-dev/inquir/emulator/config"
	"github.com/inquir-dev/inquir/emulator/redact"
)

// TestLogLineMatchesSlog proves the hand-written request line is the line
// slog's TextHandler writes for the same values, so every pattern that
// reads the log (waitlog in testdata/script) still matches.
func TestLogLineMatchesSlog(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	zones := []*time.Location{time.UTC, time.FixedZone("x", -(3*3600 + 30*60)), time.Local}
	maybe := func() string {
		if r.IntN(3) == 0 {
			return ""
		}
		return randomString(r)
	}
	for i := range 3000 {
		at := time.Unix(r.Int64N(4e9), r.Int64N(1e9)).In(zones[r.IntN(len(zones))])
		method, path := randomString(r), randomString(r)
		status := r.IntN(600)
		d := time.Duration(r.Int64N(int64(10 * time.Second)))
		e := &logEntry{function: maybe(), keyID: maybe(), reason: maybe(), requestID: maybe()}
		errText := ""
		if r.IntN(2) == 0 {
			errText = randomString(r)
			e.err = errors.New(errText)
		}

		var want bytes.Buffer
		attrs := []any{"method", method, "path", path, "status", status, "duration", d.Round(time.Microsecond).String()}
		for _, kv := range [][2]string{{"function", e.function}, {"key", e.keyID}, {"reason", e.reason}, {"request_id", e.requestID}} {
			if kv[1] != "" {
				attrs = append(attrs, kv[0], kv[1])
			}
		}
		if e.err != nil {
			attrs = append(attrs, "error", errText)
		}
		rec := slog.NewRecord(at, slog.LevelInfo, "request", 0)
		rec.Add(attrs...)
		if err := slog.NewTextHandler(&want, nil).Handle(context.Background(), rec); err != nil {
			t.Fatal(err)
		}
		got := appendLogLine(nil, at, method, path, status, d, e, errText)
		if !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("line %d:\n got %q\nwant %q", i, got, want.Bytes())
		}
	}
}

// errInvoker fails every call with an error that quotes a secret.
type errInvoker struct{ err error }

func (i errInvoker) Invoke(context.Context, string, []byte) ([]byte, error) { return nil, i.err }

// TestRequestLog checks the buffered request log end to end: one line per
// request, in slog's shape, through the redactor, all written by Close.
func TestRequestLog(t *testing.T) {
	f := newFixture(t, config.CompatInquir)
	const secret = "db-password-0123456789"
	red := redact.New()
	red.Add(secret)
	// A plain writer: the gateway itself must redact the error it logs,
	// whatever writer an embedder gives it.
	var out bytes.Buffer
	gw := New(Options{
		Invoker:    errInvoker{errors.New("connecting with " + secret + ": refused")},
		RequestLog: &out,
		Redactor:   red,
		Now:        f.gw.opts.Now,
	})
	gw.SetPolicy(f.gw.Policy())
	for _, key := range []string{"", partnerSecret} {
		req := httptest.NewRequest("GET", "/customers/c-1", nil)
		if key != "" {
			req.Header.Set("x-api-key", key)
		}
		gw.ServeHTTP(httptest.NewRecorder(), req)
	}
	gw.Close()
	gw.Close() // safe twice
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d lines, want 2:\n%s", len(lines), out.String())
	}
	if !strings.Contains(lines[0], "level=INFO msg=request method=GET path=/customers/c-1 status=401 ") ||
		!strings.Contains(lines[0], " reason=missing_api_key") {
		t.Errorf("401 line = %q", lines[0])
	}
	if !strings.Contains(lines[1], " status=502 ") || !strings.Contains(lines[1], " key=partner-acme ") {
		t.Errorf("502 line = %q", lines[1])
	}
	if strings.Contains(out.String(), secret) || strings.Contains(out.String(), partnerSecret) {
		t.Errorf("a secret reached the log:\n%s", out.String())
	}
	if !strings.Contains(lines[1], redact.Mask) {
		t.Errorf("the error field was not redacted: %q", lines[1])
	}
}

// gatedWriter blocks every Write until open is closed.
type gatedWriter struct {
	open    chan struct{}
	entered chan struct{} // closed at the first Write
	once    sync.Once
	mu      sync.Mutex
	buf     bytes.Buffer
}

func (w *gatedWriter) Write(p []byte) (int, error) {
	w.once.Do(func() { close(w.entered) })
	<-w.open
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

// TestRequestLogNeverBlocks checks that a writer that does not return
// never holds a request up: lines past the buffer are dropped, counted in
// Stats, and every other line is written once the writer moves again.
func TestRequestLogNeverBlocks(t *testing.T) {
	f := newFixture(t, config.CompatInquir)
	w := &gatedWriter{open: make(chan struct{}), entered: make(chan struct{})}
	gw := New(Options{Invoker: f.spy, RequestLog: w, Now: f.gw.opts.Now})
	gw.SetPolicy(f.gw.Policy())
	serve := func() int {
		rec := httptest.NewRecorder()
		gw.ServeHTTP(rec, httptest.NewRequest("GET", "/customers/c-1", nil))
		return rec.Code
	}
	serve()
	<-w.entered // the writer now holds the first line and does not return
	// Each line is over 100 bytes: this many overflow the buffer.
	const n = 2 * maxLogBuffer / 100
	for i := range n {
		if code := serve(); code != http.StatusUnauthorized {
			t.Fatalf("request %d: status %d", i, code)
		}
	}
	dropped := gw.Stats().LogLinesDropped
	if dropped == 0 {
		t.Fatalf("no line dropped after %d lines against a stuck writer", n)
	}
	close(w.open)
	gw.Close()
	written := int64(strings.Count(w.buf.String(), "msg=request "))
	if written+dropped != n+1 {
		t.Errorf("written %d + dropped %d != %d requests", written, dropped, n+1)
	}
	if got := gw.Stats().Requests; got != n+1 {
		t.Errorf("stats requests = %d, want %d", got, n+1)
	}
	if n := len(f.spy.called()); n != 0 {
		t.Errorf("the invoker ran %d times for keyless requests", n)
	}
}

// writesRecorder keeps each Write apart.
type writesRecorder struct {
	mu     sync.Mutex
	writes []string
}

func (w *writesRecorder) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes = append(w.writes, string(p))
	return len(p), nil
}

// TestRequestLogBatchesUnderLoad: after a Write the line writer pauses,
// and the lines that arrive meanwhile go out together in the next Write,
// so a log reader wakes once per batch, not once per request. The pause is
// held open by the test, not timed.
func TestRequestLogBatchesUnderLoad(t *testing.T) {
	rec := &writesRecorder{}
	l := newLineWriter(rec)
	paused, resume := make(chan struct{}, 1), make(chan struct{})
	l.pause = func() {
		paused <- struct{}{}
		<-resume
	}
	l.write([]byte("line 0\n"))
	select {
	case <-paused:
	case <-time.After(time.Minute):
		t.Fatal("the first line was not written within a minute")
	}
	for i := 1; i <= 10; i++ {
		l.write([]byte("line " + strconv.Itoa(i) + "\n"))
	}
	close(resume)
	l.close()
	want := []string{"line 0\n", "line 1\nline 2\nline 3\nline 4\nline 5\nline 6\nline 7\nline 8\nline 9\nline 10\n"}
	if diff := cmp.Diff(want, rec.writes); diff != "" {
		t.Errorf("writes (-want +got):\n%s", diff)
	}
}
