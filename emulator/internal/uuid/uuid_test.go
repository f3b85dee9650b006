package uuid

import (
	"regexp"
	"testing"
)

func TestNew(t *testing.T) {
	shape := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	for range 1000 {
		id := New()
		if !shape.MatchString(id) || seen[id] {
			t.Fatalf("New() = %q: not a version 4 UUID, or seen before", id)
		}
		seen[id] = true
	}
	if n := testing.AllocsPerRun(100, func() { _ = New() }); n != 1 {
		t.Errorf("New allocates %v times, want 1", n)
	}
}
