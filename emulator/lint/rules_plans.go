package lint

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/inquir-dev/inquir/emulator/config"
	"github.com/inquir-dev/inquir/emulator/policy"
)

// Usage plans: the limits a plan sets reach only the keys and routes it
// names.

func ruleUnusedPlan() *Rule {
	return &Rule{
		ID: "INQ017", Name: "UnusedPlan", Severity: Warning,
		Title: "a usage plan no key uses",
		Explanation: `A [plans.NAME] table limits only the keys that name it with plan = "NAME". A plan no key names limits nobody: usually a key was meant to have it (a partner key that now calls as fast and as often as it likes), or the plan outlived the keys that used it.

Disabled and expired keys count as using their plan; INQ010 reports those keys.`,
		Fix:              `give the keys it is meant for plan = "NAME", or remove the [plans.NAME] table`,
		SecuritySeverity: "4.0", Tags: []string{"security", "rate-limiting"}, Precision: "high",
		Bad: Example{Config: `[plans.partner]
rate = 50
burst = 100
quota = { limit = 10000, period = "MONTH" }

[keys.partner]
secret = "env:PARTNER_KEY"
groups = ["partners"]

[functions.orders]
runtime = "node"
path = "handler.mjs"

[[routes]]
method = "GET"
path = "/orders/{id}"
function = "orders"
group = "partners"
`},
		Good: Example{Config: `[plans.partner]
rate = 50
burst = 100
quota = { limit = 10000, period = "MONTH" }

[keys.partner]
secret = "env:PARTNER_KEY"
groups = ["partners"]
plan = "partner"

[functions.orders]
runtime = "node"
path = "handler.mjs"

[[routes]]
method = "GET"
path = "/orders/{id}"
function = "orders"
group = "partners"
`},
		check: func(v *View) []Finding {
			var out []Finding
			for _, p := range v.Config.Plans {
				if slices.ContainsFunc(v.Config.Keys, func(k config.Key) bool { return k.Plan == p.Name }) {
					continue
				}
				out = append(out, v.at("plan "+p.Name,
					fmt.Sprintf(`plan %q limits no key: no key has plan = %q; give it to the keys it is meant for, or remove [plans.%s]`, p.Name, p.Name, p.Name),
					"plans", p.Name))
			}
			return out
		},
	}
}

func ruleThrottleNamesNoRoute() *Rule {
	return &Rule{
		ID: "INQ018", Name: "ThrottleNamesNoRoute", Severity: Error,
		Title: "a plan's per-route throttle that no request takes (no route on its path serves its method)",
		Explanation: `A [[plans.NAME.routes]] entry throttles one method on one route, as API Gateway keys per-method throttling by /{path}/{METHOD}: the gateway takes it for a request whose method is the entry's, on a route whose path template is the entry's path, as written. An entry that names no such route throttles nothing, and the requests it was meant for take the plan's own rate and burst, usually far higher. The path is compared as written, so /orders/{orderId} does not name the route /orders/{id}.

A request takes the entry that names the method its route was chosen for (the route's own, so a HEAD that a GET route serves takes the GET entry; on an ANY route, the request's own method) on the route's path, else an entry whose method is ANY on that path. Lint reports an entry no request takes that way: no route on its path serves its method, or only a GET route does for a HEAD entry (that HEAD takes the GET entry), or another entry names every method it would take; and an entry taken only on routes open to anyone (auth = "none"), where no key and so no plan is checked.

inquir dev refuses such a config at start and on reload (the last good config stays in force), with this rule's message.`,
		Fix:              "name the method and the path template of a protected route, as [[routes]] writes them",
		SecuritySeverity: "5.0", Tags: []string{"security", "rate-limiting"}, Precision: "very-high",
		Bad: Example{Config: `[plans.partner]
rate = 50
burst = 100

[[plans.partner.routes]]
method = "POST"
path = "/search/{index}"
rate = 5
burst = 5

[keys.partner]
secret = "env:PARTNER_KEY"
groups = ["partners"]
plan = "partner"

[functions.search]
runtime = "node"
path = "handler.mjs"

[[routes]]
method = "POST"
path = "/search/{name}"
function = "search"
group = "partners"
`},
		Good: Example{Config: `[plans.partner]
rate = 50
burst = 100

[[plans.partner.routes]]
method = "POST"
path = "/search/{name}"
rate = 5
burst = 5

[keys.partner]
secret = "env:PARTNER_KEY"
groups = ["partners"]
plan = "partner"

[functions.search]
runtime = "node"
path = "handler.mjs"

[[routes]]
method = "POST"
path = "/search/{name}"
function = "search"
group = "partners"
`},
		check: func(v *View) []Finding {
			var out []Finding
			for _, p := range v.Config.Plans {
				for _, pr := range p.Routes {
					msg := throttleFault(v, p, pr)
					if msg == "" {
						continue
					}
					out = append(out, v.at("plan "+p.Name+" throttle "+pr.String(),
						fmt.Sprintf("plan %q throttles %s, %s", p.Name, pr, msg),
						"plans", p.Name, "routes", strconv.Itoa(pr.Index)))
				}
			}
			return out
		},
	}
}

// throttleFault says why no request takes the per-route throttle pr of
// plan, or "" when some does. It asks the policy which requests take it
// (policy.Route.ThrottleRequests), as the gateway decides.
func throttleFault(v *View, plan config.Plan, pr config.PlanRoute) string {
	var public *policy.Route
	for _, rt := range v.Routes {
		if len(rt.ThrottleRequests(plan.Routes)[pr.Index]) == 0 {
			continue
		}
		if !rt.Public() {
			return ""
		}
		public = rt
	}
	if public != nil {
		return fmt.Sprintf("which %s serves, open to anyone (auth = \"none\"): no key and so no plan is checked there; throttle a protected route", public)
	}
	var onPath, sameShape []string
	for _, rt := range v.Routes {
		switch {
		case rt.Path == pr.Path:
			onPath = append(onPath, rt.Method)
		case paramShape(rt.Path) == paramShape(pr.Path):
			sameShape = append(sameShape, rt.String())
		}
	}
	if pr.Method == http.MethodHead && slices.Contains(onPath, http.MethodGet) {
		return fmt.Sprintf("which no request takes: a HEAD that GET %s serves takes that route's GET throttle, as the gateway authorises it as the GET; throttle GET %s", pr.Path, pr.Path)
	}
	msg := fmt.Sprintf("which names no route: no route on %s serves %s", pr.Path, pr.Method)
	switch {
	case len(onPath) > 0:
		msg += fmt.Sprintf(" (its routes take %s)", strings.Join(onPath, ", "))
	case len(sameShape) > 0:
		msg += fmt.Sprintf("; a throttle names a route's path as written, as in %s", strings.Join(sameShape, ", "))
	}
	return msg + "; fix the method or the path"
}

// paramName matches a path template's parameter, for comparing templates
// whatever their parameters are called.
var paramName = regexp.MustCompile(`\{[^}]*?(\+?)\}`)

// paramShape spells a path template with its parameters unnamed.
func paramShape(path string) string { return paramName.ReplaceAllString(path, "{$1}") }

func ruleKeyWithoutPlan() *Rule {
	return &Rule{
		ID: "INQ019", Name: "KeyWithoutPlan", Severity: Warning, Optional: true,
		Title: "a key allowed on a group that is not internal = true, with no usage plan",
		Explanation: `A key without plan = "NAME" may call as fast and as often as it likes: nothing in the gateway stops a partner's runaway retry loop, or a leaked key, from running up the functions' bill. Keys that callers outside your organisation hold are the ones to bound; a group marked internal = true is for callers inside it.

A key is allowed on a group when its groups list it, or when a route of that group names the key in keys. Disabled and expired keys are not reported (INQ010 reports them). Projects that do not bound their partners per key leave this rule off.`,
		Fix:              `give the key plan = "NAME" of a [plans.NAME] table that bounds its rate, burst and quota`,
		SecuritySeverity: "4.0", Tags: []string{"security", "rate-limiting"}, Precision: "medium",
		Bad: Example{Config: `[keys.partner]
secret = "env:PARTNER_KEY"
groups = ["partners"]

[keys.indexer]
secret = "env:INDEXER_KEY"
groups = ["internal"]

[groups.internal]
internal = true

[functions.search]
runtime = "node"
path = "handler.mjs"

[[routes]]
method = "GET"
path = "/search"
function = "search"
group = "partners"

[[routes]]
method = "POST"
path = "/internal/reindex"
function = "search"
group = "internal"
`},
		Good: Example{Config: `[plans.partner]
rate = 50
burst = 100
quota = { limit = 10000, period = "MONTH" }

[keys.partner]
secret = "env:PARTNER_KEY"
groups = ["partners"]
plan = "partner"

[keys.indexer]
secret = "env:INDEXER_KEY"
groups = ["internal"]

[groups.internal]
internal = true

[functions.search]
runtime = "node"
path = "handler.mjs"

[[routes]]
method = "GET"
path = "/search"
function = "search"
group = "partners"

[[routes]]
method = "POST"
path = "/internal/reindex"
function = "search"
group = "internal"
`},
		check: func(v *View) []Finding {
			var out []Finding
			for _, k := range v.Config.Keys {
				if k.Plan != "" {
					continue
				}
				if pk := v.Policy.Key(k.ID); pk == nil || pk.Validity(v.Now) == policy.ReasonExpired || pk.Validity(v.Now) == policy.ReasonDisabled {
					continue
				}
				var external []string
				for _, g := range allowedGroups(v, k.ID, k.Groups) {
					if cg := v.Config.Group(g); cg == nil || !cg.Internal {
						external = append(external, g)
					}
				}
				if len(external) == 0 {
					continue
				}
				out = append(out, v.at("key "+k.ID,
					fmt.Sprintf(`key %q may call %s and has no usage plan, so nothing bounds how fast or how much it calls; give it plan = "NAME"`, k.ID, groupList("non-internal group", external)),
					"keys", k.ID))
			}
			return out
		},
	}
}

// allowedGroups are the groups key id may call, sorted: its own groups,
// and the group of each route that names it in keys.
func allowedGroups(v *View, id string, groups []string) []string {
	out := slices.Clone(groups)
	for _, r := range v.Routes {
		if r.Group != "" && slices.Contains(r.Keys, id) {
			out = append(out, r.Group)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
