package importer_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/inquir-dev/inquir/emulator/config"
	"github.com/inquir-dev/inquir/emulator/export"
	"github.com/inquir-dev/inquir/emulator/importer"
)

// TestOpenAPIRoundTrip: inquir export --target openapi, then inquir import
// of what it wrote, gives back an equal config (positions, file name and
// content id aside).
func TestOpenAPIRoundTrip(t *testing.T) {
	tests := []struct {
		name    string
		file    string // a config in place, or
		config  string // one written in a folder of its own
		dropped int    // what the import lists as not carried over
	}{
		{name: "the example project", file: "../../inquir.toml"},
		{name: "every field", config: everyField},
		{name: "keys from the authorizers", config: keysFromAuthorizers},
		{name: "an authorizer named api_key", config: authorizerNamedAPIKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			orig := tt.file
			if orig == "" {
				for _, f := range []string{"functions/customers/main.go", "functions/search/index.mjs", "functions/health/index.mjs", "secrets/agent.key"} {
					writeFile(t, filepath.Join(dir, f), "x")
				}
				orig = filepath.Join(dir, "inquir.toml")
				writeFile(t, orig, tt.config)
			}
			want, err := config.Load(orig)
			if err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(dir, "deploy")
			doc, _, err := export.OpenAPI(want, out)
			if err != nil {
				t.Fatal(err)
			}
			docPath := filepath.Join(out, export.OpenAPIFile)
			writeFile(t, docPath, string(doc))

			p, err := importer.Import(docPath)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Dropped(); got != tt.dropped {
				t.Errorf("import dropped %d, want %d: %+v", got, tt.dropped, p.Findings)
			}
			if len(p.Exports) != 0 {
				t.Errorf("import made secrets %v; the export's references should come back as they were", p.Exports)
			}
			var b bytes.Buffer
			if err := p.Write(&b, dir); err != nil {
				t.Fatal(err)
			}
			back := filepath.Join(dir, "imported.toml")
			writeFile(t, back, b.String())
			got, err := config.Load(back)
			if err != nil {
				t.Fatalf("the imported config does not load: %v\n%s", err, b.String())
			}
			opts := cmp.Options{
				cmpopts.IgnoreUnexported(config.Config{}),
				// The imported file is written elsewhere than the example's;
				// its paths, absolute once loaded, are compared.
				cmpopts.IgnoreFields(config.Config{}, "File", "ID", "Dir"),
				cmpopts.IgnoreFields(config.Function{}, "Dir"),
				cmpopts.EquateEmpty(),
			}
			if diff := cmp.Diff(want, got, opts); diff != "" {
				t.Errorf("export then import changed the config (-exported +imported):\n%s\nimported file:\n%s", diff, b.String())
			}
		})
	}
}

// everyField uses every field inquir export --target openapi carries.
const everyField = `
[gateway]
listen = "127.0.0.1:9001"
key_header = "x-partner-key"
compat = "aws"
region = "eu-west-1"
payload = "2.0"

[plans.partner]
rate = 2.5
burst = 10
quota = { limit = 1000, period = "WEEK", offset = 10 }
[[plans.partner.routes]]
method = "POST"
path = "/internal/search"
rate = 1
burst = 1

[plans.daily]
quota = { limit = 5, period = "DAY" }

[keys.partner-acme]
secret = "env:ACME_KEY"
groups = ["public-api"]
plan = "partner"
metadata = { tenant = "acme", tier = "gold" }
not_before = 2026-11-01T00:00:00Z
expires = 2026-12-31T00:00:00Z

[keys.search-agent]
secret = "file:secrets/agent.key"
groups = ["internal", "public-api"]
plan = "daily"

[keys.retired]
secret = "sha256:61649e5f8f5c44dfd07869fb7a8627f88452c34e6bc5fb58bd22af4f501a6f68"
disabled = true

[groups.internal]
internal = true
authorizer = "tenant"

[authorizers.tenant]
function = "tenant-auth"
type = "request"
identity_sources = ["header.X-Tenant", "query.tenant", "context.identity.sourceIp", "stageVariables.env"]
ttl = "0"

[authorizers.bearer]
function = "tenant-auth"
type = "token"
identity_sources = ["header.Authorization"]
ttl = "60s"
token_validation = "^Bearer [A-Za-z0-9._-]+$"

[functions.tenant-auth]
runtime = "node"
path = "functions/search/index.mjs"
export = "authorize"

[functions.customers]
runtime = "go"
path = "functions/customers"
timeout = "1m30s"
concurrency = 2
env = { TABLE = "customers", SEARCH_KEY = "file:secrets/agent.key", ACME = "env:ACME_KEY" }

[functions.search]
runtime = "node"
path = "functions/search/index.mjs"
export = "search"

[functions.worker]
runtime = "process"
command = ["python3", "-m", "awslambdaric", "app.handler"]

[[routes]]
method = "GET"
path = "/customers/{customerId}"
function = "customers"
group = "public-api"

[[routes]]
method = "POST"
path = "/internal/search"
function = "search"
group = "internal"
payload = "1.0"
keys = ["partner-acme"]

[[routes]]
method = "ANY"
path = "/jobs/{proxy+}"
function = "worker"
keys = ["search-agent"]

[[routes]]
method = "GET"
path = "/health"
function = "worker"
auth = "none"
reason = "load balancer health checks carry no key"

[[routes]]
method = "DELETE"
path = "/customers/{customerId}"
function = "customers"

[[routes]]
method = "GET"
path = "/customers/{customerId}/orders"
function = "customers"
auth = "authorizer"
authorizer = "bearer"

[[routes]]
method = "PUT"
path = "/customers/{customerId}"
function = "customers"
group = "public-api"
authorizer = "bearer"
`

// keysFromAuthorizers reads every key from its route's authorizer.
const keysFromAuthorizers = `
[gateway]
api_key_source = "authorizer"

[keys.partner]
secret = "env:PARTNER_KEY"

[authorizers.usage]
function = "auth"
type = "token"
identity_sources = ["header.Authorization"]

[functions.auth]
runtime = "node"
path = "functions/health/index.mjs"

[[routes]]
method = "GET"
path = "/reports"
function = "auth"
authorizer = "usage"
`

// authorizerNamedAPIKey names an authorizer as the export names its API
// key scheme: the route still needs a key and the authorizer's yes.
const authorizerNamedAPIKey = `
[keys.partner]
secret = "env:PARTNER_KEY"

[authorizers.api_key]
function = "auth"
type = "token"
identity_sources = ["header.Authorization"]

[functions.auth]
runtime = "node"
path = "functions/health/index.mjs"

[[routes]]
method = "GET"
path = "/reports"
function = "auth"
authorizer = "api_key"

[[routes]]
method = "GET"
path = "/open"
function = "auth"
auth = "none"
reason = "health"
`

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
