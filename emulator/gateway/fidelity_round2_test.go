package gateway

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/inquir-dev/inquir/emulator/config"
)

// Issue 21: the event as AWS's captures show it, AWS's error bodies and
// binary media types.

// withGateway is testConfig(compat) with extra lines in its [gateway].
func withGateway(compat, extra string) string {
	return strings.Replace(testConfig(compat), "[gateway]\n", "[gateway]\n"+extra+"\n", 1)
}

// TestQuerySemicolonSplits: API Gateway splits the query on ";" as on "&"
// (AWS's "important notes for REST APIs"), in both maps.
func TestQuerySemicolonSplits(t *testing.T) {
	f := newFixture(t, config.CompatInquir)
	if rec := f.do("GET", "/customers/c-1?a=1;b=2&a=3;c", "", "x-api-key", partnerSecret); rec.Code != 200 {
		t.Fatalf("status %d", rec.Code)
	}
	ev := f.spy.called()[0].event
	if diff := cmp.Diff(map[string]string{"a": "3", "b": "2", "c": ""}, ev.QueryStringParameters); diff != "" {
		t.Errorf("queryStringParameters (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string][]string{"a": {"1", "3"}, "b": {"2"}, "c": {""}}, ev.MultiValueQueryStringParameters); diff != "" {
		t.Errorf("multiValueQueryStringParameters (-want +got):\n%s", diff)
	}
	// Encoded, it is part of a value.
	if rec := f.do("GET", "/customers/c-1?q=abcd%3B20", "", "x-api-key", partnerSecret); rec.Code != 200 {
		t.Fatalf("status %d", rec.Code)
	}
	if got := f.spy.called()[1].event.QueryStringParameters["q"]; got != "abcd;20" {
		t.Errorf("q = %q, want abcd;20", got)
	}
}

// TestForwardedHeaders: the headers API Gateway adds, in headers and
// multiValueHeaders, after what the client sent, and the trace id handed
// to the Invoker is the event's X-Amzn-Trace-Id Root.
func TestForwardedHeaders(t *testing.T) {
	addr, s := liveGateway(t)
	_, port, _ := net.SplitHostPort(addr)
	key := "x-api-key: " + partnerSecret + "\r\n"
	raw := "GET /one HTTP/1.1\r\nHost: h\r\n" + key + "\r\n" +
		"GET /two HTTP/1.1\r\nHost: h\r\n" + key + "x-forwarded-for: 203.0.113.7\r\nX-Forwarded-Proto: https\r\nx-forwarded-port: 443\r\n" +
		"X-Amzn-Trace-Id: Root=1-5f2330a4-6a0de1cd0e17c0508d386a64;Sampled=1\r\n\r\n" +
		"GET /three HTTP/1.1\r\nHost: h\r\n" + key + "X-Amzn-Trace-Id: Root=not-a-trace\r\n\r\n"
	calls := allServed(t, addr, raw, s, 3, 3)
	tests := []struct {
		name        string
		xff         string
		traceSent   string // the X-Amzn-Trace-Id the event must keep, or "" for a new one
		clientNames []string
	}{
		{"none sent", "127.0.0.1", "", nil},
		{"the client's own", "203.0.113.7, 127.0.0.1", "Root=1-5f2330a4-6a0de1cd0e17c0508d386a64;Sampled=1", []string{"x-forwarded-for", "x-forwarded-port"}},
		{"a malformed trace id", "127.0.0.1", "", nil},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ev struct {
				Headers           map[string]string   `json:"headers"`
				MultiValueHeaders map[string][]string `json:"multiValueHeaders"`
			}
			if err := json.Unmarshal(calls[i].raw, &ev); err != nil {
				t.Fatal(err)
			}
			want := map[string]string{"X-Forwarded-For": tt.xff, "X-Forwarded-Port": port, "X-Forwarded-Proto": "http"}
			for name, v := range want {
				if ev.Headers[name] != v || !cmp.Equal(ev.MultiValueHeaders[name], []string{v}) {
					t.Errorf("%s: headers %q, multiValueHeaders %q; want %q", name, ev.Headers[name], ev.MultiValueHeaders[name], v)
				}
			}
			for _, n := range tt.clientNames {
				if _, ok := ev.Headers[n]; ok {
					t.Errorf("the client's %s is there beside API Gateway's", n)
				}
			}
			trace := ev.Headers["X-Amzn-Trace-Id"]
			switch {
			case tt.traceSent != "" && trace != tt.traceSent:
				t.Errorf("X-Amzn-Trace-Id = %q, want the client's %q", trace, tt.traceSent)
			case tt.traceSent == "" && !traceShape.MatchString(trace):
				t.Errorf("X-Amzn-Trace-Id = %q, want a new Root", trace)
			}
			if root, _ := traceRootOf(trace); calls[i].trace == "" || root != calls[i].trace {
				t.Errorf("the Invoker was handed trace id %q, the event says %q", calls[i].trace, trace)
			}
		})
	}
	if calls[0].trace == calls[2].trace {
		t.Errorf("two requests share trace id %s", calls[0].trace)
	}
}

// TestRefusedQueryCharacters: an unencoded |, { or } in the query is
// answered 400 before anything runs, as API Gateway refuses it;
// encoded, it reaches the function.
func TestRefusedQueryCharacters(t *testing.T) {
	for _, compat := range []string{config.CompatInquir, config.CompatAWS} {
		addr, s := liveGatewayConfig(t, withGateway(compat, ""))
		for _, target := range []string{"/customers/c-1?a=|", "/customers/c-1?filter={x}", "/customers/c-1?a=}", "/nowhere?a=|"} {
			t.Run(compat+target, func(t *testing.T) {
				status, body := rawRequest(t, addr, "GET", target, "x-api-key", partnerSecret)
				if status != http.StatusBadRequest {
					t.Fatalf("status %d %v, want 400", status, body)
				}
				if compat == config.CompatAWS && !cmp.Equal(body, map[string]string{"message": "Bad Request"}) {
					t.Errorf("body %v, want AWS's", body)
				}
				if compat == config.CompatInquir && body["error"] != "bad_request" {
					t.Errorf("body %v, want bad_request", body)
				}
				if n := len(s.called()); n != 0 {
					t.Fatalf("the function ran %d times", n)
				}
			})
		}
		status, _ := rawRequest(t, addr, "GET", "/customers/c-1?a=%7C&b=%7Bx%7D", "x-api-key", partnerSecret)
		calls := s.called()
		if status != 200 || len(calls) != 1 || calls[0].event.QueryStringParameters["b"] != "{x}" {
			t.Errorf("encoded: status %d, calls %d", status, len(calls))
		}
	}
}

// liveGatewayConfig serves toml (testConfig's shape, naming fn.mjs) on a
// loopback listener; see liveGateway.
func liveGatewayConfig(t *testing.T, toml string) (string, *spy) {
	t.Helper()
	f := newFixtureConfig(t, toml)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: f.gw, ConnContext: ConnContext}
	go srv.Serve(PreserveHeaderCase(ln))
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String(), f.spy
}

// TestAWSGatewayResponses: under compat = "aws", what the gateway answers
// itself reads as API Gateway's default gateway responses; under
// compat = "inquir", as inquir's own (TestResponses).
func TestAWSGatewayResponses(t *testing.T) {
	big := strings.Repeat("x", MaxBodyBytes+1)
	tests := []struct {
		name   string
		answer string
		err    error
		target string
		body   string
		status int
		want   string
	}{
		{name: "handler error", err: errors.New("boom"), status: 502, want: `{"message":"Internal server error"}`},
		{name: "malformed response", answer: `{"statusCode":200,"cookies":["a=1"]}`, status: 502, want: `{"message":"Internal server error"}`},
		{name: "not JSON", answer: `Traceback`, status: 502, want: `{"message":"Internal server error"}`},
		{name: "build failed", err: ErrBuildFailed, status: 502, want: `{"message":"Internal server error"}`},
		{name: "timeout", err: ErrTimeout, status: 504, want: `{"message":"Endpoint request timed out"}`},
		{name: "busy", err: ErrBusy, status: 503, want: `{"message":"Service Unavailable"}`},
		{name: "body too large", body: big, status: 413, want: `{"message":"Request Too Long"}`},
		{name: "encoded slash", target: "/customers/a%2F..%2F..%2Finternal%2Fsearch", status: 400, want: `{"message":"Bad Request"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, config.CompatAWS)
			f.spy.answer = func(string, []byte) ([]byte, error) { return []byte(tt.answer), tt.err }
			target := tt.target
			if target == "" {
				target = "/customers/c-1"
			}
			method := "GET"
			if tt.body != "" {
				method = "PUT"
			}
			rec := f.do(method, target, tt.body, "x-api-key", partnerSecret)
			if rec.Code != tt.status || rec.Body.String() != tt.want+"\n" {
				t.Fatalf("got %d %q, want %d %s", rec.Code, rec.Body, tt.status, tt.want)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			if (tt.body != "" || tt.target != "") && len(f.spy.called()) != 0 {
				t.Errorf("a refused request ran the function")
			}
		})
	}
}

// TestBinaryMediaTypes: a response with isBase64Encoded is decoded only
// when the request's first Accept type is a binary media type, and a
// request body whose Content-Type is one reaches the function base64.
func TestBinaryMediaTypes(t *testing.T) {
	png := []byte("\x89PNG\r\n\x1a\n\x00\x01")
	answer := `{"statusCode":200,"headers":{"Content-Type":"image/png"},"isBase64Encoded":true,"body":"` + base64.StdEncoding.EncodeToString(png) + `"}`
	responses := []struct {
		name, types, accept string
		decoded             bool
	}{
		{"no binary media types", "", "image/png", false},
		{"first Accept type matches", `"image/png"`, "image/png, */*", true},
		{"a later Accept type matches", `"image/png"`, "text/html, image/png", false},
		{"no Accept", `"image/png"`, "", false},
		{"a wildcard type", `"image/*"`, "IMAGE/PNG;q=0.9", true},
		{"*/* matches all", `"*/*"`, "application/octet-stream", true},
	}
	for _, tt := range responses {
		t.Run("response/"+tt.name, func(t *testing.T) {
			f := newFixtureConfig(t, withGateway(config.CompatInquir, "binary_media_types = ["+tt.types+"]"))
			f.spy.answer = func(string, []byte) ([]byte, error) { return []byte(answer), nil }
			rec := f.do("GET", "/customers/c-1", "", "x-api-key", partnerSecret, "Accept", tt.accept)
			want := base64.StdEncoding.EncodeToString(png)
			if tt.decoded {
				want = string(png)
			}
			if rec.Code != 200 || rec.Body.String() != want {
				t.Errorf("got %d %q, want %q", rec.Code, rec.Body, want)
			}
		})
	}

	requests := []struct {
		name, types, contentType, body string
		b64                            bool
	}{
		{"text, no binary types", "", "image/png", "hello", false},
		{"content type matches", `"image/png"`, "image/png", "hello", true},
		{"content type with parameters matches", `"application/octet-stream"`, "Application/Octet-Stream; x=1", "hello", true},
		{"content type does not match", `"image/png"`, "text/plain", "hello", false},
		{"*/* makes every body binary", `"*/*"`, "application/json", `{"a":1}`, true},
		{"not UTF-8 travels base64 anyway", "", "text/plain", "\xff\xfe", true},
	}
	for _, tt := range requests {
		t.Run("request/"+tt.name, func(t *testing.T) {
			f := newFixtureConfig(t, withGateway(config.CompatInquir, "binary_media_types = ["+tt.types+"]"))
			if rec := f.do("PUT", "/customers/c-1", tt.body, "x-api-key", partnerSecret, "Content-Type", tt.contentType); rec.Code != 200 {
				t.Fatalf("status %d", rec.Code)
			}
			ev := f.spy.called()[0].event
			want := tt.body
			if tt.b64 {
				want = base64.StdEncoding.EncodeToString([]byte(tt.body))
			}
			if ev.IsBase64Encoded != tt.b64 || ev.Body != want {
				t.Errorf("body %q isBase64Encoded %v, want %q %v", ev.Body, ev.IsBase64Encoded, want, tt.b64)
			}
		})
	}
}

// TestEventMatchesAWSAddedHeaders holds the headers inquir adds to the
// ones API Gateway adds in aws-lambda-go's capture of a REST API request
// (apigw-custom-auth-request-type-request.json, whose headers API Gateway
// builds as it builds a proxy event's): every one there is here.
func TestEventMatchesAWSAddedHeaders(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "aws-lambda-go-apigw-custom-auth-request-type-request.json"))
	if err != nil {
		t.Fatal(err)
	}
	var capture struct {
		Headers map[string]string `json:"headers"`
	}
	if err := json.Unmarshal(b, &capture); err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, config.CompatInquir)
	if rec := f.do("GET", "/customers/c-1", "", "x-api-key", partnerSecret); rec.Code != 200 {
		t.Fatalf("status %d", rec.Code)
	}
	ev := f.spy.called()[0].event
	for name := range addedByAWS {
		if _, ok := capture.Headers[name]; !ok {
			t.Fatalf("the capture has no %s: addedByAWS is wrong", name)
		}
		if ev.Headers[name] == "" || len(ev.MultiValueHeaders[name]) != 1 {
			t.Errorf("the event has no %s: %v", name, ev.Headers)
		}
	}
}
