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
		config  string
		dropped int // what the import lists as not carried over
	}{
		{name: "the example project", config: readFile(t, "../../inquir.toml")},
		{name: "every field", config: everyField},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, f := range []string{"functions/customers/main.go", "functions/search/index.mjs", "functions/health/index.mjs", "secrets/agent.key"} {
				writeFile(t, filepath.Join(dir, f), "x")
			}
			orig := filepath.Join(dir, "inquir.toml")
			writeFile(t, orig, tt.config)
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
				cmpopts.IgnoreFields(config.Config{}, "File", "ID"),
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
`

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
