package lint

// The config as a whole.

func ruleNoRoutes() *Rule {
	return &Rule{
		ID: "INQ016", Name: "NoRoutes", Severity: Error,
		Title: "a config with no routes",
		Explanation: `A config that declares no [[routes]] serves nothing: every request is a 404. Usually the routes were lost in an edit (a bad merge, a file saved from the wrong buffer), or the file is not the one meant; a gateway that starts anyway hides that until someone calls it.

inquir dev refuses such a config at start and on reload (the last good config stays in force), with this rule's message.`,
		Fix:              "add the [[routes]] the functions serve, or point --config at the right file",
		SecuritySeverity: "2.0", Tags: []string{"security", "correctness"}, Precision: "very-high",
		Bad: Example{Config: `[keys.partner]
secret = "env:PARTNER_KEY"
groups = ["partners"]

[functions.orders]
runtime = "node"
path = "handler.mjs"
`},
		Good: Example{Config: `[keys.partner]
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
		check: func(v *View) []Finding {
			if len(v.Config.Routes) > 0 {
				return nil
			}
			return []Finding{v.at("config", "the config declares no routes, so it serves nothing; add [[routes]], or check that this is the file you meant")}
		},
	}
}
