package importer_test

import (
	"strings"
	"testing"
)

// A private flag written as a variable is resolved, and one that cannot be
// keeps the key check and is listed: never open.
func TestServerlessPrivateVariable(t *testing.T) {
	src := `service: shop
provider:
  name: aws
custom:
  private: true
functions:
  orders:
    handler: src/orders.handler
    events:
      - http: { path: a, method: get, private: "${self:custom.private}" }
      - http: { path: b, method: get, private: "${opt:private}" }
`
	got := importSource(t, "serverless.yml", src, map[string]string{"src/orders.js": handler})
	keyed(t, got, "GET", "/a")
	keyed(t, got, "GET", "/b")
	if !hasFinding(got.p, `^11 dropped functions.orders.events\[1\].http.private`) {
		t.Errorf("the unresolvable private is not listed:\n%s", strings.Join(findings(got.p), "\n"))
	}
}

// A serverless.yml whose functions or events are not a mapping/list inquir
// import can read (${file(...)}, the list-of-files syntax) lists them.
func TestServerlessFunctionsNotInline(t *testing.T) {
	src := `service: shop
provider:
  name: aws
functions:
  - ${file(./a.yml)}
`
	got := importSource(t, "serverless.yml", src, nil)
	if !hasFinding(got.p, `^5 dropped functions`) && !hasFinding(got.p, `^4 dropped functions`) {
		t.Errorf("functions from other files are not listed:\n%s", strings.Join(findings(got.p), "\n"))
	}
	src = `service: shop
provider:
  name: aws
functions:
  orders:
    handler: src/orders.handler
    events: ${file(./events.yml)}
`
	got = importSource(t, "serverless.yml", src, map[string]string{"src/orders.js": handler})
	if !hasFinding(got.p, `^7 dropped functions.orders.events`) {
		t.Errorf("events from another file are not listed:\n%s", strings.Join(findings(got.p), "\n"))
	}
}

// Keys that are not a list are listed, and a value written there (not a
// valid key list, but a secret all the same) is not repeated.
func TestServerlessKeysNotAList(t *testing.T) {
	src := `service: shop
provider:
  name: aws
  apiGateway:
    apiKeys: not-a-list-but-a-secret-0123456789
`
	got := importSource(t, "serverless.yml", src, nil)
	if !hasFinding(got.p, `^5 dropped provider.apiGateway.apiKeys not a list`) {
		t.Errorf("keys not listed:\n%s", strings.Join(findings(got.p), "\n"))
	}
	if strings.Contains(strings.Join(findings(got.p), "\n"), "0123456789") {
		t.Errorf("a finding repeats the value:\n%s", strings.Join(findings(got.p), "\n"))
	}
}

// A finding about an environment value names its variables, not the
// rest of the value, which may hold a secret.
func TestServerlessEnvFindingHidesValue(t *testing.T) {
	src := `service: shop
provider:
  name: aws
functions:
  orders:
    handler: src/orders.handler
    environment:
      DB_URL: postgres://admin:hunter2-secret@${file(./db.json):host}/orders
`
	got := importSource(t, "serverless.yml", src, map[string]string{"src/orders.js": handler})
	all := strings.Join(findings(got.p), "\n")
	if strings.Contains(all, "hunter2") {
		t.Errorf("a finding repeats the value's secret:\n%s", all)
	}
	if !hasFinding(got.p, `^8 dropped functions.orders.environment.DB_URL \$\{file\(./db.json\):host\}: a variable`) {
		t.Errorf("the variable is not named:\n%s", all)
	}
}

// An httpApi event's fields inquir import does not read are listed, not
// skipped: private there is no API key check (HTTP APIs have none).
func TestServerlessHTTPAPIFieldsListed(t *testing.T) {
	src := `service: shop
provider:
  name: aws
functions:
  orders:
    handler: src/orders.handler
    events:
      - httpApi: { path: /a, method: get, private: true, cors: true }
`
	got := importSource(t, "serverless.yml", src, map[string]string{"src/orders.js": handler})
	for _, expr := range []string{`^8 dropped functions.orders.events\[0\].httpApi.private`, `^8 dropped functions.orders.events\[0\].httpApi.cors`} {
		if !hasFinding(got.p, expr) {
			t.Errorf("no finding matches %s in:\n%s", expr, strings.Join(findings(got.p), "\n"))
		}
	}
}
