package lint

import (
	"slices"
	"strings"
	"testing"
)

// TestPayloadMismatch checks INQ023 on handlers in Go and JavaScript,
// behind routes of one payload format version or of both.
func TestPayloadMismatch(t *testing.T) {
	const goFn = "\n[functions.gofn]\nruntime = \"go\"\npath = \"gofn\"\n"
	const v1Go = `package main

import (
	"context"

	"github.com/aws/aws-lambda-go/events"
)

// events.APIGatewayV2HTTPRequest in a comment is no read.
func Handler(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	return events.APIGatewayProxyResponse{StatusCode: 200}, nil
}
`
	const v2Go = `package main

import (
	"context"

	"github.com/aws/aws-lambda-go/events"
)

func Handler(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	return events.APIGatewayV2HTTPResponse{StatusCode: 200}, nil
}
`
	const v2JS = "export async function handler(event) {\n  // event.httpMethod is not read here\n  const m = event.requestContext?.http.method;\n  return { statusCode: 200, body: event.rawPath + m };\n}\n"
	tests := []struct {
		name  string
		toml  string
		files map[string]string
		want  string // a substring of the one finding, or "" for none
	}{
		{"go 1.0 handler on a 2.0 route", goFn + partner + route("GET", "/a", `function = "gofn"`+"\ngroup = \"partners\"\npayload = \"2.0\""),
			map[string]string{"gofn/main.go": v1Go},
			`function "gofn" reads events.APIGatewayProxyRequest at gofn/main.go:10, which only a payload 1.0 event has, but its routes hand it payload 2.0: read events.APIGatewayV2HTTPRequest`},
		{"go 2.0 handler on a 1.0 route", goFn + partner + route("GET", "/a", `function = "gofn"`+"\ngroup = \"partners\""),
			map[string]string{"gofn/main.go": v2Go},
			`function "gofn" reads events.APIGatewayV2HTTPRequest at gofn/main.go:9, which only a payload 2.0 event has, but its routes hand it payload 1.0`},
		{"go 2.0 handler on a 2.0 gateway", "[gateway]\npayload = \"2.0\"\n" + goFn + partner + route("GET", "/a", `function = "gofn"`+"\ngroup = \"partners\""),
			map[string]string{"gofn/main.go": v2Go}, ""},
		{"js 2.0 handler on a 1.0 route", fn + partner + route("GET", "/a", `function = "f"`+"\ngroup = \"partners\""),
			map[string]string{"f.mjs": v2JS},
			`function "f" reads requestContext.http at f.mjs:3, which only a payload 2.0 event has, but its routes hand it payload 1.0: read httpMethod and requestContext.identity, or give its routes payload = "2.0"`},
		{"js 2.0 handler on a 2.0 route", fn + partner + route("GET", "/a", `function = "f"`+"\ngroup = \"partners\"\npayload = \"2.0\""),
			map[string]string{"f.mjs": v2JS}, ""},
		{"both payloads", fn + partner + route("GET", "/a", `function = "f"`+"\ngroup = \"partners\"\npayload = \"2.0\"") + route("GET", "/b", `function = "f"`+"\ngroup = \"partners\""),
			nil, `function "f" gets payload 2.0 from GET /a (routes[0]) and payload 1.0 from GET /b (routes[1])`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := briefs(lintProject(t, tt.toml, tt.files, Options{}), "INQ023")
			switch {
			case tt.want == "" && len(got) != 0:
				t.Errorf("findings %+v; want none", got)
			case tt.want != "" && (len(got) != 1 || !strings.Contains(got[0].Message, tt.want)):
				t.Errorf("findings %+v; want one saying %q", got, tt.want)
			}
		})
	}
}

// TestKeyCheckAdviceForPayload2 checks that INQ011 points a handler
// behind payload 2.0 routes at where an HTTP API's event has the key id.
func TestKeyCheckAdviceForPayload2(t *testing.T) {
	files := map[string]string{"f.mjs": "export async function handler(event) {\n  if (!event.headers['x-api-key']) return { statusCode: 401 };\n}\n"}
	for payload, want := range map[string]string{
		"1.0": "use requestContext.identity.apiKeyId",
		"2.0": "use requestContext.authorizer.lambda.apiKeyId",
	} {
		toml := fn + partner + route("GET", "/a", `function = "f"`+"\ngroup = \"partners\"\npayload = \""+payload+"\"")
		got := slices.DeleteFunc(briefs(lintProject(t, toml, files, Options{}), "INQ011"), func(b brief) bool { return b.Field != "functions.f.path" })
		if len(got) != 1 || !strings.HasSuffix(got[0].Message, want) {
			t.Errorf("payload %s: findings %+v; want one ending %q", payload, got, want)
		}
	}
}

// TestAuthorizerPayloadMismatch checks INQ023 on authorizers: a TOKEN
// authorizer guarding a payload 2.0 route, simple responses guarding a
// payload 1.0 route; and neither where the versions agree.
func TestAuthorizerPayloadMismatch(t *testing.T) {
	const auth = "\n[functions.auth]\nruntime = \"node\"\npath = \"auth.mjs\"\n"
	token := "\n[authorizers.a]\nfunction = \"auth\"\ntype = \"token\"\nidentity_sources = [\"header.Authorization\"]\n"
	simple := "\n[authorizers.a]\nfunction = \"auth\"\ntype = \"request\"\nidentity_sources = [\"header.Authorization\"]\nsimple_responses = true\n"
	guarded := func(payload string) string {
		return route("GET", "/a", "function = \"f\"\nauth = \"authorizer\"\nauthorizer = \"a\"\npayload = \""+payload+"\"")
	}
	tests := []struct{ name, toml, want string }{
		{"token on 2.0", fn + auth + token + guarded("2.0"),
			`authorizer "a" is a TOKEN authorizer, which only REST APIs (payload 1.0) have, but it guards GET /a (routes[0]), a payload 2.0 route`},
		{"token on 1.0", fn + auth + token + guarded("1.0"), ""},
		{"simple on 1.0", fn + auth + simple + guarded("1.0"),
			`authorizer "a" answers simple responses, which only HTTP APIs (payload 2.0) read, but it guards GET /a (routes[0]), a payload 1.0 route`},
		{"simple on 2.0", fn + auth + simple + guarded("2.0"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := briefs(lintProject(t, tt.toml, nil, Options{}), "INQ023")
			switch {
			case tt.want == "" && len(got) != 0:
				t.Errorf("findings %+v; want none", got)
			case tt.want != "" && (len(got) != 1 || !strings.Contains(got[0].Message, tt.want) || !strings.HasPrefix(got[0].Field, "authorizers.a.")):
				t.Errorf("findings %+v; want one at authorizers.a saying %q", got, tt.want)
			}
		})
	}
}

// TestBinaryTypesOnPayload2 checks that INQ023 reports binary_media_types
// where every route is payload 2.0, and that INQ020 leaves a function
// behind payload 2.0 routes alone (HTTP APIs decode isBase64Encoded
// always).
func TestBinaryTypesOnPayload2(t *testing.T) {
	files := map[string]string{"f.mjs": "export async function handler() {\n  return { statusCode: 200, isBase64Encoded: true, body: 'aGk=' };\n}\n"}
	r := route("GET", "/a", "function = \"f\"\ngroup = \"partners\"")
	tests := []struct {
		name, gateway string
		inq020        int
		inq023        string
	}{
		{"1.0 without types", "", 1, ""},
		{"2.0 without types", "payload = \"2.0\"\n", 0, ""},
		{"2.0 with types", "payload = \"2.0\"\nbinary_media_types = [\"image/png\"]\n", 0, "binary_media_types is a REST API's setting (payload 1.0), but every route is payload 2.0"},
		{"1.0 with types", "binary_media_types = [\"image/png\"]\n", 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := lintProject(t, "[gateway]\n"+tt.gateway+fn+partner+r, files, Options{})
			if got := slices.DeleteFunc(briefs(rep, "INQ020"), func(b brief) bool { return b.Field != "functions.f.path" }); len(got) != tt.inq020 {
				t.Errorf("INQ020 findings %+v; want %d", got, tt.inq020)
			}
			got := briefs(rep, "INQ023")
			switch {
			case tt.inq023 == "" && len(got) != 0:
				t.Errorf("INQ023 findings %+v; want none", got)
			case tt.inq023 != "" && (len(got) != 1 || !strings.Contains(got[0].Message, tt.inq023) || got[0].Field != "gateway.binary_media_types"):
				t.Errorf("INQ023 findings %+v; want one at gateway.binary_media_types saying %q", got, tt.inq023)
			}
		})
	}
}
