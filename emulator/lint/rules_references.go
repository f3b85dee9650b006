package lint

import (
	"fmt"
	"strconv"
)

// References between tables: a route names a function, a group and key ids.

func ruleUndefinedReference() *Rule {
	return &Rule{
		ID: "INQ003", Name: "UndefinedReference", Severity: Error,
		Title: "a route that names an undefined function, group or key id",
		Explanation: `A route names the function it runs and who may call it. A name that nothing defines is a typo or a leftover:

- a function without a [functions.NAME] table: inquir dev refuses the whole config (it must never serve a route it cannot run), and lint reports it here, with the rest of its findings, rather than only failing;
- a group that no [groups.NAME] table declares and no key lists in its groups: no key can ever be in it through that name;
- a key id without a [keys.ID] table.

The gateway would fail closed on an undefined group or key (nobody is allowed through that name), so the route is not open, but it is not callable as intended either (see INQ004): inquir dev refuses the config at start and on reload, with this rule's message.`,
		Fix:              "fix the name, or define the function, group or key",
		SecuritySeverity: "3.0", Tags: []string{"security", "correctness"}, Precision: "very-high",
		Bad: Example{Config: `[keys.partner]
secret = "env:PARTNER_KEY"
groups = ["partners"]

[functions.orders]
runtime = "node"
path = "handler.mjs"

[functions.invoices]
runtime = "node"
path = "invoices.mjs"

[[routes]]
method = "GET"
path = "/orders/{id}"
function = "order"
group = "partner"

[[routes]]
method = "POST"
path = "/invoices"
function = "invoices"
keys = ["partner", "billing"]
`},
		Good: Example{Config: `[keys.partner]
secret = "env:PARTNER_KEY"
groups = ["partners"]

[keys.billing]
secret = "env:BILLING_KEY"

[functions.orders]
runtime = "node"
path = "handler.mjs"

[functions.invoices]
runtime = "node"
path = "invoices.mjs"

[[routes]]
method = "GET"
path = "/orders/{id}"
function = "orders"
group = "partners"

[[routes]]
method = "POST"
path = "/invoices"
function = "invoices"
keys = ["partner", "billing"]
`},
		check: func(v *View) []Finding {
			groups := map[string]bool{}
			for _, g := range v.Config.Groups {
				groups[g.Name] = true
			}
			for _, k := range v.Config.Keys {
				for _, g := range k.Groups {
					groups[g] = true
				}
			}
			var out []Finding
			for _, r := range v.Config.Routes {
				subject := subjectRoute(r)
				if r.Function != "" && v.Config.Function(r.Function) == nil {
					out = append(out, v.at(subject+" function "+r.Function,
						fmt.Sprintf("%s names function %q, which is not defined; add a [functions.%s] table or fix the name", r, r.Function, r.Function),
						routeKey(r, "function")...))
				}
				if r.Group != "" && !groups[r.Group] {
					out = append(out, v.at(subject+" group "+r.Group,
						fmt.Sprintf("%s names group %q, which no [groups.%s] table declares and no key's groups list; fix the name or give a key that group", r, r.Group, r.Group),
						routeKey(r, "group")...))
				}
				for i, id := range r.Keys {
					if v.Config.Key(id) == nil {
						key := routeKey(r, "keys")
						out = append(out, v.at(subject+" key "+id,
							fmt.Sprintf("%s names key %q, which is not defined; add a [keys.%s] table or fix the name", r, id, id),
							append(key, strconv.Itoa(i))...))
					}
				}
			}
			return out
		},
	}
}
