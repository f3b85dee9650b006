package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// project writes an inquir.toml (plus a node module and a Go package folder
// for functions to point at) into a temporary folder and returns its path.
func project(t *testing.T, toml string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "fn", "gofn"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "fn", "index.mjs"), []byte("export async function handler() {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "inquir.toml")
	if err := os.WriteFile(path, []byte(toml), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

const validConfig = `
[gateway]
compat = "aws"

[keys.partner-acme]
secret = ["env:ACME_KEY", "sha256:61649e5f8f5c44dfd07869fb7a8627f88452c34e6bc5fb58bd22af4f501a6f68"]
groups = ["public-api"]
not_before = 2026-11-01T00:00:00Z
expires = 2026-12-31T00:00:00Z
metadata = { tenant = "acme" }

[keys.agent]
secret = "file:secrets/agent.key"

[groups.internal]
internal = true

[functions.customers]
runtime = "go"
path = "fn/gofn"
timeout = "10s"
concurrency = 2
env = { TABLE = "customers", SEARCH_KEY = "file:secrets/agent.key" }

[functions.search]
runtime = "node"
path = "fn/index.mjs"
export = "search"

[[routes]]
method = "get"
path = "/customers/{customerId}"
function = "customers"
group = "public-api"

[[routes]]
method = "ANY"
path = "/files/{path+}"
function = "search"
keys = ["agent"]

[[routes]]
method = "GET"
path = "/health"
function = "search"
auth = "none"
reason = "probes"

[functions.plugged]
runtime = "go-plugin"
path = "fn/gofn"
`

func TestLoadValid(t *testing.T) {
	path := project(t, validConfig)
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Dir(path)
	if !cmp.Equal(c.Gateway, Gateway{Listen: DefaultListen, KeyHeader: DefaultKeyHeader, Compat: CompatAWS, Region: DefaultRegion, APIKeySource: KeySourceHeader, Payload: Payload1}) {
		t.Errorf("gateway = %+v", c.Gateway)
	}
	wantKeys := []Key{
		{
			ID: "partner-acme",
			Secrets: []SecretRef{
				{Kind: SecretEnv, Value: "ACME_KEY"},
				{Kind: SecretSHA256, Value: "61649e5f8f5c44dfd07869fb7a8627f88452c34e6bc5fb58bd22af4f501a6f68"},
			},
			Groups:    []string{"public-api"},
			NotBefore: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC),
			Expires:   time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC),
			Metadata:  map[string]string{"tenant": "acme"},
		},
		{ID: "agent", Secrets: []SecretRef{{Kind: SecretFile, Value: filepath.Join(dir, "secrets", "agent.key")}}},
	}
	if diff := cmp.Diff(wantKeys, c.Keys); diff != "" {
		t.Errorf("keys (-want +got):\n%s", diff)
	}
	wantFns := []Function{
		{Name: "customers", Runtime: "go", Path: filepath.Join(dir, "fn", "gofn"), Export: "handler", Timeout: 10 * time.Second,
			Concurrency: 2, Env: map[string]string{"TABLE": "customers", "SEARCH_KEY": "file:secrets/agent.key"}, Dir: dir, Region: DefaultRegion},
		{Name: "search", Runtime: "node", Path: filepath.Join(dir, "fn", "index.mjs"), Export: "search", Timeout: DefaultTimeout,
			Concurrency: DefaultConcurrency, Dir: dir, Region: DefaultRegion},
		{Name: "plugged", Runtime: "go-plugin", Path: filepath.Join(dir, "fn", "gofn"), Export: "handler", Timeout: DefaultTimeout,
			Concurrency: DefaultConcurrency, Dir: dir, Region: DefaultRegion},
	}
	if diff := cmp.Diff(wantFns, c.Functions); diff != "" {
		t.Errorf("functions (-want +got):\n%s", diff)
	}
	wantRoutes := []Route{
		{Index: 0, Method: "GET", Path: "/customers/{customerId}", Function: "customers", Group: "public-api", Auth: AuthAPIKey, Payload: Payload1},
		{Index: 1, Method: "ANY", Path: "/files/{path+}", Function: "search", Keys: []string{"agent"}, Auth: AuthAPIKey, Payload: Payload1},
		{Index: 2, Method: "GET", Path: "/health", Function: "search", Auth: AuthNone, Reason: "probes", Payload: Payload1},
	}
	if diff := cmp.Diff(wantRoutes, c.Routes); diff != "" {
		t.Errorf("routes (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]Group{{Name: "internal", Internal: true}}, c.Groups); diff != "" {
		t.Errorf("groups (-want +got):\n%s", diff)
	}
	if got := c.Pos("routes", "1", "path"); got != (Position{Line: 38, Col: 1}) {
		t.Errorf("position of routes[1].path = %+v, want line 38", got)
	}
	if got := c.Pos("keys", "agent", "groups"); got.Line != 12 {
		t.Errorf("position of an unwritten field falls back to its table: got %+v, want line 12", got)
	}
}

func TestLoadErrors(t *testing.T) {
	const fn = "[functions.f]\nruntime = \"node\"\npath = \"fn/index.mjs\"\n"
	tests := []struct {
		name string
		toml string
		want []string // each is a substring of one error, in order
	}{
		{"syntax", "[gateway\nlisten = 1\n", []string{`inquir.toml:1:9: expected '.' or ']' to end table name, but got '\n' instead`}},
		{"unknown top-level table", "[gatway]\nlisten = \"x\"\n", []string{"inquir.toml:1:1: gatway: unknown field"}},
		{"unknown key field", "[keys.k]\nsecret = \"env:K\"\ngroup = [\"a\"]\n", []string{"inquir.toml:3:1: keys.k.group: unknown field (keys fields are secret"}},
		{"unknown route field", fn + "[[routes]]\nmethod = \"GET\"\npath = \"/a\"\nfunction = \"f\"\nauht = \"none\"\n", []string{"inquir.toml:8:1: routes.auht: unknown field"}},
		{"undefined function", fn + "[[routes]]\nmethod = \"GET\"\npath = \"/a\"\nfunction = \"g\"\n", []string{`inquir.toml:7:1: routes[0].function: function "g" is not defined`}},
		{"bad duration", "[functions.f]\nruntime = \"node\"\npath = \"fn/index.mjs\"\ntimeout = \"10 seconds\"\n", []string{`inquir.toml:4:1: functions.f.timeout: "10 seconds" is not a positive duration`}},
		{"unknown runtime", "[functions.f]\nruntime = \"python\"\npath = \"fn/index.mjs\"\n", []string{`inquir.toml:2:1: functions.f.runtime: unknown runtime "python"`}},
		{"a table written as a value", "keys = 3\n", []string{`inquir.toml:1:8: keys: expected tables, like [keys.partner]`}},
		{"every wrong type, in file order", "[keys.b]\nsecret = \"env:B\"\ngroups = \"x\"\n[keys.a]\nsecret = \"env:A\"\ngroups = 1\n[functions.f]\nruntime = \"node\"\npath = \"f.mjs\"\ntimeout = 10\n",
			[]string{`inquir.toml:3:10: keys.b.groups: expected an array of strings`, `inquir.toml:6:10: keys.a.groups: expected an array of strings`, `inquir.toml:10:11: functions.f.timeout: expected a duration in quotes`}},
		{"env name Lambda reserves", "[functions.f]\nruntime = \"node\"\npath = \"fn/index.mjs\"\nenv = { AWS_REGION = \"eu-west-1\" }\n", []string{`inquir.toml:4:1: functions.f.env: AWS_REGION is reserved by AWS Lambda`}},
		{"missing path", "[functions.f]\nruntime = \"node\"\npath = \"fn/nope.mjs\"\n", []string{`functions.f.path: fn/nope.mjs does not exist`}},
		{"go path is a file", "[functions.f]\nruntime = \"go\"\npath = \"fn/index.mjs\"\n", []string{`functions.f.path: fn/index.mjs must be a package folder`}},
		{"go-plugin path is a file", "[functions.f]\nruntime = \"go-plugin\"\npath = \"fn/index.mjs\"\n", []string{`functions.f.path: fn/index.mjs must be a package folder`}},
		{"go-plugin without path", "[functions.f]\nruntime = \"go-plugin\"\n", []string{`functions.f.path: runtime "go-plugin" needs path (the package folder)`}},
		{"process without command", "[functions.f]\nruntime = \"process\"\n", []string{`functions.f.command: runtime "process" needs command`}},
		{"bad secret", "[keys.k]\nsecret = \"sha256:abc\"\n", []string{`inquir.toml:2:1: keys.k.secret: sha256: needs 64 hex digits`}},
		{"bad secret in list", "[keys.k]\nsecret = [\"env:K\", \"env:\"]\n", []string{`keys.k.secret[1]: env: needs a variable name`}},
		{"no secret", "[keys.k]\ngroups = [\"a\"]\n", []string{`inquir.toml:1:1: keys.k: a key needs secret`}},
		{"bad key id", "[keys.\"a key\"]\nsecret = \"env:K\"\n", []string{`key id "a key" may only hold`}},
		{"expires before not_before", "[keys.k]\nsecret = \"env:K\"\nnot_before = 2026-12-01T00:00:00Z\nexpires = 2026-11-01T00:00:00Z\n", []string{`keys.k.expires: expires`}},
		{"bad compat", "[gateway]\ncompat = \"gcp\"\n", []string{`gateway.compat: must be "inquir" or "aws"`}},
		{"bad header", "[gateway]\nkey_header = \"x api key\"\n", []string{`gateway.key_header: "x api key" is not a valid HTTP header name`}},
		{"empty region", "[gateway]\nregion = \"\"\n", []string{`inquir.toml:2:1: gateway.region: "" is not an AWS Region name such as "us-east-1"`}},
		{"bad region", "[gateway]\nlisten = \"127.0.0.1:1\"\nregion = \"US East\"\n", []string{`inquir.toml:3:1: gateway.region: "US East" is not an AWS Region name`}},
		{"binary media type without a subtype", "[gateway]\nbinary_media_types = [\"image/png\", \"image\"]\n", []string{`inquir.toml:2:1: gateway.binary_media_types[1]: "image" is not a media type such as "image/png", "image/*" or "*/*"`}},
		{"binary media type with parameters", "[gateway]\nbinary_media_types = [\"text/plain; charset=utf-8\"]\n", []string{`gateway.binary_media_types[0]: "text/plain; charset=utf-8" is not a media type`}},
		{"binary media type */png", "[gateway]\nbinary_media_types = [\"*/png\"]\n", []string{`gateway.binary_media_types[0]: "*/png" is not a media type`}},
		{"binary media types not an array", "[gateway]\nbinary_media_types = \"image/png\"\n", []string{`inquir.toml:2:22: gateway.binary_media_types: expected an array of strings, like ["image/png", "*/*"]`}},
		{"route under _inquir", fn + "[[routes]]\nmethod = \"GET\"\npath = \"/_inquir/x\"\nfunction = \"f\"\n", []string{`routes[0].path: "/_inquir/x" is under /_inquir/`}},
		{"greedy not last", fn + "[[routes]]\nmethod = \"GET\"\npath = \"/a/{p+}/b\"\nfunction = \"f\"\n", []string{`greedy parameter {p+} must be the last segment`}},
		{"double slash in template", fn + "[[routes]]\nmethod = \"GET\"\npath = \"/a//b\"\nfunction = \"f\"\n", []string{`has an empty segment`}},
		{"bad method", fn + "[[routes]]\nmethod = \"FETCH\"\npath = \"/a\"\nfunction = \"f\"\n", []string{`routes[0].method: unknown method "FETCH"`}},
		{"public with group", fn + "[[routes]]\nmethod = \"GET\"\npath = \"/a\"\nfunction = \"f\"\nauth = \"none\"\ngroup = \"g\"\n", []string{`routes[0].auth: auth = "none" makes the route public`}},
		{"authorizer ttl over an hour", fn + "[authorizers.a]\nfunction = \"f\"\ntype = \"request\"\nidentity_sources = [\"header.X\"]\nttl = \"3601s\"\n", []string{`authorizers.a.ttl: 3601s is over 3600s`}},
		{"token authorizer with two sources", fn + "[authorizers.a]\nfunction = \"f\"\ntype = \"token\"\nidentity_sources = [\"header.X\", \"header.Y\"]\n", []string{`authorizers.a.identity_sources: a token authorizer reads exactly one header`}},
		{"token from a query", fn + "[authorizers.a]\nfunction = \"f\"\ntype = \"token\"\nidentity_sources = [\"query.t\"]\n", []string{`a token authorizer reads its token from a header, not query.t`}},
		{"authorizer reads the key header", fn + "[authorizers.a]\nfunction = \"f\"\ntype = \"token\"\nidentity_sources = [\"method.request.header.X-Api-Key\"]\n", []string{`is the API key header (gateway.key_header), whose secret no function is handed`}},
		{"bad identity source", fn + "[authorizers.a]\nfunction = \"f\"\ntype = \"request\"\nidentity_sources = [\"cookie.session\"]\n", []string{`authorizers.a.identity_sources: "cookie.session": "cookie" is not a source`}},
		{"cached request authorizer without sources", fn + "[authorizers.a]\nfunction = \"f\"\ntype = \"request\"\n", []string{`a cached request authorizer needs identity_sources`}},
		{"authorizer of an undefined function", "[authorizers.a]\nfunction = \"g\"\ntype = \"request\"\nttl = \"0\"\n", []string{`authorizers.a.function: function "g" is not defined`}},
		{"bad token_validation", fn + "[authorizers.a]\nfunction = \"f\"\ntype = \"token\"\nidentity_sources = [\"header.A\"]\ntoken_validation = \"(\"\n", []string{`authorizers.a.token_validation: not a regular expression`}},
		{"token_validation that escapes its anchors", fn + "[authorizers.a]\nfunction = \"f\"\ntype = \"token\"\nidentity_sources = [\"header.A\"]\ntoken_validation = \"a)|(b\"\n", []string{`authorizers.a.token_validation: not a regular expression`}},
		{"undefined authorizer", fn + "[authorizers.a]\nfunction = \"f\"\ntype = \"token\"\nidentity_sources = [\"header.Authorization\"]\n" + "[[routes]]\nmethod = \"GET\"\npath = \"/a\"\nfunction = \"f\"\n" + "authorizer = \"b\"\n", []string{`routes[0].authorizer: authorizer "b" is not defined`}},
		{"auth = authorizer without one", fn + "[[routes]]\nmethod = \"GET\"\npath = \"/a\"\nfunction = \"f\"\n" + "auth = \"authorizer\"\n", []string{`routes[0].auth: auth = "authorizer" needs an authorizer`}},
		{"auth = authorizer with a group", fn + "[authorizers.a]\nfunction = \"f\"\ntype = \"token\"\nidentity_sources = [\"header.Authorization\"]\n" + "[[routes]]\nmethod = \"GET\"\npath = \"/a\"\nfunction = \"f\"\n" + "auth = \"authorizer\"\nauthorizer = \"a\"\ngroup = \"g\"\n", []string{`routes[0].auth: auth = "authorizer" asks for no API key`}},
		{"public route with an authorizer", fn + "[authorizers.a]\nfunction = \"f\"\ntype = \"token\"\nidentity_sources = [\"header.Authorization\"]\n" + "[[routes]]\nmethod = \"GET\"\npath = \"/a\"\nfunction = \"f\"\n" + "auth = \"none\"\nreason = \"r\"\nauthorizer = \"a\"\n", []string{`its authorizer would not run; for a route only the authorizer guards, write auth = "authorizer"`}},
		{"key from an authorizer the route lacks", "[gateway]\napi_key_source = \"authorizer\"\n" + fn + "[[routes]]\nmethod = \"GET\"\npath = \"/a\"\nfunction = \"f\"\n", []string{`with gateway.api_key_source = "authorizer" a route's API key is the one its authorizer names, and GET /a has no authorizer`}},
		{"bad auth", fn + "[[routes]]\nmethod = \"GET\"\npath = \"/a\"\nfunction = \"f\"\nauth = \"basic\"\n", []string{`routes[0].auth: must be "api_key", "none" or "authorizer"`}},
		{"duplicate route", fn + "[[routes]]\nmethod = \"GET\"\npath = \"/a/{x}\"\nfunction = \"f\"\n[[routes]]\nmethod = \"GET\"\npath = \"/a/{y}\"\nfunction = \"f\"\n",
			[]string{`inquir.toml:8:1: routes[1]: GET /a/{y} duplicates routes[0] (GET /a/{x})`}},
		{"several errors at once", "[functions.f]\nruntime = \"node\"\npath = \"fn/index.mjs\"\ntimeout = \"x\"\nconcurrency = 0\n",
			[]string{`functions.f.timeout`, `functions.f.concurrency: must be at least 1, not 0`}},
		{"metadata not a string", "[keys.k]\nsecret = \"env:K\"\nmetadata = { tier = 2 }\n", []string{`inquir.toml:3:`}},
		{"undefined plan", "[keys.k]\nsecret = \"env:K\"\nplan = \"gold\"\n", []string{`inquir.toml:3:1: keys.k.plan: plan "gold" is not defined`}},
		{"burst 0 with a rate", "[plans.p]\nrate = 5\nburst = 0\n", []string{`inquir.toml:3:1: plans.p.burst: burst must be at least 1 with a rate of 5`}},
		{"rate without burst", "[plans.p]\nrate = 5\n", []string{`inquir.toml:2:1: plans.p.rate: rate needs a burst`}},
		{"a bucket that takes years to refill", "[plans.p]\nrate = 1e-300\nburst = 1\n", []string{`inquir.toml:2:1: plans.p.rate: a burst of 1 at 1e-300 requests per second takes over a year to refill`}},
		{"negative rate", "[plans.p]\nrate = -1\nburst = 3\n", []string{`inquir.toml:2:1: plans.p.rate: rate must be a positive number`}},
		{"negative quota limit", "[plans.p]\nquota = { limit = -1, period = \"DAY\" }\n", []string{`inquir.toml:2:1: plans.p.quota: quota limit must be at least 1, not -1`}},
		{"quota period", "[plans.p]\nquota = { limit = 10, period = \"YEAR\" }\n", []string{`plans.p.quota: quota period must be "DAY", "WEEK" or "MONTH", not "YEAR"`}},
		{"quota offset", "[plans.p]\nquota = { limit = 10, period = \"DAY\", offset = 10 }\n", []string{`plans.p.quota: quota offset`}},
		{"unknown plan field", "[plans.p]\nrate = 1\nburst = 1\nrps = 3\n", []string{`inquir.toml:4:1: plans.p.rps: unknown field`}},
		{"route throttle without rate", "[plans.p]\n[[plans.p.routes]]\nmethod = \"POST\"\npath = \"/a\"\n", []string{`inquir.toml:2:1: plans.p.routes[0]: a route's throttle needs rate and burst`}},
		{"route throttle twice", "[plans.p]\n[[plans.p.routes]]\nmethod = \"POST\"\npath = \"/a\"\nrate = 1\nburst = 1\n[[plans.p.routes]]\nmethod = \"post\"\npath = \"/a\"\nrate = 2\nburst = 2\n",
			[]string{`inquir.toml:7:1: plans.p.routes[1]: POST /a is throttled twice`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := project(t, tt.toml)
			t.Chdir(filepath.Dir(path)) // errors name the file relative to the working folder
			_, err := Load(path)
			if err == nil {
				t.Fatal("Load succeeded; want an error")
			}
			msg := err.Error()
			for _, w := range tt.want {
				i := strings.Index(msg, w)
				if i < 0 {
					t.Fatalf("error %q\ndoes not contain %q", msg, w)
				}
				msg = msg[i+len(w):]
			}
			var cerr *Error
			if !errors.As(err, &cerr) {
				t.Errorf("error is a %T; want a *config.Error", err)
			}
		})
	}
}

// TestRegion checks that [gateway] region reaches every function, so a
// change of region restarts their workers.
func TestRegion(t *testing.T) {
	path := project(t, "[gateway]\nregion = \"eu-west-3\"\n\n[functions.f]\nruntime = \"node\"\npath = \"fn/index.mjs\"\n")
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.Gateway.Region != "eu-west-3" || c.Functions[0].Region != "eu-west-3" {
		t.Errorf("gateway region %q, function region %q; want eu-west-3 for both", c.Gateway.Region, c.Functions[0].Region)
	}
}

// TestBinaryMediaTypes checks that [gateway] binary_media_types is read in
// lower case, once each, and that its default is none, as on AWS.
func TestBinaryMediaTypes(t *testing.T) {
	for _, tt := range []struct {
		name, toml string
		want       []string
	}{
		{"default none", "[gateway]\n", nil},
		{"as written, lower-cased, once", "[gateway]\nbinary_media_types = [\"Image/PNG\", \"*/*\", \"image/png\", \"application/*\"]\n", []string{"image/png", "*/*", "application/*"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(project(t, tt.toml))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, c.Gateway.BinaryMediaTypes); diff != "" {
				t.Errorf("binary media types (-want +got):\n%s", diff)
			}
		})
	}
}

// A literal secret must never show up in an error or a printed value.
func TestLiteralSecretNeverPrinted(t *testing.T) {
	const secret = "sUp3r-s3cret-literal-value"
	path := project(t, "[keys.k]\nsecret = \""+secret+"\"\ngroups = [\"bad group!\"]\n")
	_, err := Load(path)
	if err == nil {
		t.Fatal("want an error for the bad group name")
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("error reveals the secret: %v", err)
	}
	// A secret written without quotes is a syntax error, and the parser
	// quotes what it found; that must not reach the message.
	path = project(t, "[keys.k]\nsecret = "+secret+"\n")
	if _, err := Load(path); err == nil || strings.Contains(err.Error(), secret[:3]) {
		t.Errorf("syntax error reveals part of the secret: %v", err)
	}
	ref, err := parseSecretRef("/", secret)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{ref.String(), ref.GoString()} {
		if strings.Contains(s, secret) {
			t.Errorf("%q reveals the secret", s)
		}
	}
}

func TestResolveValue(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "k"), []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("INQUIR_TEST_VALUE", "from-env")
	tests := []struct{ in, want, err string }{
		{"plain", "plain", ""},
		{"env:INQUIR_TEST_VALUE", "from-env", ""},
		{"file:k", "from-file", ""},
		{"env:INQUIR_TEST_UNSET", "", "INQUIR_TEST_UNSET is not set"},
		{"file:missing", "", "no such file"},
	}
	for _, tt := range tests {
		got, err := ResolveValue(dir, tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ResolveValue(%q) error = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ResolveValue(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}
