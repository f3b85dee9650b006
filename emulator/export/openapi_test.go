package export_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/inquir-dev/inquir/emulator/config"
	"github.com/inquir-dev/inquir/emulator/export"
)

// TestOpenAPINoSecret: a literal secret leaves only as its digest, and
// the export says so; the document is the one API Gateway reads (apiKey
// scheme on protected operations, none on public ones, the key source).
func TestOpenAPINoSecret(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "fn.mjs"), []byte("export async function handler() {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "inquir.toml")
	const literal = "literal-secret-0123456789"
	cfg := `[keys.partner]
secret = "` + literal + `"
groups = ["shop"]

[functions.fn]
runtime = "node"
path = "fn.mjs"

[[routes]]
method = "ANY"
path = "/orders/{proxy+}"
function = "fn"
group = "shop"

[[routes]]
method = "GET"
path = "/ping"
function = "fn"
auth = "none"
reason = "uptime"
`
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	doc, notes, err := export.OpenAPI(c, dir)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(doc), literal) {
		t.Fatalf("the literal secret is in the document:\n%s", doc)
	}
	if !strings.Contains(string(doc), `"secret": "sha256:`) {
		t.Errorf("the key's secret is not its digest:\n%s", doc)
	}
	if !strings.Contains(strings.Join(notes, "\n"), "key partner: a literal secret is written as its sha256: digest") {
		t.Errorf("notes do not say the literal was hashed: %q", notes)
	}
	type operation struct {
		Security    []map[string][]string `json:"security"`
		Integration struct {
			Type, URI string
		} `json:"x-amazon-apigateway-integration"`
	}
	var d struct {
		KeySource string                                `json:"x-amazon-apigateway-api-key-source"`
		Paths     map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		t.Fatal(err)
	}
	if d.KeySource != "HEADER" {
		t.Errorf("api key source %q", d.KeySource)
	}
	op := func(path, method string) operation {
		var o operation
		if err := json.Unmarshal(d.Paths[path][method], &o); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		return o
	}
	any := op("/orders/{proxy+}", "x-amazon-apigateway-any-method")
	if len(any.Security) != 1 || any.Security[0]["api_key"] == nil || any.Integration.Type != "aws_proxy" || !strings.HasSuffix(any.Integration.URI, ":function:fn/invocations") {
		t.Errorf("ANY /orders/{proxy+} = %+v", any)
	}
	if ping := op("/ping", "get"); ping.Security == nil || len(ping.Security) != 0 {
		t.Errorf("GET /ping security = %v, want [] (public)", ping.Security)
	}
}
