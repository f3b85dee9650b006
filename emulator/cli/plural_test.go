package cli

import "testing"

// Counts read as English: 1 problem, 2 problems, 0 problems.
func TestPlurals(t *testing.T) {
	tests := []struct {
		name, got, want string
	}{
		{"verify, ones", verifySummary(1, "URL", 1, 1, 1), "1 cell against URL: 1 mismatch, 1 problem, 1 not probed"},
		{"verify, none", verifySummary(12, "URL", 0, 0, 0), "12 cells against URL: 0 mismatches, 0 problems, 0 not probed"},
		{"verify, some", verifySummary(12, "URL", 2, 3, 4), "12 cells against URL: 2 mismatches, 3 problems, 4 not probed"},
		{"verify, invoked once", invokedTimes("f", 1), ", invoked f once"},
		{"verify, invoked twice", invokedTimes("f", 2), ", invoked f 2 times"},
		{"lint", plural(1, "error") + ", " + plural(0, "warning"), "1 error, 0 warnings"},
		{"dev, ones", listening("http://127.0.0.1:8787", "abc", 1, 1), "inquir dev: listening on http://127.0.0.1:8787 (config abc, 1 route, 1 function)"},
		{"dev, some", listening("http://127.0.0.1:8787", "abc", 3, 2), "inquir dev: listening on http://127.0.0.1:8787 (config abc, 3 routes, 2 functions)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %q; want %q", tt.got, tt.want)
			}
		})
	}
}
