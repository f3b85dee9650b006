package authorizers

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"
)

func readSample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/aws/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func topKeys(t *testing.T, b []byte) []string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// The TOKEN event has the fields of AWS's sample, and decodes into
// aws-lambda-go's type as the sample does.
func TestTokenEventMatchesAWSSample(t *testing.T) {
	sample := readSample(t, "apigw-custom-auth-request.json")
	arn := MethodARN("us-west-2", "123456789012", "ymy8tbxw7b", "local", "GET", "/")
	ours := TokenEvent("allow", arn)
	if diff := cmp.Diff(topKeys(t, sample), topKeys(t, ours)); diff != "" {
		t.Errorf("fields differ from AWS's sample (-aws +inquir):\n%s", diff)
	}
	var got events.APIGatewayCustomAuthorizerRequest
	if err := json.Unmarshal(ours, &got); err != nil {
		t.Fatal(err)
	}
	want := events.APIGatewayCustomAuthorizerRequest{Type: "TOKEN", AuthorizationToken: "allow", MethodArn: "arn:aws:execute-api:us-west-2:123456789012:ymy8tbxw7b/local/GET/"}
	if got != want {
		t.Errorf("event = %+v, want %+v", got, want)
	}
}

// AWS's sample answer (its Effect written "Allow|Deny" as a placeholder)
// reads as an Allow and as a Deny, its context stringified, its
// usageIdentifierKey kept.
func TestParseAWSSampleAnswer(t *testing.T) {
	sample := string(readSample(t, "apigw-custom-auth-response.json"))
	var typed events.APIGatewayCustomAuthorizerResponse
	if err := json.Unmarshal([]byte(sample), &typed); err != nil {
		t.Fatal(err)
	}
	resource := typed.PolicyDocument.Statement[0].Resource[0]
	for _, effect := range []string{"Allow", "Deny"} {
		a, err := Parse([]byte(strings.Replace(sample, "Allow|Deny", effect, 1)), false)
		if err != nil {
			t.Fatalf("%s: %v", effect, err)
		}
		if a.PrincipalID != typed.PrincipalID || a.UsageIdentifierKey != typed.UsageIdentifierKey {
			t.Errorf("%s: principal %q key %q, want %q %q", effect, a.PrincipalID, a.UsageIdentifierKey, typed.PrincipalID, typed.UsageIdentifierKey)
		}
		if diff := cmp.Diff(map[string]string{"stringKey": "value", "numberKey": "1", "booleanKey": "true"}, a.Context); diff != "" {
			t.Errorf("%s: context (-want +got):\n%s", effect, diff)
		}
		want := map[string]Verdict{"Allow": Allow, "Deny": ExplicitDeny}[effect]
		if v := a.Policy.Evaluate(resource); v != want {
			t.Errorf("%s: Evaluate(its own resource) = %v, want %v", effect, v, want)
		}
		if v := a.Policy.Evaluate(resource + "/more"); v != ImplicitDeny {
			t.Errorf("%s: Evaluate(another resource) = %v, want implicit_deny", effect, v)
		}
	}
}

func TestParse(t *testing.T) {
	const stmt = `"policyDocument":{"Version":"2012-10-17","Statement":[{"Action":"execute-api:Invoke","Effect":"Allow","Resource":"*"}]}`
	for _, tc := range []struct {
		name, body string
		simple     bool
		wantErr    string
		want       Answer
	}{
		{name: "numbers and booleans stringified", body: `{"principalId":"u",` + stmt + `,"context":{"n":1.5,"b":false,"s":"x","z":null}}`,
			want: Answer{PrincipalID: "u", Context: map[string]string{"n": "1.5", "b": "false", "s": "x"}}},
		{name: "numeric principal", body: `{"principalId":42,` + stmt + `}`, want: Answer{PrincipalID: "42"}},
		{name: "no principal", body: `{` + stmt + `}`, wantErr: "no principalId"},
		{name: "no policy", body: `{"principalId":"u"}`, wantErr: "no policyDocument"},
		{name: "nested context", body: `{"principalId":"u",` + stmt + `,"context":{"a":{"b":1}}}`, wantErr: `context value "a" is an object or an array`},
		{name: "array context", body: `{"principalId":"u",` + stmt + `,"context":{"a":[1]}}`, wantErr: "object or an array"},
		{name: "not an object", body: `"Allow"`, wantErr: "not a JSON object"},
		{name: "bad effect", body: `{"principalId":"u","policyDocument":{"Statement":[{"Action":"*","Effect":"allow","Resource":"*"}]}}`, wantErr: `no Effect of "Allow" or "Deny"`},
		{name: "condition refused", body: `{"principalId":"u","policyDocument":{"Statement":[{"Action":"*","Effect":"Allow","Resource":"*","Condition":{}}]}}`, wantErr: "Condition, which inquir does not evaluate"},
		{name: "simple", body: `{"isAuthorized":true,"context":{"a":{"b":1}}}`, simple: true,
			want: Answer{Simple: true, Authorized: true}},
		{name: "simple without isAuthorized", body: `{"context":{}}`, simple: true, wantErr: "no isAuthorized"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse([]byte(tc.body), tc.simple)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.PrincipalID != tc.want.PrincipalID || got.Simple != tc.want.Simple || got.Authorized != tc.want.Authorized {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
			if tc.want.Context != nil {
				if diff := cmp.Diff(tc.want.Context, got.Context); diff != "" {
					t.Errorf("context (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestEvaluate(t *testing.T) {
	arn := MethodARN("us-east-1", "000000000000", "inquir", "local", "GET", "/orders/o-1")
	if arn != "arn:aws:execute-api:us-east-1:000000000000:inquir/local/GET/orders/o-1" {
		t.Fatalf("MethodARN = %s", arn)
	}
	st := func(effect, action, resource string) Statement {
		return Statement{Effect: effect, Actions: []string{action}, Resources: []string{resource}}
	}
	for _, tc := range []struct {
		name  string
		stmts []Statement
		want  Verdict
	}{
		{"exact", []Statement{st("Allow", "execute-api:Invoke", arn)}, Allow},
		{"stage wildcard", []Statement{st("Allow", "execute-api:Invoke", "arn:aws:execute-api:us-east-1:000000000000:inquir/local/*")}, Allow},
		{"method wildcard", []Statement{st("Allow", "execute-api:Invoke", "arn:aws:execute-api:*:*:inquir/*/GET/orders/*")}, Allow},
		{"other method", []Statement{st("Allow", "execute-api:Invoke", "arn:aws:execute-api:us-east-1:000000000000:inquir/local/POST/*")}, ImplicitDeny},
		{"question mark", []Statement{st("Allow", "execute-api:Invoke", "arn:aws:execute-api:us-east-1:000000000000:inquir/local/GET/orders/o-?")}, Allow},
		{"other path", []Statement{st("Allow", "execute-api:Invoke", "arn:aws:execute-api:us-east-1:000000000000:inquir/local/GET/orders/o-2")}, ImplicitDeny},
		{"action wildcard, any case", []Statement{st("Allow", "Execute-API:*", "*")}, Allow},
		{"other action", []Statement{st("Allow", "execute-api:ManageConnections", "*")}, ImplicitDeny},
		{"deny wins", []Statement{st("Allow", "*", "*"), st("Deny", "execute-api:Invoke", "arn:aws:execute-api:*:*:*/*/GET/orders/*")}, ExplicitDeny},
		{"deny elsewhere", []Statement{st("Allow", "*", "*"), st("Deny", "execute-api:Invoke", "arn:aws:execute-api:*:*:*/*/POST/*")}, Allow},
		{"none", nil, ImplicitDeny},
	} {
		if got := (Policy{Statements: tc.stmts}).Evaluate(arn); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// A wildcard matches within one segment of the ARN's path, except the
// one that ends the Resource, which matches the rest: the developer
// guide's ".../a123456789/*/*/petstorewalkthrough/pets" is "any method on
// the resource path of petstorewalkthrough/pets, in any stage"
// (api-gateway-iam-policy-examples-for-api-execution), and a trailing
// ".../GET/user/*" allows ".../GET/user/1/sensitive" too (AWS re:Post
// QU4Fkm_neaTBu6ub8RJsgFTQ).
func TestEvaluateWildcardSegments(t *testing.T) {
	allow := func(resource string) Policy {
		return Policy{Statements: []Statement{{Effect: "Allow", Actions: []string{"execute-api:Invoke"}, Resources: []string{resource}}}}
	}
	arn := func(method, path string) string {
		return MethodARN("us-east-1", "000000000000", "inquir", "local", method, path)
	}
	for _, tc := range []struct {
		name, resource, arn string
		want                Verdict
	}{
		{"any method, any stage, one path", "arn:aws:execute-api:*:*:inquir/*/*/petstorewalkthrough/pets", arn("GET", "/petstorewalkthrough/pets"), Allow},
		{"a path that ends the same", "arn:aws:execute-api:*:*:inquir/*/*/petstorewalkthrough/pets", arn("GET", "/admin/petstorewalkthrough/pets"), ImplicitDeny},
		{"the method wildcard is the method alone", "arn:aws:execute-api:*:*:inquir/local/*/pets", arn("POST", "/x/GET/pets"), ImplicitDeny},
		{"a path parameter", "arn:aws:execute-api:*:*:inquir/local/GET/user/*/profile", arn("GET", "/user/u-1/profile"), Allow},
		{"a path parameter, one segment", "arn:aws:execute-api:*:*:inquir/local/GET/user/*/profile", arn("GET", "/user/u-1/x/profile"), ImplicitDeny},
		{"a trailing wildcard takes the rest", "arn:aws:execute-api:*:*:inquir/local/GET/user/*", arn("GET", "/user/u-1/sensitive"), Allow},
		{"the whole stage", "arn:aws:execute-api:us-east-1:000000000000:inquir/local/*/*", arn("DELETE", "/a/b/c"), Allow},
		{"everything", "*", arn("GET", "/a/b"), Allow},
	} {
		if got := allow(tc.resource).Evaluate(tc.arn); got != tc.want {
			t.Errorf("%s: %s on %s: %v, want %v", tc.name, tc.resource, tc.arn, got, tc.want)
		}
	}
}

// A Deny's * reaches across "/" segments: of the two readings AWS's
// examples leave open, inquir takes the one that refuses, for a Deny as
// for an Allow.
func TestDenyWildcardCrossesSegments(t *testing.T) {
	p := Policy{Statements: []Statement{
		{Effect: "Allow", Actions: []string{"execute-api:Invoke"}, Resources: []string{"*"}},
		{Effect: "Deny", Actions: []string{"execute-api:Invoke"}, Resources: []string{"arn:aws:execute-api:*:*:inquir/*/GET/*/secret"}},
	}}
	for path, want := range map[string]Verdict{
		"/a/secret":   ExplicitDeny,
		"/a/b/secret": ExplicitDeny, // one reading allows it; inquir refuses
		"/a/b/public": Allow,
	} {
		if got := p.Evaluate(MethodARN("us-east-1", "000000000000", "inquir", "local", "GET", path)); got != want {
			t.Errorf("GET %s: %v, want %v", path, got, want)
		}
	}
}

func TestGlobMatchIsLinear(t *testing.T) {
	// A pattern that backtracks exponentially in a naive matcher.
	pattern := strings.Repeat("*a", 30) + "b"
	s := strings.Repeat("a", 5000)
	if globMatch(pattern, s, false) || globMatch(pattern, s, true) {
		t.Fatal("matched")
	}
}

func TestCache(t *testing.T) {
	c := NewCache()
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	a := Answer{PrincipalID: "u"}
	c.Put("tenant", []string{"tok"}, a, 300*time.Second, now)
	c.Put("nocache", []string{"tok"}, a, 0, now)
	if _, ok := c.Get("tenant", []string{"tok"}, now.Add(299*time.Second)); !ok {
		t.Error("miss within the TTL")
	}
	if _, ok := c.Get("tenant", []string{"other"}, now); ok {
		t.Error("hit for another token")
	}
	if _, ok := c.Get("other", []string{"tok"}, now); ok {
		t.Error("hit for another authorizer")
	}
	if _, ok := c.Get("nocache", []string{"tok"}, now); ok {
		t.Error("a ttl of 0 cached")
	}
	// Values are joined unambiguously: ["ab","c"] is not ["a","bc"].
	c.Put("req", []string{"ab", "c"}, a, time.Minute, now)
	if _, ok := c.Get("req", []string{"a", "bc"}, now); ok {
		t.Error("identity values ran together")
	}
	if _, ok := c.Get("tenant", []string{"tok"}, now.Add(300*time.Second)); ok {
		t.Error("hit at the TTL")
	}
	c.Put("tenant", []string{"tok"}, a, time.Minute, now)
	c.Flush(func(name string) bool { return name != "tenant" })
	if _, ok := c.Get("tenant", []string{"tok"}, now); ok {
		t.Error("hit after Flush")
	}
	if _, ok := c.Get("req", []string{"ab", "c"}, now); !ok {
		t.Error("Flush dropped an authorizer it keeps")
	}
}

// The cache holds at most MaxCacheBytes of answers: a large answer pushes
// older ones out, and one larger than the bound is not cached at all.
func TestCacheBytesBound(t *testing.T) {
	c := NewCache()
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	half := Answer{PrincipalID: "u", Size: MaxCacheBytes/2 + 1}
	c.Put("a", []string{"1"}, half, time.Hour, now)
	c.Put("a", []string{"2"}, half, time.Hour, now)
	if c.Len() != 1 || c.bytes > MaxCacheBytes {
		t.Errorf("two answers over half the bound: %d held, %d bytes", c.Len(), c.bytes)
	}
	if _, ok := c.Get("a", []string{"2"}, now); !ok {
		t.Error("the newer answer was not kept")
	}
	c.Put("a", []string{"2"}, half, time.Hour, now) // the same key again: counted once
	if c.bytes != half.Size {
		t.Errorf("%d bytes after putting one key twice, want %d", c.bytes, half.Size)
	}
	c.Put("a", []string{"3"}, Answer{Size: MaxCacheBytes + 1}, time.Hour, now)
	if _, ok := c.Get("a", []string{"3"}, now); ok {
		t.Error("an answer over the bound was cached")
	}
	if _, ok := c.Get("a", []string{"2"}, now.Add(2*time.Hour)); ok || c.bytes != 0 {
		t.Errorf("an expired answer's bytes were not given back: %d", c.bytes)
	}
}
