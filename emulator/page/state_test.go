package page_test

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

type keyRow struct {
	ID           string   `json:"id"`
	State        string   `json:"state"`
	Detail       string   `json:"detail"`
	Fingerprints []string `json:"fingerprints"`
	Secret       []string `json:"secret"`
	Replayable   bool     `json:"replayable"`
	Used         int64    `json:"used"`
	Limit        int64    `json:"limit"`
}

type state struct {
	Routes []struct {
		Method, Path, Function, Runtime, Reason, Authorizer string
		Public                                              bool
		Callers                                             []string
		Lint                                                []struct{ Rule string }
	} `json:"routes"`
	Keys    []keyRow `json:"keys"`
	Reloads []struct {
		Outcome string `json:"outcome"`
		Changes *struct {
			SecretsRotated []string `json:"secrets_rotated"`
			KeysRemoved    []string `json:"keys_removed"`
		} `json:"changes"`
		Error string `json:"error"`
	} `json:"reloads"`
}

// TestKeysAndRoutes: each key's state (active, expiring in N, expired,
// revoked by an emptied file), its fingerprint and where its secret comes
// from, never the secret; usage against its plan; each route with who may
// call it and lint's findings beside it; and the reloads, with what each
// changed.
func TestKeysAndRoutes(t *testing.T) {
	f := newFixture(t)
	f.do("GET", "/hello/a", map[string]string{"x-api-key": acmeSecret}, "")
	f.do("GET", "/hello/b", map[string]string{"x-api-key": acmeSecret}, "")
	var s state
	f.get("/_inquir/api/state", &s)
	fp := func(secret string) []string {
		d := sha256Sum(secret)
		return []string{"sha256:" + hex.EncodeToString(d[:6])}
	}
	want := []keyRow{
		{ID: "partner-acme", State: "active", Fingerprints: fp(acmeSecret), Secret: []string{"env:PAGE_TEST_ACME_KEY"}, Replayable: true, Used: 2, Limit: 1000},
		{ID: "search-agent", State: "active", Fingerprints: fp(agentSecret), Secret: []string{"file:" + filepath.Join(f.dir, "agent.key")}, Replayable: true},
		{ID: "old", State: "expired", Detail: "since 2026-11-01T00:00:00Z", Fingerprints: fp(oldSecret), Secret: []string{"literal secret"}, Replayable: true},
		{ID: "soon", State: "expiring", Detail: "in 2d 3h", Fingerprints: fp(literal), Secret: []string{"literal secret"}, Replayable: true},
		{ID: "digest", State: "active", Fingerprints: fp(digestSecret), Secret: []string{"sha256:fb22095c154049de7845af4087da099bc4cf85f3c97b5cd3d7c65e8b9e03c09a"}},
	}
	if d := cmp.Diff(want, s.Keys); d != "" {
		t.Errorf("keys (-want +got):\n%s", d)
	}
	if len(s.Routes) != 4 || s.Routes[0].Runtime != "node" || strings.Join(s.Routes[0].Callers, ",") != "digest,partner-acme,soon" ||
		!s.Routes[2].Public || s.Routes[2].Reason == "" || len(s.Routes[2].Lint) == 0 || s.Routes[2].Lint[0].Rule != "INQ002" ||
		s.Routes[3].Authorizer != "tenant" || s.Routes[0].Authorizer != "" {
		t.Errorf("routes: %+v", s.Routes)
	}

	// The agent's secret file is emptied: the key is revoked; the
	// reload's record says the secret changed.
	if err := os.WriteFile(filepath.Join(f.dir, "agent.key"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := f.e.Reload(); err != nil {
		t.Fatal(err)
	}
	f.get("/_inquir/api/state", &s)
	if k := s.Keys[1]; k.State != "revoked" || !strings.Contains(k.Detail, "agent.key is empty or missing") || len(k.Fingerprints) != 0 || k.Replayable {
		t.Errorf("the emptied file's key: %+v", k)
	}
	if len(s.Reloads) != 1 || s.Reloads[0].Outcome != "applied" || s.Reloads[0].Changes == nil ||
		strings.Join(s.Reloads[0].Changes.SecretsRotated, ",") != "search-agent" {
		t.Errorf("reloads: %+v", s.Reloads)
	}
	// A refused reload is in the timeline with its error.
	if err := os.WriteFile(filepath.Join(f.dir, "inquir.toml"), []byte(testConfig()+"\n[keys.broken]\nsecret = \""+literal+"\"\ngroups = 3\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := f.e.Reload(); err == nil {
		t.Fatal("a broken config reloaded")
	}
	f.get("/_inquir/api/state", &s)
	if len(s.Reloads) != 2 || s.Reloads[1].Outcome != "refused" || !strings.Contains(s.Reloads[1].Error, "groups") {
		t.Errorf("reloads after a refused one: %+v", s.Reloads)
	}
	f.noSecrets()
}

// TestDetailRedacted: what the page shows of a request (its path, the
// event the function received, its answer, curl and testscript) hides
// every secret as the log does, and names a key's secret by a placeholder.
func TestDetailRedacted(t *testing.T) {
	f := newFixture(t)
	// The path holds a secret (a client that put it there), and the
	// function echoes the path.
	path := "/hello/" + literal
	f.do("GET", path, map[string]string{"x-api-key": acmeSecret, "Authorization": "Bearer " + agentSecret}, "")
	id := f.idOf("GET", "/hello/[redacted]")
	var d struct {
		Path       string      `json:"path"`
		Headers    [][2]string `json:"headers"`
		Event      struct{ Text string }
		Answer     struct{ Body struct{ Text string } }
		Curl       string
		Testscript string
	}
	f.get("/_inquir/api/requests/"+itoa(id), &d)
	if d.Path != "/hello/[redacted]" || !strings.Contains(d.Event.Text, `"path":"/hello/[redacted]"`) || !strings.Contains(d.Answer.Body.Text, "[redacted]") {
		t.Errorf("detail: %+v", d)
	}
	if !strings.Contains(d.Curl, `x-api-key: $PARTNER_ACME_KEY`) || !strings.Contains(d.Testscript, `'x-api-key: '$PARTNER_ACME_KEY`) ||
		!strings.Contains(d.Testscript, "stdout '^200$'") {
		t.Errorf("copies:\n%s\n%s", d.Curl, d.Testscript)
	}
	found := false
	for _, h := range d.Headers {
		if strings.EqualFold(h[0], "x-api-key") {
			found = h[1] == "[key partner-acme]"
		}
	}
	if !found {
		t.Errorf("the key header is not shown as its placeholder: %v", d.Headers)
	}
	f.noSecrets()
}

// TestDetailRedactedDigestKey: a key known by its sha256: digest alone has
// a secret the Redactor cannot know; nor can it know a secret no key has
// (a caller's key of another system, mistyped). Where the request spelled
// the key header's value elsewhere (its path, a query, another header) and
// the function echoed it, the page hides it as it hides the key header.
func TestDetailRedactedDigestKey(t *testing.T) {
	f := newFixture(t)
	for _, secret := range []string{digestSecret, unknown} {
		f.do("GET", "/hello/"+secret+"?k="+secret, map[string]string{"x-api-key": secret, "X-Echo": "Bearer " + secret}, "")
	}
	n := 0
	ss := f.stream(1, func(s summary) bool {
		if s.Path == "/hello/[redacted]" {
			n++
		}
		return n == 2
	})
	for _, s := range ss {
		f.get("/_inquir/api/requests/"+itoa(s.ID), nil)
		// The replay's answer echoes the path too.
		var a struct{ Status int }
		f.post("/_inquir/api/replay", map[string]any{"id": s.ID, "as": "as-is"}, &a)
	}
	if len(ss) != 2 {
		t.Errorf("%d requests read, want 2", len(ss))
	}
	f.noSecrets()
}
