package verify

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/inquir-dev/inquir/emulator/gateway"
	"github.com/inquir-dev/inquir/emulator/policy"
)

// authorizerTOML has a route behind a key and an authorizer, a route
// behind an authorizer alone, and a route with neither beside them.
const authorizerTOML = `%s
[keys.partner]
secret = "env:INQUIR_VERIFY_PARTNER"
groups = ["partners"]

[keys.admin]
secret = "env:INQUIR_VERIFY_ADMIN"
groups = ["admins"]

[authorizers.tenant]
function = "tenant-auth"
type = "request"
identity_sources = ["header.Authorization", "query.tenant"]

[functions.tenant-auth]
runtime = "node"
path = "fn.mjs"

[functions.api]
runtime = "node"
path = "fn.mjs"

[[routes]]
method = "GET"
path = "/orders/{id}"
function = "api"
group = "partners"
authorizer = "tenant"

[[routes]]
method = "GET"
path = "/profile"
function = "api"
auth = "authorizer"
authorizer = "tenant"

[[routes]]
method = "GET"
path = "/admin"
function = "api"
group = "admins"
%s`

func writeAuthorizerProject(t *testing.T, gatewayTable string) string {
	adminRoute := ""
	if strings.Contains(gatewayTable, "api_key_source") {
		// Every route that asks for a key then needs an authorizer to name it.
		adminRoute = "authorizer = \"tenant\"\n"
	}
	t.Helper()
	t.Setenv("INQUIR_VERIFY_PARTNER", partnerSecret)
	t.Setenv("INQUIR_VERIFY_ADMIN", adminSecret)
	dir := t.TempDir()
	for name, content := range map[string]string{"inquir.toml": fmt.Sprintf(authorizerTOML, gatewayTable, adminRoute), "fn.mjs": "export async function handler() {}\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "inquir.toml")
}

// cellsOf indexes the first-sample cells of a report by route and
// credential.
func cellsOf(rep *Report, path string) map[string]Cell {
	out := map[string]Cell{}
	for _, c := range rep.Cells {
		if c.Path == path && c.Method == http.MethodGet {
			if _, seen := out[c.Credential]; !seen {
				out[c.Credential] = c
			}
		}
	}
	return out
}

// TestVerifyAuthorizerCells: the matrix of a route with a Lambda
// authorizer, derived from the config and sent to a gateway: a request
// without the identity sources gets 401 (the key check's refusal first,
// where it refuses), with neither the authorizer's function nor the
// route's run; the cell that needs a real token is listed as not probed.
// Before the authorizer cells, verify expected the function for a key the
// route allows, and failed every such config.
func TestVerifyAuthorizerCells(t *testing.T) {
	for _, tc := range []struct {
		name, gateway string
		url           bool
	}{
		{"locally", "", false},
		{"against inquir's gateway", "", true},
		{"against inquir's gateway, compat aws", "[gateway]\ncompat = \"aws\"\n", true},
		{"the authorizer names the key", "[gateway]\napi_key_source = \"authorizer\"\n", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfgPath := writeAuthorizerProject(t, tc.gateway)
			var rep *Report
			var rec *recorder
			if tc.url {
				p, err := policy.Load(cfgPath)
				if err != nil {
					t.Fatal(err)
				}
				rec = &recorder{calls: map[string]int{}}
				gw := gateway.New(gateway.Options{Invoker: rec})
				defer gw.Close()
				gw.SetPolicy(p)
				srv := httptest.NewServer(gw)
				defer srv.Close()
				rep = runAgainst(t, cfgPath, srv.URL, "", gatewayKeys)
			} else {
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
				defer cancel()
				var err error
				if rep, err = Run(ctx, Options{ConfigPath: cfgPath}); err != nil {
					t.Fatal(err)
				}
			}
			aws := strings.Contains(tc.gateway, "aws")
			keyFromAuthorizer := strings.Contains(tc.gateway, "api_key_source")
			keyRefusal := Unauthorized
			orders := map[string]Expect{"no key": keyRefusal, "bogus key": keyRefusal, "key partner": NoIdentity, "key admin": Forbidden}
			if keyFromAuthorizer {
				orders = map[string]Expect{"no key": NoIdentity, "bogus key": NoIdentity, "key partner": NoIdentity, "key admin": NoIdentity}
			}
			want := map[string]map[string]Expect{
				"/orders/inquir-verify": orders,
				"/profile":              {"no key": NoIdentity, "bogus key": NoIdentity, "key partner": NoIdentity, "key admin": NoIdentity},
				"/admin":                {"no key": Unauthorized, "key admin": Reach, "key partner": Forbidden},
			}
			if keyFromAuthorizer {
				want["/admin"] = map[string]Expect{"no key": NoIdentity, "key admin": NoIdentity, "key partner": NoIdentity}
			}
			for path, creds := range want {
				got := cellsOf(rep, path)
				for cred, w := range creds {
					c, ok := got[cred]
					if !ok {
						t.Errorf("no cell GET %s with %s", path, cred)
						continue
					}
					if c.Want != w || !c.OK {
						t.Errorf("GET %s with %s: want %s, expected %s, got %s (ok %v)", path, cred, w, c.Want, c.Got, c.OK)
					}
					if c.Want == NoIdentity && c.Status != http.StatusUnauthorized {
						t.Errorf("GET %s with %s: status %d, want 401 (compat aws %v)", path, cred, c.Status, aws)
					}
					if !tc.url && c.Want != Reach && c.Invoked != 0 {
						t.Errorf("GET %s with %s: invoked %d, want 0", path, cred, c.Invoked)
					}
				}
			}
			// The cell a token would decide: listed, never passed.
			for _, path := range []string{"/orders/inquir-verify", "/profile"} {
				var token *Cell
				for i, c := range rep.Cells {
					if c.Path == path && strings.HasSuffix(c.Credential, "header.Authorization, query.tenant") {
						token = &rep.Cells[i]
					}
				}
				switch {
				case token == nil:
					t.Errorf("GET %s: no cell for a request with the identity sources", path)
				case !token.NotProbed || token.OK || !strings.Contains(token.Got, `needs a token authorizer "tenant" accepts`):
					t.Errorf("GET %s: the token cell is %+v, want not probed and saying why", path, *token)
				}
			}
			if got := cellsOf(rep, "/profile")["no key + header.Authorization, query.tenant"]; got.Route == "" {
				t.Errorf("GET /profile: the token cell should need no key; cells: %v", cellsOf(rep, "/profile"))
			}
			if rep.Mismatches() != 0 || len(rep.Problems) > 0 {
				for _, c := range rep.Cells {
					if !c.OK && !c.NotProbed {
						t.Errorf("mismatch: %s %s (%s) for %s: want %s, got %s", c.Method, c.Path, c.Credential, c.Route, c.Want, c.Got)
					}
				}
				t.Errorf("problems: %q", rep.Problems)
			}
			if rec != nil && rec.count("tenant-auth") != 0 {
				t.Errorf("the authorizer's function ran %d times; no cell sends its identity sources", rec.count("tenant-auth"))
			}
		})
	}
}

// TestVerifyFailsAGatewayThatSkipsTheAuthorizer: a gateway that checks the
// key and never runs the authorizer lets a key through to the function
// without a token; verify must report that cell.
func TestVerifyFailsAGatewayThatSkipsTheAuthorizer(t *testing.T) {
	cfgPath := writeAuthorizerProject(t, "")
	p, err := policy.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	// The same config without its authorizers: what a gateway that
	// ignores them enforces.
	skipped := *p.Config
	skipped.Authorizers = nil
	skipped.Routes = append(skipped.Routes[:0:0], p.Config.Routes...)
	for i := range skipped.Routes {
		skipped.Routes[i].Authorizer = ""
		if skipped.Routes[i].Auth == "authorizer" {
			skipped.Routes[i].Auth = "none"
		}
	}
	lax, err := policy.Compile(&skipped)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{calls: map[string]int{}}
	gw := gateway.New(gateway.Options{Invoker: rec})
	defer gw.Close()
	gw.SetPolicy(lax)
	srv := httptest.NewServer(gw)
	defer srv.Close()
	rep := runAgainst(t, cfgPath, srv.URL, "", gatewayKeys)
	for _, want := range []struct{ path, cred string }{{"/orders/inquir-verify", "key partner"}, {"/profile", "no key"}} {
		c := cellsOf(rep, want.path)[want.cred]
		if c.OK || c.Want != NoIdentity || !strings.HasPrefix(c.Got, "function") {
			t.Errorf("GET %s with %s against a gateway that skips the authorizer: %+v, want a mismatch that reached the function", want.path, want.cred, c)
		}
	}
	if rep.OK() {
		t.Error("the report is OK against a gateway that skips the authorizer")
	}
}
