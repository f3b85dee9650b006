package policy

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestTablePayload checks that the route table names a route's payload
// when it is an HTTP API's ("2.0"), and stays as it was for the default.
func TestTablePayload(t *testing.T) {
	p, err := Load(writeProject(t, `
[functions.f]
runtime = "node"
path = "fn.mjs"

[[routes]]
method = "GET"
path = "/rest"
function = "f"
auth = "none"
reason = "probe"

[[routes]]
method = "GET"
path = "/http"
function = "f"
auth = "none"
reason = "probe"
payload = "2.0"
`, nil))
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(p.Table(now))
	if err != nil {
		t.Fatal(err)
	}
	rows := strings.Split(string(b), "},{")
	if len(rows) != 2 || strings.Contains(rows[0], "payload") || !strings.Contains(rows[1], `"payload":"2.0"`) {
		t.Errorf("table %s; want payload on the second row alone", b)
	}
}
