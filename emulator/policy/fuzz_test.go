package policy

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/inquir-dev/inquir/emulator/config"
)

// overlapTOML has routes of different protection that overlap in every way
// issue 9 found: a greedy route whose prefix is a more protected route's,
// ANY beside a method route on one path, a {param} beside a literal, a
// public catch-all, and an explicit HEAD route.
const overlapTOML = `
[functions.f]
runtime = "node"
path = "fn.mjs"

[[routes]]
method = "ANY"
path = "/{proxy+}"
function = "f"
auth = "none"
reason = "site"

[[routes]]
method = "ANY"
path = "/api/{proxy+}"
function = "f"
group = "partners"

[[routes]]
method = "ANY"
path = "/api/admin/{proxy+}"
function = "f"
group = "admins"

[[routes]]
method = "GET"
path = "/api/admin/me"
function = "f"
group = "partners"

[[routes]]
method = "GET"
path = "/reports"
function = "f"
group = "admins"

[[routes]]
method = "ANY"
path = "/reports"
function = "f"
group = "partners"

[[routes]]
method = "HEAD"
path = "/reports/{id}"
function = "f"
group = "partners"

[[routes]]
method = "GET"
path = "/reports/{id}"
function = "f"
group = "admins"

[[routes]]
method = "GET"
path = "/items/{id}"
function = "f"
group = "partners"

[[routes]]
method = "POST"
path = "/items/{id}/approve"
function = "f"
group = "admins"
`

// frameworkDecode is how a web framework reads the event's path, written
// apart from the router's own frameworkViews so the two can disagree: one
// percent-decoding and "\" as "/", then each segment escaped again for the
// router, which normalizes dot segments and empty ones itself.
func frameworkDecode(escaped string) (string, bool) {
	decoded, err := url.PathUnescape(escaped)
	if err != nil {
		return "", false
	}
	segs := strings.Split(strings.ReplaceAll(decoded, `\`, "/"), "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/"), true
}

// FuzzRouteAgreement is the differential check of issue 9: for any method
// and raw path, a request that is routed and not refused is handed a path
// (as the function reads it: decoded once, "\" as "/", normalized) that the
// router sends to the very same route. The route that authorises is the
// route invoked, since the gateway asks Match once for both.
func FuzzRouteAgreement(f *testing.F) {
	seeds := []struct{ method, path string }{
		{"GET", "/api/admin%2Fusers"}, {"GET", "/api/x%2F..%2Fadmin%2Fusers"}, {"GET", "/api/admin%5Cusers"},
		{"GET", "/api/admin/me"}, {"GET", "/api/admin%2Fme"}, {"POST", "/items/a%2Fapprove"},
		{"POST", "/items/x%2F..%2Fy%2Fapprove"}, {"get", "/reports"}, {"HEAD", "/reports"}, {"HEAD", "/reports/1"},
		{"GET", "/api/orders/a%25b"}, {"GET", "/api/a%20b"}, {"GET", "/%2e%2e/api/admin/x"}, {"GET", "/api/admin;x/y"},
		{"GET", "/x%3F/../api/admin/y"}, {"GET", "/api/admin%3F/x"}, {"DELETE", "/reports%2F"}, {"GET", "/api%2Fadmin%2Fx"},
		{"GET", "/a/%252F"}, {"PUT", "//api//admin/./x/"}, {"GET", "/_inquir%2Fstats"}, {"GET", "/x/..%5C_inquir/stats"},
	}
	for _, s := range seeds {
		f.Add(s.method, s.path)
	}
	p := compile(f, overlapTOML)
	f.Fuzz(func(t *testing.T, method, path string) {
		m := p.Match(method, path)
		if m.Route == nil || m.Refused != "" {
			return
		}
		if m.Route.Method != config.MethodAny && m.Route.Method != method && !(method == http.MethodHead && m.Route.Method == http.MethodGet) {
			t.Fatalf("%s %q is served by %s, which does not answer %s", method, path, m.Route, method)
		}
		if again := p.Match(method, m.Path); again.Route != m.Route || again.Refused != "" {
			t.Fatalf("%s %q routes to %s, but the path handed over, %q, routes to %v (refused %q)", method, path, m.Route, m.Path, again.Route, again.Refused)
		}
		read, ok := frameworkDecode(m.Path)
		if !ok {
			t.Fatalf("the path handed over, %q, is not valid percent-encoding", m.Path)
		}
		if r := p.Match(method, read); r.Route != m.Route {
			t.Fatalf("%s %q routes to %s, but a function reading its path as %q is served by %v", method, path, m.Route, read, r.Route)
		}
	})
}
