package policy

import (
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/inquir-dev/inquir/emulator/config"
)

func sha(s string) string {
	d := sha256.Sum256([]byte(s))
	return hex.EncodeToString(d[:])
}

// compile writes toml as a project's inquir.toml (with a node module for
// functions to point at) and compiles it.
func compile(t testing.TB, toml string) *Policy {
	t.Helper()
	p, err := compileErr(t, toml)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func compileErr(t testing.TB, toml string) (*Policy, error) {
	t.Helper()
	cfg, err := config.Load(writeProject(t, toml, nil))
	if err != nil {
		t.Fatal(err)
	}
	return Compile(cfg)
}

// writeProject writes inquir.toml, a node module for functions to point at,
// and any other files given by name; it returns the config's path.
func writeProject(t testing.TB, toml string, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	files = maps.Clone(files)
	if files == nil {
		files = map[string]string{}
	}
	files["fn.mjs"] = "export async function handler() {}\n"
	files["inquir.toml"] = toml
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "inquir.toml")
}

var now = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

var policyTOML = `
[keys.partner]
secret = ["sha256:` + sha("partner-new") + `", "env:INQUIR_TEST_PARTNER_OLD"]
groups = ["public-api"]
metadata = { tenant = "acme" }

[keys.internal]
secret = "file:internal.key"
groups = ["internal"]

[keys.expired]
secret = "sha256:` + sha("expired") + `"
groups = ["public-api"]
expires = 2026-11-01T00:00:00Z

[keys.future]
secret = "sha256:` + sha("future") + `"
groups = ["public-api"]
not_before = 2027-01-01T00:00:00Z

[keys.off]
secret = "sha256:` + sha("off") + `"
groups = ["public-api"]
disabled = true

[functions.f]
runtime = "node"
path = "fn.mjs"

[[routes]]
method = "GET"
path = "/customers/{id}"
function = "f"
group = "public-api"

[[routes]]
method = "POST"
path = "/internal/search"
function = "f"
group = "internal"
keys = ["partner"]

[[routes]]
method = "GET"
path = "/any"
function = "f"

[[routes]]
method = "GET"
path = "/health"
function = "f"
auth = "none"
reason = "probes"
`

func compilePolicy(t *testing.T) *Policy {
	t.Helper()
	t.Setenv("INQUIR_TEST_PARTNER_OLD", "partner-old")
	cfg, err := config.Load(writeProject(t, policyTOML, map[string]string{"internal.key": "internal-secret\n"}))
	if err != nil {
		t.Fatal(err)
	}
	p, err := Compile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func route(t *testing.T, p *Policy, method, path string) *Route {
	t.Helper()
	m := p.Match(method, path)
	if m.Route == nil {
		t.Fatalf("no route for %s %s", method, path)
	}
	return m.Route
}

func TestAuthorize(t *testing.T) {
	p := compilePolicy(t)
	customers := route(t, p, "GET", "/customers/1")
	search := route(t, p, "POST", "/internal/search")
	anyKey := route(t, p, "GET", "/any")
	health := route(t, p, "GET", "/health")
	tests := []struct {
		name    string
		route   *Route
		secret  string
		outcome Outcome
		reason  Reason
		keyID   string
	}{
		{"no key", customers, "", MissingKey, ReasonNone, ""},
		{"unknown key", customers, "guess", InvalidKey, ReasonUnknown, ""},
		{"new secret of a rotating key", customers, "partner-new", Allowed, ReasonNone, "partner"},
		{"old secret of a rotating key", customers, "partner-old", Allowed, ReasonNone, "partner"},
		{"file secret", search, "internal-secret", Allowed, ReasonNone, "internal"},
		{"key named on the route", search, "partner-new", Allowed, ReasonNone, "partner"},
		{"key of another group", customers, "internal-secret", Forbidden, ReasonNone, "internal"},
		{"expired", customers, "expired", InvalidKey, ReasonExpired, "expired"},
		{"not yet valid", customers, "future", InvalidKey, ReasonNotYetValid, "future"},
		{"disabled", customers, "off", InvalidKey, ReasonDisabled, "off"},
		{"expired key on an any-key route", anyKey, "expired", InvalidKey, ReasonExpired, "expired"},
		{"any valid key on an any-key route", anyKey, "internal-secret", Allowed, ReasonNone, "internal"},
		{"public route without a key", health, "", Public, ReasonNone, ""},
		{"public route with a bad key", health, "guess", Public, ReasonNone, ""},
		{"secret differs in case", customers, "PARTNER-NEW", InvalidKey, ReasonUnknown, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := p.Authorize(tt.route, tt.secret, now)
			keyID := ""
			if d.Key != nil {
				keyID = d.Key.ID
			}
			if d.Outcome != tt.outcome || d.Reason != tt.reason || keyID != tt.keyID {
				t.Errorf("Authorize = %v/%v/%q; want %v/%v/%q", d.Outcome, d.Reason, keyID, tt.outcome, tt.reason, tt.keyID)
			}
		})
	}
}

// The expiry instant is checked per request: no reload is needed.
func TestExpiryIsCheckedAtRequestTime(t *testing.T) {
	p := compile(t, `
[keys.k]
secret = "sha256:`+sha("k")+`"
expires = 2026-11-26T12:00:00Z
[functions.f]
runtime = "node"
path = "fn.mjs"
[[routes]]
method = "GET"
path = "/x"
function = "f"
`)
	r := route(t, p, "GET", "/x")
	if d := p.Authorize(r, "k", now.Add(-time.Nanosecond)); d.Outcome != Allowed {
		t.Errorf("just before expiry: %v", d.Outcome)
	}
	if d := p.Authorize(r, "k", now); d.Outcome != InvalidKey || d.Reason != ReasonExpired {
		t.Errorf("at expiry: %v/%v", d.Outcome, d.Reason)
	}
}

func TestAuthorizeDoesNotAllocate(t *testing.T) {
	p := compilePolicy(t)
	r := route(t, p, "GET", "/customers/1")
	for _, secret := range []string{"partner-new", "unknown-secret-of-some-length", "internal-secret", ""} {
		if n := testing.AllocsPerRun(100, func() { p.Authorize(r, secret, now) }); n != 0 {
			t.Errorf("Authorize(%q) allocates %v times", secret, n)
		}
	}
}

func TestCompileErrors(t *testing.T) {
	base := "[functions.f]\nruntime = \"node\"\npath = \"fn.mjs\"\n"
	tests := []struct{ name, toml, want string }{
		{"unset env secret", base + "[keys.k]\nsecret = \"env:INQUIR_TEST_SURELY_UNSET\"\n", "inquir.toml:5:1: keys.k.secret: environment variable INQUIR_TEST_SURELY_UNSET is not set"},
		{"missing file secret", base + "[keys.k]\nsecret = \"file:nope.key\"\n", "keys.k.secret: reading secret file"},
		{"one secret, two keys", base + "[keys.a]\nsecret = \"sha256:" + sha("s") + "\"\n[keys.b]\nsecret = [\"env:INQUIR_TEST_UNSET_X\", \"sha256:" + sha("s") + "\"]\n",
			"keys.b.secret[1]: this secret is also a secret of key \"a\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("INQUIR_TEST_UNSET_X", "x")
			_, err := compileErr(t, tt.toml)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Compile error = %v; want %q", err, tt.want)
			}
		})
	}
}

func TestTable(t *testing.T) {
	p := compilePolicy(t)
	var got [][]string
	for _, r := range p.Table(now) {
		got = append(got, append(append([]string{r.Method, r.Path, r.Auth}, r.Callers...), r.Inactive...))
	}
	want := [][]string{
		{"GET", "/customers/{id}", "api_key", "partner", "expired (expired_key)", "future (key_not_yet_valid)", "off (disabled_key)"},
		{"POST", "/internal/search", "api_key", "internal", "partner"},
		{"GET", "/any", "api_key", "internal", "partner", "expired (expired_key)", "future (key_not_yet_valid)", "off (disabled_key)"},
		{"GET", "/health", "none"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("table (-want +got):\n%s", diff)
	}
}
