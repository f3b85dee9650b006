package gateway

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/inquir-dev/inquir/emulator/authorizers"
	"github.com/inquir-dev/inquir/emulator/policy"
)

const authorizerConfig = `
[authorizers.req]
function = "auth"
type = "request"
identity_sources = ["header.HeaderAuth1", "query.QueryString1"]
ttl = "0"

[functions.auth]
runtime = "node"
path = "fn.mjs"

[functions.fn]
runtime = "node"
path = "fn.mjs"

[[routes]]
method = "GET"
path = "/request"
function = "fn"
auth = "authorizer"
authorizer = "req"
`

func authorizerGateway(t *testing.T, s *spy) *Gateway {
	t.Helper()
	return gatewayFor(t, s, authorizerConfig)
}

// gatewayFor serves config (beside fn.mjs) with s as the Invoker.
func gatewayFor(t *testing.T, s *spy, config string) *Gateway {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "fn.mjs"), []byte("export async function handler() {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "inquir.toml")
	if err := os.WriteFile(path, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := policy.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	gw := New(Options{Invoker: s, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	gw.SetPolicy(p)
	return gw
}

func keysOf(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// A REQUEST authorizer's event has the fields of AWS's sample (no body),
// and the handler then gets the answer in requestContext.authorizer.
func TestRequestAuthorizerEventMatchesAWSSample(t *testing.T) {
	b, err := os.ReadFile("../authorizers/testdata/aws/apigw-custom-auth-request-type-request.json")
	if err != nil {
		t.Fatal(err)
	}
	var sample map[string]any
	if err := json.Unmarshal(b, &sample); err != nil {
		t.Fatal(err)
	}
	s := &spy{answer: func(function string, event []byte) ([]byte, error) {
		if function == "auth" {
			return []byte(`{"principalId":"p-1","policyDocument":{"Version":"2012-10-17","Statement":[{"Action":"execute-api:Invoke","Effect":"Allow","Resource":"arn:aws:execute-api:*:*:*/local/GET/request"}]},"context":{"n":7}}`), nil
		}
		return []byte(`{"statusCode":200,"body":"ok"}`), nil
	}}
	gw := authorizerGateway(t, s)
	req := httptest.NewRequest("GET", "http://127.0.0.1/request?QueryString1=queryValue1", nil)
	req.Header.Set("HeaderAuth1", "headerValue1")
	rec := httptest.NewRecorder()
	gw.ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	calls := s.called()
	if len(calls) != 2 || calls[0].function != "auth" || calls[1].function != "fn" {
		t.Fatalf("calls = %v", calls)
	}
	var got map[string]any
	if err := json.Unmarshal(calls[0].raw, &got); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(keysOf(sample), keysOf(got)) {
		t.Errorf("authorizer event fields\n got %v\nwant %v (AWS's sample)", keysOf(got), keysOf(sample))
	}
	for _, k := range keysOf(sample["requestContext"].(map[string]any)) {
		if _, ok := got["requestContext"].(map[string]any)[k]; !ok {
			t.Errorf("requestContext lacks %q, which AWS's sample has", k)
		}
	}
	if got["type"] != "REQUEST" || got["methodArn"] != "arn:aws:execute-api:us-east-1:000000000000:inquir/local/GET/request" {
		t.Errorf("type %v methodArn %v", got["type"], got["methodArn"])
	}
	if got["queryStringParameters"].(map[string]any)["QueryString1"] != "queryValue1" || got["headers"].(map[string]any)["Headerauth1"] == nil && got["headers"].(map[string]any)["HeaderAuth1"] == nil {
		t.Errorf("the request's query and headers are missing: %v %v", got["queryStringParameters"], got["headers"])
	}
	authz := calls[1].event.RequestContext.Authorizer
	if authz["principalId"] != "p-1" || authz["n"] != "7" {
		t.Errorf("handler's requestContext.authorizer = %v", authz)
	}
}

// A request without every identity source is refused before the
// authorizer runs.
func TestMissingIdentitySourceRunsNothing(t *testing.T) {
	s := &spy{}
	gw := authorizerGateway(t, s)
	for _, target := range []string{"/request?QueryString1=q", "/request?QueryString1=", "/request"} {
		req := httptest.NewRequest("GET", "http://127.0.0.1"+target, nil)
		if target == "/request" {
			req.Header.Set("HeaderAuth1", "h")
		}
		rec := httptest.NewRecorder()
		gw.ServeHTTP(rec, req)
		if rec.Code != http.StatusUnauthorized {
			t.Errorf("%s: status %d", target, rec.Code)
		}
	}
	if n := len(s.called()); n != 0 {
		t.Errorf("%d invocations", n)
	}
}

// A simple response's context reaches the handler where HTTP APIs put a
// Lambda authorizer's context, requestContext.authorizer.lambda, with its
// JSON types (aws-lambda-go's events/testdata/apigw-v2-request-lambda-authorizer.json).
func TestSimpleResponseContextReachesHandler(t *testing.T) {
	s := &spy{answer: func(function string, event []byte) ([]byte, error) {
		if function == "auth" {
			return []byte(`{"isAuthorized":true,"context":{"tenant":"acme","n":7,"roles":["a"]}}`), nil
		}
		return []byte(`{"statusCode":200,"body":"ok"}`), nil
	}}
	gw := New(Options{Invoker: s, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	gw.SetPolicy(loadPolicy(t, tokenAuthorizerConfig(`simple_responses = true`)))
	req := httptest.NewRequest("GET", "http://127.0.0.1/r", nil)
	req.Header.Set("Authorization", "t")
	rec := httptest.NewRecorder()
	gw.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	calls := s.called()
	if len(calls) != 2 || calls[1].function != "fn" {
		t.Fatalf("calls = %v", calls)
	}
	var ev struct {
		RequestContext struct {
			Authorizer map[string]json.RawMessage `json:"authorizer"`
		} `json:"requestContext"`
	}
	if err := json.Unmarshal(calls[1].raw, &ev); err != nil {
		t.Fatal(err)
	}
	if got := string(ev.RequestContext.Authorizer["lambda"]); got != `{"n":7,"roles":["a"],"tenant":"acme"}` {
		t.Errorf("requestContext.authorizer.lambda = %s", got)
	}
}

// A go-plugin handler, called in process, gets a simple response's context
// as json.Unmarshal would have decoded it: numbers as float64.
func TestSimpleResponseContextTyped(t *testing.T) {
	a, err := authorizers.Parse([]byte(`{"isAuthorized":true,"context":{"n":7,"nested":{"m":1.5}}}`), true)
	if err != nil {
		t.Fatal(err)
	}
	var ev proxyEvent
	ev.setAuthorizer(&authorized{answer: a})
	lambda, ok := ev.typed().RequestContext.Authorizer["lambda"].(map[string]any)
	if !ok {
		t.Fatalf("requestContext.authorizer = %#v", ev.typed().RequestContext.Authorizer)
	}
	if lambda["n"] != float64(7) || lambda["nested"].(map[string]any)["m"] != 1.5 {
		t.Errorf("lambda = %#v, want float64 numbers", lambda)
	}
}

// On a payload 2.0 route, a REQUEST authorizer gets an HTTP API's
// authorizer event, with the fields of AWS's sample, and its simple
// response's context reaches the handler in requestContext.authorizer.lambda.
func TestRequestAuthorizerEventV2MatchesAWSSample(t *testing.T) {
	b, err := os.ReadFile("../authorizers/testdata/aws/apigw-v2-custom-authorizer-v2-request.json")
	if err != nil {
		t.Fatal(err)
	}
	var sample map[string]any
	if err := json.Unmarshal(b, &sample); err != nil {
		t.Fatal(err)
	}
	s := &spy{answer: func(function string, event []byte) ([]byte, error) {
		if function == "auth" {
			return []byte(`{"isAuthorized":true,"context":{"n":7,"who":{"id":"u-1"}}}`), nil
		}
		return []byte(`{"statusCode":200,"body":"ok"}`), nil
	}}
	cfg := strings.Replace(authorizerConfig, "ttl = \"0\"\n", "ttl = \"0\"\nsimple_responses = true\n", 1)
	cfg = strings.Replace(cfg, "auth = \"authorizer\"\n", "auth = \"authorizer\"\npayload = \"2.0\"\n", 1)
	gw := gatewayFor(t, s, cfg)
	req := httptest.NewRequest("GET", "http://127.0.0.1/request?QueryString1=queryValue1", nil)
	req.Header.Set("HeaderAuth1", "headerValue1")
	req.Header.Set("Cookie", "c=1")
	rec := httptest.NewRecorder()
	gw.ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	calls := s.called()
	if len(calls) != 2 || calls[0].function != "auth" || calls[1].function != "fn" {
		t.Fatalf("calls = %v", calls)
	}
	var got map[string]any
	if err := json.Unmarshal(calls[0].raw, &got); err != nil {
		t.Fatal(err)
	}
	for _, k := range keysOf(sample) {
		// An HTTP API leaves out stageVariables without stages, and
		// pathParameters for a route without any, as this one.
		if _, ok := got[k]; !ok && k != "stageVariables" && k != "pathParameters" {
			t.Errorf("the authorizer's event lacks %q, which AWS's sample has", k)
		}
	}
	for _, k := range keysOf(got) {
		if _, ok := sample[k]; !ok && k != "isBase64Encoded" && k != "stageVariables" {
			t.Errorf("the authorizer's event has %q, which AWS's sample does not", k)
		}
	}
	if got["type"] != "REQUEST" || got["routeArn"] != "arn:aws:execute-api:us-east-1:000000000000:inquir/$default/GET/request" {
		t.Errorf("type %v routeArn %v", got["type"], got["routeArn"])
	}
	if ids, _ := got["identitySource"].([]any); len(ids) != 2 || ids[0] != "headerValue1" || ids[1] != "queryValue1" {
		t.Errorf("identitySource = %v", got["identitySource"])
	}
	var handler struct {
		RequestContext struct {
			Authorizer struct {
				Lambda map[string]any `json:"lambda"`
			} `json:"authorizer"`
		} `json:"requestContext"`
	}
	if err := json.Unmarshal(calls[1].raw, &handler); err != nil {
		t.Fatal(err)
	}
	lambda := handler.RequestContext.Authorizer.Lambda
	if lambda["n"] != float64(7) || lambda["who"].(map[string]any)["id"] != "u-1" {
		t.Errorf("handler's requestContext.authorizer.lambda = %v", lambda)
	}
}
