package gateway

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"

	"github.com/inquir-dev/inquir/emulator/config"
	"github.com/inquir-dev/inquir/emulator/policy"
)

// spy is an Invoker that records every call and answers as told.
type spy struct {
	mu     sync.Mutex
	calls  []call
	answer func(function string, event []byte) ([]byte, error)
}

type call struct {
	function string
	event    events.APIGatewayProxyRequest
	raw      []byte
	trace    string // TraceID of the call's context
}

func (s *spy) Invoke(ctx context.Context, function string, event []byte) ([]byte, error) {
	var ev events.APIGatewayProxyRequest
	if err := json.Unmarshal(event, &ev); err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.calls = append(s.calls, call{function, ev, event, TraceID(ctx)})
	s.mu.Unlock()
	if s.answer != nil {
		return s.answer(function, event)
	}
	return []byte(`{"statusCode":200,"body":"ran ` + function + `"}`), nil
}

func (s *spy) called() []call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]call(nil), s.calls...)
}

func sha(s string) string {
	d := sha256.Sum256([]byte(s))
	return hex.EncodeToString(d[:])
}

// The secrets of the test config. None may ever appear in a log.
const (
	partnerSecret  = "partner-secret-0123456789"
	internalSecret = "internal-secret-0123456789"
	expiredSecret  = "expired-secret-0123456789"
	futureSecret   = "future-secret-0123456789"
	disabledSecret = "disabled-secret-0123456789"
	unknownSecret  = "unknown-secret-0123456789"
)

var testNow = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

func testConfig(compat string) string {
	return `
[gateway]
compat = "` + compat + `"

[keys.partner-acme]
secret = "sha256:` + sha(partnerSecret) + `"
groups = ["public-api"]
metadata = { tenant = "acme" }

[keys.internal]
secret = "sha256:` + sha(internalSecret) + `"
groups = ["internal"]

[keys.old]
secret = "sha256:` + sha(expiredSecret) + `"
groups = ["public-api"]
expires = 2026-11-01T00:00:00Z

[keys.early]
secret = "sha256:` + sha(futureSecret) + `"
groups = ["public-api"]
not_before = 2027-01-01T00:00:00Z

[keys.off]
secret = "sha256:` + sha(disabledSecret) + `"
groups = ["public-api"]
disabled = true

[functions.customers]
runtime = "node"
path = "fn.mjs"

[functions.search]
runtime = "node"
path = "fn.mjs"

[functions.catchall]
runtime = "node"
path = "fn.mjs"

[[routes]]
method = "GET"
path = "/customers/{customerId}"
function = "customers"
group = "public-api"

[[routes]]
method = "PUT"
path = "/customers/{customerId}"
function = "customers"
group = "public-api"

[[routes]]
method = "POST"
path = "/internal/search"
function = "search"
group = "internal"

[[routes]]
method = "ANY"
path = "/public/{rest+}"
function = "catchall"
auth = "none"
reason = "static pages"
`
}

type fixture struct {
	gw  *Gateway
	spy *spy
	log *bytes.Buffer
}

func newFixture(t testing.TB, compat string) *fixture {
	t.Helper()
	return newFixtureConfig(t, testConfig(compat))
}

// newFixtureConfig is newFixture for the config toml, which may name fn.mjs.
func newFixtureConfig(t testing.TB, toml string) *fixture {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "fn.mjs"), []byte("export async function handler() {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "inquir.toml")
	if err := os.WriteFile(path, []byte(toml), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	p, err := policy.Compile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{spy: &spy{}, log: &bytes.Buffer{}}
	f.gw = New(Options{Invoker: f.spy, Log: slog.New(slog.NewTextHandler(f.log, nil)), Now: func() time.Time { return testNow }})
	f.gw.SetPolicy(p)
	return f
}

func (f *fixture) do(method, target string, body string, header ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	f.gw.ServeHTTP(rec, req)
	return rec
}

func errorBody(t *testing.T, rec *httptest.ResponseRecorder) map[string]string {
	t.Helper()
	var body map[string]string
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("body %q is not a JSON object of strings: %v", rec.Body.String(), err)
	}
	return body
}

// TestRejections walks the SPEC's "Requests" table: every refusal has its
// status and body, and the function is never invoked.
func TestRejections(t *testing.T) {
	tests := []struct {
		name       string
		method     string
		target     string
		header     []string
		status     int
		errCode    string
		wwwAuth    bool
		logReason  string
		bodyLength int
	}{
		{name: "no key", method: "GET", target: "/customers/c-1", status: 401, errCode: "missing_api_key", wwwAuth: true, logReason: "missing_api_key"},
		{name: "empty key", method: "GET", target: "/customers/c-1", header: []string{"X-Api-Key", ""}, status: 401, errCode: "missing_api_key", wwwAuth: true, logReason: "missing_api_key"},
		{name: "unknown key", method: "GET", target: "/customers/c-1", header: []string{"x-api-key", unknownSecret}, status: 401, errCode: "invalid_api_key", logReason: "unknown_key"},
		{name: "expired key", method: "GET", target: "/customers/c-1", header: []string{"x-api-key", expiredSecret}, status: 401, errCode: "invalid_api_key", logReason: "expired_key"},
		{name: "key not yet valid", method: "GET", target: "/customers/c-1", header: []string{"x-api-key", futureSecret}, status: 401, errCode: "invalid_api_key", logReason: "key_not_yet_valid"},
		{name: "disabled key", method: "GET", target: "/customers/c-1", header: []string{"x-api-key", disabledSecret}, status: 401, errCode: "invalid_api_key", logReason: "disabled_key"},
		{name: "valid key, wrong group", method: "GET", target: "/customers/c-1", header: []string{"x-api-key", internalSecret}, status: 403, errCode: "forbidden", logReason: "forbidden"},
		{name: "partner key on internal route", method: "POST", target: "/internal/search", header: []string{"x-api-key", partnerSecret}, status: 403, errCode: "forbidden", logReason: "forbidden"},
		{name: "two key headers", method: "GET", target: "/customers/c-1", header: []string{"x-api-key", partnerSecret, "x-api-key", unknownSecret}, status: 401, errCode: "invalid_api_key", logReason: "multiple_keys"},
		{name: "key in another header", method: "GET", target: "/customers/c-1", header: []string{"Authorization", "Bearer " + partnerSecret}, status: 401, errCode: "missing_api_key", wwwAuth: true, logReason: "missing_api_key"},
		{name: "no route", method: "GET", target: "/nowhere", status: 404, errCode: "not_found"},
		{name: "no route, with a good key", method: "GET", target: "/nowhere", header: []string{"x-api-key", partnerSecret}, status: 404, errCode: "not_found"},
		{name: "wrong method", method: "DELETE", target: "/customers/c-1", header: []string{"x-api-key", partnerSecret}, status: 405, errCode: "method_not_allowed"},
		// Other spellings of a protected path reach the protected route
		// and its policy, never the public catch-all or another route.
		{name: "double slashes", method: "POST", target: "//internal//search", status: 401, errCode: "missing_api_key", wwwAuth: true, logReason: "missing_api_key"},
		{name: "dot segments", method: "POST", target: "/public/../internal/./search", header: []string{"x-api-key", partnerSecret}, status: 403, errCode: "forbidden", logReason: "forbidden"},
		{name: "encoded dot segments", method: "POST", target: "/public/%2e%2e/internal/search", status: 401, errCode: "missing_api_key", wwwAuth: true, logReason: "missing_api_key"},
		{name: "encoded letters", method: "POST", target: "/internal/%73earch", status: 401, errCode: "missing_api_key", wwwAuth: true, logReason: "missing_api_key"},
		{name: "trailing slash", method: "POST", target: "/internal/search/", status: 401, errCode: "missing_api_key", wwwAuth: true, logReason: "missing_api_key"},
		{name: "other letter case", method: "POST", target: "/INTERNAL/search", header: []string{"x-api-key", internalSecret}, status: 404, errCode: "not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, config.CompatInquir)
			rec := f.do(tt.method, tt.target, "", tt.header...)
			if rec.Code != tt.status {
				t.Fatalf("status = %d, want %d; body %s", rec.Code, tt.status, rec.Body)
			}
			if calls := f.spy.called(); len(calls) != 0 {
				t.Fatalf("the function was invoked %d times on a rejected request: %+v", len(calls), calls[0].function)
			}
			body := errorBody(t, rec)
			if body["error"] != tt.errCode {
				t.Errorf("error = %q, want %q", body["error"], tt.errCode)
			}
			if tt.status == 404 {
				if diff := cmp.Diff(map[string]string{"error": "not_found"}, body); diff != "" {
					t.Errorf("a 404 lists nothing (-want +got):\n%s", diff)
				}
			}
			if got := rec.Header().Get("WWW-Authenticate"); (got != "") != tt.wwwAuth || (tt.wwwAuth && got != `ApiKey header="x-api-key"`) {
				t.Errorf("WWW-Authenticate = %q", got)
			}
			if tt.status == 405 && rec.Header().Get("Allow") != "GET, PUT" {
				t.Errorf("Allow = %q, want %q", rec.Header().Get("Allow"), "GET, PUT")
			}
			if tt.logReason != "" && !strings.Contains(f.log.String(), "reason="+tt.logReason) {
				t.Errorf("log does not give the reason %q:\n%s", tt.logReason, f.log)
			}
			assertNoSecrets(t, f.log.String()+rec.Body.String())
		})
	}
}

func assertNoSecrets(t *testing.T, s string) {
	t.Helper()
	for _, secret := range []string{partnerSecret, internalSecret, expiredSecret, futureSecret, disabledSecret, unknownSecret} {
		if strings.Contains(s, secret) {
			t.Errorf("a secret leaked: %s", s)
		}
	}
}

func TestAWSCompat(t *testing.T) {
	tests := []struct {
		name, method, target string
		header               []string
		message              string
	}{
		{"no key", "GET", "/customers/c-1", nil, "Forbidden"},
		{"unknown key", "GET", "/customers/c-1", []string{"x-api-key", unknownSecret}, "Forbidden"},
		{"wrong group", "GET", "/customers/c-1", []string{"x-api-key", internalSecret}, "Forbidden"},
		{"no route", "GET", "/nowhere", nil, "Missing Authentication Token"},
		{"wrong method", "DELETE", "/customers/c-1", []string{"x-api-key", partnerSecret}, "Missing Authentication Token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, config.CompatAWS)
			rec := f.do(tt.method, tt.target, "", tt.header...)
			if rec.Code != 403 {
				t.Fatalf("status = %d, want 403", rec.Code)
			}
			if diff := cmp.Diff(map[string]string{"message": tt.message}, errorBody(t, rec)); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
			if h := rec.Header().Get("WWW-Authenticate") + rec.Header().Get("Allow"); h != "" {
				t.Errorf("aws mode sends no WWW-Authenticate or Allow; got %q", h)
			}
			if n := len(f.spy.called()); n != 0 {
				t.Errorf("invoked %d times", n)
			}
		})
	}
	f := newFixture(t, config.CompatAWS)
	if rec := f.do("GET", "/customers/c-1", "", "x-api-key", partnerSecret); rec.Code != 200 || len(f.spy.called()) != 1 {
		t.Errorf("an allowed request in aws mode: status %d, %d calls", rec.Code, len(f.spy.called()))
	}
}

func TestEvent(t *testing.T) {
	f := newFixture(t, config.CompatInquir)
	rec := f.do("GET", "/customers/c%2D1?expand=orders&tag=a&tag=b", "",
		"X-Api-Key", partnerSecret, "Accept", "application/json", "X-Multi", "1", "X-Multi", "2")
	if rec.Code != 200 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	calls := f.spy.called()
	if len(calls) != 1 || calls[0].function != "customers" {
		t.Fatalf("calls = %+v", calls)
	}
	ev := calls[0].event
	if strings.Contains(string(calls[0].raw), partnerSecret) {
		t.Fatalf("the event holds the secret: %s", calls[0].raw)
	}
	for name := range ev.MultiValueHeaders {
		if strings.EqualFold(name, "x-api-key") {
			t.Errorf("the key header reached the event")
		}
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"resource", ev.Resource, "/customers/{customerId}"},
		{"path, as sent", ev.Path, "/customers/c%2D1"},
		{"httpMethod", ev.HTTPMethod, "GET"},
		{"pathParameters, as sent", ev.PathParameters, map[string]string{"customerId": "c%2D1"}},
		{"queryStringParameters", ev.QueryStringParameters, map[string]string{"expand": "orders", "tag": "b"}},
		{"multiValueQueryStringParameters", ev.MultiValueQueryStringParameters, map[string][]string{"expand": {"orders"}, "tag": {"a", "b"}}},
		{"headers", ev.Headers["X-Multi"], "2"},
		{"multiValueHeaders", ev.MultiValueHeaders["X-Multi"], []string{"1", "2"}},
		{"identity.apiKeyId", ev.RequestContext.Identity.APIKeyID, "partner-acme"},
		{"identity.apiKey", ev.RequestContext.Identity.APIKey, ""},
		{"identity.sourceIp", ev.RequestContext.Identity.SourceIP, "192.0.2.1"},
		{"authorizer", ev.RequestContext.Authorizer, map[string]any{"apiKeyId": "partner-acme", "tenant": "acme"}},
		{"resourcePath", ev.RequestContext.ResourcePath, "/customers/{customerId}"},
		{"stage", ev.RequestContext.Stage, Stage},
		{"requestId set", ev.RequestContext.RequestID != "", true},
		{"isBase64Encoded", ev.IsBase64Encoded, false},
	}
	for _, c := range checks {
		if diff := cmp.Diff(c.want, c.got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", c.name, diff)
		}
	}
	if !strings.Contains(f.log.String(), "key=partner-acme") || !strings.Contains(f.log.String(), "function=customers") {
		t.Errorf("log line lacks key id or function:\n%s", f.log)
	}
	assertNoSecrets(t, f.log.String())
}

func TestEventBodies(t *testing.T) {
	f := newFixture(t, config.CompatInquir)
	binary := string([]byte{0xff, 0x00, 0xfe})
	f.do("POST", "/internal/search", `{"query":"keys"}`, "x-api-key", internalSecret)
	f.do("POST", "/internal/search", binary, "x-api-key", internalSecret)
	calls := f.spy.called()
	if len(calls) != 2 {
		t.Fatalf("%d calls", len(calls))
	}
	if calls[0].event.Body != `{"query":"keys"}` || calls[0].event.IsBase64Encoded {
		t.Errorf("text body: %q base64=%v", calls[0].event.Body, calls[0].event.IsBase64Encoded)
	}
	if calls[1].event.Body != base64.StdEncoding.EncodeToString([]byte(binary)) || !calls[1].event.IsBase64Encoded {
		t.Errorf("binary body: %q base64=%v", calls[1].event.Body, calls[1].event.IsBase64Encoded)
	}
	if calls[0].event.RequestContext.Identity.APIKeyID != "internal" {
		t.Errorf("apiKeyId = %q", calls[0].event.RequestContext.Identity.APIKeyID)
	}
}

// A public route runs without a key, and even a presented key never reaches
// the function.
func TestPublicRoute(t *testing.T) {
	f := newFixture(t, config.CompatInquir)
	rec := f.do("GET", "/public/a/b", "", "x-api-key", partnerSecret)
	if rec.Code != 200 {
		t.Fatalf("status %d", rec.Code)
	}
	calls := f.spy.called()
	if len(calls) != 1 || calls[0].function != "catchall" || calls[0].event.PathParameters["rest"] != "a/b" {
		t.Fatalf("calls = %+v", calls)
	}
	if strings.Contains(string(calls[0].raw), partnerSecret) || calls[0].event.RequestContext.Identity.APIKeyID != "" {
		t.Errorf("a public route's event carries key material: %s", calls[0].raw)
	}
}

func TestBodyLimit(t *testing.T) {
	big := strings.Repeat("a", MaxBodyBytes+1)
	f := newFixture(t, config.CompatInquir)
	if rec := f.do("POST", "/internal/search", big, "x-api-key", internalSecret); rec.Code != 413 {
		t.Errorf("status %d, want 413", rec.Code)
	}
	// Without a key the answer is 401: the body is not even looked at.
	if rec := f.do("POST", "/internal/search", big); rec.Code != 401 {
		t.Errorf("status %d, want 401", rec.Code)
	}
	// A body of unknown length (chunked) is counted as it is read.
	req := httptest.NewRequest("POST", "/internal/search", struct{ *strings.Reader }{strings.NewReader(big)})
	req.ContentLength = -1
	req.Header.Set("x-api-key", internalSecret)
	rec := httptest.NewRecorder()
	f.gw.ServeHTTP(rec, req)
	if rec.Code != 413 {
		t.Errorf("chunked: status %d, want 413", rec.Code)
	}
	if n := len(f.spy.called()); n != 0 {
		t.Errorf("invoked %d times", n)
	}
	if rec := f.do("POST", "/internal/search", strings.Repeat("a", MaxBodyBytes), "x-api-key", internalSecret); rec.Code != 200 {
		t.Errorf("a body of exactly 6 MB: status %d, want 200", rec.Code)
	}
}

func TestResponses(t *testing.T) {
	tests := []struct {
		name    string
		answer  string
		err     error
		status  int
		body    string
		headers http.Header
	}{
		{name: "plain", answer: `{"statusCode":201,"headers":{"Content-Type":"text/plain","X-One":"1"},"body":"made"}`,
			status: 201, body: "made", headers: http.Header{"Content-Type": {"text/plain"}, "X-One": {"1"}}},
		// API Gateway sends a name in both with the multiValueHeaders values.
		{name: "multi-value headers win", answer: `{"statusCode":200,"headers":{"Set-Cookie":"c=3","X-One":"1"},"multiValueHeaders":{"set-cookie":["a=1","b=2"]},"body":""}`,
			status: 200, headers: http.Header{"Set-Cookie": {"a=1", "b=2"}, "X-One": {"1"}, "Content-Type": {"application/json"}}},
		// As the Serverless CORS guide writes them.
		{name: "boolean and number header values", answer: `{"statusCode":200,"headers":{"Access-Control-Allow-Credentials":true,"Access-Control-Max-Age":3600},"body":""}`,
			status: 200, headers: http.Header{"Access-Control-Allow-Credentials": {"true"}, "Access-Control-Max-Age": {"3600"}}},
		{name: "status code as a string", answer: `{"statusCode":"201","body":"made"}`, status: 201, body: "made"},
		{name: "no status code is 200", answer: `{"body":"x"}`, status: 200, body: "x"},
		{name: "null body", answer: `{"statusCode":204,"body":null}`, status: 204, body: ""},
		{name: "unknown key", answer: `{"statusCode":200,"cookies":["a=1"],"body":"x"}`, status: 502, body: `{"error":"function_error","message":"the function failed"}` + "\n"},
		{name: "object header value", answer: `{"statusCode":200,"headers":{"X-A":{"b":1}}}`, status: 502},
		{name: "body not a string", answer: `{"statusCode":200,"body":{"a":1}}`, status: 502},
		{name: "status code not a status", answer: `{"statusCode":"ok"}`, status: 502},
		{name: "not an object", answer: `"hello"`, status: 502},
		{name: "null", answer: `null`, status: 502},
		// No binary media types, AWS's default: the base64 text is sent
		// (binary_test.go has the decoding).
		{name: "base64 body, no binary media types", answer: `{"statusCode":200,"isBase64Encoded":true,"body":"` + base64.StdEncoding.EncodeToString([]byte{1, 2, 3}) + `"}`,
			status: 200, body: "AQID"},
		{name: "not JSON", answer: `Traceback: secret stuff at line 3`, status: 502, body: `{"error":"function_error","message":"the function failed"}` + "\n"},
		{name: "bad base64", answer: `{"statusCode":200,"isBase64Encoded":true,"body":"!!"}`, status: 502},
		{name: "handler error", err: errors.New("panic: secret stack trace"), status: 502, body: `{"error":"function_error","message":"the function failed"}` + "\n"},
		{name: "timeout", err: ErrTimeout, status: 504, body: `{"error":"function_timeout","message":"the function did not answer in time"}` + "\n"},
		{name: "busy", err: ErrBusy, status: 503, headers: http.Header{"Retry-After": {"1"}}},
		{name: "building", err: fmt.Errorf("function f: still building after 10m0s: %w", ErrBuilding), status: 503, headers: http.Header{"Retry-After": {"10"}}, body: `{"error":"function_building","message":"the function is still being built; retry"}` + "\n"},
		{name: "build failed", err: fmt.Errorf("function f: go build failed (exit status 1):\n./secret.go:1:1: undefined: x: %w", ErrBuildFailed), status: 502,
			body: `{"error":"function_build_failed","message":"the function does not build; the inquir dev log has the compiler's output"}` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, config.CompatInquir)
			f.spy.answer = func(string, []byte) ([]byte, error) { return []byte(tt.answer), tt.err }
			rec := f.do("GET", "/customers/c-1", "", "x-api-key", partnerSecret)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d", rec.Code, tt.status)
			}
			if tt.body != "" && rec.Body.String() != tt.body {
				t.Errorf("body %q, want %q", rec.Body, tt.body)
			}
			for name, want := range tt.headers {
				if diff := cmp.Diff(want, rec.Header().Values(name)); diff != "" {
					t.Errorf("header %s (-want +got):\n%s", name, diff)
				}
			}
			if strings.Contains(rec.Body.String(), "secret") {
				t.Errorf("function detail reached the caller: %s", rec.Body)
			}
		})
	}
}

func TestBuiltins(t *testing.T) {
	f := newFixture(t, config.CompatInquir)
	f.do("GET", "/customers/c-1", "")
	f.do("GET", "/customers/c-1", "", "x-api-key", unknownSecret)
	f.do("GET", "/customers/c-1", "", "x-api-key", partnerSecret)

	if rec := f.do("GET", "/_inquir/health", ""); rec.Code != 200 {
		t.Errorf("health: %d", rec.Code)
	}
	rec := f.do("GET", "/_inquir/routes", "")
	var routes []policy.RouteInfo
	if err := json.Unmarshal(rec.Body.Bytes(), &routes); err != nil || len(routes) != 4 || routes[0].Path != "/customers/{customerId}" {
		t.Errorf("routes: %v %s", err, rec.Body)
	}
	rec = f.do("GET", "//_inquir/stats", "")
	var st Stats
	if err := json.Unmarshal(rec.Body.Bytes(), &st); err != nil {
		t.Fatal(err)
	}
	want := Stats{
		Config: f.gw.Policy().ID(), Requests: 5,
		Invocations: map[string]int64{"customers": 1, "search": 0, "catchall": 0},
		Rejections:  map[string]int64{"missing_api_key": 1, "unknown_key": 1},
	}
	if diff := cmp.Diff(want, st); diff != "" {
		t.Errorf("stats (-want +got):\n%s", diff)
	}
	if rec := f.do("GET", "/_inquir/nothing", ""); rec.Code != 404 {
		t.Errorf("unknown builtin: %d", rec.Code)
	}
}

// A request finishes under the policy it started with; the next one sees
// the new policy.
func TestPolicySwapDuringRequest(t *testing.T) {
	f := newFixture(t, config.CompatInquir)
	entered, release := make(chan struct{}), make(chan struct{})
	f.spy.answer = func(string, []byte) ([]byte, error) {
		close(entered)
		<-release
		return []byte(`{"statusCode":200,"body":"done"}`), nil
	}
	// The new policy knows none of the old keys.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "fn.mjs"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	newCfg := "[functions.customers]\nruntime = \"node\"\npath = \"fn.mjs\"\n[[routes]]\nmethod = \"GET\"\npath = \"/customers/{customerId}\"\nfunction = \"customers\"\n"
	if err := os.WriteFile(filepath.Join(dir, "inquir.toml"), []byte(newCfg), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(filepath.Join(dir, "inquir.toml"))
	if err != nil {
		t.Fatal(err)
	}
	next, err := policy.Compile(cfg)
	if err != nil {
		t.Fatal(err)
	}

	inFlight := make(chan *httptest.ResponseRecorder)
	go func() { inFlight <- f.do("GET", "/customers/c-1", "", "x-api-key", partnerSecret) }()
	<-entered
	f.gw.SetPolicy(next)
	if rec := f.do("GET", "/customers/c-1", "", "x-api-key", partnerSecret); rec.Code != 401 {
		t.Errorf("a request after the swap: %d, want 401", rec.Code)
	}
	close(release)
	if rec := <-inFlight; rec.Code != 200 || rec.Body.String() != "done" {
		t.Errorf("the request under way: %d %s, want 200 done", rec.Code, rec.Body)
	}
	if n := len(f.spy.called()); n != 1 {
		t.Errorf("%d invocations, want 1", n)
	}
}
