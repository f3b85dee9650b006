package policy

import (
	"crypto/sha256"
	"fmt"
	"strings"
	"testing"
)

// BenchmarkAuthorizeScale shows a decision costs the same with 10 keys or a
// million, and allocates nothing: compare the rows (the ratio is the
// figure). Beyond the config's 10 keys, the others are digests added to the
// policy's table directly (a TOML file of a million keys would take the
// benchmark's time in parsing); they point at one key of their own, which
// the route does not allow, so only the table's size changes.
//
//	go test -run '^$' -bench AuthorizeScale -benchmem ./emulator/policy
func BenchmarkAuthorizeScale(b *testing.B) {
	for _, n := range []int{10, 1_000, 100_000, 1_000_000} {
		p := compile(b, manyKeys(10))
		filler := &Key{ID: "filler"}
		for i := 10; i < n; i++ {
			p.byDigest[sha256.Sum256(fmt.Appendf(nil, "filler-%d", i))] = filler
		}
		if len(p.byDigest) != n {
			b.Fatalf("%d digests, want %d", len(p.byDigest), n)
		}
		r := p.Match("GET", "/x").Route
		for _, tc := range []struct {
			name, secret string
			want         Outcome
		}{
			{"valid", "secret-5", Allowed},
			{"unknown", "not-a-key-of-any-length-at-all", InvalidKey},
			{"missing", "", MissingKey},
		} {
			b.Run(fmt.Sprintf("keys=%d/%s", n, tc.name), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if d := p.Authorize(r, tc.secret, now); d.Outcome != tc.want {
						b.Fatalf("outcome %v, want %v", d.Outcome, tc.want)
					}
				}
			})
		}
	}
}

// manyRoutes is a config with n routes GET /rI/items/{id}, in file order,
// all to one function.
func manyRoutes(n int) string {
	var b strings.Builder
	b.WriteString("[keys.k]\nsecret = \"sha256:" + sha("k") + "\"\ngroups = [\"g\"]\n")
	b.WriteString("[functions.f]\nruntime = \"node\"\npath = \"fn.mjs\"\n")
	for i := range n {
		fmt.Fprintf(&b, "[[routes]]\nmethod = \"GET\"\npath = \"/r%d/items/{id}\"\nfunction = \"f\"\ngroup = \"g\"\n", i)
	}
	return b.String()
}

// BenchmarkMatchScale shows how routing grows with the number of routes:
// the route registered first, the route registered last, a path no route
// serves (404) and a path whose route does not answer the method (405,
// which works out the Allow header), with 10, 100 and 1,000 routes.
//
// The trie's walk does not depend on the number of routes; gorilla/mux,
// the router it replaced (BenchmarkMatchScaleMux), tried the routes in
// order, so there the last, the 404 and the 405 grow with the count.
//
//	go test -run '^$' -bench MatchScale -benchmem ./emulator/policy
func BenchmarkMatchScale(b *testing.B) { benchmarkMatchScale(b, func(p *Policy) *Policy { return p }) }

// BenchmarkMatchScaleMux is BenchmarkMatchScale through the gorilla/mux
// reference, to compare the two in one run.
func BenchmarkMatchScaleMux(b *testing.B) { benchmarkMatchScale(b, withMux) }

func benchmarkMatchScale(b *testing.B, router func(*Policy) *Policy) {
	for _, n := range []int{10, 100, 1_000} {
		p := router(compile(b, manyRoutes(n)))
		for _, tc := range []struct{ name, method, path, want string }{
			{"first", "GET", "/r0/items/c-1", "/r0/items/{id}"},
			{"last", "GET", fmt.Sprintf("/r%d/items/c-1", n-1), fmt.Sprintf("/r%d/items/{id}", n-1)},
			{"miss", "GET", "/nowhere/items/c-1", ""},
			{"method", "POST", fmt.Sprintf("/r%d/items/c-1", n-1), ""},
		} {
			b.Run(fmt.Sprintf("routes=%d/%s", n, tc.name), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					m := p.Match(tc.method, tc.path)
					if (m.Route == nil && tc.want != "") || (m.Route != nil && m.Route.Path != tc.want) {
						b.Fatalf("%s matched %v, want %q", tc.path, m.Route, tc.want)
					}
					if tc.name == "method" && len(m.Allow) != 1 {
						b.Fatalf("%s %s: allow %v, want [GET]", tc.method, tc.path, m.Allow)
					}
				}
			})
		}
	}
}
