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
