package policy

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

const routerTOML = `
[functions.f]
runtime = "node"
path = "fn.mjs"

[[routes]]
method = "ANY"
path = "/{proxy+}"
function = "f"
auth = "none"
reason = "catch-all"

[[routes]]
method = "GET"
path = "/customers/{id}"
function = "f"

[[routes]]
method = "PUT"
path = "/customers/{id}"
function = "f"

[[routes]]
method = "GET"
path = "/customers/me"
function = "f"

[[routes]]
method = "POST"
path = "/internal/search"
function = "f"

[[routes]]
method = "GET"
path = "/files/{path+}"
function = "f"
`

func TestMatch(t *testing.T) {
	p := compile(t, routerTOML)
	tests := []struct {
		method, path string
		route        string // "METHOD /template", "" for none
		params       map[string]string
		allow        []string
		routedPath   string
		refused      bool
	}{
		{"GET", "/customers/c-1", "GET /customers/{id}", map[string]string{"id": "c-1"}, nil, "/customers/c-1", false},
		{"PUT", "/customers/c-1", "PUT /customers/{id}", map[string]string{"id": "c-1"}, nil, "/customers/c-1", false},
		{"GET", "/customers/me", "GET /customers/me", nil, nil, "/customers/me", false},
		// Path parameters and the path keep their percent-encoding, as REST
		// APIs hand them over; but a function reading this path decoded
		// sees /customers/a/b, which the public catch-all serves: refused.
		{"GET", "/customers/a%2Fb", "GET /customers/{id}", map[string]string{"id": "a%2Fb"}, nil, "/customers/a%2Fb", true},
		{"GET", "/customers/a%25b", "GET /customers/{id}", map[string]string{"id": "a%25b"}, nil, "/customers/a%25b", false},
		{"GET", "/customers/a%20b%3Ac", "GET /customers/{id}", map[string]string{"id": "a%20b%3Ac"}, nil, "/customers/a%20b%3Ac", false},
		{"GET", "/customers/a%2fb%5c", "GET /customers/{id}", map[string]string{"id": "a%2Fb%5C"}, nil, "/customers/a%2Fb%5C", true},
		{"GET", "/files/a%2Fb/c", "GET /files/{path+}", map[string]string{"path": "a%2Fb/c"}, nil, "/files/a%2Fb/c", false},
		{"GET", "/files/a/b/c.txt", "GET /files/{path+}", map[string]string{"path": "a/b/c.txt"}, nil, "/files/a/b/c.txt", false},
		// A literal route beats the greedy catch-all, which is public: the
		// protected route must win for every spelling of its path.
		{"POST", "/internal/search", "POST /internal/search", nil, nil, "/internal/search", false},
		{"POST", "//internal//search", "POST /internal/search", nil, nil, "/internal/search", false},
		{"POST", "/internal/search/", "POST /internal/search", nil, nil, "/internal/search", false},
		{"POST", "/internal/./search", "POST /internal/search", nil, nil, "/internal/search", false},
		{"POST", "/x/../internal/search", "POST /internal/search", nil, nil, "/internal/search", false},
		{"POST", "/x/%2e%2E/internal/search", "POST /internal/search", nil, nil, "/internal/search", false},
		{"POST", "/internal/%2e/search", "POST /internal/search", nil, nil, "/internal/search", false},
		{"POST", "/../../internal/search", "POST /internal/search", nil, nil, "/internal/search", false},
		{"POST", "/internal/%73earch", "POST /internal/search", nil, nil, "/internal/search", false},
		// Paths are case-sensitive, as in API Gateway: another case is
		// another path, served here by the public catch-all. But a
		// framework that ignores case runs the protected route's code for
		// it: refused (issue 22); a case that selects no other route is
		// served.
		{"POST", "/Internal/Search", "ANY /{proxy+}", map[string]string{"proxy": "Internal/Search"}, nil, "/Internal/Search", true},
		{"GET", "/Customers/c-1", "ANY /{proxy+}", map[string]string{"proxy": "Customers/c-1"}, nil, "/Customers/c-1", true},
		{"GET", "/About/Us", "ANY /{proxy+}", map[string]string{"proxy": "About/Us"}, nil, "/About/Us", false},
		// An encoded slash stays inside its segment for the router, but the
		// function would read /internal/search: refused.
		{"POST", "/internal%2Fsearch", "ANY /{proxy+}", map[string]string{"proxy": "internal%2Fsearch"}, nil, "/internal%2Fsearch", true},
		{"POST", "/internal%5Csearch", "ANY /{proxy+}", map[string]string{"proxy": "internal%5Csearch"}, nil, "/internal%5Csearch", true},
		{"POST", "/internal;x=1/search", "ANY /{proxy+}", map[string]string{"proxy": "internal;x=1/search"}, nil, "/internal;x=1/search", true},
		{"POST", "/x%2F..%2Finternal%2Fsearch", "ANY /{proxy+}", map[string]string{"proxy": "x%2F..%2Finternal%2Fsearch"}, nil, "/x%2F..%2Finternal%2Fsearch", true},
		{"POST", "/x%2F..%2F_inquir%2Fstats", "ANY /{proxy+}", map[string]string{"proxy": "x%2F..%2F_inquir%2Fstats"}, nil, "/x%2F..%2F_inquir%2Fstats", true},
		{"GET", "/blog/a%2Fb", "ANY /{proxy+}", map[string]string{"proxy": "blog/a%2Fb"}, nil, "/blog/a%2Fb", false},
		{"DELETE", "/customers/c-1", "ANY /{proxy+}", map[string]string{"proxy": "customers/c-1"}, nil, "/customers/c-1", false},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			m := p.Match(tt.method, tt.path)
			got := ""
			if m.Route != nil {
				got = m.Route.String()
			}
			if got != tt.route {
				t.Fatalf("route = %q, want %q", got, tt.route)
			}
			if diff := cmp.Diff(tt.params, m.Params); diff != "" && tt.route != "" {
				t.Errorf("params (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.allow, m.Allow); diff != "" {
				t.Errorf("allow (-want +got):\n%s", diff)
			}
			if m.Path != tt.routedPath {
				t.Errorf("path = %q, want %q", m.Path, tt.routedPath)
			}
			if (m.Refused != "") != tt.refused {
				t.Errorf("refused = %q, want refused %v", m.Refused, tt.refused)
			}
		})
	}
}

func TestMatchWithoutCatchAll(t *testing.T) {
	p := compile(t, `
[functions.f]
runtime = "node"
path = "fn.mjs"
[[routes]]
method = "GET"
path = "/customers/{id}"
function = "f"
[[routes]]
method = "PUT"
path = "/customers/{id}"
function = "f"
`)
	tests := []struct {
		method, path string
		found        bool
		allow        []string
		builtin      bool
	}{
		{"DELETE", "/customers/1", false, []string{"GET", "PUT"}, false},
		{"GET", "/customers", false, nil, false},
		{"GET", "/CUSTOMERS/1", false, nil, false},
		{"GET", "/customers/1/extra", false, nil, false},
		{"GET", "/_inquir/health", false, nil, true},
		{"GET", "//_inquir/./health", false, nil, true},
		{"GET", "/customers/%zz", false, nil, false},
	}
	for _, tt := range tests {
		m := p.Match(tt.method, tt.path)
		if (m.Route != nil) != tt.found || m.Builtin != tt.builtin {
			t.Errorf("%s %s: route %v builtin %v", tt.method, tt.path, m.Route, m.Builtin)
		}
		if diff := cmp.Diff(tt.allow, m.Allow); diff != "" {
			t.Errorf("%s %s: allow (-want +got):\n%s", tt.method, tt.path, diff)
		}
	}
}

// FuzzNormalizePath checks that normalizing is idempotent and that a path
// and its normal form are routed alike: no spelling routes differently.
func FuzzNormalizePath(f *testing.F) {
	for _, s := range []string{"/", "/a/b", "//a//b/", "/a/./b/../c", "/%2e%2E/x", "/a%2Fb", "/%7euser", "/a/%zz", "/internal/%73earch", "/..", "/a/b/.."} {
		f.Add(s)
	}
	p := compile(f, routerTOML)
	f.Fuzz(func(t *testing.T, path string) {
		n, ok := normalizePath(path)
		if !ok {
			return
		}
		n2, ok2 := normalizePath(n)
		if !ok2 || n2 != n {
			t.Fatalf("normalizePath(%q) = %q, but normalizing that gives %q, %v", path, n, n2, ok2)
		}
		for _, method := range []string{"GET", "POST"} {
			a, b := p.Match(method, path), p.Match(method, n)
			if a.Route != b.Route || a.Builtin != b.Builtin {
				t.Fatalf("%s %q routes to %v, its normal form %q to %v", method, path, a.Route, n, b.Route)
			}
		}
	})
}

// TestMatchMethodSpelling: a method is routed as frameworks read it or
// refused, so no spelling is authorised by a weaker route (issue 9, fault 2).
func TestMatchMethodSpelling(t *testing.T) {
	p := compile(t, `
[functions.f]
runtime = "node"
path = "fn.mjs"
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
method = "GET"
path = "/pages"
function = "f"
group = "admins"
[[routes]]
method = "HEAD"
path = "/pages"
function = "f"
auth = "none"
reason = "link checkers"
[[routes]]
method = "ANY"
path = "/open"
function = "f"
group = "partners"
`)
	tests := []struct {
		method, path string
		route        string
		refused      bool
	}{
		{"GET", "/reports", "GET /reports", false},
		{"HEAD", "/reports", "GET /reports", false},
		{"POST", "/reports", "ANY /reports", false},
		{"get", "/reports", "", true},
		{"Get", "/reports", "", true},
		{"hEAD", "/reports", "", true},
		// An explicit HEAD route answers HEAD itself.
		{"HEAD", "/pages", "HEAD /pages", false},
		{"HEAD", "/open", "ANY /open", false},
		// A method no route names is routed by ANY, as on API Gateway.
		{"PROPFIND", "/open", "ANY /open", false},
	}
	for _, tt := range tests {
		m := p.Match(tt.method, tt.path)
		got := ""
		if m.Route != nil {
			got = m.Route.String()
		}
		if got != tt.route || (m.Refused != "") != tt.refused {
			t.Errorf("%s %s: route %q refused %q, want %q refused %v", tt.method, tt.path, got, m.Refused, tt.route, tt.refused)
		}
	}
}

// caseKeys are a partner and an admin key, for routes that differ in who
// may call them.
const caseKeys = `
[keys.partner]
secret = "sha256:` + "0000000000000000000000000000000000000000000000000000000000000001" + `"
groups = ["partners"]
[keys.admin]
secret = "sha256:` + "0000000000000000000000000000000000000000000000000000000000000002" + `"
groups = ["admins"]
[functions.f]
runtime = "node"
path = "fn.mjs"
`

func routeTOML(method, path, protection string) string {
	return "[[routes]]\nmethod = \"" + method + "\"\npath = \"" + path + "\"\nfunction = \"f\"\n" + protection + "\n"
}

// TestMatchLetterCase: a path whose letters, compared as a router that
// ignores case compares them (Express, Koa, ASP.NET), select a more
// protected route than the one that serves it as spelled is refused
// (issue 22); one that selects a route no more protected is served.
func TestMatchLetterCase(t *testing.T) {
	const partners, admins, both, open = `group = "partners"`, `group = "admins"`, `keys = ["partner", "admin"]`, "auth = \"none\"\nreason = \"docs\""
	p := compile(t, caseKeys+
		routeTOML("GET", "/api/{section}/users", partners)+
		routeTOML("GET", "/api/admin/users", admins)+
		routeTOML("GET", "/api/public/users", open)+
		routeTOML("GET", "/api/shared/users", both)+
		routeTOML("ANY", "/v1/{proxy+}", partners)+
		routeTOML("ANY", "/v1/Admin/{proxy+}", admins))
	tests := []struct {
		method, path string
		route        string
		refused      bool
	}{
		{"GET", "/api/admin/users", "GET /api/admin/users", false},
		{"GET", "/api/ADMIN/users", "GET /api/{section}/users", true},
		{"GET", "/api/Admin/users", "GET /api/{section}/users", true},
		{"HEAD", "/api/ADMIN/users", "GET /api/{section}/users", true},
		{"GET", "/api/%41dmin/users", "GET /api/{section}/users", true}, // %41 is "A"
		{"GET", "/api/sales/users", "GET /api/{section}/users", false},
		{"GET", "/api/Sales/users", "GET /api/{section}/users", false},
		// Folded to an open route, or to one that allows every key this
		// one does: no caller gains.
		{"GET", "/api/PUBLIC/users", "GET /api/{section}/users", false},
		{"GET", "/api/Shared/users", "GET /api/{section}/users", false},
		// A route spelled in upper case (an ASP.NET controller's name) is
		// selected by the path in lower case too.
		{"GET", "/v1/Admin/x", "ANY /v1/Admin/{proxy+}", false},
		{"GET", "/v1/admin/x", "ANY /v1/{proxy+}", true},
		{"DELETE", "/v1/aDMIN/x", "ANY /v1/{proxy+}", true},
		{"GET", "/v1/x/admin", "ANY /v1/{proxy+}", false},
		// Read as a framework decodes it first.
		{"GET", "/v1/x/..%2Fadmin/y", "ANY /v1/{proxy+}", true},
		{"GET", "/v1/%E2%84%AAeep/x", "ANY /v1/{proxy+}", false},
	}
	for _, tt := range tests {
		m := p.Match(tt.method, tt.path)
		got := ""
		if m.Route != nil {
			got = m.Route.String()
		}
		if got != tt.route || (m.Refused != "") != tt.refused {
			t.Errorf("%s %s: route %q refused %q, want %q refused %v", tt.method, tt.path, got, m.Refused, tt.route, tt.refused)
		}
	}

	// The second lookup allocates only the folded path, and only for a
	// path with a letter to fold (a route's Params take two).
	for _, tc := range []struct {
		path string
		max  float64
	}{{"/api/admin/users", 0}, {"/v1/Admin/x", 3}, {"/api/ADMIN/users", 3}} {
		if n := testing.AllocsPerRun(100, func() { p.Match("GET", tc.path) }); n > tc.max {
			t.Errorf("GET %s: %v allocations, want at most %v", tc.path, n, tc.max)
		}
	}

	// The second lookup is made only for a table where case can select a
	// more protected route.
	for _, tc := range []struct {
		name, routes string
		folds        bool
	}{
		{"the issue's pair", routeTOML("GET", "/api/{section}/users", partners) + routeTOML("GET", "/api/admin/users", admins), true},
		{"a greedy route above a literal", routeTOML("ANY", "/{proxy+}", open) + routeTOML("POST", "/internal/search", admins), true},
		{"literals that differ in case", routeTOML("GET", "/Admin", partners) + routeTOML("GET", "/admin", admins), true},
		{"the same protection everywhere", routeTOML("GET", "/api/{section}/users", partners) + routeTOML("GET", "/api/admin/users", partners), false},
		{"no literal where a parameter could be", routeTOML("GET", "/customers/{id}", partners) + routeTOML("POST", "/internal/search", admins) + routeTOML("ANY", "/public/{rest+}", open), false},
	} {
		if p := compile(t, caseKeys+tc.routes); (p.folded != nil) != tc.folds {
			t.Errorf("%s: folded trie built = %v, want %v", tc.name, p.folded != nil, tc.folds)
		}
	}
}

func TestFoldCase(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"/api/admin", "/api/admin"},
		{"/API/Admin", "/api/admin"},
		{"/a%2Fb/%C3%89", "/a%2Fb/%C3%89"},
		{"/A%2Fb", "/a%2Fb"},
		{"/%C5%BFecret", "/secret"},
		{"/%E2%84%AAey/%C5%BF", "/key/s"},
		{"/x%C5", "/x%C5"},
	} {
		got, changed := foldCase(tc.in)
		if got != tc.want || changed != (tc.in != tc.want) {
			t.Errorf("foldCase(%q) = %q, %v; want %q", tc.in, got, changed, tc.want)
		}
	}
}
