package verify

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/inquir-dev/inquir/emulator/config"
	"github.com/inquir-dev/inquir/emulator/gateway"
	"github.com/inquir-dev/inquir/emulator/policy"
)

// plansTOML has a partner key on a plan with a bucket, a quota (less an
// offset in its first window) and a per-route throttle of POST on an ANY
// route, and a key with no plan on the same routes. The partner key
// expires soon, which the plan cells must not care about.
var plansTOML = `
[plans.partner]
rate = 2
burst = 3
quota = { limit = 7, period = "DAY", offset = 1 }

[[plans.partner.routes]]
method = "POST"
path = "/search/{index}"
rate = 1
burst = 2

[keys.partner]
secret = "` + digest(partnerSecret) + `"
groups = ["partners"]
plan = "partner"
expires = 2026-03-10T13:00:00Z

[keys.admin]
secret = "` + digest(adminSecret) + `"
groups = ["partners"]

[functions.api]
runtime = "node"
path = "fn.mjs"

[[routes]]
method = "GET"
path = "/orders/{id}"
function = "api"
group = "partners"

[[routes]]
method = "ANY"
path = "/search/{index}"
function = "api"
group = "partners"
`

// verifyNow is the instant the plan tests judge keys at.
var verifyNow = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

func writeConfig(t *testing.T, toml string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range map[string]string{"inquir.toml": toml, "fn.mjs": "export async function handler() {}\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "inquir.toml")
}

// planCells are the cells of a report that a plan's probes added, by
// credential and request.
func planCells(rep *Report) map[string]Cell {
	out := map[string]Cell{}
	for _, c := range rep.Cells {
		if strings.Contains(c.Credential, "plan") {
			out[c.Credential+" "+c.Method+" "+c.Path+" "+c.Want.String()] = c
		}
	}
	return out
}

// TestLocalProbesPlans: verify probes each plan on the local emulator, on
// a clock it stands still and moves: the burst of the plan's bucket and of
// its per-route throttle (a POST to an ANY route), the quota and the next
// window's, and a key with no plan, which is never limited. The matrix
// itself is not refused 429 however many requests the planned key sends.
// Before issue 17, verify sent none of these, and the matrix of a config
// with plans failed on every cell past the burst.
func TestLocalProbesPlans(t *testing.T) {
	for _, tc := range []struct {
		name, prefix      string
		limited, quotaFor string // how the 429s are spelled
	}{
		{"inquir", "", "429 rate_limited", "429 quota_exceeded"},
		{"compat aws", "[gateway]\ncompat = \"aws\"\n", "429 Too Many Requests", "429 Limit Exceeded"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			rep, err := Run(ctx, Options{ConfigPath: writeConfig(t, tc.prefix+plansTOML), Now: func() time.Time { return verifyNow }})
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range rep.Cells {
				if !c.OK {
					t.Errorf("cell %s %s (%s) for %s: want %s, got %s, invoked %d", c.Method, c.Path, c.Credential, c.Route, c.Expectation(), c.Got, c.Invoked)
				}
			}
			if !rep.OK() || rep.NotProbed() > 0 || len(rep.NotChecked) > 0 {
				t.Errorf("report not OK: problems %q, not checked %q, %d not probed", rep.Problems, rep.NotChecked, rep.NotProbed())
			}
			want := map[string]struct {
				sent          int
				expected, got string
			}{
				"key partner (plan partner) GET /orders/inquir-verify 429 rate_limited":                                 {4, "3 × function, then " + tc.limited, "3 × function, then " + tc.limited},
				"key partner (plan partner, POST /search/{index} throttle) POST /search/inquir-verify 429 rate_limited": {3, "2 × function, then " + tc.limited, "2 × function, then " + tc.limited},
				"key partner (plan partner) GET /orders/inquir-verify 429 quota_exceeded":                               {7, "6 × function, then " + tc.quotaFor, "6 × function, then " + tc.quotaFor},
				"key partner (plan partner) GET /orders/inquir-verify function":                                         {0, "function (the next DAY's quota)", "function (200)"},
				"key admin (no plan) GET /orders/inquir-verify function":                                                {4, "4 × function, never 429", "4 × function"},
			}
			got := planCells(rep)
			for name, w := range want {
				c, ok := got[name]
				switch {
				case !ok:
					t.Errorf("no cell %s; plan cells: %v", name, cellNames(got))
				case c.Sent != w.sent || c.Expectation() != w.expected || c.Got != w.got:
					t.Errorf("cell %s: sent %d, expected %q, got %q; want %d, %q, %q", name, c.Sent, c.Expectation(), c.Got, w.sent, w.expected, w.got)
				case c.Want != Reach && c.Invoked != 0:
					t.Errorf("cell %s: the refused request invoked the function %d times", name, c.Invoked)
				}
			}
			if len(got) != len(want) {
				t.Errorf("plan cells %v, want %d", cellNames(got), len(want))
			}
		})
	}
}

func cellNames(m map[string]Cell) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestLocalPlanCellsNotProbed: what verify cannot probe it lists: a burst
// or quota over what it sends, a throttle no request takes (lint INQ018),
// a plan no key has.
func TestLocalPlanCellsNotProbed(t *testing.T) {
	toml := `
[plans.big]
rate = 10
burst = 5000
quota = { limit = 100000, period = "MONTH" }

[[plans.big.routes]]
method = "HEAD"
path = "/orders/{id}"
rate = 1
burst = 1

[plans.nobody]
rate = 1
burst = 1

[keys.partner]
secret = "` + digest(partnerSecret) + `"
groups = ["partners"]
plan = "big"

[functions.api]
runtime = "node"
path = "fn.mjs"

[[routes]]
method = "GET"
path = "/orders/{id}"
function = "api"
group = "partners"
`
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := Run(ctx, Options{ConfigPath: writeConfig(t, toml), Now: func() time.Time { return verifyNow }})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Errorf("report not OK: %q", rep.Problems)
	}
	var notProbed []string
	for _, c := range rep.Cells {
		if c.NotProbed {
			notProbed = append(notProbed, c.Want.String()+": "+c.Got)
		}
	}
	wantNotProbed := []string{
		"429 rate_limited: not probed (a burst of 5000 is over the 1000 requests verify sends)",
		"429 quota_exceeded: not probed (a quota of 100000 is over the 1000 requests verify sends)",
	}
	if strings.Join(notProbed, "\n") != strings.Join(wantNotProbed, "\n") {
		t.Errorf("not probed:\n%s\nwant:\n%s", strings.Join(notProbed, "\n"), strings.Join(wantNotProbed, "\n"))
	}
	wantNotChecked := []string{
		`plan "big"'s throttle of HEAD /orders/{id}: no request takes it (lint INQ018), so it was not probed`,
		`plan "nobody"'s bucket: no key has it, so it was not probed`,
	}
	if strings.Join(rep.NotChecked, "\n") != strings.Join(wantNotChecked, "\n") {
		t.Errorf("not checked:\n%s\nwant:\n%s", strings.Join(rep.NotChecked, "\n"), strings.Join(wantNotChecked, "\n"))
	}
}

// TestURLProbesPlans: against inquir's own gateway over HTTP, on the
// system clock, --plans finds each bucket's 429 and a key with no plan
// never limited, and lists the quota as not probed; without --plans,
// every plan cell is listed as not probed, and nothing is sent for them.
func TestURLProbesPlans(t *testing.T) {
	cfgPath := writeConfig(t, plansTOML)
	p, err := policy.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]string{"partner": partnerSecret, "admin": adminSecret}
	now := func() time.Time { return verifyNow }
	for _, probe := range []bool{true, false} {
		rec := &recorder{calls: map[string]int{}}
		// A clock that moves as the wall clock does, from verifyNow, so
		// the partner key is valid and its buckets refill.
		start := time.Now()
		gw := gateway.New(gateway.Options{Invoker: rec, Now: func() time.Time { return verifyNow.Add(time.Since(start)) }})
		gw.SetPolicy(p)
		srv := httptest.NewServer(gw)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		rep, err := Run(ctx, Options{ConfigPath: cfgPath, URL: srv.URL, Keys: keys, Now: now, Plans: probe})
		cancel()
		srv.Close()
		gw.Close()
		if err != nil {
			t.Fatal(err)
		}
		got := planCells(rep)
		for name, c := range got {
			switch {
			case strings.Contains(name, "quota_exceeded"):
				if !c.NotProbed || c.Got != "not probed (verify spends no quota against --url: it is the key's own)" {
					t.Errorf("--plans=%v: quota cell %+v, want not probed", probe, c)
				}
			case !probe:
				if !c.NotProbed || c.Got != "not probed (give --plans to probe usage plans)" || c.Sent != 0 {
					t.Errorf("--plans=false: cell %s: %+v, want not probed", name, c)
				}
			case !c.OK:
				t.Errorf("--plans: cell %s: want %s, got %s", name, c.Expectation(), c.Got)
			}
		}
		if len(got) != 4 {
			t.Errorf("--plans=%v: plan cells %v, want the bucket's, the throttle's, the quota's and the key with no plan's", probe, cellNames(got))
		}
		if rep.Mismatches() > 0 || len(rep.Problems) > 0 {
			t.Errorf("--plans=%v: %d mismatches, problems %q", probe, rep.Mismatches(), rep.Problems)
		}
	}
}

// TestURLFailsGatewayIgnoringPlans: a gateway that enforces keys but not
// plans (the fake gateway knows nothing of them) fails verify --url
// --plans on each bucket: more requests went through than the bucket can
// have let through. One that limits every key, plan or none, fails the
// key with no plan.
func TestURLFailsGatewayIgnoringPlans(t *testing.T) {
	// The fake gateway judges keys by the wall clock.
	toml := strings.Replace(plansTOML, "expires = 2026-03-10T13:00:00Z\n", "", 1)
	cfgPath, url := startGateway(t, toml, "", "inquir")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	keys := map[string]string{"partner": partnerSecret, "admin": adminSecret}
	rep, err := Run(ctx, Options{ConfigPath: cfgPath, URL: url, Keys: keys, Plans: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK() {
		t.Fatal("verify --plans passed a gateway that ignores plans")
	}
	for _, c := range rep.Cells {
		if !c.OK && !c.NotProbed && c.Want != Limited {
			t.Errorf("cell %s %s (%s): want %s, got %s; only the plans' cells should fail", c.Method, c.Path, c.Credential, c.Expectation(), c.Got)
		}
	}
	failed := 0
	for name, c := range planCells(rep) {
		if c.Want == Limited {
			if c.OK || !strings.Contains(c.Got, "never 429: the bucket lets at most") {
				t.Errorf("cell %s: got %q, ok %v; want a mismatch", name, c.Got, c.OK)
			}
			failed++
		}
	}
	if failed != 2 {
		t.Errorf("%d burst cells, want 2 (the bucket and the throttle)", failed)
	}

	// Every key limited: the key with no plan is refused.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "1")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		w.Write([]byte(`{"error":"rate_limited","message":"slow down"}`))
	}))
	defer srv.Close()
	rep, err = Run(ctx, Options{ConfigPath: cfgPath, URL: srv.URL, Keys: keys, Plans: true})
	if err != nil {
		t.Fatal(err)
	}
	c, ok := planCells(rep)["key admin (no plan) GET /orders/inquir-verify function"]
	if !ok || c.OK || c.Got != "429 rate_limited (after 0 requests reached the function)" {
		t.Errorf("the key with no plan's cell: %+v", c)
	}
}

// runsAfter429 is a gateway that enforces plans but runs the function of
// a request it refuses 429 anyway, as one that limits after invoking
// would: only the local recorder can show it.
type runsAfter429 struct {
	gw  *gateway.Gateway
	rec *recorder
}

func (g runsAfter429) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rr := httptest.NewRecorder()
	g.gw.ServeHTTP(rr, r)
	if rr.Code == http.StatusTooManyRequests {
		g.rec.Invoke(r.Context(), "api", []byte(`{}`))
	}
	for name, v := range rr.Header() {
		w.Header()[name] = v
	}
	w.WriteHeader(rr.Code)
	w.Write(rr.Body.Bytes())
}

// TestLocalPlanCellFailsWhenRefusedRequestRuns: the local probes hold a
// 429 to the rule every refusal is held to: nothing of the function ran.
// A gateway that answers 429 and runs the function anyway fails the
// bucket's and the quota's cells, naming the invocation.
func TestLocalPlanCellFailsWhenRefusedRequestRuns(t *testing.T) {
	cfg, err := config.Load(writeConfig(t, plansTOML))
	if err != nil {
		t.Fatal(err)
	}
	made, creds := withMadeSecrets(cfg)
	noPlans, err := policy.Compile(withoutPlans(made))
	if err != nil {
		t.Fatal(err)
	}
	planned, err := policy.Compile(alwaysValid(made))
	if err != nil {
		t.Fatal(err)
	}
	clock := policy.NewManualClock(verifyNow)
	rec := &recorder{calls: map[string]int{}}
	gw := gateway.New(gateway.Options{Invoker: rec, Clock: clock})
	defer gw.Close()
	gw.SetPolicy(planned)
	srv := httptest.NewServer(runsAfter429{gw, rec})
	defer srv.Close()
	pp := &planProber{ctx: context.Background(), client: srv.Client(), p: planned, url: srv.URL, now: verifyNow, creds: byKeyID(creds), probe: true,
		rec: rec, clock: clock, reset: func() { gw.SetPolicy(noPlans); gw.SetPolicy(planned) }}
	rep := &Report{}
	pp.run(rep)
	bad := 0
	for _, c := range rep.Cells {
		if c.Want == Limited || c.Want == QuotaSpent {
			if c.OK || c.Invoked != 1 {
				t.Errorf("cell %s %s (%s): ok %v, invoked %d; want a mismatch with 1 invocation", c.Method, c.Path, c.Credential, c.OK, c.Invoked)
			}
			bad++
		}
	}
	if bad != 3 || rep.OK() {
		t.Errorf("%d refusal cells failed, report OK %v; want 3 and not OK", bad, rep.OK())
	}
}

// TestRefusedFor pins which 429 counts as the gateway's: inquir's body
// for the reason the cell expects, with Retry-After; under compat = "aws",
// API Gateway's; for HEAD, which has no body, the status and fields.
func TestRefusedFor(t *testing.T) {
	inquir := &planProber{p: &policy.Policy{Config: &config.Config{}}}
	aws := &planProber{p: &policy.Policy{Config: &config.Config{Gateway: config.Gateway{Compat: config.CompatAWS}}}}
	retry := http.Header{"Retry-After": {"1"}}
	for _, tc := range []struct {
		name         string
		pp           *planProber
		method, body string
		header       http.Header
		reason, want string
	}{
		{"inquir's", inquir, "GET", `{"error":"rate_limited","message":"…"}`, retry, rateLimited, ""},
		{"no Retry-After", inquir, "GET", `{"error":"rate_limited","message":"…"}`, nil, rateLimited, "429 rate_limited with no Retry-After"},
		{"the other reason", inquir, "GET", `{"error":"quota_exceeded","message":"…"}`, retry, rateLimited, "429 quota_exceeded, not rate_limited"},
		{"another gateway's body", inquir, "GET", `{"message":"API rate limit exceeded"}`, retry, rateLimited, "429, not inquir's body"},
		{"AWS's body under inquir", inquir, "GET", `{"message":"Too Many Requests"}`, retry, rateLimited, "429, not inquir's body"},
		{"AWS's", aws, "GET", `{"message":"Limit Exceeded"}`, nil, quotaExceeded, ""},
		{"inquir's body under aws", aws, "GET", `{"error":"rate_limited"}`, retry, rateLimited, "429, not API Gateway's body"},
		{"HEAD", inquir, "HEAD", "", retry, rateLimited, ""},
		{"HEAD without Retry-After", inquir, "HEAD", "", nil, rateLimited, "429 with no Retry-After"},
		{"the function", inquir, "GET", `ok`, nil, rateLimited, "function (200)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status := http.StatusTooManyRequests
			if tc.body == "ok" {
				status = http.StatusOK
			}
			a := answer{status: status, kind: classify(status, []byte(tc.body), tc.pp.aws()), header: tc.header, body: []byte(tc.body)}
			if a.kind == throttled {
				a.reason, a.said = throttleReason(a.body, tc.pp.aws())
			}
			if got := tc.pp.refusedFor(a, tc.method, tc.reason); got != tc.want {
				t.Errorf("refusedFor = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestLocalProbesHEADThrottle: a throttle of HEAD on an ANY route is
// probed with HEAD, whose 429 has no body to read.
func TestLocalProbesHEADThrottle(t *testing.T) {
	toml := strings.Replace(plansTOML, `method = "POST"
path = "/search/{index}"`, `method = "HEAD"
path = "/search/{index}"`, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := Run(ctx, Options{ConfigPath: writeConfig(t, toml), Now: func() time.Time { return verifyNow }})
	if err != nil {
		t.Fatal(err)
	}
	c, ok := planCells(rep)["key partner (plan partner, HEAD /search/{index} throttle) HEAD /search/inquir-verify 429 rate_limited"]
	if !ok || !c.OK || c.Got != "2 × function, then 429" {
		t.Errorf("HEAD throttle cell %+v; plan cells %v", c, cellNames(planCells(rep)))
	}
	if !rep.OK() || rep.NotProbed() > 0 {
		t.Errorf("report not OK: %q, %d not probed", rep.Problems, rep.NotProbed())
	}
}

// TestLocalUnplannedExpiredKey: the burst of a key with no plan is sent on
// the emulator with the plans in force and every key valid, as the plan
// probes are, whatever the key's expiry: the matrix's instant is not the
// plans' question. Before, it was sent first, on the matrix's policy (no
// plans in force, keys as valid as at Now): an expired key with no plan got
// 401 on its first request, a mismatch (seen by the live page's browser
// test, issue 19).
func TestLocalUnplannedExpiredKey(t *testing.T) {
	toml := strings.Replace(plansTOML, "[keys.admin]\nsecret = \""+digest(adminSecret)+"\"\ngroups = [\"partners\"]\n",
		"[keys.admin]\nsecret = \""+digest(adminSecret)+"\"\ngroups = [\"partners\"]\nexpires = 2026-01-01T00:00:00Z\n", 1)
	if toml == plansTOML {
		t.Fatal("the admin key was not made to expire")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := Run(ctx, Options{ConfigPath: writeConfig(t, toml), Now: func() time.Time { return verifyNow }})
	if err != nil {
		t.Fatal(err)
	}
	c, ok := planCells(rep)["key admin (no plan) GET /orders/inquir-verify function"]
	if !ok || !c.OK || c.Got != "4 × function" {
		t.Errorf("the unplanned key's cell: %+v (found %v); plan cells %v", c, ok, cellNames(planCells(rep)))
	}
}
