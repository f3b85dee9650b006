package export_test

// Letter case against a real HAProxy: a path that a router ignoring case
// (Express, Koa, ASP.NET) serves with a more protected route is refused
// as inquir dev refuses it, and the pairs of routes that decide it follow
// the keys through a rotation of the maps.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// caseRoutes are routes where letter case selects a more protected route:
// a {param} beside literals (one with a "k", which the Kelvin sign folds
// to; one spelled with capitals), ANY beside GET below a {param}, and a
// public {param} beside a protected literal.
const caseRoutes = `
[functions.f]
runtime = "process"
command = ["./f"]

[[routes]]
method = "GET"
path = "/{name}"
function = "f"
group = "low"

[[routes]]
method = "GET"
path = "/kelvin"
function = "f"
group = "high"

[[routes]]
method = "GET"
path = "/Mixed"
function = "f"
group = "high"

[[routes]]
method = "ANY"
path = "/api/{section}/users"
function = "f"
group = "low"

[[routes]]
method = "GET"
path = "/api/admin/users"
function = "f"
group = "high"

[[routes]]
method = "GET"
path = "/open/{x}"
function = "f"
auth = "none"
reason = "a public page"

[[routes]]
method = "GET"
path = "/open/secret"
function = "f"
group = "low"
`

// caseKeys are the plaintexts of writeCaseConfig's keys.
var caseKeys = map[string]string{"low": "export-case-low", "high": "export-case-high"}

// writeCaseConfig writes caseRoutes with two keys, low in lowGroups and
// high in group high, under gateway (a [gateway] table's lines).
func writeCaseConfig(t *testing.T, path, gateway, lowGroups string) string {
	t.Helper()
	if path == "" {
		path = filepath.Join(t.TempDir(), "inquir.toml")
	}
	text := "[gateway]\nkey_header = \"X-Api-Key\"\n" + gateway + `
[keys.low]
secret = "export-case-low"
groups = [` + lowGroups + `]

[keys.high]
secret = "export-case-high"
groups = ["high"]
` + caseRoutes
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestLetterCaseBehindHAProxy: inquir verify --url, which probes each
// protected route's segments in upper and lower case, passes against the
// export (TestWeakenedConfigFailsVerify shows it fails without the
// letter-case refusal).
func TestLetterCaseBehindHAProxy(t *testing.T) {
	requireHAProxy(t)
	config := writeCaseConfig(t, "", "", `"low"`)
	up := newUpstream(t, "all")
	dir := exportTo(t, config, up.URL)
	h := startHAProxy(t, dir)
	checkVerify(t, config, h.URL, caseKeys, up)
}

// TestLetterCaseFollowsRotation: whether /KELVIN may be served by
// GET /{name} depends on the keys (it may while every key /{name} lets in
// may also call /kelvin), so the pairs live in callers.map and change with
// a rotation through the runtime API, with no reload.
func TestLetterCaseFollowsRotation(t *testing.T) {
	requireHAProxy(t)
	config := writeCaseConfig(t, "", "", `"low", "high"`)
	up := newUpstream(t, "all")
	dir := exportTo(t, config, up.URL)
	h := startHAProxy(t, dir)
	addr := strings.TrimPrefix(h.URL, "http://")
	want := func(when string, status int) {
		t.Helper()
		for _, target := range []string{"/KELVIN", "/%E2%84%AAelvin"} {
			resp, body := rawRequest(t, addr, "GET", target, "X-Api-Key", caseKeys["low"])
			if resp.StatusCode != status {
				t.Errorf("%s: GET %s: %d %s, want %d", when, target, resp.StatusCode, body, status)
			}
			if hits := up.take(); (len(hits) > 0) != (status == 200) {
				t.Errorf("%s: GET %s: the upstream received %d requests", when, target, len(hits))
			}
		}
	}
	want("low in both groups", 200)

	writeCaseConfig(t, config, "", `"low"`)
	if code, out := runCLI(t, "export", "--target", "haproxy", "--config", config, "--out", dir, "--upstream", up.URL); code != 0 {
		t.Fatalf("re-export: exit %d\n%s", code, out)
	}
	applyMaps(t, h.Socket, dir)
	want("low in group low alone", 400)
	checkVerify(t, config, h.URL, caseKeys, up)
}
