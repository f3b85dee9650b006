package policy

import (
	"fmt"
	"strings"
	"testing"
)

// manyKeys is a config with n keys in group "g", all allowed on GET /x.
func manyKeys(n int) string {
	var b strings.Builder
	b.WriteString("[functions.f]\nruntime = \"node\"\npath = \"fn.mjs\"\n")
	b.WriteString("[[routes]]\nmethod = \"GET\"\npath = \"/x\"\nfunction = \"f\"\ngroup = \"g\"\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "[keys.k%d]\nsecret = \"sha256:%s\"\ngroups = [\"g\"]\n", i, sha(fmt.Sprintf("secret-%d", i)))
	}
	return b.String()
}

// BenchmarkAuthorize shows the cost of a decision does not grow with the
// number of keys: compare the keys=10 and keys=10000 rows (the ratio is the
// figure; the machine's speed cancels out).
//
//	go test -run '^$' -bench Authorize -benchmem ./emulator/policy
func BenchmarkAuthorize(b *testing.B) {
	for _, n := range []int{10, 10000} {
		p := compile(b, manyKeys(n))
		r := p.Match("GET", "/x").Route
		for _, tc := range []struct{ name, secret string }{
			{"valid", fmt.Sprintf("secret-%d", n/2)},
			{"unknown", "not-a-key-of-any-length-at-all"},
		} {
			b.Run(fmt.Sprintf("keys=%d/%s", n, tc.name), func(b *testing.B) {
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					if d := p.Authorize(r, tc.secret, now); d.Outcome == Public {
						b.Fatal("unexpected")
					}
				}
			})
		}
	}
}

// BenchmarkMatchLetterCase shows what the look without regard to letter
// case (issue 22) adds to Match: "plain" is a table where case cannot
// select a more protected route, so nothing is added; "folding" is one
// where it can, so every path is looked up twice, and one with an
// upper-case letter is first folded.
//
//	go test -run '^$' -bench MatchLetterCase -benchmem ./emulator/policy
func BenchmarkMatchLetterCase(b *testing.B) {
	keys := "[keys.p]\nsecret = \"sha256:" + sha("p") + "\"\ngroups = [\"partners\"]\n[keys.a]\nsecret = \"sha256:" + sha("a") + "\"\ngroups = [\"admins\"]\n[functions.f]\nruntime = \"node\"\npath = \"fn.mjs\"\n"
	route := func(method, path, group string) string {
		return "[[routes]]\nmethod = \"" + method + "\"\npath = \"" + path + "\"\nfunction = \"f\"\ngroup = \"" + group + "\"\n"
	}
	plain := compile(b, keys+route("GET", "/customers/{id}", "partners")+route("POST", "/internal/search", "admins"))
	folding := compile(b, keys+route("GET", "/api/{section}/users", "partners")+route("GET", "/api/admin/users", "admins")+
		route("ANY", "/v1/{proxy+}", "partners")+route("ANY", "/v1/Admin/{proxy+}", "admins"))
	for _, tc := range []struct {
		name, path string
		p          *Policy
	}{
		{"plain", "/customers/c-1", plain},
		{"plain-upper", "/customers/C-1", plain},
		{"folding", "/api/sales/users", folding},
		{"folding-upper", "/api/Sales/users", folding},
		{"folding-literals", "/v1/orders/x", folding},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if m := tc.p.Match("GET", tc.path); m.Route == nil || m.Refused != "" {
					b.Fatal("unexpected")
				}
			}
		})
	}
}
