package policy

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/inquir-dev/inquir/emulator/config"
)

// sameMatch says how got (the trie's) differs from want (the gorilla/mux
// reference's), "" when it does not. Params compare by content: mux hands
// a literal route an empty map where the trie hands nil, and every reader
// of Params goes by its length.
func sameMatch(got, want Match) string {
	switch {
	case got.Route != want.Route:
		return fmt.Sprintf("route %v, reference %v", got.Route, want.Route)
	case !maps.Equal(got.Params, want.Params):
		return fmt.Sprintf("params %v, reference %v", got.Params, want.Params)
	case len(got.Params) == 0 && got.Params != nil:
		return "params is an empty map, not nil"
	case got.Path != want.Path:
		return fmt.Sprintf("path %q, reference %q", got.Path, want.Path)
	case !slices.Equal(got.Allow, want.Allow) || (got.Allow == nil) != (want.Allow == nil):
		return fmt.Sprintf("allow %q, reference %q", got.Allow, want.Allow)
	case got.Builtin != want.Builtin:
		return fmt.Sprintf("builtin %v, reference %v", got.Builtin, want.Builtin)
	case got.Refused != want.Refused:
		return fmt.Sprintf("refused %q, reference %q", got.Refused, want.Refused)
	}
	return ""
}

// checkAgainstMux fails t when p (routing through its trie) and ref (the
// same policy through gorilla/mux) answer method and path differently.
func checkAgainstMux(t *testing.T, p, ref *Policy, method, path string) {
	t.Helper()
	if diff := sameMatch(p.Match(method, path), ref.Match(method, path)); diff != "" {
		t.Fatalf("%s %q: %s", method, path, diff)
	}
}

// FuzzMatchAgainstMux: over the overlapping routes of issue 9 and the
// router tests' routes, any method and raw path get the very Match the
// gorilla/mux router gave: route, params, path, Allow, refusal.
//
//	go test -run '^$' -fuzz FuzzMatchAgainstMux -fuzztime 60s ./emulator/policy
func FuzzMatchAgainstMux(f *testing.F) {
	seeds := []struct{ method, path string }{
		{"GET", "/api/admin%2Fusers"}, {"GET", "/api/admin/me"}, {"HEAD", "/api/admin/me"}, {"POST", "/api/admin/me"},
		{"HEAD", "/reports"}, {"HEAD", "/reports/1"}, {"DELETE", "/reports/1"}, {"POST", "/items/1/approve"},
		{"GET", "/items/1/approve"}, {"PUT", "/items/1"}, {"GET", "/"}, {"GET", "/a b/%2F"}, {"GET", "/customers/me"},
		{"PATCH", "/customers/1"}, {"GET", "/files/a/b/"}, {"ANY", "/internal/search"}, {"get", "/x"}, {"GET", "/_inquir/x"},
	}
	for _, s := range seeds {
		f.Add(s.method, s.path)
	}
	ps := []*Policy{compile(f, overlapTOML), compile(f, routerTOML)}
	refs := []*Policy{withMux(ps[0]), withMux(ps[1])}
	f.Fuzz(func(t *testing.T, method, path string) {
		for i, p := range ps {
			checkAgainstMux(t, p, refs[i], method, path)
		}
	})
}

// Pieces of random route tables and requests: literals that overlap,
// literals that need escaping or mean something to a regexp, and path
// segments in every spelling the normalizer and the router meet.
var (
	tableLiterals = []string{"a", "b", "ab", "a.b", "x-y", "a:b", "a;b", "a(b)", "a*", "a+b", "$", "é", "a b"}
	tableSegments = []string{"a", "b", "ab", "c", "a.b", "a:b", "a;b", "a(b)", "a*", "a+b", "$", "%61", "%2F", "a%2Fb", "%2f",
		"", ".", "..", "%2E%2E", "%20", "a b", "é", "%C3%A9", "a%3Fb", "?", "#", `\`, "%5C", "_inquir", "%25", "%zz", "x-y", "a%00"}
	tableMethods = []string{"GET", "GET", "HEAD", "POST", "PUT", "ANY", "ANY", "DELETE"}
	probeMethod  = []string{"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "ANY", "PROPFIND", "get"}
)

// byteStream hands out the fuzzer's bytes as small choices, zeros once
// they run out.
type byteStream []byte

func (s *byteStream) next(n int) int {
	if len(*s) == 0 {
		return 0
	}
	b := (*s)[0]
	*s = (*s)[1:]
	return int(b) % n
}

// randomTable builds up to 12 routes from data: templates of literals,
// {params} and a last {greedy+}, sharing prefixes, on ANY and concrete
// methods, duplicates included. The policy is built as Compile builds it
// (the routes sorted most specific first), without a config file.
func randomTable(data []byte) (*Policy, []*Route) {
	s := byteStream(data)
	var routes []*Route
	for i := range 1 + s.next(12) {
		var segs []string
		if s.next(8) != 0 { // one template in eight is "/"
			for k := range 1 + s.next(4) {
				switch s.next(6) {
				case 0, 1:
					segs = append(segs, fmt.Sprintf("{%c%d}", 'p'+rune(s.next(3)), k))
				case 2:
					segs = append(segs, fmt.Sprintf("{%c%d+}", 'g'+rune(s.next(2)), k))
				default:
					segs = append(segs, tableLiterals[s.next(len(tableLiterals))])
				}
				if strings.HasSuffix(segs[k], "+}") {
					break
				}
			}
		}
		cr := config.Route{Index: i, Method: tableMethods[s.next(len(tableMethods))], Path: "/" + strings.Join(segs, "/"), Function: "f", Auth: config.AuthAPIKey}
		routes = append(routes, &Route{Route: cr, AnyKey: true})
	}
	sort.SliceStable(routes, func(i, j int) bool { return moreSpecific(routes[i].Route, routes[j].Route) })
	p := &Policy{Routes: routes, router: newTrie(routes, false)}
	return p, routes
}

// probePaths are paths that a route table's templates make likely to
// match: each template filled in from data, segment by segment, with a
// literal, a spelling of it, an escape or an extra segment.
func probePaths(routes []*Route, data []byte) []string {
	s := byteStream(data)
	var paths []string
	for _, r := range routes {
		segs := strings.Split(r.Path, "/")[1:]
		for i, seg := range segs {
			if strings.HasPrefix(seg, "{") || s.next(4) == 0 {
				segs[i] = tableSegments[s.next(len(tableSegments))]
			}
			if strings.HasSuffix(seg, "+}") && s.next(2) == 0 {
				segs[i] += "/" + tableSegments[s.next(len(tableSegments))]
			}
		}
		if s.next(6) == 0 {
			segs = append(segs, tableSegments[s.next(len(tableSegments))])
		}
		paths = append(paths, "/"+strings.Join(segs, "/"))
	}
	return paths
}

// FuzzRandomTablesAgainstMux: for route tables built from the fuzzer's
// bytes, the given request and a probe of every template under several
// methods get the very Match the gorilla/mux router gave.
//
//	go test -run '^$' -fuzz FuzzRandomTablesAgainstMux -fuzztime 60s ./emulator/policy
func FuzzRandomTablesAgainstMux(f *testing.F) {
	f.Add([]byte{3, 1, 0, 4, 1, 3, 0, 1, 2}, []byte{0, 1, 2}, "GET", "/a/b")
	f.Add([]byte{5, 7, 2, 0, 0, 1, 1, 7, 1, 3, 4, 2, 5, 2, 9, 0, 6}, []byte{9, 9, 9, 1, 0, 3}, "HEAD", "/ab/%2F/c")
	f.Add([]byte{11, 1, 3, 2, 1, 5, 1, 0, 3, 0, 2, 0, 4, 5, 2, 2, 0, 3, 1}, []byte{14, 15, 16, 17, 18, 19}, "DELETE", "/a%2Fb/ ")
	f.Fuzz(func(t *testing.T, table, probe []byte, method, path string) {
		p, routes := randomTable(table)
		ref := withMux(p)
		checkAgainstMux(t, p, ref, method, path)
		for _, pp := range probePaths(routes, probe) {
			for _, m := range probeMethod {
				checkAgainstMux(t, p, ref, m, pp)
			}
		}
	})
}

// TestTriePrecedence pins the precedence that registering the routes most
// specific first gave under gorilla/mux, corner by corner, and checks each
// answer against the mux reference too.
func TestTriePrecedence(t *testing.T) {
	tests := []struct {
		name   string
		routes []string // "METHOD /template", in file order
		method string
		path   string
		want   string // "METHOD /template", "" for none
		params map[string]string
		allow  []string
	}{
		{"literal beats param beats greedy", []string{"ANY /a/{p+}", "GET /a/{x}", "GET /a/b"}, "GET", "/a/b", "GET /a/b", nil, nil},
		{"param beats greedy", []string{"ANY /a/{p+}", "GET /a/{x}", "GET /a/b"}, "GET", "/a/c", "GET /a/{x}", map[string]string{"x": "c"}, nil},
		{"greedy takes the rest", []string{"ANY /a/{p+}", "GET /a/{x}"}, "GET", "/a/c/d%2Fe", "ANY /a/{p+}", map[string]string{"p": "c/d%2Fe"}, nil},
		{"literal beats param at the first segment that differs", []string{"GET /{y}/b/c", "GET /a/{x}/c"}, "GET", "/a/b/c", "GET /a/{x}/c", map[string]string{"x": "b"}, nil},
		{"a weaker branch answers the method the stronger does not", []string{"ANY /{y}/b/c", "GET /a/{x}/c"}, "POST", "/a/b/c", "ANY /{y}/b/c", map[string]string{"y": "a"}, nil},
		{"method beats ANY on one template", []string{"ANY /r", "GET /r"}, "GET", "/r", "GET /r", nil, nil},
		{"ANY on one template serves other methods", []string{"ANY /r", "GET /r"}, "POST", "/r", "ANY /r", nil, nil},
		{"a more specific ANY beats a less specific method", []string{"GET /a/{x}", "ANY /a/b"}, "GET", "/a/b", "ANY /a/b", nil, nil},
		{"file order between one template's routes", []string{"GET /a/{x}", "GET /a/{y}"}, "GET", "/a/1", "GET /a/{x}", map[string]string{"x": "1"}, nil},
		{"params are named by the route that serves", []string{"GET /a/{x}", "POST /a/{y}"}, "POST", "/a/1", "POST /a/{y}", map[string]string{"y": "1"}, nil},
		{"HEAD routed as GET, not a weaker ANY", []string{"ANY /r", "GET /r"}, "HEAD", "/r", "GET /r", nil, nil},
		{"an explicit HEAD route answers HEAD", []string{"GET /r/{id}", "HEAD /r/{id}"}, "HEAD", "/r/1", "HEAD /r/{id}", map[string]string{"id": "1"}, nil},
		{"HEAD routed as GET through a less specific template", []string{"GET /{p+}", "ANY /r/{id}"}, "HEAD", "/r/1", "ANY /r/{id}", map[string]string{"id": "1"}, nil},
		{"HEAD with only a POST route is 405 with GET's Allow", []string{"POST /r"}, "HEAD", "/r", "", nil, []string{"POST"}},
		{"a greedy parameter needs a segment", []string{"GET /a/{p+}"}, "GET", "/a", "", nil, nil},
		{"a greedy root needs a segment", []string{"GET /{p+}"}, "GET", "/", "", nil, nil},
		{"the root template serves only the root", []string{"GET /", "POST /{p+}"}, "GET", "/", "GET /", nil, nil},
		{"405 lists every template's methods, sorted, once", []string{"PUT /a/b", "POST /{y}/b", "GET /a/{x}", "GET /{z}/{w}"}, "DELETE", "/a/b", "", nil, []string{"GET", "POST", "PUT"}},
		{"404 has no Allow", []string{"GET /a/{x}"}, "GET", "/b/c", "", nil, nil},
		{"an encoded slash stays in its segment", []string{"GET /a/{x}", "GET /{p+}"}, "GET", "/a/b%2Fc", "GET /a/{x}", map[string]string{"x": "b%2Fc"}, nil},
		{"a path with a byte not allowed bare routes as url.URL.EscapedPath spells it", []string{"GET /a/{x}", "POST /{p+}"}, "GET", "/a%2F b", "GET /a/{x}", map[string]string{"x": "%20b"}, nil},
		{"regexp characters in a literal are literal", []string{"GET /a*", "GET /{x}"}, "GET", "/aaa", "GET /{x}", map[string]string{"x": "aaa"}, nil},
		{"a non-ASCII literal never matches an escaped path", []string{"GET /é", "GET /{x}"}, "GET", "/%C3%A9", "GET /{x}", map[string]string{"x": "%C3%A9"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var routes []*Route
			for i, s := range tt.routes {
				method, path, _ := strings.Cut(s, " ")
				routes = append(routes, &Route{Route: config.Route{Index: i, Method: method, Path: path, Function: "f"}})
			}
			sort.SliceStable(routes, func(i, j int) bool { return moreSpecific(routes[i].Route, routes[j].Route) })
			p := &Policy{Routes: routes, router: newTrie(routes, false)}
			m := p.Match(tt.method, tt.path)
			got := ""
			if m.Route != nil {
				got = m.Route.String()
			}
			if got != tt.want || !maps.Equal(m.Params, tt.params) || !slices.Equal(m.Allow, tt.allow) {
				t.Errorf("%s %s: route %q params %v allow %q, want %q params %v allow %q", tt.method, tt.path, got, m.Params, m.Allow, tt.want, tt.params, tt.allow)
			}
			checkAgainstMux(t, p, withMux(p), tt.method, tt.path)
		})
	}
}

// TestMatchAllocs: a literal route is found without allocating, a route
// with parameters with its Params map alone, a 405 with its Allow list
// alone, among a hundred routes (testing.AllocsPerRun counts, it does not
// time). Through the mux reference these take 5 to 112 allocations.
func TestMatchAllocs(t *testing.T) {
	p := compile(t, manyRoutes(100)+"[[routes]]\nmethod = \"GET\"\npath = \"/static/page\"\nfunction = \"f\"\ngroup = \"g\"\n")
	for _, tc := range []struct {
		method, path string
		max          float64
	}{
		{"GET", "/static/page", 0},
		{"HEAD", "/static/page", 0},
		{"GET", "/nowhere/at/all", 0},
		{"GET", "/r99/items/c-1", 2},
		{"POST", "/r99/items/c-1", 1},
	} {
		if n := testing.AllocsPerRun(100, func() { p.Match(tc.method, tc.path) }); n > tc.max {
			t.Errorf("%s %s: %v allocations, want at most %v", tc.method, tc.path, n, tc.max)
		}
	}
}
