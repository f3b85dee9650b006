package lint

import (
	"fmt"
	"slices"
	"strings"

	"github.com/inquir-dev/inquir/emulator/config"
	"github.com/inquir-dev/inquir/emulator/policy"
)

// Lambda authorizers ([authorizers.NAME]): what they read and what their
// cached answers allow.

func ruleUncarriedIdentitySource() *Rule {
	return &Rule{
		ID: "INQ021", Name: "IdentitySourceNoRequestCarries", Severity: Error,
		Title: "an authorizer identity source that no request can carry (every request to its routes is 401)",
		Explanation: `The gateway reads an authorizer's identity_sources from each request before it runs the authorizer, and refuses a request that lacks one (401) without running it, as API Gateway does. A source that no request can carry refuses every request: the routes behind the authorizer cannot be called at all.

Two kinds of source are never there. stageVariables.NAME: API Gateway's stage variables belong to a deployed stage, and inquir serves no stages, so none is ever set. context.NAME, unless inquir has a value for that $context variable: ` + strings.Join(prefixAll("context.", config.ContextSources), ", ") + `. (A header source naming the API key header is refused by the config itself: the key's secret reaches no function.)`,
		Fix:              "read the identity from a header or a query parameter, or from a context variable inquir sets",
		SecuritySeverity: "3.0", Tags: []string{"security", "correctness", "authorizer"}, Precision: "very-high",
		Bad: Example{Config: `[authorizers.tenant]
function = "tenant-auth"
type = "request"
identity_sources = ["header.Authorization", "stageVariables.tenant"]

[functions.tenant-auth]
runtime = "node"
path = "authorizer.mjs"

[functions.orders]
runtime = "node"
path = "handler.mjs"

[[routes]]
method = "GET"
path = "/orders/{id}"
function = "orders"
auth = "authorizer"
authorizer = "tenant"
`},
		Good: Example{Config: `[authorizers.tenant]
function = "tenant-auth"
type = "request"
identity_sources = ["header.Authorization", "query.tenant"]

[functions.tenant-auth]
runtime = "node"
path = "authorizer.mjs"

[functions.orders]
runtime = "node"
path = "handler.mjs"

[[routes]]
method = "GET"
path = "/orders/{id}"
function = "orders"
auth = "authorizer"
authorizer = "tenant"
`},
		check: func(v *View) []Finding {
			var out []Finding
			for _, a := range v.Config.Authorizers {
				for _, s := range a.IdentitySources {
					why := ""
					switch {
					case s.Kind == config.SourceStageVariable:
						why = "inquir serves no stages, so no stage variable is ever set"
					case s.Kind == config.SourceContext && !slices.Contains(config.ContextSources, s.Name):
						why = "inquir has no value for that $context variable (it has " + strings.Join(prefixAll("context.", config.ContextSources), ", ") + ")"
					default:
						continue
					}
					out = append(out, v.at("authorizer "+a.Name+" source "+s.String(),
						fmt.Sprintf("authorizer %q reads identity source %q, which no request carries: %s; %s",
							a.Name, s.String(), why, refusedAll(v, a.Name)),
						"authorizers", a.Name, "identity_sources"))
				}
			}
			return out
		},
	}
}

func ruleCachedNarrowPolicy() *Rule {
	return &Rule{
		ID: "INQ022", Name: "CachedPolicyForOneARN", Severity: Warning,
		Title: "a cached authorizer whose policy allows only the request's methodArn, answering more than one route or path",
		Explanation: `API Gateway caches a Lambda authorizer's answer for its TTL (300 s unless ttl says otherwise), keyed on the identity sources alone (the token, for a TOKEN authorizer), not on the route. Within the TTL, the same caller's next request, to any route the authorizer guards, is judged by the cached policy. An authorizer that builds its policy's Resource from the event's methodArn alone allows exactly the first request's method and path: the next request to another route, or to another path of a {param} or {proxy+} route, or with another method on an ANY route, is refused with 403 "User is not authorized to access this resource" until the answer expires. It works in every test that calls one URL, and fails in production for the caller's second click. AWS's knowledge-center article "Why is my API Gateway proxy resource with a Lambda authorizer that has caching activated returning HTTP 403" describes it; inquir dev reproduces it.

How lint decides: for every authorizer with ttl above 0 that answers more than one method ARN (more than one route names it, or one route with a path parameter or method ANY), it reads the authorizer function's sources, comments removed: a Node module and the .js, .mjs, .cjs and .ts files beside it; a Go function's package folder; for a process function, the Python files its command names and those beside them. It reports a policy statement whose Resource is the methodArn unchanged (Resource: event.methodArn, "Resource": [event.methodArn], Resource: []string{req.MethodArn}, 'Resource': event['methodArn']), and the methodArn handed unchanged to a helper (generatePolicy('user', 'Allow', event.methodArn), as AWS's blueprints write it) in a file that sets a Resource. An ARN derived from it (event.methodArn.split('/'), a "/*" wildcard) is not reported.

Its limits: it is a textual heuristic, like INQ011's. It does not follow the methodArn through a variable of another name or into another file, and it cannot tell which branch of the code runs: an authorizer that allows only the methodArn for some callers and the whole API for others is reported. Allow the ARNs the caller may call (arn:aws:execute-api:REGION:ACCOUNT:API/STAGE/*/* for the whole stage, built from the methodArn's first two path segments), or set ttl = "0" to cache nothing.`,
		Fix:              `return a Resource that covers every route the caller may call (the stage's "/*/*"), or set ttl = "0"`,
		SecuritySeverity: "2.0", Tags: []string{"security", "correctness", "authorizer"}, Precision: "medium",
		Bad: Example{Config: `[authorizers.tenant]
function = "tenant-auth"
type = "token"
identity_sources = ["header.Authorization"]
ttl = "300s"

[functions.tenant-auth]
runtime = "node"
path = "authorizer.mjs"

[functions.orders]
runtime = "node"
path = "handler.mjs"

[[routes]]
method = "GET"
path = "/orders/{id}"
function = "orders"
auth = "authorizer"
authorizer = "tenant"

[[routes]]
method = "GET"
path = "/invoices"
function = "orders"
auth = "authorizer"
authorizer = "tenant"
`, Files: map[string]string{"authorizer.mjs": `export async function handler(event) {
  // A real authorizer verifies the token here (a JWT's signature, say).
  if (!/^Bearer \S+$/.test(event.authorizationToken)) {
    throw new Error("Unauthorized");
  }
  return {
    principalId: "tenant",
    policyDocument: {
      Version: "2012-10-17",
      Statement: [{ Action: "execute-api:Invoke", Effect: "Allow", Resource: event.methodArn }],
    },
  };
}
`}},
		Good: Example{Config: `[authorizers.tenant]
function = "tenant-auth"
type = "token"
identity_sources = ["header.Authorization"]
ttl = "300s"

[functions.tenant-auth]
runtime = "node"
path = "authorizer.mjs"

[functions.orders]
runtime = "node"
path = "handler.mjs"

[[routes]]
method = "GET"
path = "/orders/{id}"
function = "orders"
auth = "authorizer"
authorizer = "tenant"

[[routes]]
method = "GET"
path = "/invoices"
function = "orders"
auth = "authorizer"
authorizer = "tenant"
`, Files: map[string]string{"authorizer.mjs": `// The answer is cached for every route this authorizer guards: allow the
// whole stage (arn:aws:execute-api:REGION:ACCOUNT:API/STAGE/*/*).
export async function handler(event) {
  // A real authorizer verifies the token here (a JWT's signature, say).
  if (!/^Bearer \S+$/.test(event.authorizationToken)) {
    throw new Error("Unauthorized");
  }
  const stage = event.methodArn.split("/").slice(0, 2).join("/");
  return {
    principalId: "tenant",
    policyDocument: {
      Version: "2012-10-17",
      Statement: [{ Action: "execute-api:Invoke", Effect: "Allow", Resource: stage + "/*/*" }],
    },
  };
}
`}},
		check: func(v *View) []Finding {
			var out []Finding
			for _, a := range v.Config.Authorizers {
				fn := v.Config.Function(a.Function)
				if a.TTL == 0 || fn == nil || !manyARNs(v, a.Name) {
					continue
				}
				uses := findArnResources(authorizerSources(*fn))
				if len(uses) == 0 {
					continue
				}
				key := []string{"authorizers", a.Name, "ttl"}
				if v.Config.Pos(key...) == v.Config.Pos(key[:2]...) {
					key = key[:2] // the default TTL: no ttl line to point at
				}
				first := uses[0]
				f := v.at("authorizer "+a.Name,
					fmt.Sprintf("authorizer %q caches its answer for %s and answers %s, but function %q allows only the request's methodArn (%s:%d): the cached policy refuses the caller's next request to another route or path (403) until it expires; allow the stage's ARNs (.../STAGE/*/*) or set ttl = \"0\"",
						a.Name, fmt.Sprintf("%ds", int(a.TTL.Seconds())), routesOf(v, a.Name), fn.Name, v.relative(first.File), first.Line),
					key...)
				for _, u := range uses {
					f.Related = append(f.Related, Location{File: u.File, Line: u.Line, Message: "allows only the methodArn"})
				}
				out = append(out, f)
			}
			return out
		},
	}
}

// usersOf returns the routes authorizer name runs for, in file order.
func usersOf(v *View, name string) []*policy.Route {
	var out []*policy.Route
	for _, r := range v.Routes {
		if r.Authorizer == name {
			out = append(out, r)
		}
	}
	return out
}

// manyARNs reports whether the routes of authorizer name take requests
// with more than one method ARN: more than one route, or a route whose
// template matches more than one path ({param}) or method (ANY).
func manyARNs(v *View, name string) bool {
	routes := usersOf(v, name)
	if len(routes) > 1 {
		return true
	}
	return len(routes) == 1 && (routes[0].Method == config.MethodAny || strings.Contains(routes[0].Path, "{"))
}

// routesOf names the routes of authorizer name for a message.
func routesOf(v *View, name string) string {
	var names []string
	for _, r := range usersOf(v, name) {
		names = append(names, r.Route.String())
	}
	switch len(names) {
	case 0:
		return "no route (none names it)"
	case 1:
		return "route " + names[0]
	}
	return "routes " + strings.Join(names, ", ")
}

// refusedAll says which requests a source no request carries refuses.
func refusedAll(v *View, name string) string {
	if len(usersOf(v, name)) == 0 {
		return "no route names the authorizer yet, but every request to one would be refused (401)"
	}
	return "every request to " + routesOf(v, name) + " is refused (401) before it runs"
}

// prefixAll returns each of names with prefix before it.
func prefixAll(prefix string, names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = prefix + n
	}
	return out
}
