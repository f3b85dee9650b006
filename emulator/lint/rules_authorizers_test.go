package lint

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// authorizer is an [authorizers.NAME] table for rule tests, run by
// function "auth" (auth.mjs).
func authorizer(name, rest string) string {
	return "\n[authorizers." + name + "]\nfunction = \"auth\"\n" + rest + "\n"
}

const authFn = `
[functions.auth]
runtime = "node"
path = "auth.mjs"
`

// narrowAuth is a Node authorizer that allows the request's methodArn alone.
var narrowAuth = map[string]string{"auth.mjs": `export async function handler(event) {
  return { principalId: "u", policyDocument: { Version: "2012-10-17",
    Statement: [{ Action: "execute-api:Invoke", Effect: "Allow", Resource: event.methodArn }] } };
}
`}

func TestAuthorizerRules(t *testing.T) {
	request := authorizer("tenant", "type = \"request\"\nidentity_sources = [\"header.Authorization\", \"stageVariables.tenant\", \"context.identity.sourceIp\", \"context.requestId\"]\nttl = \"0\"")
	token := func(ttl string) string {
		return authorizer("tenant", "type = \"token\"\nidentity_sources = [\"header.Authorization\"]\nttl = \""+ttl+"\"")
	}
	behind := func(method, path string) string {
		return route(method, path, "function = \"f\"\nauth = \"authorizer\"\nauthorizer = \"tenant\"")
	}
	tests := []struct {
		name  string
		rule  string
		toml  string
		files map[string]string
		want  []brief
	}{
		{
			name: "stage variables and unknown context variables", rule: "INQ021",
			toml: request + authFn + fn + behind("GET", "/a"),
			want: []brief{
				{"INQ021", "authorizers.tenant.identity_sources", `authorizer "tenant" reads identity source "stageVariables.tenant", which no request carries: inquir serves no stages, so no stage variable is ever set; every request to route GET /a is refused (401) before it runs`, 5},
				{"INQ021", "authorizers.tenant.identity_sources", `authorizer "tenant" reads identity source "context.requestId", which no request carries: inquir has no value for that $context variable (it has context.identity.sourceIp, context.identity.userAgent, context.httpMethod, context.path, context.protocol); every request to route GET /a is refused (401) before it runs`, 5},
			},
		},
		{
			name: "an unused authorizer is still reported", rule: "INQ021",
			toml: request + authFn + fn + route("GET", "/a", "function = \"f\"\nauth = \"none\"\nreason = \"r\""),
			want: []brief{
				{"INQ021", "authorizers.tenant.identity_sources", `authorizer "tenant" reads identity source "stageVariables.tenant", which no request carries: inquir serves no stages, so no stage variable is ever set; no route names the authorizer yet, but every request to one would be refused (401)`, 5},
				{"INQ021", "authorizers.tenant.identity_sources", `authorizer "tenant" reads identity source "context.requestId", which no request carries: inquir has no value for that $context variable (it has context.identity.sourceIp, context.identity.userAgent, context.httpMethod, context.path, context.protocol); no route names the authorizer yet, but every request to one would be refused (401)`, 5},
			},
		},
		{
			name: "headers, query and known context variables are carried", rule: "INQ021",
			toml: authorizer("tenant", "type = \"request\"\nidentity_sources = [\"header.Authorization\", \"query.tenant\", \"context.identity.userAgent\"]") + authFn + fn + behind("GET", "/a"),
		},
		{
			name: "cached, two routes, methodArn alone", rule: "INQ022",
			toml: token("300s") + authFn + fn + behind("GET", "/a") + behind("GET", "/b"), files: narrowAuth,
			want: []brief{{"INQ022", "authorizers.tenant.ttl", `authorizer "tenant" caches its answer for 300s and answers routes GET /a, GET /b, but function "auth" allows only the request's methodArn (auth.mjs:3): the cached policy refuses the caller's next request to another route or path (403) until it expires; allow the stage's ARNs (.../STAGE/*/*) or set ttl = "0"`, 6}},
		},
		{
			name: "the default TTL points at the table", rule: "INQ022",
			toml: authorizer("tenant", "type = \"token\"\nidentity_sources = [\"header.Authorization\"]") + authFn + fn + behind("ANY", "/a"), files: narrowAuth,
			want: []brief{{"INQ022", "authorizers.tenant", `authorizer "tenant" caches its answer for 300s and answers route ANY /a, but function "auth" allows only the request's methodArn (auth.mjs:3): the cached policy refuses the caller's next request to another route or path (403) until it expires; allow the stage's ARNs (.../STAGE/*/*) or set ttl = "0"`, 2}},
		},
		{
			name: "one {proxy+} route takes many ARNs", rule: "INQ022",
			toml: token("60s") + authFn + fn + behind("GET", "/{proxy+}"), files: narrowAuth,
			want: []brief{{"INQ022", "authorizers.tenant.ttl", `authorizer "tenant" caches its answer for 60s and answers route GET /{proxy+}, but function "auth" allows only the request's methodArn (auth.mjs:3): the cached policy refuses the caller's next request to another route or path (403) until it expires; allow the stage's ARNs (.../STAGE/*/*) or set ttl = "0"`, 6}},
		},
		{
			name: "one literal route takes one ARN", rule: "INQ022",
			toml: token("300s") + authFn + fn + behind("GET", "/a"), files: narrowAuth,
		},
		{
			name: "no cache, no shared answer", rule: "INQ022",
			toml: token("0") + authFn + fn + behind("GET", "/a") + behind("GET", "/b"), files: narrowAuth,
		},
		{
			name: "a stage-wide policy", rule: "INQ022",
			toml: token("300s") + authFn + fn + behind("GET", "/a") + behind("GET", "/b"),
			files: map[string]string{"auth.mjs": `export const handler = async (event) => ({ principalId: "u", policyDocument: { Version: "2012-10-17",
  Statement: [{ Action: "execute-api:Invoke", Effect: "Allow", Resource: event.methodArn.split("/").slice(0, 2).join("/") + "/*" }] } });
`},
		},
		{
			// A key and the group's authorizer: the authorizer still runs
			// for both routes, cached.
			name: "routes that take the group's authorizer", rule: "INQ022",
			toml: token("300s") + partner + "\n[groups.partners]\nauthorizer = \"tenant\"\n" + authFn + fn +
				route("GET", "/a", "function = \"f\"\ngroup = \"partners\"") + route("GET", "/b", "function = \"f\"\ngroup = \"partners\""),
			files: narrowAuth,
			want:  []brief{{"INQ022", "authorizers.tenant.ttl", `authorizer "tenant" caches its answer for 300s and answers routes GET /a, GET /b, but function "auth" allows only the request's methodArn (auth.mjs:3): the cached policy refuses the caller's next request to another route or path (403) until it expires; allow the stage's ARNs (.../STAGE/*/*) or set ttl = "0"`, 6}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep := lintProject(t, tc.toml, tc.files, Options{})
			if diff := cmp.Diff(tc.want, briefs(rep, tc.rule)); diff != "" {
				t.Errorf("%s findings (-want +got):\n%s\nconfig:\n%s", tc.rule, diff, tc.toml)
			}
		})
	}
}

func TestFindArnResources(t *testing.T) {
	tests := []struct {
		name, file, src string
		found           bool
	}{
		{"node direct", "a.mjs", `Statement: [{ Effect: "Allow", Resource: event.methodArn }]`, true},
		{"node quoted key, list", "a.mjs", `"Resource": [event.methodArn],`, true},
		{"node optional chaining", "a.mjs", `Resource: event?.methodArn,`, true},
		{"node destructured", "a.mjs", "const { methodArn } = event; const s = { Resource: methodArn };", true},
		{"node blueprint helper", "a.mjs", "callback(null, generatePolicy('user', 'Allow', event.methodArn));\nfunction generatePolicy(p, e, resource) { statement.Resource = resource; }", true},
		{"node derived", "a.mjs", `Resource: event.methodArn.split("/").slice(0, 2).join("/") + "/*",`, false},
		{"node wildcard", "a.mjs", `Resource: "arn:aws:execute-api:*:*:*/*/*/*"`, false},
		{"node logged", "a.mjs", "console.log(event.methodArn);\nconst s = { Resource: stage + \"/*\" };", false},
		{"node helper but no Resource set", "a.mjs", "await audit('x', event.methodArn);", false},
		{"node comment", "a.mjs", "// Resource: event.methodArn\nconst s = { Resource: '*' };", false},
		{"go struct", "a.go", `Statement: []events.IAMPolicyStatement{{Action: []string{"execute-api:Invoke"}, Effect: "Allow", Resource: []string{event.MethodArn}}},`, true},
		{"go helper", "a.go", "return generatePolicy(\"user\", \"Allow\", event.MethodArn), nil\n// in generatePolicy: Resource: []string{resource}\nvar s = events.IAMPolicyStatement{Resource: []string{resource}}", true},
		{"go derived", "a.go", `parts := strings.Split(event.MethodArn, "/"); s := events.IAMPolicyStatement{Resource: []string{parts[0] + "/" + parts[1] + "/*"}}`, false},
		{"go logged", "a.go", "log.Printf(\"arn %s\", event.MethodArn)\nvar s = events.IAMPolicyStatement{Resource: []string{\"*\"}}", false},
		{"python direct", "a.py", `"Resource": event["methodArn"],`, true},
		{"python get", "a.py", `'Resource': [event.get('methodArn')]`, true},
		{"python helper", "a.py", "return generate_policy('user', 'Allow', event['methodArn'])\n# statement['Resource'] = resource\nstatement = {'Resource': resource}", true},
		{"python derived", "a.py", `tmp = event['methodArn'].split(':'); s = {'Resource': arn + '/*'}`, false},
		{"python comment", "a.py", "# 'Resource': event['methodArn']\ns = {'Resource': '*'}", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), tc.file)
			if err := os.WriteFile(file, []byte("\n"+tc.src+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			uses := findArnResources([]string{file})
			if got := len(uses) > 0; got != tc.found {
				t.Fatalf("found = %v, want %v (%+v)", got, tc.found, uses)
			}
			if tc.found && uses[0].Line != 2 {
				t.Errorf("found at %+v, want line 2", uses[0])
			}
		})
	}
}

// TestAuthorizerSourcesProcess: a Python authorizer run as a process is
// read through the files its command names.
func TestAuthorizerSourcesProcess(t *testing.T) {
	toml := `
[authorizers.tenant]
function = "auth"
type = "token"
identity_sources = ["header.Authorization"]

[functions.auth]
runtime = "process"
command = ["python3", "auth/main.py"]
` + fn + route("GET", "/a", "function = \"f\"\nauth = \"authorizer\"\nauthorizer = \"tenant\"") +
		route("GET", "/b", "function = \"f\"\nauth = \"authorizer\"\nauthorizer = \"tenant\"")
	files := map[string]string{
		"auth/main.py":   "from policy import allow\n\ndef handler(event):\n    return allow(event)\n",
		"auth/policy.py": "def allow(event):\n    return {'principalId': 'u', 'policyDocument': {'Statement': [{'Effect': 'Allow', 'Resource': event['methodArn']}]}}\n",
	}
	rep := lintProject(t, toml, files, Options{})
	got := briefs(rep, "INQ022")
	if len(got) != 1 || !strings.Contains(got[0].Message, "(auth/policy.py:2)") {
		t.Fatalf("INQ022 = %+v, want one finding naming auth/policy.py:2", got)
	}
}

// TestRulesReadAuthorizerRoutes: the rules about who may call a route read
// a route behind an authorizer as guarded: auth = "authorizer" asks for no
// key, and its authorizer decides.
func TestRulesReadAuthorizerRoutes(t *testing.T) {
	tenant := authorizer("tenant", "type = \"token\"\nidentity_sources = [\"header.Authorization\"]\nttl = \"0\"")
	other := authorizer("other", "type = \"token\"\nidentity_sources = [\"header.X-Token\"]\nttl = \"0\"")
	by := func(name string) string { return "auth = \"authorizer\"\nauthorizer = \"" + name + "\"" }
	tests := []struct {
		name  string
		rules []string
		toml  string
		want  []brief
	}{
		{
			name:  "auth = authorizer is neither public, nor any-key, nor uncallable",
			rules: []string{"INQ001", "INQ002", "INQ004", "INQ005"},
			toml:  tenant + authFn + fn + route("GET", "/a", "function = \"f\"\n"+by("tenant")),
		},
		{
			name:  "another method open on an authorizer route's path",
			rules: []string{"INQ009"},
			toml: tenant + authFn + fn + route("POST", "/orders", "function = \"f\"\n"+by("tenant")) +
				route("ANY", "/{proxy+}", "function = \"g\"\nauth = \"none\"\nreason = \"r\""),
			want: []brief{{"INQ009", "routes[1].auth", "POST /orders is protected, but GET, HEAD, PUT, PATCH, DELETE, OPTIONS requests to the same path reach open route ANY /{proxy+}; protect the path for every method or keep the open route off it", 31}},
		},
		{
			name:  "a route without the authorizer is a side door",
			rules: []string{"INQ012"},
			toml: tenant + partner + authFn + fn + route("GET", "/a", "function = \"f\"\ngroup = \"partners\"\nauthorizer = \"tenant\"") +
				route("GET", "/b", "function = \"f\"\ngroup = \"partners\""),
			want: []brief{{"INQ012", "routes[1].authorizer", `GET /b runs function "f" without authorizer "tenant", which GET /a runs first; the weaker route is a side door`, 31}},
		},
		{
			// One asks for a key, the other runs an authorizer: neither
			// is weaker.
			name:  "a key route beside an authorizer route",
			rules: []string{"INQ012"},
			toml: tenant + partner + authFn + fn + route("GET", "/a", "function = \"f\"\n"+by("tenant")) +
				route("GET", "/b", "function = \"f\"\ngroup = \"partners\""),
		},
		{
			name:  "no key beside the same authorizer and a key is a side door",
			rules: []string{"INQ012"},
			toml: tenant + partner + authFn + fn + route("GET", "/a", "function = \"f\"\n"+by("tenant")) +
				route("GET", "/b", "function = \"f\"\ngroup = \"partners\"\nauthorizer = \"tenant\""),
			want: []brief{{"INQ012", "routes[0].auth", `GET /a asks for no API key and runs function "f", which GET /b runs only for a key; the weaker route is a side door`, 28}},
		},
		{
			// Neither is weaker: which is the side door would be a guess,
			// as for two routes whose keys differ.
			name:  "two authorizers to one function",
			rules: []string{"INQ012"},
			toml: tenant + other + authFn + fn + route("GET", "/a", "function = \"f\"\n"+by("tenant")) +
				route("GET", "/b", "function = \"f\"\n"+by("other")),
		},
		{
			// A route no key may call guards nothing, authorizer or not
			// (INQ004 reports it).
			name:  "beside a route no key may call",
			rules: []string{"INQ012", "INQ015"},
			toml: tenant + partner + authFn + fn + route("GET", "/a", "function = \"f\"\n"+by("tenant")) +
				route("GET", "/b", "function = \"f\"\ngroup = \"ops\"\nauthorizer = \"tenant\"") +
				route("ANY", "/b", "function = \"f\"\n"+by("tenant")),
		},
		{
			name:  "a weaker ANY route beside a method route with an authorizer",
			rules: []string{"INQ015"},
			toml: tenant + other + authFn + fn + route("GET", "/a", "function = \"f\"\n"+by("tenant")) +
				route("ANY", "/a", "function = \"f\"\n"+by("other")),
			want: []brief{{"INQ015", "routes[1].authorizer", `ANY /a runs the code of GET /a (function "f") for callers authorizer "tenant" has not let in, whom GET /a refuses: on AWS it takes HEAD /a and POST /a with X-HTTP-Method-Override: GET, which a web framework runs as GET; give the routes the same protection`, 38}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep := lintProject(t, tc.toml, nil, Options{})
			var got []brief
			for _, r := range tc.rules {
				got = append(got, briefs(rep, r)...)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("findings (-want +got):\n%s\nconfig:\n%s", diff, tc.toml)
			}
		})
	}
}
