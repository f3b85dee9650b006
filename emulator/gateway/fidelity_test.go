package gateway

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"

	"github.com/inquir-dev/inquir/emulator/config"
	"github.com/inquir-dev/inquir/emulator/policy"
)

// proxyConfig serves every path to one function, for a key, as the
// aws-lambda-go sample's API does (ANY /{proxy+}).
const proxyConfig = `
[keys.k]
secret = "sha256:` + "%s" + `"

[functions.fn]
runtime = "node"
path = "fn.mjs"

[[routes]]
method = "ANY"
path = "/{proxy+}"
function = "fn"
keys = ["k"]
`

// liveGateway serves a gateway for proxyConfig on a real loopback
// listener, as inquir dev does (header names kept as sent), and returns
// its address and its spy.
func liveGateway(t *testing.T) (addr string, s *spy) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "fn.mjs"), []byte("export async function handler() {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "inquir.toml")
	if err := os.WriteFile(path, []byte(fmt.Sprintf(proxyConfig, sha(partnerSecret))), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := policy.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	s = &spy{}
	gw := New(Options{Invoker: s, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	gw.SetPolicy(p)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: gw, ConnContext: ConnContext, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(PreserveHeaderCase(ln))
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String(), s
}

// rawExchange writes raw on a new connection and reads n responses.
func rawExchange(t *testing.T, addr, raw string, n int) []*http.Response {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(60 * time.Second))
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	var out []*http.Response
	for range n {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("reading response %d: %v", len(out)+1, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body = io.NopCloser(bytes.NewReader(body))
		out = append(out, resp)
	}
	return out
}

// allServed sends raw, expects its answers all 200, and returns the calls
// the spy saw, which must be calls many.
func allServed(t *testing.T, addr, raw string, s *spy, answers, calls int) []call {
	t.Helper()
	for i, resp := range rawExchange(t, addr, raw, answers) {
		if resp.StatusCode != http.StatusOK {
			t.Errorf("response %d: status %d, want 200", i+1, resp.StatusCode)
		}
	}
	got := s.called()
	if len(got) != calls {
		t.Fatalf("%d calls, want %d", len(got), calls)
	}
	return got
}

// TestEventMatchesAWSSample sends the request behind aws-lambda-go's
// published API Gateway sample event (events/testdata/apigw-request.json)
// to a live gateway and compares the event the function gets with the
// sample, field by field: the same keys at every level, and the same
// values wherever the request decides them.
func TestEventMatchesAWSSample(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "aws-lambda-go-apigw-request.json"))
	if err != nil {
		t.Fatal(err)
	}
	var sample map[string]any
	if err := json.Unmarshal(b, &sample); err != nil {
		t.Fatal(err)
	}
	sampleHeaders := sample["headers"].(map[string]any)

	// The sample's request, header names spelled as in the sample, less
	// the headers API Gateway adds itself (checked below).
	body := sample["body"].(string)
	var raw strings.Builder
	raw.WriteString("POST /hello/world?name=me HTTP/1.1\r\n")
	names := make([]string, 0, len(sampleHeaders))
	for name := range sampleHeaders {
		if !addedByAWS[name] {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		fmt.Fprintf(&raw, "%s: %s\r\n", name, sampleHeaders[name])
	}
	fmt.Fprintf(&raw, "x-api-key: %s\r\nContent-Length: %d\r\n\r\n%s", partnerSecret, len(body), body)

	addr, s := liveGateway(t)
	if resp := rawExchange(t, addr, raw.String(), 1)[0]; resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	calls := s.called()
	if len(calls) != 1 {
		t.Fatalf("%d calls", len(calls))
	}
	var got map[string]any
	if err := json.Unmarshal(calls[0].raw, &got); err != nil {
		t.Fatal(err)
	}

	// The request's framing is the one header the sample does not show;
	// the headers API Gateway adds are compared on their own.
	added := map[string]any{}
	for _, h := range []string{"headers", "multiValueHeaders"} {
		delete(got[h].(map[string]any), "Content-Length")
		for name := range addedByAWS {
			if h == "headers" {
				added[name] = got[h].(map[string]any)[name]
			}
			delete(got[h].(map[string]any), name)
			delete(sample[h].(map[string]any), name)
		}
	}
	checkAddedHeaders(t, added, got, addr)
	for _, field := range []string{"resource", "path", "httpMethod", "headers", "multiValueHeaders",
		"queryStringParameters", "multiValueQueryStringParameters", "pathParameters", "body"} {
		if diff := cmp.Diff(sample[field], got[field]); diff != "" {
			t.Errorf("%s (-aws +inquir):\n%s", field, diff)
		}
	}
	if got["isBase64Encoded"] != false {
		t.Errorf("isBase64Encoded = %v, want false", got["isBase64Encoded"])
	}

	// The same keys at every level. What differs, and why:
	//  - stageVariables: null, inquir has no stages to give variables;
	//  - identity.clientCert: mutual TLS only;
	//  - identity.principalOrgId and isBase64Encoded: in every event AWS
	//    sends (the developer guide's example, captures), but not in this
	//    older sample.
	want := keyPaths(sample)
	want = slices.DeleteFunc(want, func(p string) bool {
		return strings.HasPrefix(p, "stageVariables.") || strings.HasPrefix(p, "requestContext.identity.clientCert") ||
			strings.HasPrefix(p, "requestContext.authorizer.")
	})
	want = append(want, "isBase64Encoded", "requestContext.identity.principalOrgId", "requestContext.authorizer.apiKeyId")
	slices.Sort(want)
	if diff := cmp.Diff(want, keyPaths(got)); diff != "" {
		t.Errorf("event keys (-aws +inquir):\n%s", diff)
	}

	rc := got["requestContext"].(map[string]any)
	src := sample["requestContext"].(map[string]any)
	for _, field := range []string{"resourcePath", "httpMethod", "path", "protocol"} {
		if rc[field] != src[field] {
			t.Errorf("requestContext.%s = %v, want %v", field, rc[field], src[field])
		}
	}
	if rc["domainName"] != "gy415nuibc.execute-api.us-east-1.amazonaws.com" || rc["domainPrefix"] != "gy415nuibc" {
		t.Errorf("domainName %v, domainPrefix %v: want the Host's", rc["domainName"], rc["domainPrefix"])
	}
	if id, _ := rc["extendedRequestId"].(string); id == "" {
		t.Error("extendedRequestId is empty")
	}
	identity := rc["identity"].(map[string]any)
	if identity["apiKey"] != nil || identity["apiKeyId"] != "k" || identity["userAgent"] != "PostmanRuntime/2.4.5" {
		t.Errorf("identity = %v: want apiKey null, apiKeyId k, the User-Agent", identity)
	}
	if identity["cognitoIdentityPoolId"] != nil || identity["user"] != nil {
		t.Errorf("identity = %v: the Cognito and IAM fields are null without them", identity)
	}
}

// addedByAWS are the headers API Gateway adds to every request it hands a
// function, as its captures show them (aws-lambda-go's apigw-request.json
// and apigw-custom-auth-request-type-request.json).
var addedByAWS = map[string]bool{
	"X-Forwarded-For": true, "X-Forwarded-Port": true, "X-Forwarded-Proto": true, "X-Amzn-Trace-Id": true,
}

// traceShape is X-Amzn-Trace-Id as API Gateway sends it: an X-Ray Root.
var traceShape = regexp.MustCompile(`^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$`)

// checkAddedHeaders checks the headers API Gateway adds, taken from the
// event ev's headers, for a client that sent none of them to the gateway
// at addr over plain HTTP.
func checkAddedHeaders(t *testing.T, added, ev map[string]any, addr string) {
	t.Helper()
	_, port, _ := net.SplitHostPort(addr)
	ip := ev["requestContext"].(map[string]any)["identity"].(map[string]any)["sourceIp"]
	want := map[string]any{"X-Forwarded-For": ip, "X-Forwarded-Port": port, "X-Forwarded-Proto": "http"}
	for name, v := range want {
		if added[name] != v {
			t.Errorf("headers[%s] = %v, want %v", name, added[name], v)
		}
	}
	if s, _ := added["X-Amzn-Trace-Id"].(string); !traceShape.MatchString(s) {
		t.Errorf("headers[X-Amzn-Trace-Id] = %v, want Root=1-<8 hex>-<24 hex>", added["X-Amzn-Trace-Id"])
	}
}

// keyPaths lists every key of v's objects, as dotted paths, sorted.
func keyPaths(v any) []string {
	var out []string
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		m, ok := v.(map[string]any)
		if !ok {
			return
		}
		for k, child := range m {
			out = append(out, prefix+k)
			// Header and query maps hold the request's names, compared above.
			switch prefix + k {
			case "headers", "multiValueHeaders", "queryStringParameters", "multiValueQueryStringParameters", "pathParameters":
				continue
			}
			walk(prefix+k+".", child)
		}
	}
	walk("", v)
	slices.Sort(out)
	return out
}

// TestHeaderNamesAsSent checks that header names reach the function as the
// client spelled them, each request on a keep-alive connection its own,
// whatever the bodies between them (sized, chunked, none), and that Go's
// own answer to "OPTIONS *" does not shift them.
func TestHeaderNamesAsSent(t *testing.T) {
	addr, s := liveGateway(t)
	key := "x-api-key: " + partnerSecret + "\r\n"
	raw := "POST /one HTTP/1.1\r\nHost: a.example\r\ngreeter: hello\r\n" + key + "content-length: 5\r\n\r\nGET /\r\n" +
		"OPTIONS * HTTP/1.1\r\nHost: a.example\r\nX-Odd: 1\r\n\r\n" +
		"POST /two HTTP/1.1\r\nhost: a.example\r\nX-API-Version: 2\r\n" + key + "Transfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n0\r\nTrailer-Name: t\r\n\r\n" +
		"GET /three HTTP/1.1\r\nHOST: a.example\r\ncontent-TYPE: text/plain\r\n" + key + "\r\n"
	calls := allServed(t, addr, raw, s, 4, 3)
	want := []map[string]string{
		{"Host": "a.example", "greeter": "hello", "content-length": "5"},
		{"host": "a.example", "X-API-Version": "2"},
		{"HOST": "a.example", "content-TYPE": "text/plain"},
	}
	for i, c := range calls {
		var ev struct {
			Headers map[string]string `json:"headers"`
			Body    *string           `json:"body"`
		}
		if err := json.Unmarshal(c.raw, &ev); err != nil {
			t.Fatal(err)
		}
		for name, v := range want[i] {
			if ev.Headers[name] != v {
				t.Errorf("request %d: headers[%q] = %q, want %q (headers %v)", i+1, name, ev.Headers[name], v, ev.Headers)
			}
		}
		for name := range ev.Headers {
			if strings.EqualFold(name, "x-api-key") {
				t.Errorf("request %d: the key header reached the event", i+1)
			}
		}
	}
}

// TestHeaderNamesFollowGosFraming: where Go's server frames requests in
// its own way (an HTTP/1.0 body by Content-Length whatever
// Transfer-Encoding says; CRs before the request line after a POST, and an
// OPTIONS * answered without the handler), each event still gets its own
// request's header names, not a neighbour's.
func TestHeaderNamesFollowGosFraming(t *testing.T) {
	addr, s := liveGateway(t)
	key := "x-api-key: " + partnerSecret + "\r\n"
	raw := "POST /one HTTP/1.0\r\nHost: a\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n" + key + "x-FIRST: 1\r\n\r\n0\r\n" +
		"POST /two HTTP/1.1\r\nHost: a\r\n" + key + "x-SECOND: 2\r\nContent-Length: 2\r\n\r\nhi" +
		"\r\rOPTIONS * HTTP/1.1\r\nHost: a\r\nx-options-name: 1\r\n\r\n" +
		"GET /three HTTP/1.1\r\nHost: a\r\n" + key + "X-THIRD: 3\r\n\r\n"
	calls := allServed(t, addr, raw, s, 4, 3)
	for i, name := range []string{"x-FIRST", "x-SECOND", "X-THIRD"} {
		var ev struct {
			Path    string            `json:"path"`
			Headers map[string]string `json:"headers"`
		}
		if err := json.Unmarshal(calls[i].raw, &ev); err != nil {
			t.Fatal(err)
		}
		if _, ok := ev.Headers[name]; !ok {
			t.Errorf("%s: no header spelled %q in %v", ev.Path, name, ev.Headers)
		}
		for h := range ev.Headers {
			if h == "x-options-name" || h == "X-Options-Name" {
				t.Errorf("%s: the OPTIONS * request's header reached its event", ev.Path)
			}
		}
	}
}

// TestEventFields covers what REST APIs put in an event that Go's defaults
// would not: body null without a body, isBase64Encoded always there, and
// queries split on "&" and on ";" (AWS's "important notes for REST APIs":
// a semicolon "results in the data being split").
func TestEventFields(t *testing.T) {
	addr, s := liveGateway(t)
	raw := "GET /q?a=1;b=2&c=3&d=x+y%21&e HTTP/1.1\r\nHost: h\r\nx-api-key: " + partnerSecret + "\r\n\r\n"
	if resp := rawExchange(t, addr, raw, 1)[0]; resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	var ev map[string]json.RawMessage
	if err := json.Unmarshal(s.called()[0].raw, &ev); err != nil {
		t.Fatal(err)
	}
	checks := map[string]string{
		"body":                  `null`,
		"isBase64Encoded":       `false`,
		"stageVariables":        `null`,
		"queryStringParameters": `{"a":"1","b":"2","c":"3","d":"x y!","e":""}`,
	}
	for field, want := range checks {
		if got := string(ev[field]); got != want {
			t.Errorf("%s = %s, want %s", field, got, want)
		}
	}
}

// TestMalformedResponseIsLogged checks that a response AWS would refuse is
// a 502 here too, and the log says why in AWS's words.
func TestMalformedResponseIsLogged(t *testing.T) {
	f := newFixture(t, config.CompatInquir)
	f.spy.answer = func(string, []byte) ([]byte, error) {
		return []byte(`{"statusCode":200,"cookies":["a=1"],"body":"x"}`), nil
	}
	if rec := f.do("GET", "/customers/c-1", "", "x-api-key", partnerSecret); rec.Code != 502 {
		t.Fatalf("status %d, want 502", rec.Code)
	}
	want := `function customers: malformed Lambda proxy response: unknown key \"cookies\" (API Gateway answers 502)`
	if !strings.Contains(f.log.String(), want) {
		t.Errorf("the log does not say %s:\n%s", want, f.log)
	}
}

// TestResponseMatchesAWSSample answers with aws-lambda-go's published proxy
// response (events/testdata/apigw-response.json) and checks the caller gets
// what API Gateway would send: its status, each header once with the
// multiValueHeaders values, its body.
func TestResponseMatchesAWSSample(t *testing.T) {
	sample, err := os.ReadFile(filepath.Join("testdata", "aws-lambda-go-apigw-response.json"))
	if err != nil {
		t.Fatal(err)
	}
	var want struct {
		StatusCode        int                 `json:"statusCode"`
		MultiValueHeaders map[string][]string `json:"multiValueHeaders"`
		Body              string              `json:"body"`
	}
	if err := json.Unmarshal(sample, &want); err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, config.CompatInquir)
	f.spy.answer = func(string, []byte) ([]byte, error) { return sample, nil }
	rec := f.do("GET", "/customers/c-1", "", "x-api-key", partnerSecret)
	if rec.Code != want.StatusCode || rec.Body.String() != want.Body {
		t.Fatalf("got %d %q, want %d %q", rec.Code, rec.Body, want.StatusCode, want.Body)
	}
	for name, values := range want.MultiValueHeaders {
		if diff := cmp.Diff(values, rec.Header().Values(name)); diff != "" {
			t.Errorf("header %s (-aws +inquir):\n%s", name, diff)
		}
	}
}

// TestTypedEventMatchesDecodedJSON holds the event a go-plugin function is
// handed as a value (typed) equal to its JSON as aws-lambda-go decodes it,
// so a handler sees the same either way.
func TestTypedEventMatchesDecodedJSON(t *testing.T) {
	f := newFixture(t, config.CompatInquir)
	p := f.gw.Policy()
	tests := []struct {
		name, method, target, key, body string
		header                          []string
	}{
		{"a key, a query, headers", "GET", "/customers/c-1?a=1;b=2&c=x+y&c=3", partnerSecret, "", []string{"Accept", "application/json", "X-Multi", "1", "X-Multi", "2"}},
		{"a body", "PUT", "/customers/c%2D1", partnerSecret, `{"name":"Ada <&>"}`, nil},
		{"a binary body", "PUT", "/customers/c-1", partnerSecret, "\xff\x00\xfe", nil},
		{"public, no key", "GET", "/public/a/b%20c", "", "", []string{"User-Agent", "curl/8"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, tt.target, strings.NewReader(tt.body))
			for i := 0; i+1 < len(tt.header); i += 2 {
				r.Header.Add(tt.header[i], tt.header[i+1])
			}
			m := p.MatchRequest(r)
			if m.Route == nil {
				t.Fatalf("no route for %s %s", tt.method, tt.target)
			}
			d := p.Authorize(m.Route, tt.key, testNow)
			ev := newEvent(r, m, d, []byte(tt.body), "req-1", "x-api-key", "", testNow)
			var decoded events.APIGatewayProxyRequest
			if err := json.Unmarshal(marshalEvent(&ev), &decoded); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(&decoded, ev.typed()); diff != "" {
				t.Errorf("typed event (-decoded JSON +typed):\n%s", diff)
			}
		})
	}
}
