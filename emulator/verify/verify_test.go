package verify

import (
	"context"
	"strings"
	"testing"
	"time"
)

// overlapConfig is issue 9's overlapping routes (fixtures/overlap): a
// partner greedy route whose prefix is an admin greedy route's, and ANY for
// partners beside GET for admins, all on one function.
const overlapConfig = "../../fixtures/overlap/inquir.toml"

// TestVerifyProbesSpellings: verify sends the spellings that issue 9 found
// taking a partner key into admin routes (%2F, %5C, a lower-case method,
// HEAD for GET), and every one is refused by the local gateway with nothing
// invoked.
func TestVerifyProbesSpellings(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := Run(ctx, Options{ConfigPath: overlapConfig})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{
		"GET /api/admin%2Finquir-verify/inquir-verify":                    false,
		"GET /api/admin%5Cinquir-verify/inquir-verify":                    false,
		"GET /api/inquir-verify%2F..%2Fadmin/inquir-verify/inquir-verify": false,
		"GET /api/inquir-verify%5C..%5Cadmin/inquir-verify/inquir-verify": false,
		"get /reports":  false,
		"HEAD /reports": false,
	}
	for _, c := range rep.Cells {
		if !c.OK {
			t.Errorf("cell %s %s (%s) for %s: want %s, got %s, invoked %d", c.Method, c.Path, c.Credential, c.Route, c.Want, c.Got, c.Invoked)
		}
		if c.Want == Refused {
			if _, ok := want[c.Method+" "+c.Path]; ok {
				want[c.Method+" "+c.Path] = true
			}
			if _, ok := want[c.Method+" "+c.Path]; ok && c.Credential != "key partner" {
				t.Errorf("%s %s was probed with %s; the caller who would gain is key partner", c.Method, c.Path, c.Credential)
			}
		}
	}
	for probe, seen := range want {
		if !seen {
			t.Errorf("verify sent no %q probe", probe)
		}
	}
	if len(rep.Problems) > 0 {
		t.Errorf("problems: %s", strings.Join(rep.Problems, "; "))
	}
}
