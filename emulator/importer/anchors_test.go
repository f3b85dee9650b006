package importer_test

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/inquir-dev/inquir/emulator/importer"
)

// keyed fails the test unless the route is there and needs a key.
func keyed(t *testing.T, got imported, method, path string) {
	t.Helper()
	r := route(got.cfg, method, path)
	if r == nil || !r.NeedsKey() {
		t.Errorf("%s %s = %+v, want it to need a key\n%s\nfindings:\n%s", method, path, r, got.toml, strings.Join(findings(got.p), "\n"))
	}
}

// YAML anchors, aliases and merge keys are read as the framework reads them.
func TestServerlessAnchors(t *testing.T) {
	src := `service: shop
provider:
  name: aws
custom:
  secured: &secured
    private: true
    method: get
  events: &events
    - http: { path: c, method: get, private: true }
functions:
  orders:
    handler: src/orders.handler
    events:
      - http:
          <<: *secured
          path: a
      - http: { path: b, method: get, private: *priv }
  more:
    handler: src/orders.handler
    events: *events
`
	src = strings.Replace(src, "private: true\n    method", "private: &priv true\n    method", 1)
	got := importSource(t, "serverless.yml", src, map[string]string{"src/orders.js": handler})
	keyed(t, got, "GET", "/a")
	keyed(t, got, "GET", "/b")
	keyed(t, got, "GET", "/c")
	if n := got.p.Dropped(); n != 0 {
		t.Errorf("%d drops, want none:\n%s", n, strings.Join(findings(got.p), "\n"))
	}
}

// An OpenAPI security requirement written through an alias still applies.
func TestOpenAPIAliasedSecurity(t *testing.T) {
	src := `openapi: 3.0.1
components:
  securitySchemes:
    api_key: { type: apiKey, name: x-api-key, in: header }
paths:
  /a:
    get:
      security: &keyed
        - api_key: []
      x-amazon-apigateway-integration: &integ
        type: aws_proxy
        httpMethod: POST
        uri: arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123:function:orders/invocations
  /b:
    get:
      security: *keyed
      x-amazon-apigateway-integration: *integ
`
	got := importSource(t, "openapi.yaml", src, map[string]string{"functions/orders/index.js": handler})
	keyed(t, got, "GET", "/a")
	keyed(t, got, "GET", "/b")
}

// A file of several YAML documents is refused: the framework and
// CloudFormation read one, and the rest would be ignored silently.
func TestMultiDocument(t *testing.T) {
	path := filepath.Join(t.TempDir(), "serverless.yml")
	writeFile(t, path, "service: a\nfunctions: {}\n---\nservice: b\n")
	_, err := importer.Import(path)
	if err == nil || !strings.Contains(err.Error(), "serverless.yml:3") {
		t.Fatalf("err = %v, want one naming serverless.yml:3, the second document", err)
	}
}

// Aliases that expand without end are refused, not followed.
func TestAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("service: a\nl0: &l0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 9; i++ {
		b.WriteString("l" + strconv.Itoa(i) + ": &l" + strconv.Itoa(i) + " [")
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*l" + strconv.Itoa(i-1))
		}
		b.WriteString("]\n")
	}
	_, err := importer.Parse("serverless.yml", []byte(b.String()))
	if err == nil || !strings.Contains(err.Error(), "aliases expand") {
		t.Fatalf("err = %v, want the aliases refused", err)
	}
}

// A key written twice in one mapping is refused, naming its line: the
// tools disagree on which one wins (js-yaml refuses it), and a lookup of
// the first would read private: false where the second says true.
func TestDuplicateKey(t *testing.T) {
	src := "service: a\nfunctions:\n  f:\n    handler: h.handler\n    events:\n      - http: { path: a, method: get, private: false, private: true }\n"
	_, err := importer.Parse("serverless.yml", []byte(src))
	if err == nil || !strings.Contains(err.Error(), "serverless.yml:6") || !strings.Contains(err.Error(), "private") {
		t.Fatalf("err = %v, want the second private refused at serverless.yml:6", err)
	}
}
