package verify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inquir-dev/inquir/emulator/policy"
)

const (
	partnerSecret = "verify-test-partner-secret"
	adminSecret   = "verify-test-admin-secret"
)

func digest(s string) string {
	d := sha256.Sum256([]byte(s))
	return "sha256:" + hex.EncodeToString(d[:])
}

// gatewayTOML has an echo route partners may call beside an admin route,
// so a path that climbs out of the echo route gains a partner something.
var gatewayTOML = `
[keys.partner]
secret = "` + digest(partnerSecret) + `"
groups = ["partners"]
metadata = { tenant = "acme" }

[keys.admin]
secret = "` + digest(adminSecret) + `"
groups = ["admins"]

[functions.api]
runtime = "node"
path = "fn.mjs"

[[routes]]
method = "GET"
path = "/orders/{id}"
function = "api"
group = "partners"

[[routes]]
method = "GET"
path = "/admin"
function = "api"
group = "admins"

[[routes]]
method = "GET"
path = "/echo/{proxy+}"
function = "api"
group = "partners"
`

var gatewayKeys = map[string]string{"partner": partnerSecret, "admin": adminSecret}

// letterCaseConfig is issue 22's routes that differ only in letter case
// (fixtures/lettercase, shared with the gateway's tests): /api/ADMIN/users
// is the partners' GET /api/{section}/users as spelled, and, to a router
// that ignores case, the admins' GET /api/admin/users; /v1/admin/x is the
// partners' ANY /v1/{proxy+}, and the admins' ANY /v1/Admin/{proxy+} (an
// ASP.NET controller's name) to such a router. It returns the file's text,
// with its keys' secrets (gatewayKeys') set in the environment.
func letterCaseConfig(t *testing.T) string {
	t.Helper()
	t.Setenv("INQUIR_LETTERCASE_PARTNER", partnerSecret)
	t.Setenv("INQUIR_LETTERCASE_ADMIN", adminSecret)
	b, err := os.ReadFile("../../fixtures/lettercase/inquir.toml")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// itemsTOML has an ANY route for partners beside an admin route whose path
// holds a reserved character (a custom method, as Google's APIs spell
// them): /v1/items%3Aexport is the partners' ANY /v1/{name} as sent, and
// the admins' GET /v1/items:export once decoded.
var itemsTOML = `
[keys.partner]
secret = "` + digest(partnerSecret) + `"
groups = ["partners"]

[keys.admin]
secret = "` + digest(adminSecret) + `"
groups = ["admins"]

[functions.api]
runtime = "node"
path = "fn.mjs"

[[routes]]
method = "GET"
path = "/v1/items:export"
function = "api"
group = "admins"

[[routes]]
method = "ANY"
path = "/v1/{name}"
function = "api"
group = "partners"
`

// fakeGateway is a gateway in front of one HTTP upstream that echoes what
// it received (the echo contract, as an upstream behind the exported
// HAProxy keeps it). It routes and authorises with the policy, as a correct
// gateway does, unless flaw says how it goes wrong. It counts the
// requests its upstream received.
type fakeGateway struct {
	p      *policy.Policy
	flaw   string // "", "open", "down", "leak", "forge", "forward", "spelling", "options", "colon", "case"
	bodies string // refusal bodies: "inquir", "kong" or "aws"

	mu       sync.Mutex
	upstream int
}

func (g *fakeGateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if g.flaw == "open" {
		w.Write([]byte("ok"))
		return
	}
	raw := r.URL.EscapedPath()
	m := g.p.Match(r.Method, raw)
	forwardPath := m.Path
	switch g.flaw {
	case "forward":
		// Authorises the route the path is routed to, then hands the
		// upstream the path decoded and cleaned: /echo/..%2Fadmin is
		// authorised as /echo/{proxy+} and arrives as /admin.
		m.Refused = ""
		if dec, err := url.PathUnescape(raw); err == nil {
			forwardPath = path.Clean(dec)
		}
	case "spelling":
		// Looks routes up by their plain spelling, doubled slashes folded:
		// a path with an escape or a dot segment finds no rule and goes to
		// the default backend, unauthenticated.
		if strings.Contains(raw, "%") || strings.Contains(raw, "/.") {
			g.forward(w, r, m.Path, nil)
			return
		}
	case "options":
		// Lets OPTIONS through without a key, as a CORS preflight
		// exemption in front of the routes does.
		if r.Method == http.MethodOptions && m.Route != nil && m.Refused == "" {
			g.forward(w, r, m.Path, nil)
			return
		}
	case "colon":
		// Takes an encoded ":" for harmless (RFC 3986 allows it bare in a
		// segment): routes and authorises the path as sent, then hands
		// the upstream %3A decoded. /v1/items%3Aexport is authorised as
		// ANY /v1/{name} and arrives as /v1/items:export.
		if strings.Contains(m.Path, "%3A") {
			m.Refused = ""
			forwardPath = strings.ReplaceAll(m.Path, "%3A", ":")
		}
	case "case":
		// Routes as API Gateway does, letter case and all, and knows
		// nothing of routers that ignore it: refuses encoded spellings
		// alone. /api/ADMIN/users is authorised as GET
		// /api/{section}/users.
		if m.Route != nil && !strings.ContainsAny(raw, "%;\\") {
			m.Refused = ""
		}
	}
	switch {
	case m.Refused != "":
		g.refuse(w, http.StatusBadRequest, "bad_request")
		return
	case m.Route == nil:
		g.refuse(w, http.StatusNotFound, "not_found")
		return
	}
	d := g.p.Authorize(m.Route, r.Header.Get("x-api-key"), time.Now())
	switch d.Outcome {
	case policy.MissingKey:
		g.refuse(w, http.StatusUnauthorized, "missing_api_key")
		return
	case policy.InvalidKey:
		g.refuse(w, http.StatusUnauthorized, "invalid_api_key")
		return
	case policy.Forbidden:
		g.refuse(w, http.StatusForbidden, "forbidden")
		return
	}
	if g.flaw == "down" {
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte("no healthy upstream"))
		return
	}
	g.forward(w, r, forwardPath, d.Key)
}

func (g *fakeGateway) refuse(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/json")
	switch g.bodies {
	case "kong":
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]string{"message": "Kong says no: " + code})
	case "aws":
		msg := "Forbidden"
		if status == http.StatusNotFound {
			msg = "Missing Authentication Token"
		}
		w.WriteHeader(http.StatusForbidden)
		json.NewEncoder(w).Encode(map[string]string{"message": msg})
	default:
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]string{"error": code, "message": "refused"})
	}
}

// forward hands the request to the echo upstream as key (nil: none).
func (g *fakeGateway) forward(w http.ResponseWriter, r *http.Request, fpath string, key *policy.Key) {
	h := r.Header.Clone()
	if g.flaw != "leak" {
		h.Del("X-Api-Key")
	}
	if g.flaw == "forge" {
		if key != nil && h.Get("X-Inquir-Key-Id") == "" {
			h.Set("X-Inquir-Key-Id", key.ID)
		}
	} else {
		h.Del("X-Inquir-Key-Id")
		h.Del("X-Inquir-Key-Metadata")
		if key != nil {
			md, _ := json.Marshal(key.Metadata)
			h.Set("X-Inquir-Key-Id", key.ID)
			h.Set("X-Inquir-Key-Metadata", string(md))
		}
	}
	g.mu.Lock()
	g.upstream++
	g.mu.Unlock()
	// The echo upstream: what it received.
	var keyID, metadata any
	if v := h.Get("X-Inquir-Key-Id"); v != "" {
		keyID = v
	}
	if v := h.Get("X-Inquir-Key-Metadata"); v != "" {
		metadata = json.RawMessage(v)
		if !json.Valid([]byte(v)) {
			metadata = v
		}
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"path": fpath, "headers": h, "keyId": keyID, "keyMetadata": metadata})
}

// startGateway writes config and serves a fakeGateway for it on 127.0.0.1.
func startGateway(t *testing.T, config, flaw, bodies string) (string, string) {
	t.Helper()
	dir := t.TempDir()
	for name, content := range map[string]string{"inquir.toml": config, "fn.mjs": "export async function handler() {}\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfgPath := filepath.Join(dir, "inquir.toml")
	p, err := policy.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(&fakeGateway{p: p, flaw: flaw, bodies: bodies})
	t.Cleanup(srv.Close)
	return cfgPath, srv.URL
}

func runAgainst(t *testing.T, cfgPath, url, echo string, keys map[string]string) *Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := Run(ctx, Options{ConfigPath: cfgPath, URL: url, Keys: keys, Echo: echo})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestURLFailsAgainstFlawedGateways: each gateway here gets one thing
// wrong, and verify --url must fail it, naming the cell and what came
// back. Before this test, an upstream that was down, a leaked key header,
// a forgeable key id, a forwarded path other than the authorised one and
// a route opened by a dot segment all passed.
//
// Issue 22 added two: OPTIONS let through without a key (verify sent one
// method per ANY route), and %3A decoded in the path handed over (verify
// encoded "/" and "\" only).
func TestURLFailsAgainstFlawedGateways(t *testing.T) {
	caseTOML := letterCaseConfig(t)
	for _, tc := range []struct {
		flaw string
		// a mismatched cell whose request, credential and GOT hold these
		request, credential, got string
		config, echo             string // if config is "", gatewayTOML and its echo route
	}{
		{flaw: "open", request: "GET /admin", got: "function (200)"},
		{flaw: "down", request: "GET /orders/inquir-verify", got: "503 (not the function)"},
		{flaw: "leak", request: "GET /echo/inquir-verify/inquir-verify", got: "the x-api-key header reached the function"},
		{flaw: "forge", request: "GET /echo/inquir-verify/inquir-verify", got: "forged X-Inquir-Key-Id reached the function"},
		{flaw: "forward", request: "GET /echo/..%2Fadmin", got: `handed path "/admin", which routes to GET /admin`},
		{flaw: "spelling", request: "GET /./admin", got: "function (200)"},
		{flaw: "options", request: "OPTIONS /v1/inquir-verify", credential: "no key", got: "function (200)", config: itemsTOML},
		{flaw: "colon", request: "GET /v1/items%3Aexport", credential: "key partner", got: "function (200)", config: itemsTOML},
		{flaw: "case", request: "GET /api/ADMIN/users", credential: "key partner", got: "function (200)", config: caseTOML},
		{flaw: "case", request: "GET /v1/admin/inquir-verify", credential: "key partner", got: "function (200)", config: caseTOML},
	} {
		t.Run(tc.flaw+" "+tc.request, func(t *testing.T) {
			config, echo := gatewayTOML, "GET /echo/{proxy+}"
			if tc.config != "" {
				config, echo = tc.config, tc.echo
			}
			cfgPath, url := startGateway(t, config, tc.flaw, "inquir")
			rep := runAgainst(t, cfgPath, url, echo, gatewayKeys)
			if rep.OK() {
				t.Fatalf("verify passed a gateway with the %q flaw", tc.flaw)
			}
			var seen []string
			for _, c := range rep.Cells {
				if c.OK {
					continue
				}
				line := c.Method + " " + c.Path + " (" + c.Credential + "): want " + c.Want.String() + ", got " + c.Got
				seen = append(seen, line)
				if strings.HasPrefix(c.Method+" "+c.Path, tc.request) && strings.Contains(c.Got, tc.got) && strings.HasPrefix(c.Credential, tc.credential) {
					return
				}
			}
			t.Errorf("no mismatched cell %s… got %q; mismatches:\n%s", tc.request, tc.got, strings.Join(seen, "\n"))
		})
	}
}

// TestURLPassesCorrectGateways: a gateway that enforces the policy passes,
// whatever its refusal bodies (inquir's, another gateway's, or AWS's under
// compat = "aws"), with its echo route checked; refused requests never
// reached its upstream.
func TestURLPassesCorrectGateways(t *testing.T) {
	const echoRoute = "GET /echo/{proxy+}"
	caseTOML := letterCaseConfig(t)
	for _, tc := range []struct{ name, config, bodies, echo string }{
		{"inquir bodies", gatewayTOML, "inquir", echoRoute},
		{"another gateway's bodies", gatewayTOML, "kong", echoRoute},
		{"compat aws", "[gateway]\ncompat = \"aws\"\n" + gatewayTOML, "aws", echoRoute},
		{"an ANY route beside a reserved character", itemsTOML, "inquir", "ANY /v1/{name}"},
		{"routes that differ in letter case", caseTOML, "inquir", "ANY /v1/{proxy+}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfgPath, url := startGateway(t, tc.config, "", tc.bodies)
			rep := runAgainst(t, cfgPath, url, tc.echo, gatewayKeys)
			echoed := 0
			for _, c := range rep.Cells {
				if !c.OK {
					t.Errorf("cell %s %s (%s) for %s: want %s, got %s", c.Method, c.Path, c.Credential, c.Route, c.Want, c.Got)
				}
				if c.Route == tc.echo && c.Want == Reach {
					echoed++
				}
			}
			if len(rep.Problems) > 0 || len(rep.NotChecked) > 0 || rep.NotProbed() > 0 {
				t.Errorf("problems %q, not checked %q, %d not probed", rep.Problems, rep.NotChecked, rep.NotProbed())
			}
			if echoed < 5 {
				t.Errorf("%d echo cells reached the function; want the plain path and its spellings", echoed)
			}
			if !rep.OK() {
				t.Error("report not OK")
			}
		})
	}
}

// TestURLListsUnprobedKeys: a key given no secret is listed cell by cell
// as not probed, counted, and does not pass silently; nor does it fail
// the run alone. Without --echo the checks it enables are listed as not
// done.
func TestURLListsUnprobedKeys(t *testing.T) {
	cfgPath, url := startGateway(t, gatewayTOML, "", "inquir")
	rep := runAgainst(t, cfgPath, url, "", map[string]string{"partner": partnerSecret})
	if !rep.OK() {
		t.Fatalf("report not OK: %+v", rep)
	}
	if n := rep.NotProbed(); n != 3 {
		t.Errorf("%d cells not probed, want 3 (key admin on each route)", n)
	}
	for _, c := range rep.Cells {
		if c.NotProbed && (c.Credential != "key admin" || c.Got != "not probed (no --key secret)" || c.OK) {
			t.Errorf("not-probed cell %+v", c)
		}
		if c.Credential == "key admin" && !c.NotProbed {
			t.Errorf("key admin was probed with no secret: %+v", c)
		}
	}
	if len(rep.NotChecked) != 1 || !strings.Contains(rep.NotChecked[0], "--echo") {
		t.Errorf("NotChecked = %q, want the echo checks listed", rep.NotChecked)
	}
}

// TestClassify pins how an answer is read (README.md, "Prove that no route
// is open").
func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		status int
		body   string
		aws    bool
		want   kind
	}{
		{200, "", false, reached},
		{204, "", false, reached},
		{302, "", false, redirect},
		{404, `{"error":"not_found"}`, false, notFunction},
		{404, "not found", false, notFunction},
		{405, "", false, notFunction},
		{500, "", false, notFunction},
		{503, "", false, notFunction},
		{401, `{"error":"missing_api_key","message":"…"}`, false, refusal},
		{401, `{"message":"Unauthorized"}`, false, refusal},
		{401, "Unauthorized", false, refusal},
		{401, "", false, refusal},
		{401, `{"error":"token_expired"}`, false, reached}, // the function's own 401
		{403, `{"error":"forbidden"}`, false, refusal},
		{403, `{"message":"Forbidden"}`, false, refusal},
		{403, `{"message":"not your order"}`, false, refusal},
		{403, `{"message":"Forbidden"}`, true, refusal},
		{403, `{"message":"Missing Authentication Token"}`, true, refusal},
		{403, `{"message":"not your order"}`, true, reached},
		{400, `{"error":"bad_request"}`, false, refusal},
		{400, `{"error":"invalid_json"}`, false, reached},
		{429, `{"error":"rate_limited","message":"…"}`, false, throttled},
		{429, `{"error":"quota_exceeded","message":"…"}`, false, throttled},
		{429, `{"message":"Too Many Requests"}`, true, throttled},
		{429, `{"message":"API rate limit exceeded"}`, false, throttled}, // Kong's
		{429, "", false, throttled},
		{429, `{"error":"upstream_busy"}`, false, reached}, // the function's own 429
	} {
		if got := classify(tc.status, []byte(tc.body), tc.aws); got != tc.want {
			t.Errorf("classify(%d, %q, aws=%v) = %d, want %d", tc.status, tc.body, tc.aws, got, tc.want)
		}
	}
}
