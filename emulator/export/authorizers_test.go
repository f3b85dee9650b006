package export_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/inquir-dev/inquir/emulator/gateway"
	"github.com/inquir-dev/inquir/emulator/policy"
)

// authorizerConfigText has a route behind a key and a REQUEST authorizer,
// a route behind a TOKEN authorizer alone, and a plain route.
const authorizerConfigText = `[gateway]
%s
[keys.partner]
secret = "export-authz-partner"
groups = ["partners"]

[authorizers.tenant]
function = "tenant-auth"
type = "request"
identity_sources = ["header.Authorization", "query.tenant", "context.identity.userAgent"]
ttl = "300s"

[authorizers.bearer]
function = "tenant-auth"
type = "token"
identity_sources = ["header.X-Token"]
token_validation = "Bearer .+"
ttl = "0"

[functions.tenant-auth]
runtime = "process"
command = ["./auth"]

[functions.f]
runtime = "process"
command = ["./f"]

[[routes]]
method = "GET"
path = "/orders/{id}"
function = "f"
group = "partners"
authorizer = "tenant"

[[routes]]
method = "GET"
path = "/profile"
function = "f"
auth = "authorizer"
authorizer = "bearer"

[[routes]]
method = "GET"
path = "/plain"
function = "f"
group = "partners"
`

func writeAuthorizerConfig(t *testing.T, gatewayLines string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "inquir.toml")
	if err := os.WriteFile(path, []byte(fmt.Sprintf(authorizerConfigText, gatewayLines)), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestExportRefusesAuthorizers: HAProxy cannot run a Lambda authorizer, so
// without --upstream-authorizes the export fails, naming each route with
// its line and why, and writes nothing; with api_key_source = "authorizer"
// it fails even with the flag, since HAProxy cannot learn the key.
func TestExportRefusesAuthorizers(t *testing.T) {
	for _, tc := range []struct {
		name, gateway string
		args          []string
		want          []string
	}{
		{
			name: "without --upstream-authorizes",
			want: []string{
				`inquir export: ` + "%s" + `:33:1: routes[0].authorizer: cannot export to HAProxy: GET /orders/{id} runs Lambda authorizer "tenant", which HAProxy cannot run, so the export would let through requests the authorizer refuses; if the upstream runs the authorizer itself, export with --upstream-authorizes`,
				`inquir export: ` + "%s" + `:40:1: routes[1].authorizer: cannot export to HAProxy: GET /profile runs Lambda authorizer "bearer", which HAProxy cannot run, so the export would let through requests the authorizer refuses; if the upstream runs the authorizer itself, export with --upstream-authorizes`,
			},
		},
		{
			name: "the authorizer names the key", gateway: `api_key_source = "authorizer"`, args: []string{"--upstream-authorizes"},
			want: []string{
				`inquir export: ` + "%s" + `:33:1: routes[0].authorizer: cannot export to HAProxy: GET /orders/{id} takes its API key from authorizer "tenant" (gateway.api_key_source = "authorizer"), which HAProxy cannot run, so it cannot learn the key or check it; use api_key_source = "header" to export`,
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			config := writeAuthorizerConfig(t, tc.gateway)
			if tc.gateway != "" {
				// /plain needs an authorizer to name its key.
				b, _ := os.ReadFile(config)
				if err := os.WriteFile(config, []byte(strings.Replace(string(b), "path = \"/plain\"\nfunction = \"f\"\ngroup = \"partners\"\n", "path = \"/plain\"\nfunction = \"f\"\ngroup = \"partners\"\nauthorizer = \"tenant\"\n", 1)), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			dir := filepath.Join(t.TempDir(), "out")
			code, out := runCLI(t, append([]string{"export", "--target", "haproxy", "--config", config, "--out", dir, "--upstream", "http://127.0.0.1:9"}, tc.args...)...)
			if code != 2 {
				t.Errorf("exit %d, want 2 (as other export refusals)\n%s", code, out)
			}
			var want []string
			for _, w := range tc.want {
				want = append(want, fmt.Sprintf(w, config))
			}
			if tc.gateway != "" {
				// And /plain, given an authorizer above.
				want = append(want, fmt.Sprintf(`inquir export: %s:47:1: routes[2].authorizer: cannot export to HAProxy: GET /plain takes its API key from authorizer "tenant" (gateway.api_key_source = "authorizer"), which HAProxy cannot run, so it cannot learn the key or check it; use api_key_source = "header" to export`, config))
			}
			if got := strings.TrimSpace(out); got != strings.Join(want, "\n") {
				t.Errorf("output:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Errorf("the refused export wrote %s (stat: %v)", dir, err)
			}
		})
	}
}

// authzInvoker answers for the in-process gateway: the authorizer's
// function allows every request it is asked about, the others answer as
// the recording upstream does.
type authzInvoker struct{ calls map[string]int }

func (i *authzInvoker) Invoke(ctx context.Context, function string, event []byte) ([]byte, error) {
	i.calls[function]++
	if function == "tenant-auth" {
		return []byte(`{"principalId":"u","policyDocument":{"Version":"2012-10-17","Statement":[{"Action":"execute-api:Invoke","Effect":"Allow","Resource":"*"}]}}`), nil
	}
	return []byte(`{"statusCode":200,"body":"{\"upstream\":\"all\"}"}`), nil
}

// TestAuthorizersBehindHAProxy: exported with --upstream-authorizes, the
// config runs in a real HAProxy, which refuses what inquir dev refuses
// before an authorizer runs (the key, then a missing identity source,
// 401 with the same body, or API Gateway's under compat = "aws") and
// forwards the rest to the upstream, which runs the authorizer; the
// export says so, in its output and in haproxy.cfg.
func TestAuthorizersBehindHAProxy(t *testing.T) {
	requireHAProxy(t)
	const partner = "export-authz-partner"
	type req struct {
		target string
		header []string
		// status is what both answer, and aws under compat = "aws"
		// (where a key refusal is 403, a missing identity source 401).
		status, aws int
	}
	full := []string{"X-Api-Key", partner, "Authorization", "t", "User-Agent", "ua"}
	reqs := []req{
		{"/orders/1?tenant=acme", nil, 401, 403},                                                  // no key: the key's 401 first
		{"/orders/1?tenant=acme", []string{"X-Api-Key", "bogus", "Authorization", "t"}, 401, 403}, // a bad key, likewise
		{"/orders/1?tenant=acme", []string{"X-Api-Key", partner, "User-Agent", "ua"}, 401, 401},   // no Authorization
		{"/orders/1?tenant=acme", []string{"X-Api-Key", partner, "Authorization", "", "User-Agent", "ua"}, 401, 401},
		{"/orders/1", full, 401, 401},                                                             // no tenant
		{"/orders/1?tenant=", full, 401, 401},                                                     // an empty tenant
		{"/orders/1?other=1&tenant", full, 401, 401},                                              // a tenant with no value
		{"/orders/1?tenant=acme", []string{"X-Api-Key", partner, "Authorization", "t"}, 401, 401}, // no User-Agent
		{"/orders/1?tenant=acme", full, 200, 200},                                                 // everything: through, to the authorizer
		{"/orders/1?x=1&tenant=acme", full, 200, 200},                                             // likewise
		{"/profile", nil, 401, 401},                                                               // no key asked; no X-Token
		{"/profile", []string{"X-Token", "Bearer x"}, 200, 200},
		{"/profile", []string{"X-Api-Key", "bogus", "X-Token", "Bearer x"}, 200, 200}, // a key is not asked for
		{"/plain", []string{"X-Api-Key", partner}, 200, 200},
		{"/plain", nil, 401, 403},
	}
	for _, compat := range []string{"", `compat = "aws"`} {
		t.Run("compat "+compat, func(t *testing.T) {
			config := writeAuthorizerConfig(t, compat)
			up := newUpstream(t, "all")
			dir := t.TempDir()
			code, out := runCLI(t, "export", "--target", "haproxy", "--config", config, "--out", dir, "--upstream", up.URL, "--upstream-authorizes")
			if code != 0 {
				t.Fatalf("inquir export --upstream-authorizes: exit %d\n%s", code, out)
			}
			for _, w := range []string{
				`inquir export: warning: authorizer "tenant" (function tenant-auth) is not run by HAProxy: the upstream must run it for GET /orders/{id}; HAProxy only refuses a request without header.Authorization, query.tenant, context.identity.userAgent (401), and caches no answer (inquir dev caches for 300s)`,
				`inquir export: warning: authorizer "bearer" (function tenant-auth) is not run by HAProxy: the upstream must run it for GET /profile; HAProxy only refuses a request without header.X-Token (401), not one whose token fails token_validation`,
			} {
				if !strings.Contains(out, w+"\n") {
					t.Errorf("the export's output lacks the warning\n%s\n in:\n%s", w, out)
				}
			}
			cfg, err := os.ReadFile(filepath.Join(dir, "haproxy.cfg"))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(cfg), `#   - authorizer "tenant" (function tenant-auth) is not run by HAProxy`) {
				t.Errorf("haproxy.cfg does not list what it leaves to the upstream")
			}
			h := startHAProxy(t, dir)
			// inquir verify's authorizer cells pass: no request without the
			// identity sources reaches the upstream.
			checkVerify(t, config, h.URL, map[string]string{"partner": partner}, up)
			p, err := policy.Load(config)
			if err != nil {
				t.Fatal(err)
			}
			inv := &authzInvoker{calls: map[string]int{}}
			g := gateway.New(gateway.Options{Invoker: inv})
			defer g.Close()
			g.SetPolicy(p)
			gw := httptest.NewServer(g)
			defer gw.Close()

			for _, r := range reqs {
				name := "GET " + r.target + " " + strings.Join(r.header, " ")
				calls := inv.calls["tenant-auth"] + inv.calls["f"]
				want, wantBody := rawRequest(t, strings.TrimPrefix(gw.URL, "http://"), "GET", r.target, r.header...)
				up.take()
				got, gotBody := rawRequest(t, strings.TrimPrefix(h.URL, "http://"), "GET", r.target, r.header...)
				hits := up.take()
				invoked := inv.calls["tenant-auth"] + inv.calls["f"] - calls
				wantStatus := r.status
				if compat != "" {
					wantStatus = r.aws
				}
				if want.StatusCode != wantStatus {
					t.Errorf("%s: inquir %d %q, want %d", name, want.StatusCode, wantBody, wantStatus)
				}
				if want.StatusCode != got.StatusCode {
					t.Errorf("%s: haproxy %d %q, inquir %d %q", name, got.StatusCode, gotBody, want.StatusCode, wantBody)
					continue
				}
				if (invoked > 0) != (len(hits) > 0) {
					t.Errorf("%s: inquir invoked %d functions; haproxy reached the upstream %d times", name, invoked, len(hits))
				}
				if want.StatusCode == 200 {
					for _, hit := range hits {
						if hit.Header.Get("X-Api-Key") != "" {
							t.Errorf("%s: the upstream received the key header", name)
						}
					}
					continue
				}
				if string(gotBody) != string(wantBody) {
					t.Errorf("%s: haproxy body %q, inquir %q", name, gotBody, wantBody)
				}
				for _, hd := range []string{"Content-Type", "WWW-Authenticate"} {
					if g, w := got.Header.Values(hd), want.Header.Values(hd); fmt.Sprint(g) != fmt.Sprint(w) {
						t.Errorf("%s: haproxy %s %q, inquir %q", name, hd, g, w)
					}
				}
			}
		})
	}
}
