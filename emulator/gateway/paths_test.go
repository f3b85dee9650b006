package gateway

import (
	"bufio"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/inquir-dev/inquir/emulator/policy"
)

// overlapConfig is issue 9's overlapping routes (fixtures/overlap): a
// partner greedy route whose prefix is an admin route's, and an ANY partner
// route beside a GET admin route on one path, all to one function. Its keys
// are partnerSecret and internalSecret.
const overlapConfig = "../../fixtures/overlap/inquir.toml"

// overlapPolicy compiles overlapConfig, its secrets set in the environment.
func overlapPolicy(t testing.TB) *policy.Policy {
	t.Helper()
	t.Setenv("INQUIR_OVERLAP_PARTNER", partnerSecret)
	t.Setenv("INQUIR_OVERLAP_ADMIN", internalSecret)
	p, err := policy.Load(overlapConfig)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// serveOverlap runs a gateway over overlapConfig on a real loopback listener.
func serveOverlap(t *testing.T) (addr string, s *spy) {
	t.Helper()
	s = &spy{}
	gw := New(Options{Invoker: s, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return testNow }})
	gw.SetPolicy(overlapPolicy(t))
	srv := httptest.NewServer(gw)
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String(), s
}

// rawRequest sends a request line and headers exactly as given, so that the
// method and path reach the server as an attacker spells them.
func rawRequest(t *testing.T, addr, method, target string, header ...string) (int, map[string]string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	var b strings.Builder
	b.WriteString(method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n")
	for i := 0; i+1 < len(header); i += 2 {
		b.WriteString(header[i] + ": " + header[i+1] + "\r\n")
	}
	b.WriteString("\r\n")
	if _, err := io.WriteString(conn, b.String()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: method})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body := map[string]string{}
	raw, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(raw, &body)
	return resp.StatusCode, body
}

// TestEncodedReservedCharactersAreRefused is fault 1 of issue 9: a partner
// key must not get the function to run with a path that the admins' route
// guards, however the path is encoded; escapes that cannot change routing
// still reach the function, with their encoding kept.
func TestEncodedReservedCharactersAreRefused(t *testing.T) {
	addr, s := serveOverlap(t)
	refused := []string{
		"/api/admin%2Fusers",
		"/api/admin%2fusers",
		"/api/x%2F..%2Fadmin%2Fusers",
		"/api/x/..%2Fadmin%2Fusers",
		"/api/admin%5Cusers",
		"/api/admin%5cusers",
		"/api/x%5C..%5Cadmin%5Cusers",
		"/api/admin;x=1/users",
		"/api/admin%3Bx/users",
		"/api/x%2F..%2F..%2Freports",
		"/api/x%2F..%2F..%2F_inquir%2Fstats",
		"/items/a%2Fb",
	}
	for _, target := range refused {
		t.Run(target, func(t *testing.T) {
			before := len(s.called())
			status, body := rawRequest(t, addr, "GET", target, "x-api-key", partnerSecret)
			if status != http.StatusBadRequest || body["error"] != "bad_request" || body["message"] == "" {
				t.Fatalf("GET %s with the partner key: %d %v, want 400 bad_request", target, status, body)
			}
			if n := len(s.called()) - before; n != 0 {
				t.Fatalf("GET %s was refused but invoked the function %d times", target, n)
			}
		})
	}

	// Escapes that route the same way, decoded or not, are passed on as
	// API Gateway REST passes them: as sent, percent-encoding and a
	// trailing slash kept. A path whose folding dropped segments (dot
	// segments in any spelling, empty ones) is handed over folded: a
	// framework must not read /api/x/../orders as anything but /api/orders.
	passed := []struct{ target, path, proxy string }{
		{"/api/orders/a%25b", "/api/orders/a%25b", "orders/a%25b"},
		{"/api/orders/a%20b", "/api/orders/a%20b", "orders/a%20b"},
		{"/api/orders/%61bc", "/api/orders/%61bc", "orders/%61bc"},
		{"/api/orders/a%7Eb", "/api/orders/a%7Eb", "orders/a%7Eb"},
		{"/api/orders/abc/", "/api/orders/abc/", "orders/abc"},
		{"/api/x/../orders/abc", "/api/orders/abc", "orders/abc"},
		{"/api//orders/abc", "/api/orders/abc", "orders/abc"},
		{"/api/x/%2E%2E/orders/abc", "/api/orders/abc", "orders/abc"},
		{"/api/orders/us-east-1%3Aaf33", "/api/orders/us-east-1%3Aaf33", "orders/us-east-1%3Aaf33"},
		{"/api/orders%2Fx", "/api/orders%2Fx", "orders%2Fx"},
		{"/api/a%40b/c%2B", "/api/a%40b/c%2B", "a%40b/c%2B"},
	}
	for _, tt := range passed {
		t.Run(tt.target, func(t *testing.T) {
			before := len(s.called())
			status, body := rawRequest(t, addr, "GET", tt.target, "x-api-key", partnerSecret)
			calls := s.called()
			if status != http.StatusOK || len(calls) != before+1 {
				t.Fatalf("GET %s with the partner key: %d %v, want the function's 200", tt.target, status, body)
			}
			ev := calls[len(calls)-1].event
			if ev.Resource != "/api/{proxy+}" || ev.Path != tt.path || ev.PathParameters["proxy"] != tt.proxy || ev.RequestContext.Path != tt.path {
				t.Errorf("event: resource %q path %q requestContext.path %q pathParameters %v; want path %q, proxy %q",
					ev.Resource, ev.Path, ev.RequestContext.Path, ev.PathParameters, tt.path, tt.proxy)
			}
		})
	}
}

// TestMethodSpellingPicksNoWeakerRoute is fault 2 of issue 9: with GET
// /reports for admins and ANY /reports for partners, no spelling of GET
// gets a partner key to the function.
func TestMethodSpellingPicksNoWeakerRoute(t *testing.T) {
	addr, s := serveOverlap(t)
	tests := []struct {
		name, method string
		header       []string
		status       int
	}{
		{"GET", "GET", nil, http.StatusForbidden},
		{"lower-case get", "get", nil, http.StatusBadRequest},
		{"mixed-case Get", "Get", nil, http.StatusBadRequest},
		{"HEAD is authorised as GET", "HEAD", nil, http.StatusForbidden},
		{"POST overridden to GET", "POST", []string{"X-HTTP-Method-Override", "GET"}, http.StatusBadRequest},
		{"POST overridden to get", "POST", []string{"X-HTTP-Method", "get"}, http.StatusBadRequest},
		{"POST overridden to HEAD", "POST", []string{"X-Method-Override", "HEAD"}, http.StatusBadRequest},
		{"POST overridden to a list", "POST", []string{"X-HTTP-Method-Override", "PUT, GET"}, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(s.called())
			status, body := rawRequest(t, addr, tt.method, "/reports", append([]string{"x-api-key", partnerSecret}, tt.header...)...)
			if status != tt.status {
				t.Fatalf("%s /reports with the partner key: %d %v, want %d", tt.method, status, body, tt.status)
			}
			if n := len(s.called()) - before; n != 0 {
				t.Fatalf("%s /reports was refused but invoked the function %d times", tt.method, n)
			}
		})
	}

	// What the partner route does answer still reaches the function, and
	// the admin key gets GET and HEAD.
	allowed := []struct {
		name, method, secret string
		header               []string
		route                string
	}{
		{"partner POST", "POST", partnerSecret, nil, "/reports"},
		{"partner POST overridden to PUT", "POST", partnerSecret, []string{"X-HTTP-Method-Override", "PUT"}, "/reports"},
		{"admin GET", "GET", internalSecret, nil, "/reports"},
		{"admin HEAD", "HEAD", internalSecret, nil, "/reports"},
	}
	for _, tt := range allowed {
		t.Run(tt.name, func(t *testing.T) {
			before := len(s.called())
			status, body := rawRequest(t, addr, tt.method, "/reports", append([]string{"x-api-key", tt.secret}, tt.header...)...)
			calls := s.called()
			if status != http.StatusOK || len(calls) != before+1 {
				t.Fatalf("%s /reports: %d %v, want the function's 200", tt.method, status, body)
			}
			if ev := calls[len(calls)-1].event; ev.HTTPMethod != tt.method || ev.Resource != tt.route {
				t.Errorf("event: httpMethod %q resource %q, want %q %q", ev.HTTPMethod, ev.Resource, tt.method, tt.route)
			}
		})
	}
}

// rawRequestBody is rawRequest with a body, sent whole with its length.
func rawRequestBody(t *testing.T, addr, method, target, body string, header ...string) (int, map[string]string) {
	t.Helper()
	header = append(header, "Content-Length", strconv.Itoa(len(body)))
	conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	var b strings.Builder
	b.WriteString(method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n")
	for i := 0; i+1 < len(header); i += 2 {
		b.WriteString(header[i] + ": " + header[i+1] + "\r\n")
	}
	b.WriteString("\r\n" + body)
	if _, err := io.WriteString(conn, b.String()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: method})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]string{}
	raw, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, out
}

// TestMethodOverrideSpellingsAreRefused is fault C of issue 22: with GET
// /reports for admins and ANY /reports for partners, a partner's POST
// must not carry GET in any spelling a framework behind the gateway reads
// as the method: the override headers spelled with "_" (CGI, WSGI and PHP
// read X_HTTP_METHOD_OVERRIDE as X-HTTP-Method-Override), _method in the
// query string (Symfony, Laravel, Express's method-override) or in a form
// body (Laravel, Symfony, Rails). Each is refused as the dashed headers
// are, with the function not run; an override the ANY route itself
// answers, and look-alikes, still reach it.
func TestMethodOverrideSpellingsAreRefused(t *testing.T) {
	addr, s := serveOverlap(t)
	const form = "application/x-www-form-urlencoded"
	multipart := func(name, value string) string {
		return "--b0undary\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n\r\n" + value + "\r\n--b0undary--\r\n"
	}
	tests := []struct {
		name, target, body string
		header             []string
		refused            bool
	}{
		{"X_HTTP_METHOD_OVERRIDE", "/reports", "", []string{"X_HTTP_METHOD_OVERRIDE", "GET"}, true},
		{"x_http_method_override in lower case", "/reports", "", []string{"x_http_method_override", "get"}, true},
		{"X-HTTP_Method-Override mixed", "/reports", "", []string{"X-HTTP_Method-Override", "GET"}, true},
		{"X_HTTP_METHOD", "/reports", "", []string{"X_HTTP_METHOD", "GET"}, true},
		{"X_METHOD_OVERRIDE", "/reports", "", []string{"X_METHOD_OVERRIDE", "HEAD"}, true},
		{"?_method=GET", "/reports?_method=GET", "", nil, true},
		{"?_method=get", "/reports?_method=get", "", nil, true},
		{"_method after another parameter", "/reports?page=2&_method=GET", "", nil, true},
		{"_method after a semicolon", "/reports?page=2;_method=GET", "", nil, true},
		{"?_METHOD=GET", "/reports?_METHOD=GET", "", nil, true},
		{"the name percent-encoded", "/reports?%5Fmethod=GET", "", nil, true},
		{"the value percent-encoded", "/reports?_method=G%45T", "", nil, true},
		{"as an array", "/reports?_method[]=GET", "", nil, true},
		{"PHP's dot for underscore", "/reports?.method=GET", "", nil, true},
		{"a form body", "/reports", "_method=GET", []string{"Content-Type", form}, true},
		{"a form body, later field", "/reports", "a=1&b=2&_method=GET", []string{"Content-Type", form + "; charset=UTF-8"}, true},
		{"a form body, padded", "/reports", "pad=" + strings.Repeat("x", 200<<10) + "&_method=GET", []string{"Content-Type", form}, true},
		{"a body with no content type (Rack reads it as a form)", "/reports", "_method=GET", nil, true},
		{"a multipart form", "/reports", multipart("_method", "GET"), []string{"Content-Type", "multipart/form-data; boundary=b0undary"}, true},

		{"an override the ANY route answers", "/reports?_method=PUT", "_method=DELETE", []string{"Content-Type", form, "X_HTTP_METHOD_OVERRIDE", "PATCH"}, false},
		{"look-alike names", "/reports?x_method=GET&_methods=GET&q=_method%3DGET", "method=GET&__method=GET", []string{"Content-Type", form, "X_HTTP_METHOD_OVERRIDES", "GET"}, false},
		{"a JSON body", "/reports", `{"_method":"GET"}`, []string{"Content-Type", "application/json"}, false},
		{"a multipart form without _method", "/reports", multipart("_methodx", "GET"), []string{"Content-Type", "multipart/form-data; boundary=b0undary"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(s.called())
			status, body := rawRequestBody(t, addr, "POST", tt.target, tt.body, append([]string{"x-api-key", partnerSecret}, tt.header...)...)
			ran := len(s.called()) - before
			switch {
			case tt.refused && (status != http.StatusBadRequest || body["error"] != "bad_request" || !strings.Contains(body["message"], "names a method another route serves")):
				t.Fatalf("POST %s: %d %v, want 400 bad_request", tt.target, status, body)
			case tt.refused && ran != 0:
				t.Fatalf("POST %s was refused but invoked the function %d times", tt.target, ran)
			case !tt.refused && (status != http.StatusOK || ran != 1):
				t.Fatalf("POST %s: %d %v, invoked %d times; want the function's 200", tt.target, status, body, ran)
			}
		})
	}
}
