package lint

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/inquir-dev/inquir/emulator/config"
	"github.com/inquir-dev/inquir/emulator/policy"
)

// Key hygiene: how keys are stored, scoped and retired.

func ruleLiteralSecret() *Rule {
	return &Rule{
		ID: "INQ006", Name: "LiteralSecret", Severity: Warning,
		Title: "a literal secret in the config",
		Explanation: `A key's secret written as itself in inquir.toml is in every clone of the repository, in its history for good, and in every log or paste of the file. The gateway never needs the plaintext: it keeps only the SHA-256 of each secret. Write "sha256:<64 hex>" (inquir keys hash prints it for a key read on stdin), or point at the secret with "env:NAME" or "file:path" and keep it out of the repository.

Lint reports the key id and never the secret. Values in a function's env table are not checked: lint cannot tell a secret there from a setting.`,
		Fix:              `replace the secret with "sha256:<hex>", "env:NAME" or "file:path", and rotate it: it has been committed`,
		SecuritySeverity: "7.5", Tags: []string{"security", "secrets"}, Precision: "very-high",
		Bad: Example{Config: `[keys.partner]
secret = "inq_live_partner_2f6c1e0a9b7d4c3e8f5a"
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
		Good: Example{Config: `[keys.partner]
secret = "sha256:61649e5f8f5c44dfd07869fb7a8627f88452c34e6bc5fb58bd22af4f501a6f68"
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
			var out []Finding
			for _, k := range v.Config.Keys {
				n := 0
				for _, s := range k.Secrets {
					if s.Kind == config.SecretLiteral {
						n++
					}
				}
				if n == 0 {
					continue
				}
				what := "its secret"
				if len(k.Secrets) > 1 {
					what = fmt.Sprintf("%d of its secrets", n)
				}
				out = append(out, v.at("key "+k.ID,
					fmt.Sprintf(`key %q has %s written in the config; use "sha256:<hex>" (inquir keys hash), "env:NAME" or "file:path", and rotate it`, k.ID, what),
					"keys", k.ID, "secret"))
			}
			return out
		},
	}
}

func ruleInternalAndExternal() *Rule {
	return &Rule{
		ID: "INQ007", Name: "KeyOnInternalAndExternalGroups", Severity: Warning,
		Title: "one key allowed on both an internal = true group and a group that is not",
		Explanation: `A group marked internal = true is for callers inside your organisation. A key that may call both an internal group and one that is not (a partner-facing group, say) is either a partner key that reaches internal routes, or an internal key handed to code that also serves outsiders; when it leaks, both doors open. Give internal callers keys of their own.

A key is allowed on a group when its groups list it, or when a route of that group names the key in keys. A group no [groups.NAME] table declares is not internal.`,
		Fix:              "split the key: one for the internal groups, one for the others",
		SecuritySeverity: "6.5", Tags: []string{"security", "least-privilege"}, Precision: "high",
		Bad: Example{Config: `[keys.partner]
secret = "env:PARTNER_KEY"
groups = ["partners", "internal"]

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
		Good: Example{Config: `[keys.partner]
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
		check: func(v *View) []Finding {
			var out []Finding
			for _, k := range v.Policy.Keys {
				allowed := map[string]bool{}
				for _, g := range k.Groups {
					allowed[g] = true
				}
				for _, r := range v.Routes {
					if r.Group != "" && slices.Contains(r.Callers, k.ID) {
						allowed[r.Group] = true
					}
				}
				var internal, external []string
				for g := range allowed {
					if cg := v.Config.Group(g); cg != nil && cg.Internal {
						internal = append(internal, g)
					} else {
						external = append(external, g)
					}
				}
				if len(internal) == 0 || len(external) == 0 {
					continue
				}
				slices.Sort(internal)
				slices.Sort(external)
				out = append(out, v.at("key "+k.ID,
					fmt.Sprintf("key %q may call internal %s and %s; give internal callers a key of their own",
						k.ID, groupList("group", internal), groupList("non-internal group", external)),
					"keys", k.ID, "groups"))
			}
			return out
		},
	}
}

// groupList spells `group "a"` or `groups "a", "b"`.
func groupList(noun string, names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	if len(names) > 1 {
		noun = strings.Replace(noun, "group", "groups", 1)
	}
	return noun + " " + strings.Join(q, ", ")
}

func ruleInactiveKey() *Rule {
	return &Rule{
		ID: "INQ010", Name: "InactiveKey", Severity: Warning,
		Title: "an expired or disabled key still in the config",
		Explanation: `A key past its expires, or with disabled = true, authenticates nobody: the gateway refuses it. Kept in the config, it is one edit (a typo in a date, a disabled line removed in a merge) away from working again, and its secret may still be around. Once its callers have moved to a new key, remove its table. A key that is not valid yet (not_before in the future) is not reported.

Lint judges expiry by the clock of the machine it runs on.`,
		Fix:              "remove the key's table once no caller uses it",
		SecuritySeverity: "3.0", Tags: []string{"security", "key-rotation"}, Precision: "very-high",
		Bad: Example{Config: `[keys.partner]
secret = "env:PARTNER_KEY"
groups = ["partners"]

[keys.partner-2023]
secret = "sha256:feaf02c22bf1b8515f3c4a02b4d673ee07239dde76877b18a1034abc688d2c75"
groups = ["partners"]
expires = 2024-01-01T00:00:00Z

[keys.legacy]
secret = "env:LEGACY_KEY"
groups = ["partners"]
disabled = true

[functions.orders]
runtime = "node"
path = "handler.mjs"

[[routes]]
method = "GET"
path = "/orders/{id}"
function = "orders"
group = "partners"
`},
		Good: Example{Config: `[keys.partner]
secret = "env:PARTNER_KEY"
groups = ["partners"]
expires = 2999-01-01T00:00:00Z

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
			for _, k := range v.Policy.Keys {
				switch k.Validity(v.Now) {
				case policy.ReasonExpired:
					out = append(out, v.at("key "+k.ID,
						fmt.Sprintf("key %q expired at %s and is still in the config; remove [keys.%s] once no caller uses it", k.ID, k.Expires.UTC().Format(time.RFC3339), k.ID),
						"keys", k.ID, "expires"))
				case policy.ReasonDisabled:
					out = append(out, v.at("key "+k.ID,
						fmt.Sprintf("key %q is disabled and still in the config; remove [keys.%s] once no caller uses it", k.ID, k.ID),
						"keys", k.ID, "disabled"))
				}
			}
			return out
		},
	}
}
