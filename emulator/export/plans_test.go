package export_test

// Usage plans against a real HAProxy running the export in front of a
// recording upstream, request by request beside inquir's own gateway: a
// burst past the bucket gets inquir's 429 and never reaches the upstream,
// a route's own throttle is its own bucket, a quota counts only what went
// through, a key with no plan is not limited, and under compat = "aws" the
// bodies are AWS's, byte for byte.

import (
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/inquir-dev/inquir/emulator/export"
	"github.com/inquir-dev/inquir/emulator/gateway"
	"github.com/inquir-dev/inquir/emulator/policy"
)

// planConfig has a plan of each kind and a key on each, and one with none.
const planConfig = `
[plans.small]
rate = 1
burst = 3

[[plans.small.routes]]
method = "POST"
path = "/items/{id}"
rate = 0.5
burst = 2

[[plans.small.routes]]
method = "GET"
path = "/reports"
rate = 0.1
burst = 1

[plans.daily]
quota = { limit = 4, period = "DAY" }

[plans.weekly]
rate = 100
burst = 100
quota = { limit = 2, period = "WEEK" }

[plans.monthly]
quota = { limit = 5, period = "MONTH", offset = 2 }

[keys.limited]
secret = "export-plan-limited"
plan = "small"

[keys.daily]
secret = "export-plan-daily"
plan = "daily"

[keys.weekly]
secret = "export-plan-weekly"
plan = "weekly"

[keys.monthly]
secret = "export-plan-monthly"
plan = "monthly"

[keys.free]
secret = "export-plan-free"

[functions.f]
runtime = "process"
command = ["./f"]

[[routes]]
method = "GET"
path = "/items/{id}"
function = "f"

[[routes]]
method = "POST"
path = "/items/{id}"
function = "f"

[[routes]]
method = "ANY"
path = "/other"
function = "f"

[[routes]]
method = "GET"
path = "/reports"
function = "f"

[[routes]]
method = "GET"
path = "/health"
function = "f"
auth = "none"
reason = "health checks carry no key"
`

func writePlanConfig(t *testing.T, gatewayLines string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "inquir.toml")
	text := "[gateway]\nkey_header = \"X-Api-Key\"\n" + gatewayLines + planConfig
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// planStep is one request of a sequence and what HAProxy must answer.
type planStep struct {
	method, path, key string
	header            []string
	status            int
	reason            string // the 429's "error"
}

// retryIn is the wait a 429's message names.
var retryIn = regexp.MustCompile(`(retry|resets) in (\d+) s`)

func TestPlansBehindHAProxy(t *testing.T) {
	requireHAProxy(t)
	for _, compat := range []string{"inquir", "aws"} {
		t.Run(compat, func(t *testing.T) {
			lines := ""
			if compat == "aws" {
				lines = "compat = \"aws\"\n"
			}
			config := writePlanConfig(t, lines)
			up := newUpstream(t, "all")
			dir := exportTo(t, config, up.URL)
			h := startHAProxy(t, dir)
			p, err := policy.Load(config)
			if err != nil {
				t.Fatal(err)
			}
			inv := &invoker{}
			g := gateway.New(gateway.Options{Invoker: inv})
			g.SetPolicy(p)
			gw := httptest.NewServer(g)
			defer gw.Close()

			seq := []planStep{
				// GET /reports has a throttle of its own; a HEAD, which the
				// GET route serves, takes it too rather than the plan's.
				{"GET", "/reports", "limited", nil, 200, ""},
				{"HEAD", "/reports", "limited", nil, 429, "rate_limited"},
				// The bucket: 3 at once, then 429 with a second to wait.
				{"GET", "/items/1", "limited", nil, 200, ""},
				{"GET", "/items/2", "limited", nil, 200, ""},
				{"GET", "/other", "limited", nil, 200, ""},
				{"GET", "/items/3", "limited", nil, 429, "rate_limited"},
				{"DELETE", "/other", "limited", nil, 429, "rate_limited"},
				// POST /items/{id} has its own bucket in the plan: 2, then 2 s.
				{"POST", "/items/1", "limited", nil, 200, ""},
				{"POST", "/items/1", "limited", nil, 200, ""},
				{"POST", "/items/1", "limited", nil, 429, "rate_limited"},
				// Refused before the plan: no token spent, no 429.
				{"GET", "/nope", "limited", nil, 404, ""},
				{"GET", "/items/1", "", nil, 401, ""},
				// A public route and a key with no plan: not limited.
				{"GET", "/health", "limited", nil, 200, ""},
				{"GET", "/health", "", nil, 200, ""},
				{"GET", "/items/1", "free", nil, 200, ""},
				{"GET", "/items/1", "free", nil, 200, ""},
				{"GET", "/items/1", "free", nil, 200, ""},
				{"GET", "/items/1", "free", nil, 200, ""},
				{"GET", "/items/1", "free", nil, 200, ""},
				// The quota: a request refused past the plan (413) spends
				// none of it; 4 go through, the fifth is refused until
				// midnight UTC.
				{"POST", "/items/1", "daily", []string{"Content-Length", "7000000"}, 413, ""},
				{"GET", "/items/1", "daily", nil, 200, ""},
				{"POST", "/items/1", "daily", nil, 200, ""},
				{"GET", "/other", "daily", nil, 200, ""},
				{"HEAD", "/items/1", "daily", nil, 200, ""},
				{"GET", "/items/1", "daily", nil, 429, "quota_exceeded"},
				{"GET", "/items/1", "daily", nil, 429, "quota_exceeded"},
				// A week's quota, from Sunday 00:00 UTC.
				{"GET", "/items/1", "weekly", nil, 200, ""},
				{"GET", "/items/1", "weekly", nil, 200, ""},
				{"GET", "/items/1", "weekly", nil, 429, "quota_exceeded"},
				// A month's, less the offset in the first month.
				{"GET", "/items/1", "monthly", nil, 200, ""},
				{"GET", "/items/1", "monthly", nil, 200, ""},
				{"GET", "/items/1", "monthly", nil, 200, ""},
				{"GET", "/items/1", "monthly", nil, 429, "quota_exceeded"},
			}
			secrets := map[string]string{}
			for _, id := range []string{"limited", "daily", "weekly", "monthly", "free"} {
				secrets[id] = "export-plan-" + id
			}
			var refilling time.Time // when the plan's bucket was found empty
			for i, s := range seq {
				if i == 5 {
					refilling = time.Now()
				}
				header := append([]string{}, s.header...)
				if s.key != "" {
					header = append(header, "X-Api-Key", secrets[s.key])
				}
				name := strconv.Itoa(i) + ": " + s.method + " " + s.path + " " + s.key
				calls := inv.calls
				want, wantBody := rawRequest(t, strings.TrimPrefix(gw.URL, "http://"), s.method, s.path, header...)
				up.take()
				got, gotBody := rawRequest(t, strings.TrimPrefix(h.URL, "http://"), s.method, s.path, header...)
				reached := len(up.take()) > 0
				status := s.status
				if compat == "aws" && (status == 401 || status == 404) {
					status = 403 // API Gateway's answer to every refusal but a 429
				}
				if got.StatusCode != status || want.StatusCode != status {
					t.Errorf("%s: haproxy %d %s, inquir %d %s, want %d", name, got.StatusCode, gotBody, want.StatusCode, wantBody, status)
					continue
				}
				if (inv.calls > calls) != reached {
					t.Errorf("%s: inquir invoked the function: %v; haproxy reached the upstream: %v", name, inv.calls > calls, reached)
				}
				if s.status == 200 {
					continue
				}
				if g, w := got.Header.Get("Content-Type"), want.Header.Get("Content-Type"); g != w {
					t.Errorf("%s: Content-Type haproxy %q, inquir %q", name, g, w)
				}
				// The wait is the same, but for the second either side may
				// have crossed between the two requests.
				gb, wb := string(gotBody), string(wantBody)
				if gm, wm := retryIn.FindStringSubmatch(gb), retryIn.FindStringSubmatch(wb); gm != nil && wm != nil {
					gn, _ := strconv.Atoi(gm[2])
					wn, _ := strconv.Atoi(wm[2])
					if gn-wn > 1 || wn-gn > 1 {
						t.Errorf("%s: haproxy says wait %d s, inquir %d s", name, gn, wn)
					}
					gb = strings.Replace(gb, gm[0], wm[0], 1)
					if gr, wr := got.Header.Get("Retry-After"), want.Header.Get("Retry-After"); gr != gm[2] || wr != wm[2] {
						t.Errorf("%s: Retry-After haproxy %q (body %s), inquir %q (body %s)", name, gr, gm[2], wr, wm[2])
					}
				} else if g, w := got.Header.Values("Retry-After"), want.Header.Values("Retry-After"); len(g) != len(w) {
					t.Errorf("%s: Retry-After haproxy %q, inquir %q", name, g, w)
				}
				if gb != wb {
					t.Errorf("%s: haproxy body %q, inquir %q", name, gotBody, wantBody)
				}
				if s.status == 429 && s.method != "HEAD" { // a HEAD's answer has no body
					if compat == "aws" {
						body := map[string]string{"rate_limited": `{"message":"Too Many Requests"}` + "\n", "quota_exceeded": `{"message":"Limit Exceeded"}` + "\n"}[s.reason]
						if string(gotBody) != body || got.Header.Get("Retry-After") != "" {
							t.Errorf("%s: haproxy %q, Retry-After %q; want AWS's %q and no Retry-After", name, gotBody, got.Header.Get("Retry-After"), body)
						}
					} else if !strings.Contains(string(gotBody), `"error":"`+s.reason+`"`) {
						t.Errorf("%s: haproxy %s, want %s", name, gotBody, s.reason)
					}
				}
			}

			// The bucket refills at its rate: a second on, one more token;
			// the 429s meanwhile took none.
			time.Sleep(time.Until(refilling.Add(1100 * time.Millisecond)))
			for i, want := range []int{200, 429} {
				resp, body := rawRequest(t, strings.TrimPrefix(h.URL, "http://"), "GET", "/items/1", "X-Api-Key", secrets["limited"])
				if resp.StatusCode != want {
					t.Errorf("after a second, request %d: %d %s, want %d", i, resp.StatusCode, body, want)
				}
			}
		})
	}
}

// TestPlansHoldUnderConcurrency: many requests with one key at the same
// instant, on HAProxy's threads at once, get through no more often than
// the bucket and the quota allow.
func TestPlansHoldUnderConcurrency(t *testing.T) {
	requireHAProxy(t)
	config := filepath.Join(t.TempDir(), "inquir.toml")
	text := `[gateway]
key_header = "X-Api-Key"

[plans.slow]
rate = 0.01
burst = 5

[plans.few]
quota = { limit = 4, period = "DAY" }

[keys.slow]
secret = "export-plan-slow"
plan = "slow"

[keys.few]
secret = "export-plan-few"
plan = "few"

[functions.f]
runtime = "process"
command = ["./f"]

[[routes]]
method = "GET"
path = "/items/{id}"
function = "f"
`
	if err := os.WriteFile(config, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	up := newUpstream(t, "all")
	dir := exportTo(t, config, up.URL)
	h := startHAProxy(t, dir)
	addr := strings.TrimPrefix(h.URL, "http://")
	for _, c := range []struct {
		secret string
		most   int
	}{{"export-plan-slow", 5}, {"export-plan-few", 4}} {
		const n = 40
		statuses := make(chan int, n)
		start := make(chan struct{})
		for i := 0; i < n; i++ {
			go func() {
				<-start
				status := 0
				if resp, _, err := sendRaw(addr, "GET", "/items/1", "X-Api-Key", c.secret); err == nil {
					status = resp.StatusCode
				}
				statuses <- status
			}()
		}
		close(start)
		counts := map[int]int{}
		for i := 0; i < n; i++ {
			counts[<-statuses]++
		}
		reached := len(up.take())
		t.Logf("%s: %d requests at once: answers %v", c.secret, n, counts)
		if reached > c.most || reached < 1 || counts[200] != reached || counts[429] != n-reached {
			t.Errorf("%s: %d requests at once: answers %v, %d reached the upstream; want at most %d through and the rest 429", c.secret, n, counts, reached, c.most)
		}
	}
}

// TestPlanFollowsRotation: a plan given to a key through the runtime API
// (README.md's recipe, no reload) limits it at once.
func TestPlanFollowsRotation(t *testing.T) {
	requireHAProxy(t)
	config := filepath.Join(t.TempDir(), "inquir.toml")
	write := func(plan string) {
		t.Helper()
		text := `[gateway]
key_header = "X-Api-Key"

[plans.two]
rate = 0.01
burst = 2

[keys.acme]
secret = "export-plan-acme"
` + plan + `
[functions.f]
runtime = "process"
command = ["./f"]

[[routes]]
method = "GET"
path = "/items/{id}"
function = "f"
`
		if err := os.WriteFile(config, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("")
	up := newUpstream(t, "all")
	dir := exportTo(t, config, up.URL)
	h := startHAProxy(t, dir)
	addr := strings.TrimPrefix(h.URL, "http://")
	send := func(n int) []int {
		var out []int
		for i := 0; i < n; i++ {
			resp, _ := rawRequest(t, addr, "GET", "/items/1", "X-Api-Key", "export-plan-acme")
			out = append(out, resp.StatusCode)
		}
		return out
	}
	if got := send(4); fmt.Sprint(got) != "[200 200 200 200]" {
		t.Fatalf("with no plan: %v", got)
	}
	write(`plan = "two"`)
	if code, out := runCLI(t, "export", "--target", "haproxy", "--config", config, "--out", dir, "--upstream", up.URL); code != 0 {
		t.Fatalf("re-export: exit %d\n%s", code, out)
	}
	applyMaps(t, h.Socket, dir)
	if got := send(3); fmt.Sprint(got) != "[200 200 429]" {
		t.Errorf("with plan two (burst 2) given through the runtime API: %v, want [200 200 429]", got)
	}
}

// TestPlansVerifyBehindHAProxy: inquir verify --url --plans passes against
// the exported HAProxy with every plan key's secret, and fails (a
// MISMATCH, exit 1) against a copy whose 429 answers were removed, so that
// buckets and quotas no longer hold (issue 17).
func TestPlansVerifyBehindHAProxy(t *testing.T) {
	requireHAProxy(t)
	config := writePlanConfig(t, "")
	keys := map[string]string{}
	for _, id := range []string{"limited", "daily", "weekly", "monthly", "free"} {
		keys[id] = "export-plan-" + id
	}
	for _, weaken := range []bool{false, true} {
		name := "as exported"
		if weaken {
			name = "429s removed"
		}
		t.Run(name, func(t *testing.T) {
			up := newUpstream(t, "all")
			dir := exportTo(t, config, up.URL)
			if weaken {
				cfgPath := filepath.Join(dir, export.ConfigFile)
				b, err := os.ReadFile(cfgPath)
				if err != nil {
					t.Fatal(err)
				}
				var kept []string
				for _, l := range strings.Split(string(b), "\n") {
					if !strings.Contains(l, "return status 429") {
						kept = append(kept, l)
					}
				}
				if len(kept) == len(strings.Split(string(b), "\n")) {
					t.Fatal("haproxy.cfg has no 429 answer to remove")
				}
				if err := os.WriteFile(cfgPath, []byte(strings.Join(kept, "\n")), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			h := startHAProxy(t, dir)
			defer h.stop(t)
			code, out := runCLI(t, append([]string{"verify", "--config", config, "--url", h.URL, "--plans"}, keyArgs(keys)...)...)
			switch {
			case !weaken && code != 0:
				t.Fatalf("inquir verify --plans against the exported HAProxy: exit %d, want 0\n%s", code, out)
			case weaken && (code != 1 || !strings.Contains(out, "MISMATCH")):
				t.Fatalf("inquir verify --plans against HAProxy without its 429s: exit %d, want 1 with a MISMATCH\n%s", code, out)
			}
			if testing.Verbose() {
				t.Logf("%s", out)
			}
		})
	}
}
