package lint

import (
	"fmt"
	"slices"
	"strings"

	"github.com/inquir-dev/inquir/emulator/policy"
)

// Overlaps between routes, decided by the gateway's router (see Probe).

func ruleOpenCatchesProtected() *Rule {
	return &Rule{
		ID: "INQ008", Name: "OpenRouteCatchesProtectedRequests", Severity: Error,
		Title: "an open route whose pattern also matches requests meant for a protected route",
		Explanation: `The router serves each request with the most specific route: a literal segment beats a {param}, which beats a {greedy+}, and a route for one method beats ANY. An open route whose pattern is more specific than a protected route's, where both match, takes those requests from it: they run the open route's function with no key, though the protected route was written for them. ANY /v1/{page} beside a protected GET /v1/{proxy+} serves GET /v1/orders openly.

Lint decides by the gateway's own router, not by comparing templates. For every protected route it derives sample requests: each {param} filled with a segment no route names literally, a {rest+} with one segment and with several, and each method the route answers (for ANY: GET, HEAD, POST, PUT, PATCH, DELETE and OPTIONS). A request is meant for the protected route when its path matches the route's template and the route answers its method. It asks Policy.Match which route serves each; an open route that serves one is reported.

Two cases are left to other rules on purpose. An open route that names one path literally (GET /v1/status beside GET /v1/{proxy+}) answers for that path alone, which the config says in so many words; samples never use a literal segment, so it is not reported here (INQ002 lists it, and INQ012 flags it when it runs the protected route's function). And an open route on the very same path for another method (GET /reports/{id} open, ANY /reports/{id} protected) is a per-method choice; INQ009 reports it, as it reports an open route that answers the methods a protected route does not.`,
		Fix:              "make the open route name its paths literally, or protect it",
		SecuritySeverity: "9.0", Tags: []string{"security", "open-route", "routing"}, Precision: "very-high",
		Bad: Example{Config: `[keys.partner]
secret = "env:PARTNER_KEY"
groups = ["partners"]

[functions.api]
runtime = "node"
path = "handler.mjs"

[functions.status]
runtime = "node"
path = "status.mjs"

[[routes]]
method = "GET"
path = "/v1/{proxy+}"
function = "api"
group = "partners"

[[routes]]
method = "ANY"
path = "/v1/{page}"
function = "status"
auth = "none"
reason = "the status page"
`},
		Good: Example{Config: `[keys.partner]
secret = "env:PARTNER_KEY"
groups = ["partners"]

[functions.api]
runtime = "node"
path = "handler.mjs"

[functions.status]
runtime = "node"
path = "status.mjs"

[[routes]]
method = "GET"
path = "/v1/{proxy+}"
function = "api"
group = "partners"

[[routes]]
method = "GET"
path = "/v1/status"
function = "status"
auth = "none"
reason = "the status page"
`},
		check: func(v *View) []Finding {
			var out []Finding
			for _, c := range conflicts(v) {
				if len(c.caught) == 0 {
					continue
				}
				ex := c.caught[0]
				out = append(out, v.at(subjectRoute(c.open.Route)+" catches "+subjectRoute(c.protected.Route),
					fmt.Sprintf("%s is open and catches requests meant for protected route %s (e.g. %s %s); make it name its paths literally or protect it",
						c.open.Route, c.protected.Route, ex.Method, ex.Path),
					routeKey(c.open.Route, "auth")...))
			}
			return out
		},
	}
}

func ruleMixedProtection() *Rule {
	return &Rule{
		ID: "INQ009", Name: "PathProtectedForSomeMethods", Severity: Warning,
		Title: "the same path protected for one method and open for another",
		Explanation: `A path that needs a key for one method and none for another is easy to misread: a reviewer who sees POST /internal/search protected assumes the path is. When an open route serves the other methods (an ANY /{proxy+} catch-all in front of a website, say), DELETE /internal/search reaches that open route's function with no key; if that function forwards by path, it reaches what the protected route guards.

Lint decides by the gateway's router. For every protected route it sends sample requests to its path (parameters filled as in INQ008) with every method: GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS. It reports an open route that serves a method the protected route does not answer, or that has the very same template as the protected route and so differs from it only by method. A request the protected route does answer, caught by an open route of another pattern, is INQ008's, an error; a pair reported there is not reported here too.`,
		Fix:              "protect the path for every method, or keep the open route off it",
		SecuritySeverity: "7.0", Tags: []string{"security", "open-route", "routing"}, Precision: "high",
		Bad: Example{Config: `[keys.search-agent]
secret = "env:SEARCH_AGENT_KEY"
groups = ["internal"]

[groups.internal]
internal = true

[functions.search]
runtime = "node"
path = "handler.mjs"

[functions.site]
runtime = "node"
path = "site.mjs"

[[routes]]
method = "POST"
path = "/internal/search"
function = "search"
group = "internal"

[[routes]]
method = "ANY"
path = "/{proxy+}"
function = "site"
auth = "none"
reason = "the public website"
`},
		Good: Example{Config: `[keys.search-agent]
secret = "env:SEARCH_AGENT_KEY"
groups = ["internal"]

[groups.internal]
internal = true

[functions.search]
runtime = "node"
path = "handler.mjs"

[functions.site]
runtime = "node"
path = "site.mjs"

[[routes]]
method = "POST"
path = "/internal/search"
function = "search"
group = "internal"

[[routes]]
method = "ANY"
path = "/site/{proxy+}"
function = "site"
auth = "none"
reason = "the public website"
`},
		check: func(v *View) []Finding {
			var out []Finding
			for _, c := range conflicts(v) {
				if len(c.caught) > 0 || len(c.methods) == 0 {
					continue
				}
				out = append(out, v.at(subjectRoute(c.open.Route)+" beside "+subjectRoute(c.protected.Route),
					fmt.Sprintf("%s is protected, but %s requests to the same path reach open route %s; protect the path for every method or keep the open route off it",
						c.protected.Route, strings.Join(c.methods, ", "), c.open.Route),
					routeKey(c.open.Route, "auth")...))
			}
			return out
		},
	}
}

// conflict is an open route serving sample requests of a protected one.
type conflict struct {
	open, protected *policy.Route
	// caught are requests the protected route answers, served by an open
	// route of another pattern (INQ008).
	caught []Probe
	// methods are the other methods that reach the open route (INQ009).
	methods []string
}

// conflicts pairs open routes with the protected routes whose sample
// requests they serve, in the order of the protected routes in the file.
func conflicts(v *View) []*conflict {
	var out []*conflict
	byPair := map[[2]*policy.Route]*conflict{}
	for _, pr := range v.Probes {
		if pr.Served == nil || pr.Served == pr.From || v.Open(pr.From) || !v.Open(pr.Served) {
			continue
		}
		pair := [2]*policy.Route{pr.Served, pr.From}
		c := byPair[pair]
		if c == nil {
			c = &conflict{open: pr.Served, protected: pr.From}
			byPair[pair] = c
			out = append(out, c)
		}
		if pr.Answers() && !sameShape(pr.Served.Path, pr.From.Path) {
			c.caught = append(c.caught, pr)
		} else if !slices.Contains(c.methods, pr.Method) {
			c.methods = append(c.methods, pr.Method)
		}
	}
	return out
}

func ruleSideDoor() *Rule {
	return &Rule{
		ID: "INQ012", Name: "SideDoorToFunction", Severity: Warning,
		Title: "two routes to one function with different protection (the weaker one is a side door)",
		Explanation: `A function is as protected as the weakest route that runs it. When two routes run one function and one lets in callers the other keeps out (it is open, or allows more keys), the stronger route's protection is for show: a caller refused there goes through the other.

Lint compares each pair of routes to one function by the compiled policy: an open route lets in everyone; a protected route, the keys the policy allows on it. One route is weaker than another when it is open and the other is not, or when it allows every key the other allows and more. The finding is on the weaker route and names the keys it adds. A route's Lambda authorizer is one more check: a route that skips the authorizer another runs, and asks for no key that one does not, is weaker; so is a route that asks for no key (auth = "authorizer") beside one that runs the same authorizer after a key. Two protected routes whose callers differ without either including the other (a partner route and an internal route to one function; two routes with different authorizers; one with a key, the other with an authorizer) are not reported: neither is weaker than the other, and which one is the side door would be a guess. Nor is a route no key may call (INQ004's), which guards nothing.

Only routes the router actually serves count: a route whose every sample request (see INQ008) is served by another route is never invoked, so it opens no door.`,
		Fix:              "give both routes the same protection, or give the weaker one a function of its own",
		SecuritySeverity: "7.0", Tags: []string{"security", "least-privilege"}, Precision: "high",
		Bad: Example{Config: `[keys.search-agent]
secret = "env:SEARCH_AGENT_KEY"
groups = ["internal"]

[functions.customers]
runtime = "node"
path = "handler.mjs"

[[routes]]
method = "GET"
path = "/customers/{id}"
function = "customers"
group = "internal"

[[routes]]
method = "GET"
path = "/customers/{id}/avatar"
function = "customers"
auth = "none"
reason = "avatars are shown on public pages"
`},
		Good: Example{Config: `[keys.search-agent]
secret = "env:SEARCH_AGENT_KEY"
groups = ["internal"]

[functions.customers]
runtime = "node"
path = "handler.mjs"

[functions.avatars]
runtime = "node"
path = "avatars.mjs"

[[routes]]
method = "GET"
path = "/customers/{id}"
function = "customers"
group = "internal"

[[routes]]
method = "GET"
path = "/customers/{id}/avatar"
function = "avatars"
auth = "none"
reason = "avatars are shown on public pages"
`},
		check: func(v *View) []Finding {
			var served []*policy.Route
			for _, pr := range v.Probes {
				if pr.Served == pr.From && pr.Answers() && !slices.Contains(served, pr.From) {
					served = append(served, pr.From)
				}
			}
			var out []Finding
			for _, a := range served {
				for _, b := range served {
					// b must guard something: an open route or one no
					// key may call (INQ004's) protects nobody.
					if a == b || a.Function != b.Function || !v.guards(b) {
						continue
					}
					subject := subjectRoute(a.Route) + " beside " + subjectRoute(b.Route)
					if v.Open(a) {
						out = append(out, v.at(subject,
							fmt.Sprintf("%s is open and runs function %q, which %s protects; the open route is a side door to it", a.Route, a.Function, b.Route),
							routeKey(a.Route, "auth")...))
						continue
					}
					switch {
					case b.Authorizer != "" && a.Authorizer != b.Authorizer:
						// a skips b's authorizer. It is weaker only if it
						// checks nothing b does not: no authorizer of its own
						// (two authorizers are two different tests, neither
						// weaker), and no key b does not ask for.
						if a.Authorizer != "" || (a.NeedsKey() && !(b.NeedsKey() && includes(a.Callers, b.Callers))) {
							continue
						}
						out = append(out, v.at(subject,
							fmt.Sprintf("%s runs function %q without authorizer %q, which %s runs first; the weaker route is a side door", a.Route, a.Function, b.Authorizer, b.Route),
							routeKey(a.Route, "authorizer")...))
						continue
					case a.Authorizer != b.Authorizer:
						// a runs an authorizer b does not: it refuses
						// callers b lets in, so it is not the weaker.
						continue
					case !a.NeedsKey() && b.NeedsKey():
						out = append(out, v.at(subject,
							fmt.Sprintf("%s asks for no API key and runs function %q, which %s runs only for a key; the weaker route is a side door", a.Route, a.Function, b.Route),
							routeKey(a.Route, "auth")...))
						continue
					case !a.NeedsKey() || !b.NeedsKey():
						continue
					}
					extra, weaker := widens(a.Callers, b.Callers)
					if !weaker {
						continue
					}
					noun := "key"
					if len(extra) > 1 {
						noun = "keys"
					}
					out = append(out, v.at(subject,
						fmt.Sprintf("%s lets %s %s run function %q, though %s does not; the weaker route is a side door", a.Route, noun, strings.Join(extra, ", "), a.Function, b.Route),
						routeKey(a.Route, callersField(a))...))
				}
			}
			return out
		},
	}
}

// widens reports whether callers a include every one of b and more, and
// which more, quoted.
func widens(a, b []string) (extra []string, weaker bool) {
	for _, id := range b {
		if !slices.Contains(a, id) {
			return nil, false
		}
	}
	for _, id := range a {
		if !slices.Contains(b, id) {
			extra = append(extra, fmt.Sprintf("%q", id))
		}
	}
	return extra, len(extra) > 0
}

// includes reports whether callers a include every one of b.
func includes(a, b []string) bool {
	for _, id := range b {
		if !slices.Contains(a, id) {
			return false
		}
	}
	return true
}

// callersField is the field that says who may call a protected route.
func callersField(r *policy.Route) string {
	switch {
	case r.Group != "":
		return "group"
	case len(r.Keys) > 0:
		return "keys"
	}
	return ""
}
