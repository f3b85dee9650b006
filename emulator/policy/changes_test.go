package policy

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const changesBase = `
[keys.a]
secret = "a-secret-0123456789"
groups = ["g"]
[keys.b]
secret = "b-secret-0123456789"
groups = ["g"]
[functions.f]
runtime = "node"
path = "fn.mjs"
[[routes]]
method = "GET"
path = "/x"
function = "f"
group = "g"
[[routes]]
method = "GET"
path = "/y"
function = "f"
group = "g"
`

func TestChangesFrom(t *testing.T) {
	old := compile(t, changesBase)
	next := strings.NewReplacer(
		`secret = "b-secret-0123456789"`, `secret = ["b-secret-0123456789", "b-secret-new-0123456789"]`,
		"[keys.a]\nsecret = \"a-secret-0123456789\"\ngroups = [\"g\"]\n", "",
		"path = \"/y\"", "path = \"/z\"",
	).Replace(changesBase) + "[keys.c]\nsecret = \"c-secret-0123456789\"\ngroups = [\"h\"]\n"
	got := compile(t, next).ChangesFrom(old)
	want := Changes{KeysAdded: []string{"c"}, KeysRemoved: []string{"a"}, SecretsRotated: []string{"b"},
		RoutesAdded: []string{"GET /z"}, RoutesRemoved: []string{"GET /y"}, RoutesChanged: []string{"GET /x"}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("ChangesFrom (-want +got):\n%s", d)
	}
	if s := got.String(); strings.Contains(s, "secret-0123456789") || !strings.Contains(s, "secrets rotated: b") {
		t.Errorf("String() = %q: want the rotated key's id and no secret", s)
	}
	if c := compile(t, changesBase).ChangesFrom(old); !c.Empty() {
		t.Errorf("the same config compiled again: ChangesFrom = %+v, want none", c)
	}
	if c := old.ChangesFrom(nil); !c.Empty() {
		t.Errorf("ChangesFrom(nil) = %+v, want none", c)
	}
}

func TestFingerprints(t *testing.T) {
	p := compile(t, strings.Replace(changesBase, `secret = "b-secret-0123456789"`, `secret = ["b-secret-0123456789", "b-secret-new-0123456789"]`, 1))
	got := p.Fingerprints("b")
	want := []string{"sha256:" + sha("b-secret-0123456789")[:12], "sha256:" + sha("b-secret-new-0123456789")[:12]}
	if want[0] > want[1] {
		want[0], want[1] = want[1], want[0]
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Fingerprints(b) (-want +got):\n%s", d)
	}
	if got := p.Fingerprints("nobody"); len(got) != 0 {
		t.Errorf("Fingerprints(nobody) = %v, want none", got)
	}
}
