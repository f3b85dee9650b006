package lint

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/inquir-dev/inquir/emulator/config"
)

// Payload format versions: the event a handler is written for, and the one
// its routes hand it.

func rulePayloadMismatch() *Rule {
	return &Rule{
		ID: "INQ023", Name: "WrittenForOtherPayload", Severity: Warning,
		Title: "a handler or authorizer written for the other payload format version than its routes', or one function behind both",
		Explanation: `A route's payload (the route's own, or [gateway] payload; "1.0" by default) says which event its function gets: "1.0" a REST API's (httpMethod, path, multiValueHeaders, requestContext.identity.apiKeyId), "2.0" an HTTP API's (rawPath, routeKey, requestContext.http.method, cookies, the key id in requestContext.authorizer.lambda.apiKeyId). A handler written for one reads fields the other does not have: on the other it finds them undefined (Node) or zero (Go's events.APIGatewayProxyRequest decoded from a 2.0 event has no HTTPMethod and no Path), and it routes, authorizes or logs on nothing, with no error anywhere. API Gateway does the same, so the mistake survives deployment. A function behind routes of both versions gets two event shapes, which one handler rarely reads both of.

How lint looks: for each function whose routes all use one version, it reads the handler's sources as INQ011 does (a Go function's package folder, *.go without tests; a Node module and the .js, .mjs, .cjs and .ts files beside it), comments removed, for what only the other version has: in Go the types events.APIGatewayProxyRequest and events.APIGatewayV2HTTPRequest; in JavaScript the fields .httpMethod, .multiValueHeaders, .multiValueQueryStringParameters and requestContext.identity (payload 1.0), and .rawPath, .rawQueryString, .routeKey and requestContext.http (payload 2.0). A function named by routes of both versions is reported at the first route whose version differs from the function's first route's.

[gateway] binary_media_types is a REST API's setting: with every route on payload 2.0 it changes nothing, and lint says so.

Authorizers differ by version too. REST APIs (payload 1.0) have TOKEN and REQUEST Lambda authorizers that answer an IAM policy; HTTP APIs (payload 2.0) have only REQUEST authorizers, which may answer a simple response ({"isAuthorized": true}). inquir runs either on either, so lint reports an authorizer with type = "token" that guards a payload 2.0 route, and one with simple_responses = true that guards a payload 1.0 route: AWS has no such authorizer for that API.

Its limits: it is a textual heuristic. It misses fields read through a library (serverless-http, aws-lambda-go-api-proxy and the like read both versions and are right not to be reported) or by a computed name, and a variable named like an event field on another object is taken for one. It reports one finding per function, naming the first place found.`,
		Fix:              `read the fields of the payload the routes send (or set payload on the function's routes to the version its handler is written for)`,
		SecuritySeverity: "3.0", Tags: []string{"security", "correctness"}, Precision: "high",
		Bad: Example{Config: `[gateway]
payload = "2.0"

[keys.partner]
secret = "env:PARTNER_KEY"
groups = ["partners"]

[functions.orders]
runtime = "node"
path = "handler.mjs"

[[routes]]
method = "ANY"
path = "/orders/{id}"
function = "orders"
group = "partners"
`, Files: map[string]string{"handler.mjs": `export async function handler(event) {
  if (event.httpMethod === "DELETE") {
    return { statusCode: 405, body: "orders are never deleted" };
  }
  const caller = event.requestContext.identity.apiKeyId;
  return { statusCode: 200, body: JSON.stringify({ order: event.pathParameters.id, caller }) };
}
`}},
		Good: Example{Config: `[gateway]
payload = "2.0"

[keys.partner]
secret = "env:PARTNER_KEY"
groups = ["partners"]

[functions.orders]
runtime = "node"
path = "handler.mjs"

[[routes]]
method = "ANY"
path = "/orders/{id}"
function = "orders"
group = "partners"
`, Files: map[string]string{"handler.mjs": `// An HTTP API's event (payload 2.0).
export async function handler(event) {
  if (event.requestContext.http.method === "DELETE") {
    return { statusCode: 405, body: "orders are never deleted" };
  }
  const caller = event.requestContext.authorizer.lambda.apiKeyId;
  return { statusCode: 200, body: JSON.stringify({ order: event.pathParameters.id, caller }) };
}
`}},
		check: func(v *View) []Finding {
			var out []Finding
			for _, fn := range v.Config.Functions {
				routes := slices.DeleteFunc(slices.Clone(v.Config.Routes), func(r config.Route) bool { return r.Function != fn.Name })
				if len(routes) == 0 {
					continue
				}
				first := routes[0]
				if i := slices.IndexFunc(routes, func(r config.Route) bool { return r.Payload != first.Payload }); i >= 0 {
					other := routes[i]
					out = append(out, v.at("function "+fn.Name,
						fmt.Sprintf("function %q gets payload %s from %s (routes[%d]) and payload %s from %s (routes[%d]): two event shapes for one handler; give its routes one payload",
							fn.Name, first.Payload, first, first.Index, other.Payload, other, other.Index),
						routeKey(other, "payload")...))
					continue
				}
				reads := findPayloadReads(handlerSources(fn), first.Payload)
				if len(reads) == 0 {
					continue
				}
				r := reads[0]
				f := v.at("function "+fn.Name,
					fmt.Sprintf("function %q reads %s at %s:%d, which only a payload %s event has, but its routes hand it payload %s: read %s, or give its routes payload = %q",
						fn.Name, r.what, v.relative(r.file), r.line, otherPayload(first.Payload), first.Payload, r.instead, otherPayload(first.Payload)),
					"functions", fn.Name, "path")
				for _, r := range reads {
					f.Related = append(f.Related, Location{File: r.file, Line: r.line, Message: "reads " + r.what + " (payload " + otherPayload(first.Payload) + " only)"})
				}
				out = append(out, f)
			}
			out = append(out, authorizerPayloadFindings(v)...)
			if len(v.Config.Gateway.BinaryMediaTypes) > 0 && len(v.Config.Routes) > 0 &&
				!slices.ContainsFunc(v.Config.Routes, func(r config.Route) bool { return r.Payload == config.Payload1 }) {
				out = append(out, v.at("gateway binary_media_types",
					"binary_media_types is a REST API's setting (payload 1.0), but every route is payload 2.0: HTTP APIs have no binary media types (a body is base64-encoded by its Content-Type, and isBase64Encoded is always decoded); remove it",
					"gateway", "binary_media_types"))
			}
			return out
		},
	}
}

// authorizerPayloadFindings reports authorizers with an option the
// payload format version of a route they guard does not have: TOKEN on
// 2.0, simple responses on 1.0.
func authorizerPayloadFindings(v *View) []Finding {
	var out []Finding
	for _, a := range v.Config.Authorizers {
		i := slices.IndexFunc(v.Config.Routes, func(r config.Route) bool {
			return r.Authorizer == a.Name && (a.Type == config.AuthorizerToken && r.Payload == config.Payload2 || a.SimpleResponses && r.Payload == config.Payload1)
		})
		if i < 0 {
			continue
		}
		r := v.Config.Routes[i]
		if a.Type == config.AuthorizerToken && r.Payload == config.Payload2 {
			out = append(out, v.at("authorizer "+a.Name,
				fmt.Sprintf("authorizer %q is a TOKEN authorizer, which only REST APIs (payload 1.0) have, but it guards %s (routes[%d]), a payload 2.0 route: HTTP APIs have REQUEST authorizers only; use type = \"request\" with identity_sources = [\"header.NAME\"]", a.Name, r, r.Index),
				"authorizers", a.Name, "type"))
			continue
		}
		out = append(out, v.at("authorizer "+a.Name,
			fmt.Sprintf("authorizer %q answers simple responses, which only HTTP APIs (payload 2.0) read, but it guards %s (routes[%d]), a payload 1.0 route: REST API authorizers answer an IAM policy; remove simple_responses, or give the route payload = \"2.0\"", a.Name, r, r.Index),
			"authorizers", a.Name, "simple_responses"))
	}
	return out
}

func otherPayload(p string) string {
	if p == config.Payload2 {
		return config.Payload1
	}
	return config.Payload2
}

// payloadField is one thing only one payload format version's event has,
// as source code reads it.
type payloadField struct {
	what, instead string // what it is, and what the other version has
	re            *regexp.Regexp
	goSource      bool // matched in Go files, else in JavaScript
}

// onlyIn are, by payload format version, what only that version's event
// has.
var onlyIn = map[string][]payloadField{
	config.Payload1: {
		{"events.APIGatewayProxyRequest", "events.APIGatewayV2HTTPRequest (and answer events.APIGatewayV2HTTPResponse)", regexp.MustCompile(`\bevents\.APIGatewayProxyRequest\b`), true},
		{"httpMethod", "requestContext.http.method", regexp.MustCompile(`\.\s*httpMethod\b`), false},
		{"multiValueHeaders", "headers (repeated values joined with commas)", regexp.MustCompile(`\.\s*multiValueHeaders\b`), false},
		{"multiValueQueryStringParameters", "queryStringParameters (repeated values joined with commas)", regexp.MustCompile(`\.\s*multiValueQueryStringParameters\b`), false},
		{"requestContext.identity", "requestContext.http (sourceIp, userAgent) and requestContext.authorizer.lambda.apiKeyId", regexp.MustCompile(`requestContext\s*(?:\?\.|\.)\s*identity\b`), false},
	},
	config.Payload2: {
		{"events.APIGatewayV2HTTPRequest", "events.APIGatewayProxyRequest (and answer events.APIGatewayProxyResponse)", regexp.MustCompile(`\bevents\.APIGatewayV2HTTPRequest\b`), true},
		{"rawPath", "path", regexp.MustCompile(`\.\s*rawPath\b`), false},
		{"rawQueryString", "multiValueQueryStringParameters", regexp.MustCompile(`\.\s*rawQueryString\b`), false},
		{"routeKey", "httpMethod and resource", regexp.MustCompile(`\.\s*routeKey\b`), false},
		{"requestContext.http", "httpMethod and requestContext.identity", regexp.MustCompile(`requestContext\s*(?:\?\.|\.)\s*http\b`), false},
	},
}

// payloadRead is one place a handler reads what the other payload has.
type payloadRead struct {
	file          string
	line          int
	what, instead string
}

// findPayloadReads scans files, comments aside, for what only the payload
// format version other than sent has, in file and line order.
func findPayloadReads(files []string, sent string) []payloadRead {
	var out []payloadRead
	for _, file := range files {
		st, err := os.Stat(file)
		if err != nil || st.Size() > maxSourceSize {
			continue
		}
		b, err := os.ReadFile(file)
		if err != nil {
			continue
		}
		goSource := filepath.Ext(file) == ".go"
		src := stripComments(string(b), !goSource)
		var reads []payloadRead
		for _, f := range onlyIn[otherPayload(sent)] {
			if f.goSource != goSource {
				continue
			}
			for _, m := range f.re.FindAllStringIndex(src, -1) {
				reads = append(reads, payloadRead{file: file, line: 1 + strings.Count(src[:m[0]], "\n"), what: f.what, instead: f.instead})
			}
		}
		slices.SortStableFunc(reads, func(a, b payloadRead) int { return a.line - b.line })
		out = append(out, reads...)
	}
	return out
}
