package page_test

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/inquir-dev/inquir/emulator/page"
)

// TestStreamLive: a request made while the stream is open arrives on it.
func TestStreamLive(t *testing.T) {
	f := newFixture(t)
	got := make(chan []summary, 1)
	go func() {
		got <- f.stream(0, func(s summary) bool { return s.Path == "/hello/live" })
	}()
	// The stream may not be open yet when the first request is sent, and
	// a fresh stream starts with what the ring holds: so send again until
	// the stream has read one, with a deadline.
	deadline := time.After(30 * time.Second)
	for {
		f.do("GET", "/hello/live", nil, "")
		select {
		case ss := <-got:
			last := ss[len(ss)-1]
			if last.Status != 401 || last.Verdict != "refused" || last.Reason != "missing_api_key" || last.Route != "GET /hello/{name}" {
				t.Errorf("the streamed request: %+v", last)
			}
			return
		case <-time.After(100 * time.Millisecond):
		case <-deadline:
			t.Fatal("the request never arrived on the stream")
		}
	}
}

// TestStreamDropped: a stream that comes back after more requests than the
// ring holds is told how many it missed.
func TestStreamDropped(t *testing.T) {
	f := newFixture(t, func(o *page.Options) { o.RingSize = 4 })
	for i := 0; i < 20; i++ {
		f.do("GET", "/hello/x", nil, "")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", f.e.URL()+"/_inquir/events", nil)
	req.Header.Set("Last-Event-ID", "1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	var ids []string
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "id: ") {
			ids = append(ids, strings.TrimPrefix(line, "id: "))
		}
		if line == "event: dropped" {
			sc.Scan()
			if got := sc.Text(); got != "data: 15" {
				t.Errorf("dropped: %q, want 15 (ids 2 to 16)", got)
			}
			if strings.Join(ids, ",") != "17,18,19,20" {
				t.Errorf("ids sent: %v, want the 4 the ring holds", ids)
			}
			return
		}
	}
	t.Fatalf("the stream ended with no dropped event (%v); ids %v", ctx.Err(), ids)
}

// TestStreamEndsOnClose: an open stream does not hold the emulator's Close
// for its grace period: the page ends its streams as the server shuts
// down, and Close returns before its context's deadline.
func TestStreamEndsOnClose(t *testing.T) {
	f := newFixture(t)
	resp, err := http.Get(f.e.URL() + "/_inquir/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	ended := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, resp.Body)
		close(ended)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := f.e.Close(ctx); err != nil {
		t.Errorf("Close: %v", err)
	}
	if ctx.Err() != nil {
		t.Fatal("Close waited for its deadline: the stream held the server")
	}
	<-ended
}
