package gateway

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/inquir-dev/inquir/emulator/config"
	"github.com/inquir-dev/inquir/emulator/policy"
)

// pageSpy is a Page that keeps what it is handed and answers its paths
// with the path it was given.
type pageSpy struct {
	mu     sync.Mutex
	seen   []Exchange
	served []string
}

func (p *pageSpy) Observe(x Exchange) {
	p.mu.Lock()
	p.seen = append(p.seen, x)
	p.mu.Unlock()
}

func (p *pageSpy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.served = append(p.served, r.Method+" "+r.URL.Path)
	p.mu.Unlock()
	w.WriteHeader(http.StatusTeapot)
	io.WriteString(w, "page")
}

func (p *pageSpy) exchanges() []Exchange {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Exchange(nil), p.seen...)
}

// TestPageObserve: the page hears of every request but the built-ins',
// once, with the verdict the log line gives, the route, and (for a request
// that reached the function) the event and the answer.
func TestPageObserve(t *testing.T) {
	f := newFixture(t, config.CompatInquir)
	pg := &pageSpy{}
	f.gw.opts.Page = pg
	f.do("GET", "/customers/c-1", "")
	f.do("GET", "/customers/c-1", "", "x-api-key", internalSecret)
	f.do("POST", "/internal/search", `{"q":1}`, "x-api-key", internalSecret)
	f.do("GET", "/nowhere", "")
	f.do("GET", "/_inquir/health", "")
	f.do("GET", "/_inquir/stats", "")

	got := pg.exchanges()
	if len(got) != 4 {
		t.Fatalf("the page saw %d requests, want 4 (no built-in): %+v", len(got), got)
	}
	type row struct {
		Path, Route, Key, Reason, Function string
		Status                             int
		Outcome                            policy.Outcome
		Decided, Event, Answer, Body       bool
	}
	var rows []row
	for _, x := range got {
		r := row{Path: x.Path, Key: x.KeyID, Reason: x.Reason, Function: x.Function, Status: x.Status, Outcome: x.Outcome,
			Decided: x.Decided, Event: x.EventJSON() != nil, Answer: x.Answer != nil, Body: x.Body != nil}
		if x.Route != nil {
			r.Route = x.Route.String()
		}
		if x.Policy != f.gw.Policy() {
			t.Errorf("%s: the exchange's policy is not the one in force", x.Path)
		}
		rows = append(rows, r)
	}
	want := []row{
		{Path: "/customers/c-1", Route: "GET /customers/{customerId}", Reason: "missing_api_key", Function: "customers", Status: 401, Outcome: policy.MissingKey, Decided: true},
		{Path: "/customers/c-1", Route: "GET /customers/{customerId}", Key: "internal", Reason: "forbidden", Function: "customers", Status: 403, Outcome: policy.Forbidden, Decided: true},
		{Path: "/internal/search", Route: "POST /internal/search", Key: "internal", Function: "search", Status: 200, Outcome: policy.Allowed, Decided: true, Event: true, Answer: true, Body: true},
		{Path: "/nowhere", Status: 404},
	}
	if len(rows) == len(want) {
		for i := range want {
			if rows[i] != want[i] {
				t.Errorf("exchange %d:\n got %+v\nwant %+v", i, rows[i], want[i])
			}
		}
	}
	ok := got[2]
	if !strings.Contains(string(ok.EventJSON()), `"body":"{\"q\":1}"`) || ok.Answer.Body != "ran search" || string(ok.Body) != `{"q":1}` {
		t.Errorf("the allowed request: event %s, answer %+v, body %q", ok.EventJSON(), ok.Answer, ok.Body)
	}
	if len(f.spy.called()) != 1 {
		t.Errorf("the function ran %d times, want 1 (only the allowed request)", len(f.spy.called()))
	}
}

// TestPagePaths: every path under /_inquir/ that is not the gateway's own
// goes to the page, whatever its method and spelling, with the status it
// wrote in the log; the gateway's own built-ins stay the gateway's; and a
// Host that is not loopback reaches neither (DNS rebinding).
func TestPagePaths(t *testing.T) {
	f := newFixture(t, config.CompatInquir)
	pg := &pageSpy{}
	f.gw.opts.Page = pg
	srv := httptest.NewServer(f.gw)
	defer srv.Close()
	send := func(method, path, host string) int {
		req, err := http.NewRequest(method, srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if host != "" {
			req.Host = host
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, c := range []struct {
		method, path, host string
		want               int
	}{
		{"GET", "/_inquir/", "", http.StatusTeapot},
		{"GET", "/_inquir", "", http.StatusTeapot},
		{"POST", "/_inquir/api/replay", "", http.StatusTeapot},
		{"GET", "//_inquir/./events", "", http.StatusTeapot},
		{"GET", "/_inquir/health", "", http.StatusOK},
		{"POST", "/_inquir/stats", "", http.StatusMethodNotAllowed},
		{"GET", "/_inquir/", "evil.example", http.StatusMisdirectedRequest},
		{"POST", "/_inquir/api/replay", "evil.example:80", http.StatusMisdirectedRequest},
		{"GET", "/_inquir/", "localhost", http.StatusTeapot},
	} {
		if got := send(c.method, c.path, c.host); got != c.want {
			t.Errorf("%s %s (Host %q): %d, want %d", c.method, c.path, c.host, got, c.want)
		}
	}
	pg.mu.Lock()
	served := strings.Join(pg.served, ", ")
	pg.mu.Unlock()
	if want := "GET /_inquir, GET /_inquir, POST /_inquir/api/replay, GET /_inquir/events, GET /_inquir"; served != want {
		t.Errorf("the page was handed %q, want %q", served, want)
	}
	if n := len(pg.exchanges()); n != 0 {
		t.Errorf("the page observed %d requests to /_inquir/, want none", n)
	}
}

// TestReloadHistory: /_inquir/stats keeps each reload with what an applied
// one changed (the page's rotations timeline), redacted, and no secret.
func TestReloadHistory(t *testing.T) {
	f := newFixture(t, config.CompatInquir)
	old := f.gw.Policy()
	cfg := *old.Config
	cfg.Keys = append([]config.Key(nil), cfg.Keys[1:]...) // partner-acme goes
	next, err := policy.Compile(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.gw.SetPolicy(next)
	f.gw.RecordReload(nil)
	f.gw.RecordReload(errString("inquir.toml:3:1: keys.x.secret: bad"))
	f.gw.RecordUnchangedReload()
	h := f.gw.Stats().Reloads.History
	if len(h) != 3 {
		t.Fatalf("history has %d reloads, want 3: %+v", len(h), h)
	}
	if h[0].Outcome != "applied" || h[0].Changes == nil || strings.Join(h[0].Changes.KeysRemoved, ",") != "partner-acme" ||
		len(h[0].Changes.RoutesChanged) != 2 {
		t.Errorf("applied reload: %+v %+v", h[0], h[0].Changes)
	}
	if h[1].Outcome != "refused" || h[1].Error == "" || h[1].Changes != nil {
		t.Errorf("refused reload: %+v", h[1])
	}
	if h[2].Outcome != "unchanged" || h[2].Config != next.ID() {
		t.Errorf("unchanged reload: %+v", h[2])
	}
}

type errString string

func (e errString) Error() string { return string(e) }

// notingInvoker names the worker it runs on, as runtimes does.
type notingInvoker struct{}

func (notingInvoker) Invoke(ctx context.Context, function string, event []byte) ([]byte, error) {
	NoteWorker(ctx, "pid 4242")
	return []byte(`{"statusCode":200,"body":"ok"}`), nil
}

// TestPageWorker: the worker an Invoker names reaches the page with the
// request; with no page, naming it is harmless.
func TestPageWorker(t *testing.T) {
	f := newFixture(t, config.CompatInquir)
	pg := &pageSpy{}
	gw := New(Options{Invoker: notingInvoker{}, Page: pg, Now: f.gw.opts.Now})
	gw.SetPolicy(f.gw.Policy())
	req := httptest.NewRequest("POST", "/internal/search", strings.NewReader("{}"))
	req.Header.Set("x-api-key", internalSecret)
	gw.ServeHTTP(httptest.NewRecorder(), req)
	if got := pg.exchanges(); len(got) != 1 || got[0].Worker != "pid 4242" || got[0].Status != 200 {
		t.Errorf("exchanges: %+v", got)
	}
	plain := New(Options{Invoker: notingInvoker{}, Now: f.gw.opts.Now})
	plain.SetPolicy(f.gw.Policy())
	rec := httptest.NewRecorder()
	plain.ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Errorf("without a page: %d", rec.Code)
	}
}

// TestExchangeBound: a kept exchange holds at most n bytes of each body,
// copied (not the request's 6 MB), cut between UTF-8 sequences, with the
// full lengths noted.
func TestExchangeBound(t *testing.T) {
	body := []byte(strings.Repeat("é", 100)) // 200 bytes, 2 per rune
	x := Exchange{Body: body, event: append([]byte(nil), body...), Answer: &Answer{Body: string(body)}}
	x.Bound(51)
	if len(x.Body) != 50 || x.BodySize != 200 || len(x.event) != 50 || x.EventSize != 200 || len(x.Answer.Body) != 50 || x.AnswerSize != 200 {
		t.Errorf("bound: body %d of %d, event %d of %d, answer %d of %d", len(x.Body), x.BodySize, len(x.event), x.EventSize, len(x.Answer.Body), x.AnswerSize)
	}
	if &x.Body[0] == &body[0] {
		t.Error("the cut body shares the request's array")
	}
	small := Exchange{Body: []byte("ok")}
	small.Bound(51)
	if string(small.Body) != "ok" || small.BodySize != 2 {
		t.Errorf("a small body: %q of %d", small.Body, small.BodySize)
	}
}

// TestPageObserveV2: a payload 2.0 route's request reaches the page with
// the HTTP API event its function got and its answer.
func TestPageObserveV2(t *testing.T) {
	f := newFixture(t, config.CompatInquir)
	cfg := *f.gw.Policy().Config
	cfg.Routes = append([]config.Route(nil), cfg.Routes...)
	for i := range cfg.Routes {
		if cfg.Routes[i].Path == "/internal/search" {
			cfg.Routes[i].Payload = config.Payload2
		}
	}
	p, err := policy.Compile(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	pg := &pageSpy{}
	gw := New(Options{Invoker: f.spy, Page: pg, Now: f.gw.opts.Now})
	gw.SetPolicy(p)
	req := httptest.NewRequest("POST", "/internal/search", strings.NewReader(`{"q":2}`))
	req.Header.Set("x-api-key", internalSecret)
	rec := httptest.NewRecorder()
	gw.ServeHTTP(rec, req)
	got := pg.exchanges()
	if rec.Code != 200 || len(got) != 1 {
		t.Fatalf("status %d, %d exchanges", rec.Code, len(got))
	}
	x := got[0]
	// An HTTP API hands a body with no text Content-Type base64-encoded.
	if ev := string(x.EventJSON()); !strings.Contains(ev, `"version":"2.0"`) || !strings.Contains(ev, `"body":"eyJxIjoyfQ=="`) {
		t.Errorf("the event: %s", ev)
	}
	if x.Answer == nil || x.Answer.Body != "ran search" || string(x.Body) != `{"q":2}` {
		t.Errorf("answer %+v, body %q", x.Answer, x.Body)
	}
}

// TestExchangeBoundHeaders: a kept exchange holds at most
// maxKeptHeaderValues header values, copied, with the count left out:
// 1,024 requests of 5,000 small header fields each (64 KiB, the header
// limit) held over 500 MB as parsed maps.
func TestExchangeBoundHeaders(t *testing.T) {
	h := http.Header{}
	for i := range 5000 {
		h.Add("X-Field-"+strconv.Itoa(i%3000), "v")
	}
	x := Exchange{Header: h}
	x.Bound(64 << 10)
	n := 0
	for _, vs := range x.Header {
		n += len(vs)
	}
	if n != maxKeptHeaderValues || x.HeaderCut != 5000-maxKeptHeaderValues {
		t.Errorf("kept %d header values, cut %d; want %d and %d", n, x.HeaderCut, maxKeptHeaderValues, 5000-maxKeptHeaderValues)
	}
	if len(h) != 3000 {
		t.Errorf("the request's own header was changed: %d names", len(h))
	}
	// The key header is kept first, whatever its name's place.
	withKey := h.Clone()
	withKey.Set("Zz-Key", "the-key")
	p := newFixture(t, config.CompatInquir).gw.Policy()
	cfg := *p.Config
	cfg.Gateway.KeyHeader = "zz-key"
	kp, err := policy.Compile(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	x = Exchange{Header: withKey, Policy: kp}
	x.Bound(64 << 10)
	if got := x.Header.Get("Zz-Key"); got != "the-key" {
		t.Errorf("the key header was cut: %q", got)
	}
	small := Exchange{Header: http.Header{"Accept": {"*/*"}, "X-Api-Key": {"k"}}}
	small.Bound(64 << 10)
	if len(small.Header) != 2 || small.HeaderCut != 0 {
		t.Errorf("a small header: %v, cut %d", small.Header, small.HeaderCut)
	}
}
