package lint

import (
	"fmt"
	"slices"

	"github.com/inquir-dev/inquir/emulator/config"
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
