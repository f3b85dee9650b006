package lint

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// testNow is the clock rule tests judge keys by.
var testNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// project writes toml as a project's inquir.toml, with files, and a stub
// module for every .mjs function path the files leave out; it returns the
// config's path.
func project(t *testing.T, toml string, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	writeFiles(t, dir, exampleFiles(Example{Config: toml, Files: files}))
	return filepath.Join(dir, "inquir.toml")
}

func lintProject(t *testing.T, toml string, files map[string]string, opts Options) *Report {
	t.Helper()
	if opts.Now == nil {
		opts.Now = func() time.Time { return testNow }
	}
	rep, err := Run(project(t, toml, files), opts)
	if err != nil {
		t.Fatalf("lint: %v", err)
	}
	return rep
}

// brief is what a rule test compares of a finding.
type brief struct {
	Rule, Field, Message string
	Line                 int
}

func briefs(rep *Report, rule string) []brief {
	var out []brief
	for _, f := range rep.Findings {
		if f.Rule == rule {
			out = append(out, brief{f.Rule, f.Field, f.Message, f.Pos.Line})
		}
	}
	return out
}

const fn = `
[functions.f]
runtime = "node"
path = "f.mjs"

[functions.g]
runtime = "node"
path = "g.mjs"
`

const partner = `
[keys.partner]
secret = "env:PARTNER_KEY"
groups = ["partners"]
`

const admin = `
[keys.admin]
secret = "env:ADMIN_KEY"
groups = ["admins"]
`

func route(method, path, rest string) string {
	return "\n[[routes]]\nmethod = \"" + method + "\"\npath = \"" + path + "\"\n" + rest + "\n"
}

func TestRules(t *testing.T) {
	tests := []struct {
		name  string
		rule  string
		toml  string
		files map[string]string
		// enable turns optional rules on.
		enable []string
		want   []brief
	}{
		{
			name: "open route without reason", rule: "INQ001",
			toml: fn + route("GET", "/debug", "function = \"f\"\nauth = \"none\""),
			want: []brief{{"INQ001", "routes[0].auth", `GET /debug is open to anyone (auth = "none") and gives no reason; add reason = "..." or remove auth = "none"`, 14}},
		},
		{
			name: "open route with reason is not INQ001", rule: "INQ001",
			toml: fn + route("GET", "/health", "function = \"f\"\nauth = \"none\"\nreason = \"probes\""),
		},
		{
			name: "open route with reason is listed", rule: "INQ002",
			toml: fn + route("GET", "/health", "function = \"f\"\nauth = \"none\"\nreason = \"probes\""),
			want: []brief{{"INQ002", "routes[0].auth", `GET /health is open to anyone: "probes"`, 14}},
		},
		{
			name: "protected route is not listed", rule: "INQ002",
			toml: partner + fn + route("GET", "/a", "function = \"f\"\ngroup = \"partners\""),
		},
		{
			name: "undefined function, group and key", rule: "INQ003",
			toml: partner + fn +
				route("GET", "/a", "function = \"nope\"\ngroup = \"partner\"") +
				route("GET", "/b", "function = \"f\"\nkeys = [\"partner\", \"ghost\"]"),
			want: []brief{
				{"INQ003", "routes[0].function", `GET /a names function "nope", which is not defined; add a [functions.nope] table or fix the name`, 17},
				{"INQ003", "routes[0].group", `GET /a names group "partner", which no [groups.partner] table declares and no key's groups list; fix the name or give a key that group`, 18},
				{"INQ003", "routes[1].keys[1]", `GET /b names key "ghost", which is not defined; add a [keys.ghost] table or fix the name`, 24},
			},
		},
		{
			name: "a group is defined by a key's groups or by a table", rule: "INQ003",
			toml: partner + fn + "\n[groups.ops]\ninternal = true\n" +
				route("GET", "/a", "function = \"f\"\ngroup = \"partners\"") +
				route("GET", "/b", "function = \"f\"\ngroup = \"ops\""),
		},
		{
			name: "no key in the route's group", rule: "INQ004",
			toml: partner + fn + "\n[groups.ops]\n" + route("POST", "/reindex", "function = \"f\"\ngroup = \"ops\""),
			want: []brief{{"INQ004", "routes[0].group", `POST /reindex is protected, but no configured key may call it: no key has group "ops"; add it to a key's groups`, 20}},
		},
		{
			name: "only inactive keys may call", rule: "INQ004",
			toml: `
[keys.old]
secret = "env:OLD"
groups = ["ops"]
expires = 2026-01-01T00:00:00Z

[keys.off]
secret = "env:OFF"
disabled = true
` + fn + route("POST", "/reindex", "function = \"f\"\ngroup = \"ops\"\nkeys = [\"off\"]"),
			want: []brief{{"INQ004", "routes[0].group", `POST /reindex may only be called by keys that are off (disabled), old (expired); give a usable key access, or remove the route`, 23}},
		},
		{
			name: "a key not valid yet counts as a caller", rule: "INQ004",
			toml: `
[keys.launch]
secret = "env:LAUNCH"
groups = ["ops"]
not_before = 2999-01-01T00:00:00Z
` + fn + route("POST", "/reindex", "function = \"f\"\ngroup = \"ops\""),
		},
		{
			name: "any key, and no key defined", rule: "INQ004",
			toml: fn + route("GET", "/a", "function = \"f\""),
			want: []brief{{"INQ004", "routes[0]", `GET /a accepts any valid key, but the config defines none; add a [keys.ID] table`, 10}},
		},
		{
			name: "only undefined keys named", rule: "INQ004",
			toml: partner + fn + route("GET", "/a", "function = \"f\"\nkeys = [\"ghost\"]"),
			want: []brief{{"INQ004", "routes[0].keys", `GET /a is protected, but no configured key may call it: it names no defined key; name one in keys`, 18}},
		},
		{
			name: "any valid key", rule: "INQ005",
			toml: partner + fn + route("GET", "/a", "function = \"f\"") + route("GET", "/b", "function = \"f\"\ngroup = \"partners\""),
			want: []brief{{"INQ005", "routes[0]", `GET /a accepts any valid key: it names neither group nor keys; say who may call it with group = "..." or keys = [...]`, 14}},
		},
		{
			name: "literal secrets", rule: "INQ006",
			toml: `
[keys.one]
secret = "literal-secret-one-0123456789"
groups = ["partners"]

[keys.rotating]
secret = ["env:NEW", "literal-secret-two-0123456789", "literal-secret-three-0123456789"]
groups = ["partners"]

[keys.safe]
secret = ["env:A", "file:secrets/a.key", "sha256:61649e5f8f5c44dfd07869fb7a8627f88452c34e6bc5fb58bd22af4f501a6f68"]
groups = ["partners"]
` + fn + route("GET", "/a", "function = \"f\"\ngroup = \"partners\""),
			want: []brief{
				{"INQ006", "keys.one.secret", `key "one" has its secret written in the config; use "sha256:<hex>" (inquir keys hash), "env:NAME" or "file:path", and rotate it`, 3},
				{"INQ006", "keys.rotating.secret", `key "rotating" has 2 of its secrets written in the config; use "sha256:<hex>" (inquir keys hash), "env:NAME" or "file:path", and rotate it`, 7},
			},
		},
		{
			name: "internal and external groups", rule: "INQ007",
			toml: `
[keys.both]
secret = "env:BOTH"
groups = ["partners", "ops"]

[keys.named]
secret = "env:NAMED"
groups = ["partners"]

[keys.plain]
secret = "env:PLAIN"
groups = ["partners", "undeclared"]

[groups.ops]
internal = true
` + fn + route("POST", "/ops", "function = \"f\"\ngroup = \"ops\"\nkeys = [\"named\"]"),
			want: []brief{
				{"INQ007", "keys.both.groups", `key "both" may call internal group "ops" and non-internal group "partners"; give internal callers a key of their own`, 4},
				{"INQ007", "keys.named.groups", `key "named" may call internal group "ops" and non-internal group "partners"; give internal callers a key of their own`, 8},
			},
		},
		{
			name: "open {param} route catches a protected greedy route's requests", rule: "INQ008",
			toml: partner + fn +
				route("ANY", "/files/{path+}", "function = \"f\"\ngroup = \"partners\"") +
				route("GET", "/files/{name}", "function = \"g\"\nauth = \"none\"\nreason = \"listing\""),
			want: []brief{{"INQ008", "routes[1].auth", `GET /files/{name} is open and catches requests meant for protected route ANY /files/{path+} (e.g. GET /files/sample); make it name its paths literally or protect it`, 24}},
		},
		{
			name: "open literal segment beats a protected greedy route", rule: "INQ008",
			toml: partner + fn +
				route("GET", "/{proxy+}", "function = \"f\"\ngroup = \"partners\"") +
				route("ANY", "/static/{file+}", "function = \"g\"\nauth = \"none\"\nreason = \"assets\""),
		},
		{
			name: "an open route naming one path literally is not a catch", rule: "INQ008",
			toml: partner + fn +
				route("GET", "/v1/{proxy+}", "function = \"f\"\ngroup = \"partners\"") +
				route("GET", "/v1/status", "function = \"g\"\nauth = \"none\"\nreason = \"status\""),
		},
		{
			name: "a catch-all does not catch a protected route's own method", rule: "INQ008",
			toml: partner + fn +
				route("POST", "/internal/search", "function = \"f\"\ngroup = \"partners\"") +
				route("ANY", "/{proxy+}", "function = \"g\"\nauth = \"none\"\nreason = \"site\""),
		},
		{
			name: "a catch-all serves a protected path's other methods", rule: "INQ009",
			toml: partner + fn +
				route("POST", "/internal/search", "function = \"f\"\ngroup = \"partners\"") +
				route("ANY", "/{proxy+}", "function = \"g\"\nauth = \"none\"\nreason = \"site\""),
			want: []brief{{"INQ009", "routes[1].auth", `POST /internal/search is protected, but GET, HEAD, PUT, PATCH, DELETE, OPTIONS requests to the same path reach open route ANY /{proxy+}; protect the path for every method or keep the open route off it`, 24}},
		},
		{
			name: "one method open on the very path ANY protects", rule: "INQ009",
			toml: partner + fn +
				route("ANY", "/reports/{id}", "function = \"f\"\ngroup = \"partners\"") +
				route("GET", "/reports/{rid}", "function = \"g\"\nauth = \"none\"\nreason = \"shared links\""),
			want: []brief{{"INQ009", "routes[1].auth", `ANY /reports/{id} is protected, but GET, HEAD requests to the same path reach open route GET /reports/{rid}; protect the path for every method or keep the open route off it`, 24}},
		},
		{
			name: "a pair INQ008 reports is not INQ009's too", rule: "INQ009",
			toml: partner + fn +
				route("GET", "/v1/{proxy+}", "function = \"f\"\ngroup = \"partners\"") +
				route("ANY", "/v1/{page}", "function = \"g\"\nauth = \"none\"\nreason = \"status\""),
		},
		{
			name: "other methods of a protected path answer 405", rule: "INQ009",
			toml: partner + fn +
				route("GET", "/customers/{id}", "function = \"f\"\ngroup = \"partners\"") +
				route("GET", "/health", "function = \"g\"\nauth = \"none\"\nreason = \"probes\""),
		},
		{
			name: "expired and disabled keys", rule: "INQ010",
			toml: `
[keys.old]
secret = "env:OLD"
groups = ["partners"]
expires = 2026-01-01T00:00:00Z

[keys.off]
secret = "env:OFF"
groups = ["partners"]
disabled = true

[keys.soon]
secret = "env:SOON"
groups = ["partners"]
not_before = 2026-07-01T00:00:00Z
expires = 2027-01-01T00:00:00Z
` + fn + route("GET", "/a", "function = \"f\"\ngroup = \"partners\""),
			want: []brief{
				{"INQ010", "keys.old.expires", `key "old" expired at 2026-01-01T00:00:00Z and is still in the config; remove [keys.old] once no caller uses it`, 5},
				{"INQ010", "keys.off.disabled", `key "off" is disabled and still in the config; remove [keys.off] once no caller uses it`, 10},
			},
		},
		{
			name: "handlers reading the key header", rule: "INQ011",
			toml: `
[gateway]
key_header = "X-Partner-Key"

[functions.gofn]
runtime = "go"
path = "gofn"

[functions.node]
runtime = "node"
path = "node/index.mjs"

[functions.clean]
runtime = "node"
path = "clean/index.mjs"

[functions.proc]
runtime = "process"
command = ["./proc"]
` + partner + route("GET", "/a", "function = \"gofn\"\ngroup = \"partners\""),
			files: map[string]string{
				"gofn/main.go":      "package main\n\n// req.Headers[\"x-partner-key\"] in a comment is not a read.\nfunc handler(req Request) {\n\tk := req.Headers[\"X-Partner-Key\"]\n\t_ = k\n}\n",
				"gofn/main_test.go": "package main\n\nvar _ = h.Get(\"x-partner-key\")\n",
				"node/index.mjs":    "export async function handler(event) {\n  return { statusCode: 200 };\n}\n",
				"node/auth.js":      "export function check(event) {\n  const { \"x-api-key\": key } = event.headers;\n  return key;\n}\nexport const also = (h) => h.get('X-API-KEY');\n",
				"clean/index.mjs":   "// The gateway checks headers['x-partner-key'] for us.\nexport async function handler(event) {\n  await fetch(url, { headers: { \"x-partner-key\": process.env.KEY } });\n  const h = {};\n  h[\"x-partner-key\"] = process.env.KEY;\n  return { statusCode: 200, body: event.requestContext.identity.apiKeyId };\n}\n",
				"proc":              "#!/bin/sh\n# headers[\"x-partner-key\"]\n",
			},
			want: []brief{
				{"INQ011", "functions.gofn.path", `function "gofn" reads the x-partner-key header itself at gofn/main.go:5; the gateway has checked the key and removed that header: use requestContext.identity.apiKeyId`, 7},
				{"INQ011", "functions.node.path", `function "node" reads the x-api-key header itself at node/auth.js:2 (and 1 more place); the gateway has checked the key and removed that header: use requestContext.identity.apiKeyId`, 11},
			},
		},
		{
			name: "an open route is a side door to a protected function", rule: "INQ012",
			toml: partner + fn +
				route("GET", "/customers/{id}", "function = \"f\"\ngroup = \"partners\"") +
				route("GET", "/customers/{id}/avatar", "function = \"f\"\nauth = \"none\"\nreason = \"public pages\""),
			want: []brief{{"INQ012", "routes[1].auth", `GET /customers/{id}/avatar is open and runs function "f", which GET /customers/{id} protects; the open route is a side door to it`, 24}},
		},
		{
			name: "a route allowing more keys is a side door", rule: "INQ012",
			toml: partner + "\n[keys.agent]\nsecret = \"env:AGENT\"\ngroups = [\"internal\"]\n" + fn +
				route("GET", "/a", "function = \"f\"\ngroup = \"partners\"") +
				route("GET", "/b", "function = \"f\"") +
				route("GET", "/c", "function = \"f\"\ngroup = \"internal\""),
			want: []brief{
				{"INQ012", "routes[1]", `GET /b lets key "agent" run function "f", though GET /a does not; the weaker route is a side door`, 24},
				{"INQ012", "routes[1]", `GET /b lets key "partner" run function "f", though GET /c does not; the weaker route is a side door`, 24},
			},
		},
		{
			name: "a route the router never serves opens no door", rule: "INQ012",
			toml: partner + fn +
				route("ANY", "/x", "function = \"f\"\nauth = \"none\"\nreason = \"never served\"") +
				route("GET", "/x", "function = \"f\"\ngroup = \"partners\"") +
				route("HEAD", "/x", "function = \"f\"\ngroup = \"partners\"") +
				route("POST", "/x", "function = \"f\"\ngroup = \"partners\"") +
				route("PUT", "/x", "function = \"f\"\ngroup = \"partners\"") +
				route("PATCH", "/x", "function = \"f\"\ngroup = \"partners\"") +
				route("DELETE", "/x", "function = \"f\"\ngroup = \"partners\"") +
				route("OPTIONS", "/x", "function = \"f\"\ngroup = \"partners\""),
		},
		{
			name: "a {param} route takes an encoded spelling of a route for other keys", rule: "INQ014",
			toml: partner + admin + fn +
				route("GET", "/orders/{id}", "function = \"f\"\ngroup = \"partners\"") +
				route("GET", "/orders/{id}/refunds", "function = \"f\"\ngroup = \"admins\""),
			want: []brief{{"INQ014", "routes[0].group", `GET /orders/{id} takes GET /orders/sample%2Frefunds, which a web framework decodes to /orders/sample/refunds, the path of GET /orders/{id}/refunds; on AWS function "f" gets path "/orders/sample%2Frefunds" (id = "sample%2Frefunds") for key "partner", whom GET /orders/{id}/refunds refuses; give both routes the same protection or make the function reject encoded slashes (%2F, %5C)`, 22}},
		},
		{
			name: "several separators encoded, a literal segment after the parameter", rule: "INQ014",
			toml: partner + admin + fn +
				route("GET", "/t/{tenant}/files", "function = \"f\"\ngroup = \"partners\"") +
				route("GET", "/t/{tenant}/admin/x/files", "function = \"f\"\ngroup = \"admins\""),
			want: []brief{{"INQ014", "routes[0].group", `GET /t/{tenant}/files takes GET /t/sample%2Fadmin%2Fx/files, which a web framework decodes to /t/sample/admin/x/files, the path of GET /t/{tenant}/admin/x/files; on AWS function "f" gets path "/t/sample%2Fadmin%2Fx/files" (tenant = "sample%2Fadmin%2Fx") for key "partner", whom GET /t/{tenant}/admin/x/files refuses; give both routes the same protection or make the function reject encoded slashes (%2F, %5C)`, 22}},
		},
		{
			name: "a {param} route takes an other-case spelling of a route for other keys", rule: "INQ014",
			toml: partner + admin + fn +
				route("GET", "/api/{section}/users", "function = \"f\"\ngroup = \"partners\"") +
				route("GET", "/api/admin/users", "function = \"f\"\ngroup = \"admins\""),
			want: []brief{{"INQ014", "routes[0].group", `GET /api/{section}/users takes GET /api/ADMIN/users, which a router that ignores letter case (Express, Koa, ASP.NET) serves as /api/admin/users, the path of GET /api/admin/users; on AWS function "f" gets path "/api/ADMIN/users" (section = "ADMIN") for key "partner", whom GET /api/admin/users refuses; give both routes the same protection or make the function route paths case-sensitively`, 22}},
		},
		{
			name: "a greedy route takes a lower-case spelling of a route named in upper case", rule: "INQ014",
			toml: partner + admin + fn +
				route("ANY", "/v1/{proxy+}", "function = \"f\"\ngroup = \"partners\"") +
				route("ANY", "/v1/Admin/{proxy+}", "function = \"f\"\ngroup = \"admins\""),
			want: []brief{
				{"INQ014", "routes[0].group", `ANY /v1/{proxy+} takes GET /v1/Admin%2Fsample, which a web framework decodes to /v1/Admin/sample, the path of ANY /v1/Admin/{proxy+}; on AWS function "f" gets path "/v1/Admin%2Fsample" (proxy = "Admin%2Fsample") for key "partner", whom ANY /v1/Admin/{proxy+} refuses; give both routes the same protection or make the function reject encoded slashes (%2F, %5C)`, 22},
				{"INQ014", "routes[0].group", `ANY /v1/{proxy+} takes GET /v1/admin/sample, which a router that ignores letter case (Express, Koa, ASP.NET) serves as /v1/Admin/sample, the path of ANY /v1/Admin/{proxy+}; on AWS function "f" gets path "/v1/admin/sample" (proxy = "admin/sample") for key "partner", whom ANY /v1/Admin/{proxy+} refuses; give both routes the same protection or make the function route paths case-sensitively`, 22},
			},
		},
		{
			name: "another case of a route no more protected is not INQ014", rule: "INQ014",
			toml: partner + admin + fn +
				route("GET", "/api/{section}/users", "function = \"f\"\ngroup = \"partners\"") +
				route("GET", "/api/shared/users", "function = \"f\"\nkeys = [\"partner\", \"admin\"]"),
		},
		{
			name: "routes to different code are not INQ014", rule: "INQ014",
			toml: partner + admin + fn +
				route("ANY", "/api/{proxy+}", "function = \"f\"\ngroup = \"partners\"") +
				route("ANY", "/api/admin/{proxy+}", "function = \"g\"\ngroup = \"admins\""),
		},
		{
			name: "a {param} route no weaker than the other is not INQ014", rule: "INQ014",
			toml: partner + admin + fn +
				route("ANY", "/api/{proxy+}", "function = \"f\"\ngroup = \"admins\"") +
				route("ANY", "/api/admin/{proxy+}", "function = \"f\"\nkeys = [\"partner\", \"admin\"]"),
		},
		{
			name: "an ANY route weaker than POST takes overrides only", rule: "INQ015",
			toml: partner + admin + fn +
				route("POST", "/jobs", "function = \"f\"\ngroup = \"admins\"") +
				route("ANY", "/jobs", "function = \"f\"\nauth = \"none\"\nreason = \"job status\""),
			want: []brief{{"INQ015", "routes[1].auth", `ANY /jobs runs the code of POST /jobs (function "f") for callers without a key, whom POST /jobs refuses: on AWS it takes GET /jobs with X-HTTP-Method-Override: POST, which a web framework runs as POST; give the routes the same protection`, 28}},
		},
		{
			name: "an ANY {param} route beside a literal method route", rule: "INQ015",
			toml: partner + admin + fn +
				route("GET", "/reports/summary", "function = \"f\"\ngroup = \"admins\"") +
				route("ANY", "/reports/{id}", "function = \"f\"\ngroup = \"partners\""),
			want: []brief{{"INQ015", "routes[1].group", `ANY /reports/{id} runs the code of GET /reports/summary (function "f") for key "partner", whom GET /reports/summary refuses: on AWS it takes HEAD /reports/summary and POST /reports/summary with X-HTTP-Method-Override: GET, which a web framework runs as GET; give the routes the same protection`, 28}},
		},
		{
			name: "routes to different code or as protected are not INQ015", rule: "INQ015",
			toml: partner + admin + fn +
				route("GET", "/reports", "function = \"f\"\ngroup = \"admins\"") +
				route("ANY", "/reports", "function = \"g\"\ngroup = \"partners\"") +
				route("GET", "/drafts", "function = \"f\"\ngroup = \"partners\"") +
				route("ANY", "/drafts", "function = \"f\"\ngroup = \"partners\""),
		},
		{
			name: "a GET route wider than a HEAD route runs no code of HEAD's", rule: "INQ015",
			toml: partner + admin + fn +
				route("GET", "/reports", "function = \"f\"\nkeys = [\"partner\", \"admin\"]") +
				route("HEAD", "/reports", "function = \"f\"\nkeys = [\"partner\"]"),
		},
		{
			name: "a plan no key uses", rule: "INQ017",
			toml: "\n[plans.gold]\nrate = 5\nburst = 10\n\n[plans.silver]\nrate = 1\nburst = 2\n" + `
[keys.partner]
secret = "env:PARTNER_KEY"
groups = ["partners"]
plan = "silver"
` + fn + route("GET", "/a", "function = \"f\"\ngroup = \"partners\""),
			want: []brief{{"INQ017", "plans.gold", `plan "gold" limits no key: no key has plan = "gold"; give it to the keys it is meant for, or remove [plans.gold]`, 2}},
		},
		{
			name: "a disabled key still uses its plan", rule: "INQ017",
			toml: "\n[plans.gold]\nrate = 5\nburst = 10\n" + `
[keys.partner]
secret = "env:PARTNER_KEY"
groups = ["partners"]
plan = "gold"
disabled = true
` + fn + route("GET", "/a", "function = \"f\"\ngroup = \"partners\""),
		},
		{
			name: "throttles that no request takes", rule: "INQ018",
			toml: `
[plans.p]
rate = 50
burst = 100

[[plans.p.routes]]
method = "POST"
path = "/orders/{id}"
rate = 1
burst = 1

[[plans.p.routes]]
method = "GET"
path = "/orders/{orderId}"
rate = 1
burst = 1

[[plans.p.routes]]
method = "ANY"
path = "/any"
rate = 1
burst = 1

[[plans.p.routes]]
method = "GET"
path = "/health"
rate = 1
burst = 1

[[plans.p.routes]]
method = "DELETE"
path = "/nowhere"
rate = 1
burst = 1
` + partner + fn +
				route("GET", "/orders/{id}", "function = \"f\"\ngroup = \"partners\"") +
				route("ANY", "/any", "function = \"f\"\ngroup = \"partners\"") +
				route("GET", "/health", "function = \"f\"\nauth = \"none\"\nreason = \"probes\""),
			want: []brief{
				{"INQ018", "plans.p.routes[0]", `plan "p" throttles POST /orders/{id}, which names no route: no route on /orders/{id} serves POST (its routes take GET); fix the method or the path`, 6},
				{"INQ018", "plans.p.routes[1]", `plan "p" throttles GET /orders/{orderId}, which names no route: no route on /orders/{orderId} serves GET; a throttle names a route's path as written, as in GET /orders/{id}; fix the method or the path`, 12},
				{"INQ018", "plans.p.routes[3]", `plan "p" throttles GET /health, which GET /health serves, open to anyone (auth = "none"): no key and so no plan is checked there; throttle a protected route`, 24},
				{"INQ018", "plans.p.routes[4]", `plan "p" throttles DELETE /nowhere, which names no route: no route on /nowhere serves DELETE; fix the method or the path`, 30},
			},
		},
		{
			name: "throttles an ANY route and a method route take, and HEAD on a GET route that the GET throttle takes", rule: "INQ018",
			toml: `
[plans.p]
rate = 50
burst = 100

[[plans.p.routes]]
method = "POST"
path = "/any/{proxy+}"
rate = 1
burst = 1

[[plans.p.routes]]
method = "HEAD"
path = "/orders/{id}"
rate = 1
burst = 1

[[plans.p.routes]]
method = "GET"
path = "/orders/{id}"
rate = 1
burst = 1
` + partner + fn +
				route("GET", "/orders/{id}", "function = \"f\"\ngroup = \"partners\"") +
				route("ANY", "/any/{proxy+}", "function = \"f\"\ngroup = \"partners\""),
			want: []brief{
				{"INQ018", "plans.p.routes[1]", `plan "p" throttles HEAD /orders/{id}, which no request takes: a HEAD that GET /orders/{id} serves takes that route's GET throttle, as the gateway authorises it as the GET; throttle GET /orders/{id}`, 12},
			},
		},
		{
			name: "keys on non-internal groups without a plan", rule: "INQ019", enable: []string{"INQ019"},
			toml: `
[plans.p]
rate = 5
burst = 10

[groups.ops]
internal = true

[keys.partner]
secret = "env:PARTNER_KEY"
groups = ["partners"]

[keys.planned]
secret = "env:PLANNED_KEY"
groups = ["partners"]
plan = "p"

[keys.ops]
secret = "env:OPS_KEY"
groups = ["ops"]

[keys.named]
secret = "env:NAMED_KEY"

[keys.gone]
secret = "env:GONE_KEY"
groups = ["partners"]
disabled = true
` + fn +
				route("GET", "/a", "function = \"f\"\ngroup = \"partners\"") +
				route("POST", "/reindex", "function = \"f\"\ngroup = \"ops\"") +
				route("GET", "/reports", "function = \"f\"\ngroup = \"reports\"\nkeys = [\"named\", \"ops\"]"),
			want: []brief{
				{"INQ019", "keys.partner", `key "partner" may call non-internal group "partners" and has no usage plan, so nothing bounds how fast or how much it calls; give it plan = "NAME"`, 9},
				{"INQ019", "keys.ops", `key "ops" may call non-internal group "reports" and has no usage plan, so nothing bounds how fast or how much it calls; give it plan = "NAME"`, 18},
				{"INQ019", "keys.named", `key "named" may call non-internal group "reports" and has no usage plan, so nothing bounds how fast or how much it calls; give it plan = "NAME"`, 22},
			},
		},
		{
			name: "off unless enabled", rule: "INQ019",
			toml: partner + fn + route("GET", "/a", "function = \"f\"\ngroup = \"partners\""),
		},
	}
	for _, tc := range tests {
		t.Run(tc.rule+"/"+tc.name, func(t *testing.T) {
			rep := lintProject(t, tc.toml, tc.files, Options{Enable: tc.enable})
			if diff := cmp.Diff(tc.want, briefs(rep, tc.rule)); diff != "" {
				t.Errorf("%s findings (-want +got):\n%s", tc.rule, diff)
			}
			for _, f := range rep.Findings {
				if strings.Contains(f.Message, "literal-secret") {
					t.Errorf("a finding shows a secret: %s", f.Message)
				}
			}
		})
	}
}

func TestStrict(t *testing.T) {
	toml := fn + route("GET", "/health", "function = \"f\"\nauth = \"none\"\nreason = \"probes\"")
	for _, tc := range []struct {
		strict bool
		want   Severity
	}{{false, Warning}, {true, Error}} {
		rep := lintProject(t, toml, nil, Options{Strict: tc.strict})
		if len(rep.Findings) != 1 || rep.Findings[0].Severity != tc.want {
			t.Fatalf("strict=%v: findings %+v, want one INQ002 %s", tc.strict, rep.Findings, tc.want)
		}
		if got := rep.Fails(Error); got != tc.strict {
			t.Errorf("strict=%v: Fails(error) = %v", tc.strict, got)
		}
		if !rep.Fails(Warning) {
			t.Errorf("strict=%v: Fails(warning) = false", tc.strict)
		}
	}
}

// TestNoSecretsNeeded checks that lint compiles a config whose env: and
// file: secrets cannot be resolved, never reads them, and still refuses
// what the gateway refuses: one secret for two keys.
func TestNoSecretsNeeded(t *testing.T) {
	t.Setenv("SET_KEY", "env-secret-value-0123456789")
	toml := `
[keys.a]
secret = "env:UNSET_KEY_FOR_LINT_TEST"
groups = ["g"]

[keys.b]
secret = "file:no/such/file.key"
groups = ["g"]

[keys.c]
secret = "env:SET_KEY"
groups = ["g"]
` + fn + route("GET", "/a", "function = \"f\"\ngroup = \"g\"")
	rep := lintProject(t, toml, nil, Options{})
	if len(rep.Findings) != 0 {
		t.Errorf("findings: %+v", rep.Findings)
	}

	dup := `
[keys.a]
secret = "same-literal-0123456789"
groups = ["g"]

[keys.b]
secret = "same-literal-0123456789"
groups = ["g"]
` + fn + route("GET", "/a", "function = \"f\"\ngroup = \"g\"")
	_, err := Run(project(t, dup, nil), Options{})
	if err == nil || !strings.Contains(err.Error(), `also a secret of key "a"`) || strings.Contains(err.Error(), "same-literal") {
		t.Errorf("duplicate secret: got %v, want it refused without the secret", err)
	}
}

func TestConfigErrors(t *testing.T) {
	path := project(t, "[functions.f]\nruntime = \"node\"\npath = \"f.mjs\"\ntimeout = \"soon\"\n", nil)
	t.Chdir(filepath.Dir(path))
	_, err := Run(path, Options{})
	if err == nil {
		t.Fatal("Run accepted a config with a bad timeout")
	}
	want := "inquir.toml:4:1: functions.f.timeout: \"soon\" is not a positive duration, as in \"10s\" or \"500ms\""
	if diff := cmp.Diff(want, err.Error()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestRootConfig keeps the example project at the repository's root lint
// clean: its one public route (GET /health, with a reason) is listed as a
// warning, which does not fail lint.
func TestRootConfig(t *testing.T) {
	rep, err := Run("../../inquir.toml", Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range rep.Findings {
		got = append(got, f.Rule+" "+f.Severity.String()+" "+f.Field)
	}
	if diff := cmp.Diff([]string{"INQ002 warning routes[3].auth"}, got); diff != "" {
		t.Errorf("root inquir.toml findings (-want +got):\n%s", diff)
	}
	if rep.Fails(Error) {
		t.Error("the root inquir.toml fails lint")
	}
}

func TestSampleSegments(t *testing.T) {
	p := mustView(t, partner+fn+route("GET", "/a/sample", "function = \"f\"\ngroup = \"partners\"")+route("GET", "/more/sample2/{x}", "function = \"f\"\ngroup = \"partners\""))
	if got, want := sampleSegments(p.Policy), [3]string{"sample3", "more2", "parts"}; got != want {
		t.Errorf("sampleSegments = %v, want %v", got, want)
	}
	if got, want := samplePaths("/a/{x}/{rest+}", [3]string{"s", "m", "p"}), []string{"/a/s/s", "/a/s/s/m/p"}; !cmp.Equal(got, want) {
		t.Errorf("samplePaths = %v, want %v", got, want)
	}
}

func mustView(t *testing.T, toml string) *View {
	t.Helper()
	v, err := Load(project(t, toml, nil), testNow)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestStripComments(t *testing.T) {
	src := "a // x \"y\"\nb /* c\nd */ e \"// not\" f `/* raw\n*/` g '\\'' // h\n"
	want := "a         \nb     \n     e \"// not\" f `/* raw\n*/` g '\\''     \n"
	if got := stripComments(src, true); got != want {
		t.Errorf("stripComments:\n got %q\nwant %q", got, want)
	}
}

func TestFindKeyReads(t *testing.T) {
	tests := []struct {
		name, src string
		read      bool
	}{
		{"Go map index", `k := req.Headers["X-Api-Key"]`, true},
		{"Go multi-value map", `k := req.MultiValueHeaders["x-api-key"][0]`, true},
		{"Go http.Header", `k := r.Header.Get("X-API-Key")`, true},
		{"Go header values", `ks := r.Header.Values("x-api-key")`, true},
		{"Go loop with EqualFold", `if strings.EqualFold(name, "x-api-key") {`, true},
		{"Go switch", "switch strings.ToLower(name) { case \"x-api-key\":", true},
		{"JS optional chaining", `const k = event.headers?.['x-api-key'];`, true},
		{"JS template-quoted", "const k = event.headers[`x-api-key`];", true},
		{"JS Headers.get", `const k = req.headers.get("x-api-key");`, true},
		{"JS has", `if (!headers.has('x-api-key')) return deny();`, true},
		{"JS in", `if (!("x-api-key" in event.headers)) return deny();`, true},
		{"JS comparison", `if (name.toLowerCase() === "x-api-key") {`, true},
		{"JS destructuring", `const { "x-api-key": apiKey, host } = event.headers;`, true},
		{"Go header set", `req.Header.Set("X-Api-Key", os.Getenv("SEARCH_KEY"))`, false},
		{"JS fetch headers", `await fetch(u, { headers: { "x-api-key": process.env.SEARCH_KEY } });`, false},
		{"JS assignment", `headers["x-api-key"] = process.env.SEARCH_KEY;`, false},
		{"another header", `const t = event.headers["x-trace-id"];`, false},
		{"a comment", `// never read headers["x-api-key"] here`, false},
		{"a block comment", "/* event.headers['x-api-key'] */ const a = 1;", false},
		{"prose in a string", `const doc = "send your key in the x-api-key header";`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "h.mjs")
			if strings.HasPrefix(tc.name, "Go") {
				file = filepath.Join(filepath.Dir(file), "h.go")
			}
			if err := os.WriteFile(file, []byte("\n"+tc.src+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			reads := findKeyReads([]string{file}, keyReadPatterns([]string{"x-api-key"}))
			if got := len(reads) > 0; got != tc.read {
				t.Fatalf("read = %v, want %v (%+v)", got, tc.read, reads)
			}
			if tc.read && (reads[0].Line != 2 || reads[0].Header != "x-api-key") {
				t.Errorf("read at %+v, want line 2", reads[0])
			}
		})
	}
}

func TestFindBase64Answers(t *testing.T) {
	tests := []struct {
		name, src string
		found     bool
	}{
		{"JS object literal", `return { statusCode: 200, isBase64Encoded: true, body };`, true},
		{"JS quoted key", `return { "isBase64Encoded": true, "body": b };`, true},
		{"JS assignment", `response.isBase64Encoded = true;`, true},
		{"Go composite literal", `return events.APIGatewayProxyResponse{StatusCode: 200, IsBase64Encoded: true, Body: b}, nil`, true},
		{"Go assignment", `resp.IsBase64Encoded = true`, true},
		{"JS false", `return { isBase64Encoded: false, body };`, false},
		{"JS reads the event", `const raw = event.isBase64Encoded === true ? decode(event.body) : event.body;`, false},
		{"Go reads the event", `if req.IsBase64Encoded == true {`, false},
		{"computed at run time", `return { isBase64Encoded: isBinary, body };`, false},
		{"a comment", `// return { isBase64Encoded: true }`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "h.mjs")
			if strings.HasPrefix(tc.name, "Go") {
				file = filepath.Join(filepath.Dir(file), "h.go")
			}
			if err := os.WriteFile(file, []byte("\n"+tc.src+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			places := findBase64Answers([]string{file})
			if got := len(places) > 0; got != tc.found {
				t.Fatalf("found = %v, want %v (%+v)", got, tc.found, places)
			}
			if tc.found && places[0].Line != 2 {
				t.Errorf("found at %+v, want line 2", places[0])
			}
		})
	}
}
