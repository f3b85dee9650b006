package gateway

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"

	"github.com/inquir-dev/inquir/emulator/policy"
)

// v2Config serves payload 2.0 to every route but one: a keyed catch-all
// (ANY /{proxy+}, as the captures' APIs), a public root, and a 1.0 route.
const v2Config = `
[gateway]
payload = "2.0"
compat = "%s"

[keys.k]
secret = "sha256:%s"
metadata = { tenant = "acme" }

[functions.fn]
runtime = "node"
path = "fn.mjs"

[[routes]]
method = "ANY"
path = "/{proxy+}"
function = "fn"
keys = ["k"]

[[routes]]
method = "GET"
path = "/"
function = "fn"
auth = "none"
reason = "the captures' bare request"

[[routes]]
method = "GET"
path = "/rest/{id}"
function = "fn"
keys = ["k"]
payload = "1.0"
`

// v2Policy compiles v2Config under compat.
func v2Policy(t testing.TB, compat string) *policy.Policy {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "fn.mjs"), []byte("export async function handler() {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "inquir.toml")
	if err := os.WriteFile(path, fmt.Appendf(nil, v2Config, compat, sha(partnerSecret)), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := policy.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// liveV2Gateway serves v2Config on a real loopback listener and returns
// its address and its spy.
func liveV2Gateway(t *testing.T) (string, *spy) {
	t.Helper()
	s := &spy{}
	gw := New(Options{Invoker: s, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return testNow }})
	gw.SetPolicy(v2Policy(t, "inquir"))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: gw, ConnContext: ConnContext, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(PreserveHeaderCase(ln))
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String(), s
}

// awsV2Capture reads one of aws-lambda-go's published HTTP API events
// (events/testdata/apigw-v2-*.json) from the module inquir builds with,
// where the go command keeps it.
func awsV2Capture(t *testing.T, name string) map[string]any {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/aws/aws-lambda-go").Output()
	if err != nil {
		t.Fatalf("locating aws-lambda-go's module: %v", err)
	}
	b, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), "events", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// shapes maps every key path of v (keyPaths) to the kind of its value:
// string, number, bool, object, array or null. Header, query and path
// parameter maps are walked one level, their values' kinds under "*".
func shapes(v any) map[string]string {
	out := map[string]string{}
	var walk func(prefix string, v any)
	kind := func(v any) string {
		switch v.(type) {
		case string:
			return "string"
		case float64:
			return "number"
		case bool:
			return "bool"
		case map[string]any:
			return "object"
		case []any:
			return "array"
		}
		return "null"
	}
	walk = func(prefix string, v any) {
		m, ok := v.(map[string]any)
		if !ok {
			return
		}
		for k, child := range m {
			path := prefix + k
			out[path] = kind(child)
			switch path {
			case "headers", "queryStringParameters", "pathParameters", "stageVariables", "requestContext.authorizer.lambda":
				for _, value := range child.(map[string]any) {
					out[path+".*"] = kind(value)
				}
				continue
			case "cookies":
				for _, value := range child.([]any) {
					out[path+".*"] = kind(value)
				}
				continue
			}
			walk(path+".", child)
		}
	}
	walk("", v)
	return out
}

// v2Event sends raw to addr and returns the one event the spy got.
func v2Event(t *testing.T, addr string, s *spy, raw string) map[string]any {
	t.Helper()
	before := len(s.called())
	if resp := rawExchange(t, addr, raw, 1)[0]; resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	calls := s.called()
	if len(calls) != before+1 {
		t.Fatalf("%d calls, want %d", len(calls), before+1)
	}
	var got map[string]any
	if err := json.Unmarshal(calls[before].raw, &got); err != nil {
		t.Fatal(err)
	}
	return got
}

// timeV2 is requestContext.time as the captures write it, with or without
// the space before the zone (both are in aws-lambda-go's captures).
var timeV2 = regexp.MustCompile(`^\d\d/[A-Z][a-z][a-z]/\d{4}:\d\d:\d\d:\d\d ?\+0000$`)

// TestEventV2MatchesAWSCaptures sends, for each of aws-lambda-go's
// published HTTP API request events, a request of the same kind to a live
// gateway and compares the payload 2.0 event the function gets with the
// capture: the same keys at every level, each holding the same kind of
// value, and the same values wherever the request decides them. What
// differs by nature is left out of the key comparison, and why:
//   - requestContext.authentication: mutual TLS's client certificate,
//     which inquir does not do (AWS leaves it out without mTLS too);
//   - stageVariables: inquir has no stages to give variables;
//   - requestContext.authorizer's content: jwt and iam are other
//     authorizers; inquir's key comes as a Lambda authorizer's context,
//     compared with the lambda-authorizer capture's shape.
func TestEventV2MatchesAWSCaptures(t *testing.T) {
	addr, s := liveV2Gateway(t)
	skip := func(path string) bool {
		return strings.HasPrefix(path, "requestContext.authentication") || strings.HasPrefix(path, "stageVariables") ||
			strings.HasPrefix(path, "requestContext.authorizer.")
	}
	compare := func(t *testing.T, capture, got map[string]any) {
		t.Helper()
		want, have := shapes(capture), shapes(got)
		for _, m := range []map[string]string{want, have} {
			maps.DeleteFunc(m, func(path, _ string) bool { return skip(path) })
		}
		if diff := cmp.Diff(want, have); diff != "" {
			t.Errorf("event keys and kinds (-aws +inquir):\n%s", diff)
		}
		rc := got["requestContext"].(map[string]any)
		if tm, _ := rc["time"].(string); !timeV2.MatchString(tm) {
			t.Errorf("requestContext.time %q is not written as AWS writes it (%s)", tm, timeV2)
		}
		if rc["timeEpoch"] != float64(testNow.UnixMilli()) {
			t.Errorf("requestContext.timeEpoch %v, want %d", rc["timeEpoch"], testNow.UnixMilli())
		}
		if got["version"] != "2.0" || rc["stage"] != "$default" || rc["routeKey"] != got["routeKey"] {
			t.Errorf("version %v, stage %v, routeKey %v and %v; want 2.0, $default and one route key", got["version"], rc["stage"], got["routeKey"], rc["routeKey"])
		}
	}

	// The captures with an authorizer: a keyed request with cookies, a
	// repeated query value, a path parameter and a body.
	body := `{"a": 1}`
	full := "POST /hello/world?parameter1=value1&parameter1=value2&parameter2=value HTTP/1.1\r\n" +
		"Host: id.execute-api.us-east-1.amazonaws.com\r\nHeader1: value1\r\nHeader2: value1\r\nheader2: value2\r\n" +
		"Cookie: cookie1; cookie2\r\nUser-Agent: agent\r\nContent-Type: application/json\r\n" +
		"x-api-key: " + partnerSecret + "\r\n" + fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(body), body)
	got := v2Event(t, addr, s, full)
	for _, name := range []string{"apigw-v2-request-lambda-authorizer.json", "apigw-v2-request-jwt-authorizer.json", "apigw-v2-request-iam.json"} {
		t.Run(name, func(t *testing.T) {
			capture := awsV2Capture(t, name)
			compare(t, capture, got)
			for _, field := range []string{"rawQueryString", "queryStringParameters", "cookies"} {
				if diff := cmp.Diff(capture[field], got[field]); diff != "" {
					t.Errorf("%s (-aws +inquir):\n%s", field, diff)
				}
			}
			if _, ok := capture["requestContext"].(map[string]any)["authorizer"].(map[string]any); !ok {
				t.Errorf("the capture has no requestContext.authorizer object")
			}
		})
	}
	t.Run("lambda authorizer context", func(t *testing.T) {
		capture := awsV2Capture(t, "apigw-v2-request-lambda-authorizer.json")
		a := capture["requestContext"].(map[string]any)["authorizer"].(map[string]any)
		b := got["requestContext"].(map[string]any)["authorizer"].(map[string]any)
		if diff := cmp.Diff(slices.Sorted(maps.Keys(a)), slices.Sorted(maps.Keys(b))); diff != "" {
			t.Errorf("authorizer keys (-aws +inquir):\n%s", diff)
		}
		want := map[string]any{"apiKeyId": "k", "tenant": "acme"}
		if diff := cmp.Diff(want, b["lambda"]); diff != "" {
			t.Errorf("authorizer.lambda (-want +got):\n%s", diff)
		}
	})
	t.Run("request values", func(t *testing.T) {
		headers := maps.Clone(got["headers"].(map[string]any))
		delete(headers, "x-amzn-trace-id") // TestEventV2TraceID
		want := map[string]any{
			"host": "id.execute-api.us-east-1.amazonaws.com", "header1": "value1", "header2": "value1,value2",
			"user-agent": "agent", "content-type": "application/json", "content-length": fmt.Sprint(len(body)),
			"x-forwarded-for": "127.0.0.1", "x-forwarded-port": addr[strings.LastIndex(addr, ":")+1:], "x-forwarded-proto": "http",
		}
		if diff := cmp.Diff(want, headers); diff != "" {
			t.Errorf("headers (-want +got): lower case, repeated ones joined with commas, no cookie, no key:\n%s", diff)
		}
		rc := got["requestContext"].(map[string]any)
		wantHTTP := map[string]any{"method": "POST", "path": "/hello/world", "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "agent"}
		if diff := cmp.Diff(wantHTTP, rc["http"]); diff != "" {
			t.Errorf("requestContext.http (-want +got):\n%s", diff)
		}
		if got["routeKey"] != "ANY /{proxy+}" || got["rawPath"] != "/hello/world" || got["body"] != body || got["isBase64Encoded"] != false {
			t.Errorf("routeKey %v, rawPath %v, body %v, isBase64Encoded %v", got["routeKey"], got["rawPath"], got["body"], got["isBase64Encoded"])
		}
		if diff := cmp.Diff(map[string]any{"proxy": "hello/world"}, got["pathParameters"]); diff != "" {
			t.Errorf("pathParameters (-want +got):\n%s", diff)
		}
		if rc["domainName"] != "id.execute-api.us-east-1.amazonaws.com" || rc["domainPrefix"] != "id" {
			t.Errorf("domainName %v, domainPrefix %v: want the Host's", rc["domainName"], rc["domainPrefix"])
		}
		if strings.Contains(fmt.Sprint(got), partnerSecret) {
			t.Errorf("the event holds the key's secret")
		}
	})

	// The capture without one: a bare GET / on a public route.
	t.Run("apigw-v2-request-no-authorizer.json", func(t *testing.T) {
		capture := awsV2Capture(t, "apigw-v2-request-no-authorizer.json")
		bare := "GET / HTTP/1.1\r\nHost: aaaaaaaaaa.execute-api.us-west-2.amazonaws.com\r\naccept: */*\r\ncontent-length: 0\r\nuser-agent: curl/7.58.0\r\n\r\n"
		got := v2Event(t, addr, s, bare)
		compare(t, capture, got)
		ch, gh := capture["headers"].(map[string]any), got["headers"].(map[string]any)
		if diff := cmp.Diff(slices.Sorted(maps.Keys(ch)), slices.Sorted(maps.Keys(gh))); diff != "" {
			t.Errorf("header names (-aws +inquir):\n%s", diff)
		}
		if _, ok := traceRootOf(gh["x-amzn-trace-id"].(string)); !ok {
			t.Errorf("x-amzn-trace-id %v has no X-Ray Root", gh["x-amzn-trace-id"])
		}
		for _, n := range []string{"accept", "content-length", "host", "user-agent"} {
			if ch[n] != gh[n] {
				t.Errorf("header %s = %v, want %v", n, gh[n], ch[n])
			}
		}
		for _, field := range []string{"rawPath", "rawQueryString", "isBase64Encoded"} {
			if capture[field] != got[field] {
				t.Errorf("%s = %v, want %v", field, got[field], capture[field])
			}
		}
		rc, crc := got["requestContext"].(map[string]any), capture["requestContext"].(map[string]any)
		if diff := cmp.Diff(crc["http"].(map[string]any)["method"], rc["http"].(map[string]any)["method"]); diff != "" {
			t.Errorf("http.method: %s", diff)
		}
		if got["routeKey"] != "GET /" {
			t.Errorf("routeKey %v, want GET / (inquir has no $default route)", got["routeKey"])
		}
	})
}

// TestEventV2Body checks which bodies an HTTP API hands as text and which
// base64-encoded, as observed on AWS: text/*, JSON, XML and JavaScript are
// text; a form, bytes and a body without Content-Type are base64.
func TestEventV2Body(t *testing.T) {
	addr, s := liveV2Gateway(t)
	tests := []struct {
		contentType, body string
		base64            bool
	}{
		{"text/plain; charset=utf-8", "héllo", false},
		{"application/json", `{"a":1}`, false},
		{"application/xml", "<a/>", false},
		{"application/javascript", "x()", false},
		{"application/x-www-form-urlencoded", "a=1&b=2", true},
		{"application/octet-stream", "\x00\x01", true},
		{"", "abc", true},
		{"image/png", "\x89PNG", true},
	}
	for _, tt := range tests {
		t.Run(tt.contentType, func(t *testing.T) {
			ct := ""
			if tt.contentType != "" {
				ct = "Content-Type: " + tt.contentType + "\r\n"
			}
			got := v2Event(t, addr, s, "POST /up HTTP/1.1\r\nHost: h\r\nx-api-key: "+partnerSecret+"\r\n"+ct+
				fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(tt.body), tt.body))
			want := tt.body
			if tt.base64 {
				want = base64.StdEncoding.EncodeToString([]byte(tt.body))
			}
			if got["body"] != want || got["isBase64Encoded"] != tt.base64 {
				t.Errorf("body %q, isBase64Encoded %v; want %q, %v", got["body"], got["isBase64Encoded"], want, tt.base64)
			}
		})
	}
	t.Run("no body", func(t *testing.T) {
		got := v2Event(t, addr, s, "POST /up HTTP/1.1\r\nHost: h\r\nx-api-key: "+partnerSecret+"\r\nContent-Length: 0\r\n\r\n")
		if _, ok := got["body"]; ok || got["isBase64Encoded"] != false {
			t.Errorf("body %v, isBase64Encoded %v; want no body, false", got["body"], got["isBase64Encoded"])
		}
	})
}

// TestPayloadPerRoute checks that a route's own payload wins over
// [gateway]'s: the 1.0 route gets a REST API's event.
func TestPayloadPerRoute(t *testing.T) {
	addr, s := liveV2Gateway(t)
	got := v2Event(t, addr, s, "GET /rest/7?a=1&a=2 HTTP/1.1\r\nHost: h\r\nx-api-key: "+partnerSecret+"\r\n\r\n")
	if _, v2 := got["version"]; v2 || got["resource"] != "/rest/{id}" || got["multiValueQueryStringParameters"] == nil {
		t.Errorf("the 1.0 route got %v; want a REST API's event", got)
	}
	got = v2Event(t, addr, s, "GET /a?a=1&a=2 HTTP/1.1\r\nHost: h\r\nx-api-key: "+partnerSecret+"\r\n\r\n")
	if got["version"] != "2.0" || got["rawQueryString"] != "a=1&a=2" {
		t.Errorf("the 2.0 route got %v; want an HTTP API's event", got)
	}
	if diff := cmp.Diff(map[string]any{"a": "1,2"}, got["queryStringParameters"]); diff != "" {
		t.Errorf("queryStringParameters (-want +got):\n%s", diff)
	}
}

// TestTypedEventV2MatchesJSON holds the event a go-plugin function gets as
// a value equal to what aws-lambda-go decodes from the event's JSON.
func TestTypedEventV2MatchesJSON(t *testing.T) {
	addr, s := liveV2Gateway(t)
	raw := "POST /x/y?q=1&q=2&r HTTP/1.1\r\nHost: api.example:8080\r\nCookie: a=1; b=2\r\nX-Multi: 1\r\nX-Multi: 2\r\n" +
		"x-api-key: " + partnerSecret + "\r\nContent-Length: 3\r\n\r\nabc"
	v2Event(t, addr, s, raw)
	calls := s.called()
	var fromJSON events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(calls[len(calls)-1].raw, &fromJSON); err != nil {
		t.Fatal(err)
	}
	var ev eventV2
	if err := json.Unmarshal(calls[len(calls)-1].raw, &ev); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&fromJSON, ev.typed()); diff != "" {
		t.Errorf("typed event (-json +typed):\n%s", diff)
	}
	if fromJSON.RequestContext.Authorizer == nil || fromJSON.RequestContext.Authorizer.Lambda["apiKeyId"] != "k" {
		t.Errorf("authorizer %+v; want lambda.apiKeyId k", fromJSON.RequestContext.Authorizer)
	}
}

// TestLambdaAuthorizerContext checks the one function that turns an
// authorizer's context into requestContext.authorizer: a Lambda
// authorizer's simple-response context, of any JSON values, is handed on
// as it is under "lambda", as inquir's key context is.
func TestLambdaAuthorizerContext(t *testing.T) {
	ctx := map[string]any{"user": "u1", "admin": true, "n": 3.0, "roles": []any{"a"}}
	b, err := json.Marshal(lambdaAuthorizer(ctx))
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"lambda":{"admin":true,"n":3,"roles":["a"],"user":"u1"}}`; string(b) != want {
		t.Errorf("authorizer %s, want %s", b, want)
	}
	if lambdaAuthorizer(nil) != nil {
		t.Errorf("no context gave an authorizer")
	}
	k := &policy.Key{ID: "partner", Metadata: map[string]string{"tenant": "acme"}}
	if diff := cmp.Diff(map[string]any{"apiKeyId": "partner", "tenant": "acme"}, keyContext(k)); diff != "" {
		t.Errorf("key context (-want +got):\n%s", diff)
	}
}

// TestEventV2AuthorizerContext checks that a payload 2.0 route's Lambda
// authorizer's context reaches the function in
// requestContext.authorizer.lambda with the JSON types it was written
// with, beside the key's id and metadata, whose apiKeyId the authorizer
// cannot change.
func TestEventV2AuthorizerContext(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "fn.mjs"), []byte("export async function handler() {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	toml := `
[gateway]
payload = "2.0"

[keys.k]
secret = "sha256:` + sha(partnerSecret) + `"
metadata = { tenant = "acme" }

[authorizers.simple]
function = "auth"
type = "request"
identity_sources = ["header.Authorization"]
simple_responses = true
ttl = "0"

[functions.auth]
runtime = "node"
path = "fn.mjs"

[functions.fn]
runtime = "node"
path = "fn.mjs"

[[routes]]
method = "GET"
path = "/orders"
function = "fn"
keys = ["k"]
authorizer = "simple"
`
	if err := os.WriteFile(filepath.Join(dir, "inquir.toml"), []byte(toml), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := policy.Load(filepath.Join(dir, "inquir.toml"))
	if err != nil {
		t.Fatal(err)
	}
	s := &spy{answer: func(function string, event []byte) ([]byte, error) {
		if function == "auth" {
			return []byte(`{"isAuthorized":true,"context":{"user":"u-1","admin":false,"n":7,"apiKeyId":"forged"}}`), nil
		}
		return []byte(`{"statusCode":200,"body":"ok"}`), nil
	}}
	gw := New(Options{Invoker: s, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return testNow }})
	gw.SetPolicy(p)
	rec := serve(gw, "GET", "/orders", "x-api-key", partnerSecret, "Authorization", "Bearer t")
	calls := s.called()
	if rec.Code != 200 || len(calls) != 2 || calls[1].function != "fn" {
		t.Fatalf("%d %s, calls %v", rec.Code, rec.Body, calls)
	}
	var ev map[string]any
	if err := json.Unmarshal(calls[1].raw, &ev); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"apiKeyId": "k", "tenant": "acme", "user": "u-1", "admin": false, "n": float64(7)}
	if diff := cmp.Diff(want, ev["requestContext"].(map[string]any)["authorizer"].(map[string]any)["lambda"]); diff != "" {
		t.Errorf("requestContext.authorizer.lambda (-want +got):\n%s", diff)
	}
}

// traceInvoker records the trace id the gateway hands it with each event.
type traceInvoker struct {
	traces, events []string
}

func (ti *traceInvoker) Invoke(ctx context.Context, function string, event []byte) ([]byte, error) {
	var ev struct {
		Headers map[string]string `json:"headers"`
	}
	if err := json.Unmarshal(event, &ev); err != nil {
		return nil, err
	}
	ti.traces = append(ti.traces, TraceID(ctx))
	ti.events = append(ti.events, ev.Headers["x-amzn-trace-id"])
	return []byte(`{"statusCode":200}`), nil
}

// TestEventV2TraceID checks that a payload 2.0 event's x-amzn-trace-id
// names the trace the Invoker is handed (the Root of the function's
// Lambda-Runtime-Trace-Id), as for payload 1.0: a new one, or the
// client's when its Root is well formed.
func TestEventV2TraceID(t *testing.T) {
	ti := &traceInvoker{}
	gw := New(Options{Invoker: ti, Now: func() time.Time { return testNow }})
	gw.SetPolicy(v2Policy(t, "inquir"))
	const sent = "Root=1-5f2330a4-6a0de1cd0e17c0508d386a64;Parent=53995c3f42cd8ad8;Sampled=1"
	serve(gw, "GET", "/a", "x-api-key", partnerSecret)
	serve(gw, "GET", "/a", "x-api-key", partnerSecret, "X-Amzn-Trace-Id", sent)
	serve(gw, "GET", "/a", "x-api-key", partnerSecret, "X-Amzn-Trace-Id", "Root=bogus")
	if len(ti.traces) != 3 {
		t.Fatalf("%d invocations", len(ti.traces))
	}
	for i, root := range ti.traces {
		if _, ok := traceRootOf("Root=" + root); !ok {
			t.Errorf("call %d: trace id %q is not an X-Ray id", i, root)
		}
	}
	if ti.events[0] != "Root="+ti.traces[0] || ti.events[2] != "Root="+ti.traces[2] {
		t.Errorf("x-amzn-trace-id %q, %q; want Root= the invoker's %q, %q", ti.events[0], ti.events[2], ti.traces[0], ti.traces[2])
	}
	if ti.events[1] != sent || ti.traces[1] != "1-5f2330a4-6a0de1cd0e17c0508d386a64" {
		t.Errorf("the client's trace: event %q, invoker %q; want it kept", ti.events[1], ti.traces[1])
	}
}
