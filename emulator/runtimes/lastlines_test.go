package runtimes

import (
	"strings"
	"testing"
)

// lastLines keeps the tail of a build's output and says, in English, how
// many lines it left out.
func TestLastLines(t *testing.T) {
	lines := func(n int) string {
		var b strings.Builder
		for i := 1; i <= n; i++ {
			b.WriteString("line\n")
		}
		return b.String()
	}
	tests := []struct {
		name string
		in   string
		n    int
		want string
	}{
		{"all kept", lines(2), 2, "line\nline"},
		{"one left out", lines(3), 2, "(1 earlier line left out)\nline\nline"},
		{"two left out", lines(4), 2, "(2 earlier lines left out)\nline\nline"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := lastLines(tt.in, tt.n); got != tt.want {
				t.Errorf("lastLines = %q; want %q", got, tt.want)
			}
		})
	}
}
