package policy

import "testing"

// BenchmarkMatchTrailingSlash: what deciding KeepSlash costs a path sent
// with a trailing slash, against the same path without one, in one run.
func BenchmarkMatchTrailingSlash(b *testing.B) {
	p := compile(b, overlapTOML)
	for _, path := range []string{"/api/x/y", "/api/x/y/", "/api/admin/"} {
		b.Run(path, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p.Match("GET", path)
			}
		})
	}
}
