package lint

import "fmt"

// Function environments: the values a function's workers start with.

func ruleUnresolvableEnv() *Rule {
	return &Rule{
		ID: "INQ013", Name: "UnresolvableFunctionEnv", Severity: Warning,
		Title: "a function env reference that cannot be resolved here",
		Explanation: `A value in a function's env table may be a reference: "env:NAME" reads a variable of the environment inquir dev runs in, "file:path" a file (relative to inquir.toml's folder). They are resolved when a worker starts, so one that cannot be resolved does not stop inquir dev from serving: every start of that function fails instead, and each request to it answers 502. inquir dev warns at start; lint says so before anything runs.

Lint checks the references where it runs: an env: variable unset or empty, a file: path missing, unreadable or empty. It reads no file's content and prints no value, only the function, the variable and the reference.

It is a warning, not an error, because where lint runs is not always where the function runs: a CI job usually lacks the secrets a developer's machine has, and lint must not fail it for that. Run lint with --fail-on warning where the secrets are meant to be present.`,
		Fix:              "set the variable or create the file before inquir dev starts, or fix the name",
		SecuritySeverity: "2.0", Tags: []string{"security", "reliability"}, Precision: "medium",
		Bad: Example{Config: `[keys.partner]
secret = "env:PARTNER_KEY"
groups = ["partners"]

[functions.orders]
runtime = "node"
path = "handler.mjs"
env = { TABLE = "orders", SEARCH_KEY = "env:INQUIR_EXAMPLE_SEARCH_AGENT_KEY" }

[[routes]]
method = "GET"
path = "/orders/{id}"
function = "orders"
group = "partners"
`},
		Good: Example{Config: `[keys.partner]
secret = "env:PARTNER_KEY"
groups = ["partners"]

[functions.orders]
runtime = "node"
path = "handler.mjs"
env = { TABLE = "orders", SEARCH_KEY = "file:secrets/search-agent.key" }

[[routes]]
method = "GET"
path = "/orders/{id}"
function = "orders"
group = "partners"
`, Files: map[string]string{"secrets/search-agent.key": "the search agent's key goes here; keep this file out of the repository\n"}},
		check: func(v *View) []Finding {
			var out []Finding
			for _, f := range v.Config.Functions {
				for _, u := range f.UnresolvedEnv() {
					out = append(out, v.at("function "+f.Name+" env "+u.Name,
						fmt.Sprintf("function %q: env %s = %q cannot be resolved here (%s); its workers cannot start until it can", f.Name, u.Name, u.Ref, u.Why),
						"functions", f.Name, "env", u.Name))
				}
			}
			return out
		},
	}
}
