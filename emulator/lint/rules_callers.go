package lint

import (
	"fmt"
	"strings"

	"github.com/inquir-dev/inquir/emulator/policy"
)

// Who may call a protected route: the compiled policy's callers, judged by
// the policy's own verdict on each key.

func ruleUncallable() *Rule {
	return &Rule{
		ID: "INQ004", Name: "UncallableRoute", Severity: Error,
		Title: "a protected route that no configured key may call",
		Explanation: `A protected route answers only keys the policy allows on it: keys whose groups include the route's group, and keys it names. When no configured key is allowed, every request gets 401 or 403: the route is dead, usually because of a group no key has, or because the one key that could call it was retired.

A key counts as a caller if the gateway would accept it now or will accept it later without a config change: a key that is not valid yet (not_before in the future) counts, since a route may wait for a launch. A route that only expired or disabled keys may call is as uncallable as one no key may call, and is reported, naming those keys; INQ010 flags the keys themselves.

A route that accepts any valid key (no group, no keys) is uncallable when the config defines no key it could accept.

inquir dev refuses a config with a route that no configured key may call at all, at start and on reload. A route whose only keys expired, are disabled, or lost their secret file is still served, every request refused, so that expiry and revocation take effect without holding a reload back: lint reports it.`,
		Fix:              "give a key the route's group, name a key in its keys, or remove the route",
		SecuritySeverity: "2.0", Tags: []string{"security", "correctness"}, Precision: "very-high",
		Bad: Example{Config: `[keys.partner]
secret = "env:PARTNER_KEY"
groups = ["partners"]

[keys.old-ops]
secret = "env:OLD_OPS_KEY"
groups = ["ops"]
expires = 2024-01-01T00:00:00Z

[groups.ops]
internal = true

[groups.maintenance]
internal = true

[functions.admin]
runtime = "node"
path = "handler.mjs"

[[routes]]
method = "POST"
path = "/admin/reindex"
function = "admin"
group = "ops"

[[routes]]
method = "POST"
path = "/admin/flush"
function = "admin"
group = "maintenance"
`},
		Good: Example{Config: `[keys.partner]
secret = "env:PARTNER_KEY"
groups = ["partners"]

[keys.ops]
secret = "env:OPS_KEY"
groups = ["ops"]

[groups.ops]
internal = true

[functions.admin]
runtime = "node"
path = "handler.mjs"

[[routes]]
method = "POST"
path = "/admin/reindex"
function = "admin"
group = "ops"

[[routes]]
method = "POST"
path = "/admin/flush"
function = "admin"
group = "ops"
`},
		check: func(v *View) []Finding {
			var out []Finding
			for _, r := range v.Routes {
				// A route that asks for no key (auth = "authorizer") is
				// guarded by its authorizer, not by keys.
				if v.Open(r) || !r.NeedsKey() || (v.guard && len(r.Callers) > 0) {
					continue
				}
				var inactive []string
				callable := false
				for _, id := range r.Callers {
					switch why := v.Policy.Key(id).Validity(v.Now); why {
					case policy.ReasonNone, policy.ReasonNotYetValid:
						callable = true
					default:
						inactive = append(inactive, fmt.Sprintf("%s (%s)", id, inactiveWord(why)))
					}
				}
				if callable {
					continue
				}
				var msg string
				switch {
				case len(inactive) > 0:
					msg = fmt.Sprintf("%s may only be called by keys that are %s; give a usable key access, or remove the route", r.Route, strings.Join(inactive, ", "))
				case r.AnyKey:
					msg = fmt.Sprintf("%s accepts any valid key, but the config defines none; add a [keys.ID] table", r.Route)
				case r.Group != "":
					msg = fmt.Sprintf("%s is protected, but no configured key may call it: no key has group %q%s; add it to a key's groups", r.Route, r.Group, namedKeysNote(r))
				default:
					msg = fmt.Sprintf("%s is protected, but no configured key may call it: it names no defined key; name one in keys", r.Route)
				}
				out = append(out, v.at(subjectRoute(r.Route), msg, routeKey(r.Route, callersField(r))...))
			}
			return out
		},
	}
}

// inactiveWord says why a key is out of use, as messages do.
func inactiveWord(r policy.Reason) string {
	switch r {
	case policy.ReasonExpired:
		return "expired"
	case policy.ReasonDisabled:
		return "disabled"
	case policy.ReasonNotYetValid:
		return "not valid yet"
	}
	return r.String()
}

func namedKeysNote(r *policy.Route) string {
	if len(r.Keys) == 0 {
		return ""
	}
	return " and it names no defined key"
}

func ruleAnyKey() *Rule {
	return &Rule{
		ID: "INQ005", Name: "RouteAcceptsAnyKey", Severity: Warning,
		Title:            "a route that accepts any valid key (no group, no keys)",
		Explanation:      `A protected route with neither group nor keys accepts every valid key: a partner's key, an internal service's key, and every key added later. That is rarely what was meant; scoping keys to route groups is what keeps one partner's key off another's routes and off internal ones.`,
		Fix:              `say who may call it: group = "..." or keys = ["..."]`,
		SecuritySeverity: "6.0", Tags: []string{"security", "least-privilege"}, Precision: "very-high",
		Bad: Example{Config: `[keys.partner]
secret = "env:PARTNER_KEY"
groups = ["partners"]

[keys.search-agent]
secret = "env:SEARCH_AGENT_KEY"
groups = ["internal"]

[functions.reports]
runtime = "node"
path = "handler.mjs"

[[routes]]
method = "GET"
path = "/reports/{id}"
function = "reports"
`},
		Good: Example{Config: `[keys.partner]
secret = "env:PARTNER_KEY"
groups = ["partners"]

[keys.search-agent]
secret = "env:SEARCH_AGENT_KEY"
groups = ["internal"]

[functions.reports]
runtime = "node"
path = "handler.mjs"

[[routes]]
method = "GET"
path = "/reports/{id}"
function = "reports"
group = "partners"
`},
		check: func(v *View) []Finding {
			var out []Finding
			for _, r := range v.Routes {
				if r.AnyKey {
					out = append(out, v.at(subjectRoute(r.Route),
						fmt.Sprintf(`%s accepts any valid key: it names neither group nor keys; say who may call it with group = "..." or keys = [...]`, r.Route),
						routeKey(r.Route, "")...))
				}
			}
			return out
		},
	}
}
