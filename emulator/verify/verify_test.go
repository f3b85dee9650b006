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
// HEAD for GET), and issue 22's (another reserved character encoded, every
// method of an ANY route), and every one is answered as the policy says by
// the local gateway, with nothing invoked by a refused one.
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
		"GET /api/admin%3Binquir-verify/inquir-verify/inquir-verify":      false,
		"get /reports":  false,
		"HEAD /reports": false,
	}
	// Every method ANY /reports serves beside GET /reports, OPTIONS
	// included, with no key.
	methods := map[string]bool{"POST": false, "PUT": false, "PATCH": false, "DELETE": false, "OPTIONS": false}
	for _, c := range rep.Cells {
		if c.Route == "ANY /reports" && c.Path == "/reports" && c.Credential == "no key" && c.Want == Unauthorized {
			methods[c.Method] = true
		}
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
	for m, seen := range methods {
		if !seen {
			t.Errorf("verify sent no %s /reports with no key to ANY /reports", m)
		}
	}
	if len(rep.Problems) > 0 {
		t.Errorf("problems: %s", strings.Join(rep.Problems, "; "))
	}
}
