package lint

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/inquir-dev/inquir/emulator/config"
	"github.com/inquir-dev/inquir/emulator/policy"
)

// Spellings that inquir dev refuses (policy.Match's Refused, MatchRequest's
// method-override check) but API Gateway hands to the function: they matter
// where the config is deployed, so lint flags the routes they would steer.

func ruleEncodedSlash() *Rule {
	return &Rule{
		ID: "INQ014", Name: "EncodedSlashReachesProtectedPath", Severity: Warning,
		Title: "a {param} route that takes an encoded-slash (%2F) or other-case spelling of a more protected route's path",
		Explanation: `A {param} or {greedy+} segment matches one segment, and %2F (an encoded "/") or %5C (an encoded "\") does not end a segment. A request for /api/admin%2Fusers is therefore routed by ANY /api/{proxy+}, not by ANY /api/admin/{proxy+}. On AWS API Gateway a REST API hands it to the function as it came: path "/api/admin%2Fusers", pathParameters proxy = "admin%2Fusers". A web framework in the function decodes that once and runs its /api/admin/users code, for a caller the admin route refuses. inquir dev refuses such a request with 400 before anything runs (the path, decoded as a framework decodes it, must route to the route that authorised it), so the fault shows only once the config is deployed.

Letter case does the same through routers that ignore it: Express and Koa (by default) and ASP.NET match /api/ADMIN/users as /api/admin/users, and ASP.NET names routes after controllers (/api/Admin/...) that requests in lower case still reach. API Gateway routes case-sensitively, so GET /api/{section}/users takes /api/ADMIN/users and its function runs the code of GET /api/admin/users for a caller that route refuses. inquir dev refuses a path whose letters, compared without regard to case, select a more protected route (400), so this too shows only once deployed.

Lint decides by the gateway's router. For every pair of routes that run the same code (one function, or functions with the same runtime, module and export), where the first has a parameter and lets in a caller the second refuses (it is open and the second is not, or it allows a key the second does not), it takes the second route's sample requests (see INQ008) and spells one or more of their "/" separators as %2F (%5C routes the same way), and, apart, one segment or the whole path in lower and in upper case. When Policy.Match routes such a spelling to the first route while the plain path is served by the second, the first route is reported, once for each kind of spelling, with the request and what AWS would hand the function. Routes to different code are not reported: a function that does not serve the protected path has no code for it to be steered into. When the weaker route is open, or allows every key of the other and more, INQ012 reports the pair too; this finding says how the protected path's code is reached.`,
		Fix:              "give the function the same protection on both routes, or make it reject paths and parameters holding %2F or %5C and route paths case-sensitively",
		SecuritySeverity: "7.5", Tags: []string{"security", "routing", "aws-fidelity"}, Precision: "high",
		Bad: Example{Config: `[keys.partner]
secret = "env:PARTNER_KEY"
groups = ["partners"]

[keys.admin]
secret = "env:ADMIN_KEY"
groups = ["admins"]

[functions.api]
runtime = "node"
path = "handler.mjs"

[[routes]]
method = "ANY"
path = "/api/{proxy+}"
function = "api"
group = "partners"

[[routes]]
method = "ANY"
path = "/api/admin/{proxy+}"
function = "api"
group = "admins"
`},
		Good: Example{Config: `[keys.partner]
secret = "env:PARTNER_KEY"
groups = ["partners"]

[keys.admin]
secret = "env:ADMIN_KEY"
groups = ["admins"]

[functions.api]
runtime = "node"
path = "handler.mjs"

[functions.admin]
runtime = "node"
path = "admin.mjs"

[[routes]]
method = "ANY"
path = "/api/{proxy+}"
function = "api"
group = "partners"

[[routes]]
method = "ANY"
path = "/api/admin/{proxy+}"
function = "admin"
group = "admins"
`},
		check: func(v *View) []Finding {
			seg := sampleSegments(v.Policy)
			var out []Finding
			for _, weak := range v.Routes {
				if !strings.Contains(weak.Path, "{") {
					continue
				}
				for _, strong := range v.Routes {
					if weak == strong || !v.sameCode(weak, strong) {
						continue
					}
					who, weaker := v.admitsMore(weak, strong)
					if !weaker {
						continue
					}
					if ex, ok := encodedSpelling(v.Policy, weak, strong, seg); ok {
						out = append(out, v.at(subjectRoute(weak.Route)+" takes encoded paths of "+subjectRoute(strong.Route),
							fmt.Sprintf("%s takes %s %s, which a web framework decodes to %s, the path of %s; on AWS function %q gets path %q%s for %s, whom %s refuses; give both routes the same protection or make the function reject encoded slashes (%%2F, %%5C)",
								weak.Route, ex.method, ex.raw, ex.plain, strong.Route, weak.Function, ex.raw, paramsText(ex.params), who, strong.Route),
							routeKey(weak.Route, protectionField(weak))...))
					}
					if ex, ok := caseSpelling(v.Policy, weak, strong, seg); ok {
						out = append(out, v.at(subjectRoute(weak.Route)+" takes other-case paths of "+subjectRoute(strong.Route),
							fmt.Sprintf("%s takes %s %s, which a router that ignores letter case (Express, Koa, ASP.NET) serves as %s, the path of %s; on AWS function %q gets path %q%s for %s, whom %s refuses; give both routes the same protection or make the function route paths case-sensitively",
								weak.Route, ex.method, ex.raw, ex.plain, strong.Route, weak.Function, ex.raw, paramsText(ex.params), who, strong.Route),
							routeKey(weak.Route, protectionField(weak))...))
					}
				}
			}
			return out
		},
	}
}

// encoded is a request that routes to one route as spelled and to another
// once decoded.
type encoded struct {
	method, raw, plain string
	params             map[string]string
}

// encodedSpelling looks for a sample request of strong (a path it serves)
// that, with some of its "/" separators spelled %2F, the router serves with
// weak: what an API Gateway REST API would hand weak's function. %5C routes
// as %2F does (inside its segment), so one spelling answers for both.
func encodedSpelling(p *policy.Policy, weak, strong *policy.Route, seg [3]string) (encoded, bool) {
	for _, plain := range samplePaths(strong.Path, seg) {
		var methods []string // those strong serves plain with
		for _, m := range probeMethods {
			if answers(strong, m) && p.Match(m, plain).Route == strong {
				methods = append(methods, m)
			}
		}
		segs := strings.Split(plain, "/")[1:]
		// Escape the n separators after segs[i], fewest first.
		for n := 1; n < len(segs); n++ {
			for i := 0; i+n < len(segs); i++ {
				raw := "/" + strings.Join(segs[:i+1], "/")
				for _, s := range segs[i+1 : i+n+1] {
					raw += "%2F" + s
				}
				if rest := segs[i+n+1:]; len(rest) > 0 {
					raw += "/" + strings.Join(rest, "/")
				}
				if !mayMatch(weak.Path, raw) {
					continue
				}
				for _, m := range methods {
					if got := p.Match(m, raw); got.Route == weak {
						return encoded{method: m, raw: raw, plain: plain, params: got.Params}, true
					}
				}
			}
		}
	}
	return encoded{}, false
}

// caseSpelling looks for a sample request of strong that, with one
// segment or the whole path in lower or in upper case (lower first, which
// reaches a route named in upper case), the router serves with weak: what
// API Gateway, which routes case-sensitively, hands weak's function, and a
// router that ignores case serves as strong's path.
func caseSpelling(p *policy.Policy, weak, strong *policy.Route, seg [3]string) (encoded, bool) {
	for _, plain := range samplePaths(strong.Path, seg) {
		var methods []string // those strong serves plain with
		for _, m := range probeMethods {
			if answers(strong, m) && p.Match(m, plain).Route == strong {
				methods = append(methods, m)
			}
		}
		segs := strings.Split(plain, "/")[1:]
		for _, fold := range []func(string) string{strings.ToLower, strings.ToUpper} {
			var spelled []string // one segment at a time, then the whole path
			for i, s := range segs {
				if f := fold(s); f != s {
					out := slices.Clone(segs)
					out[i] = f
					spelled = append(spelled, "/"+strings.Join(out, "/"))
				}
			}
			spelled = append(spelled, fold(plain))
			for _, raw := range spelled {
				if raw == plain || !mayMatch(weak.Path, raw) {
					continue
				}
				for _, m := range methods {
					if got := p.Match(m, raw); got.Route == weak {
						return encoded{method: m, raw: raw, plain: plain, params: got.Params}, true
					}
				}
			}
		}
	}
	return encoded{}, false
}

// mayMatch reports whether template could match path, segment by segment:
// a cheap necessary condition that spares the router the spellings that
// cannot reach the route. The router decides the rest.
func mayMatch(template, path string) bool {
	ts, ps := strings.Split(template, "/"), strings.Split(path, "/")
	for i, t := range ts {
		switch {
		case i >= len(ps):
			return false
		case strings.HasSuffix(t, "+}"):
			return true
		case !strings.HasPrefix(t, "{") && t != ps[i]:
			return false
		}
	}
	return len(ts) == len(ps)
}

// paramsText shows path parameters as AWS hands them: ` (proxy = "a%2Fb")`.
func paramsText(params map[string]string) string {
	if len(params) == 0 {
		return ""
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(params)) {
		parts = append(parts, fmt.Sprintf("%s = %q", k, params[k]))
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

func ruleMethodSideDoor() *Rule {
	return &Rule{
		ID: "INQ015", Name: "WeakerRouteTakesMethodOnAWS", Severity: Warning,
		Title: "a route weaker than a method route on the same path, which HEAD or a method override reaches on AWS",
		Explanation: `Web frameworks run the GET handler for HEAD, and many read the real method from a method-override header (X-HTTP-Method-Override, X-HTTP-Method, X-Method-Override, which CGI, WSGI and PHP also read spelled with "_"), or from a _method query parameter or form field (Laravel, Symfony, Rails, Express's method-override). On AWS API Gateway, HEAD /reports goes to ANY /reports when no HEAD route exists, and POST /reports with X-HTTP-Method-Override: GET goes to whatever route answers POST. When that route runs the same code as GET /reports but lets in callers GET /reports refuses, they get the GET code run for them. inquir dev routes HEAD as GET unless a HEAD route exists and refuses an override (header, query parameter or form field) naming a method another route serves, so the fault shows only once the config is deployed.

Lint decides by the gateway's router. For every route for one method other than HEAD (a framework runs GET's code for HEAD, so a HEAD route guarded apart guards no code of its own), it sends the route's sample requests (see INQ008) with every other method, and finds the routes that serve them: an ANY route, an explicit HEAD route beside GET, a route for another method. Such a route is reported when it runs the same code (one function, or functions with the same runtime, module and export) and lets in a caller the method route refuses: it is open and the method route is not, or it allows a key the method route does not. Routes to different code are not reported (INQ009 reports an open one): their function has no code of the method route's to run. When the weaker route is open, or allows every key of the method route and more, INQ012 reports the pair too; this finding says which requests reach the method route's code.`,
		Fix:              "give the routes the same protection, or give the weaker route a function of its own",
		SecuritySeverity: "7.0", Tags: []string{"security", "routing", "aws-fidelity"}, Precision: "high",
		Bad: Example{Config: `[keys.partner]
secret = "env:PARTNER_KEY"
groups = ["partners"]

[keys.admin]
secret = "env:ADMIN_KEY"
groups = ["admins"]

[functions.reports]
runtime = "node"
path = "handler.mjs"

[[routes]]
method = "GET"
path = "/reports"
function = "reports"
group = "admins"

[[routes]]
method = "ANY"
path = "/reports"
function = "reports"
group = "partners"
`},
		Good: Example{Config: `[keys.partner]
secret = "env:PARTNER_KEY"
groups = ["partners"]

[keys.admin]
secret = "env:ADMIN_KEY"
groups = ["admins"]

[functions.reports]
runtime = "node"
path = "handler.mjs"

[functions.report-drafts]
runtime = "node"
path = "drafts.mjs"

[[routes]]
method = "GET"
path = "/reports"
function = "reports"
group = "admins"

[[routes]]
method = "ANY"
path = "/reports"
function = "report-drafts"
group = "partners"
`},
		check: func(v *View) []Finding {
			type pair struct{ weak, strong *policy.Route }
			var order []pair
			methods := map[pair][]string{}
			paths := map[pair]string{}
			for _, pr := range v.Probes {
				strong, weak := pr.From, pr.Served
				// A HEAD route runs GET's code: guarding it apart guards nothing.
				if strong.Method == config.MethodAny || strong.Method == "HEAD" || weak == nil || weak == strong || pr.Method == strong.Method {
					continue
				}
				k := pair{weak, strong}
				if _, seen := paths[k]; !seen {
					if !v.sameCode(weak, strong) {
						continue
					}
					if _, weaker := v.admitsMore(weak, strong); !weaker {
						continue
					}
					order = append(order, k)
					paths[k] = pr.Path
				}
				if !slices.Contains(methods[k], pr.Method) {
					methods[k] = append(methods[k], pr.Method)
				}
			}
			var out []Finding
			for _, k := range order {
				who, _ := v.admitsMore(k.weak, k.strong)
				out = append(out, v.at(subjectRoute(k.weak.Route)+" takes methods of "+subjectRoute(k.strong.Route),
					fmt.Sprintf("%s runs the code of %s (function %q) for %s, whom %s refuses: on AWS it takes %s, which a web framework runs as %s; give the routes the same protection",
						k.weak.Route, k.strong.Route, k.weak.Function, who, k.strong.Route, awsRequests(k.weak, k.strong.Method, paths[k], methods[k]), k.strong.Method),
					routeKey(k.weak.Route, protectionField(k.weak))...))
			}
			return out
		},
	}
}

// awsRequests says which requests for strongMethod's code reach a weaker
// route on AWS: HEAD where strongMethod is GET and the weaker route takes
// HEAD, and a method-override header on the other methods it takes.
func awsRequests(weak *policy.Route, strongMethod, path string, methods []string) string {
	var parts []string
	if strongMethod == "GET" && answers(weak, "HEAD") {
		parts = append(parts, "HEAD "+path)
	}
	// One carrier is enough to show: POST, which method-override
	// middleware reads by default, if the weaker route takes it.
	carrier := ""
	for _, m := range methods {
		if m == "POST" || (carrier == "" && m != "HEAD") {
			carrier = m
		}
	}
	if carrier != "" {
		parts = append(parts, carrier+" "+path+" with X-HTTP-Method-Override: "+strongMethod)
	}
	return strings.Join(parts, " and ")
}

// answers reports whether route r takes method.
func answers(r *policy.Route, method string) bool {
	return r.Method == config.MethodAny || r.Method == method
}

// sameCode reports whether two routes run the same code: one function, or
// two functions with the same runtime, module or command, and export.
func (v *View) sameCode(a, b *policy.Route) bool {
	if a.Function == b.Function {
		return true
	}
	fa, fb := v.Config.Function(a.Function), v.Config.Function(b.Function)
	return fa != nil && fb != nil && fa.Runtime == fb.Runtime && fa.Path == fb.Path &&
		fa.Export == fb.Export && slices.Equal(fa.Command, fb.Command)
}

// admitsMore reports whether route a lets in a caller route b refuses, and
// who: "callers without a key" when a is open and b is not, else the keys a adds. A route b
// that is open, or that no key may call (INQ004's), guards nothing here.
func (v *View) admitsMore(a, b *policy.Route) (string, bool) {
	if !v.guards(b) {
		return "", false
	}
	if v.Open(a) {
		return "callers without a key", true
	}
	if b.Authorizer != "" && a.Authorizer != b.Authorizer {
		return fmt.Sprintf("callers authorizer %q has not let in", b.Authorizer), true
	}
	if !b.NeedsKey() {
		return "", false
	}
	if !a.NeedsKey() {
		return "callers without a key", true
	}
	var extra []string
	for _, id := range a.Callers {
		if !slices.Contains(b.Callers, id) {
			extra = append(extra, fmt.Sprintf("%q", id))
		}
	}
	switch len(extra) {
	case 0:
		return "", false
	case 1:
		return "key " + extra[0], true
	}
	return "keys " + strings.Join(extra, ", "), true
}

// guards reports whether route r turns anyone away: it is not open, and
// some key may call it, or it asks for no key and its authorizer decides.
// A route that asks for a key no key may present (INQ004's) protects
// nobody, authorizer or not: every request is refused before it runs.
func (v *View) guards(r *policy.Route) bool {
	return !v.Open(r) && (len(r.Callers) > 0 || !r.NeedsKey())
}

// protectionField is the field that says how a route is protected.
func protectionField(r *policy.Route) string {
	switch {
	case r.Public():
		return "auth"
	case !r.NeedsKey():
		// auth = "authorizer": the authorizer alone decides.
		return "authorizer"
	}
	return callersField(r)
}
