package lint

import "fmt"

// Open routes: every route with auth = "none" is listed, and one nobody
// vouched for is an error.

func ruleOpenWithoutReason() *Rule {
	return &Rule{
		ID: "INQ001", Name: "OpenRouteWithoutReason", Severity: Error,
		Title: `a route with auth = "none" and no reason`,
		Explanation: `A route with auth = "none" answers anyone, with no key. Authentication in inquir is opt-out, so such a route is always a decision someone made; reason = "..." records who vouched for it and why, where a reviewer reads it. An open route without one is an open endpoint nobody vouched for: often a debugging shortcut, or a copy of a public route that was meant to be protected.

inquir dev refuses such a config when it starts, and refuses a reload that brings one (the last good config stays in force), with this rule's message; lint stops it in CI.`,
		Fix:              `give the route a reason = "...", or remove auth = "none" to protect it`,
		SecuritySeverity: "8.0", Tags: []string{"security", "open-route"}, Precision: "very-high",
		Bad: Example{Config: `[functions.status]
runtime = "node"
path = "handler.mjs"

[[routes]]
method = "GET"
path = "/status"
function = "status"
auth = "none"
`},
		Good: Example{Config: `[functions.status]
runtime = "node"
path = "handler.mjs"

[[routes]]
method = "GET"
path = "/status"
function = "status"
auth = "none"
reason = "uptime monitors call it without a key"
`},
		check: func(v *View) []Finding {
			var out []Finding
			for _, r := range v.Routes {
				if v.Open(r) && r.Reason == "" {
					out = append(out, v.at(subjectRoute(r.Route),
						fmt.Sprintf(`%s is open to anyone (auth = "none") and gives no reason; add reason = "..." or remove auth = "none"`, r.Route),
						routeKey(r.Route, "auth")...))
				}
			}
			return out
		},
	}
}

func rulePublicRoute() *Rule {
	return &Rule{
		ID: "INQ002", Name: "PublicRoute", Severity: Warning, StrictSeverity: Error,
		Title:            "a public route with a reason (listed so a reviewer sees every open door)",
		Explanation:      `Every route a caller can reach without a key is listed, with the reason the config gives, so that a reviewer of a change sees each open door and why it is open. A public route with a reason is not a fault in itself: it is a warning, which does not fail lint unless --fail-on warning is given. Under --strict it is an error, for projects where no route may be public.`,
		Fix:              `keep it if the reason still holds; otherwise remove auth = "none" and reason`,
		SecuritySeverity: "5.0", Tags: []string{"security", "open-route"}, Precision: "very-high",
		Bad: Example{Config: `[functions.status]
runtime = "node"
path = "handler.mjs"

[[routes]]
method = "GET"
path = "/status"
function = "status"
auth = "none"
reason = "uptime monitors call it without a key"
`},
		Good: Example{Config: `[keys.monitor]
secret = "env:MONITOR_KEY"
groups = ["monitoring"]

[functions.status]
runtime = "node"
path = "handler.mjs"

[[routes]]
method = "GET"
path = "/status"
function = "status"
group = "monitoring"
`},
		check: func(v *View) []Finding {
			var out []Finding
			for _, r := range v.Routes {
				if v.Open(r) && r.Reason != "" {
					out = append(out, v.at(subjectRoute(r.Route),
						fmt.Sprintf("%s is open to anyone: %q", r.Route, r.Reason),
						routeKey(r.Route, "auth")...))
				}
			}
			return out
		},
	}
}
