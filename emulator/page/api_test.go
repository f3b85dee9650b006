package page_test

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rogpeppe/go-internal/txtar"

	"github.com/inquir-dev/inquir/emulator/page"
	"github.com/inquir-dev/inquir/emulator/verify"
)

// TestSafety: a state-changing call needs this run's token, from the
// page's origin, as JSON; a Host that is not loopback gets neither the
// page nor its token. A refused call replays nothing: the function's
// count stays.
func TestSafety(t *testing.T) {
	f := newFixture(t)
	f.do("GET", "/hello/ada", map[string]string{"x-api-key": acmeSecret}, "")
	id := f.idOf("GET", "/hello/ada")
	before := f.fn.count("hello")
	body := `{"id":` + itoa(id) + `,"as":"as-is"}`
	ok := map[string]string{"Content-Type": "application/json", page.TokenHeader: f.token, "Origin": f.e.URL(), "Sec-Fetch-Site": "same-origin"}
	with := func(change map[string]string) map[string]string {
		h := map[string]string{}
		for k, v := range ok {
			h[k] = v
		}
		for k, v := range change {
			if v == "" {
				delete(h, k)
			} else {
				h[k] = v
			}
		}
		return h
	}
	for _, c := range []struct {
		name   string
		method string
		header map[string]string
		want   int
	}{
		{"no token", "POST", with(map[string]string{page.TokenHeader: ""}), 403},
		{"another run's token", "POST", with(map[string]string{page.TokenHeader: "x" + f.token[1:]}), 403},
		{"cross-site fetch", "POST", with(map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "http://evil.example"}), 403},
		{"same-site but another origin", "POST", with(map[string]string{"Sec-Fetch-Site": "same-site"}), 403},
		{"another origin", "POST", with(map[string]string{"Origin": "http://evil.example", "Sec-Fetch-Site": ""}), 403},
		{"a form's content type", "POST", with(map[string]string{"Content-Type": "text/plain"}), 415},
		{"DNS rebinding", "POST", with(map[string]string{"Host": "evil.example", "Origin": "http://evil.example"}), 421},
		{"GET", "GET", ok, 405},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, out := f.do(c.method, "/_inquir/api/replay", c.header, body)
			if code != c.want {
				t.Errorf("%d %s, want %d", code, out, c.want)
			}
		})
	}
	if n := f.fn.count("hello") - before; n != 0 {
		t.Errorf("refused replays invoked the function %d times", n)
	}
	// A non-browser client with the token (it read the page) may replay.
	if code, out := f.do("POST", "/_inquir/api/replay", with(map[string]string{"Origin": "", "Sec-Fetch-Site": ""}), body); code != 200 || f.fn.count("hello")-before != 1 {
		t.Errorf("a replay with the token and no Origin: %d %s, function ran %d times", code, out, f.fn.count("hello")-before)
	}

	for _, path := range []string{"/_inquir/api/state", "/_inquir/events", "/_inquir/api/requests/" + itoa(id)} {
		if code, _ := f.do("GET", path, map[string]string{"Sec-Fetch-Site": "cross-site"}, ""); code != 403 {
			t.Errorf("a cross-site read of %s: %d, want 403", path, code)
		}
	}
	if code, _ := f.do("GET", "/_inquir/", map[string]string{"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"}, ""); code != 200 {
		t.Errorf("a link to the page from another site: %d, want 200", code)
	}
	code, out := f.do("GET", "/_inquir/", map[string]string{"Host": "rebound.example:8787"}, "")
	if code != 421 || strings.Contains(out, f.token) {
		t.Errorf("the page under a rebound Host: %d %s", code, out)
	}
	code, _ = f.do("GET", "/_inquir/", nil, "")
	if code != 200 {
		t.Errorf("the page: %d", code)
	}
	f.noSecrets()
}

// TestReplay: as is, with no key (401, and the function does not run), as
// another key (its secret from where inquir resolved it, never sent to
// the page), and as a key inquir holds only the digest of, with a typed
// secret.
func TestReplay(t *testing.T) {
	f := newFixture(t)
	f.do("GET", "/hello/ada", map[string]string{"x-api-key": acmeSecret}, "")
	id := f.idOf("GET", "/hello/ada")
	type answer struct {
		Status  int    `json:"status"`
		Sent    string `json:"sent"`
		Invoked int    `json:"invoked"`
	}
	for _, c := range []struct {
		name string
		req  map[string]any
		want answer
	}{
		{"as is", map[string]any{"id": id, "as": "as-is"}, answer{200, "key partner-acme, as sent", 1}},
		{"no key", map[string]any{"id": id, "as": "no-key"}, answer{401, "no key", 0}},
		{"another key", map[string]any{"id": id, "as": "key", "key": "search-agent"}, answer{403, "key search-agent", 0}},
		{"an expired key", map[string]any{"id": id, "as": "key", "key": "old"}, answer{401, "key old", 0}},
		{"a digest key with its secret typed", map[string]any{"id": id, "as": "key", "key": "digest", "secret": digestSecret}, answer{200, "key digest", 1}},
		{"a wrong secret typed", map[string]any{"id": id, "as": "key", "key": "digest", "secret": unknown}, answer{401, "a secret that is not key digest's", 0}},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := f.fn.count("hello")
			var got answer
			f.post("/_inquir/api/replay", c.req, &got)
			if got != c.want {
				t.Errorf("replay: %+v, want %+v", got, c.want)
			}
			if n := f.fn.count("hello") - before; n != c.want.Invoked {
				t.Errorf("the function ran %d times, want %d", n, c.want.Invoked)
			}
		})
	}
	code, out := f.do("POST", "/_inquir/api/replay", map[string]string{"Content-Type": "application/json", page.TokenHeader: f.token},
		`{"id":`+itoa(id)+`,"as":"key","key":"digest"}`)
	if code != 400 || !strings.Contains(out, "type one") {
		t.Errorf("a digest key with no secret typed: %d %s", code, out)
	}
	f.noSecrets()
}

// TestMatrixMatchesVerify: the page's matrix for a route is `inquir
// verify`'s cells for it (no key, a bogus key, each key, and the token a
// route's authorizer decides): the same expectation and the same answer
// for every key the page holds a secret of; the key it holds only a digest
// of, and the authorizer's token, listed as not probed.
func TestMatrixMatchesVerify(t *testing.T) {
	f := newFixture(t)
	rep := runVerify(t, f)
	for _, c := range []struct{ path, route, sample string }{
		{"/hello/ada", "GET /hello/{name}", "GET /hello/inquir-verify"},
		{"/orders/7", "GET /orders/{id}", "GET /orders/inquir-verify"},
	} {
		t.Run(c.route, func(t *testing.T) {
			f.do("GET", c.path, nil, "")
			id := f.idOf("GET", c.path)
			var rows []struct {
				Request, Credential, Expect, Got, Result string
				Invoked                                  int
			}
			f.post("/_inquir/api/matrix", map[string]any{"id": id}, &rows)
			got, want := map[string]string{}, map[string]string{}
			for _, r := range rows {
				if r.Result == "not probed" {
					got[r.Credential] = r.Expect + " | not probed"
					continue
				}
				got[r.Credential] = r.Expect + " | " + r.Got
				if r.Result != "ok" {
					t.Errorf("matrix cell %+v is not ok", r)
				}
				if (r.Expect == "function") != (r.Invoked == 1) {
					t.Errorf("matrix cell %+v: invoked %d", r, r.Invoked)
				}
			}
			for _, vc := range rep.Cells {
				// The matrix's cells; a usage plan's ("key x (plan p)",
				// "key y (no plan)") are not.
				if vc.Route != c.route || vc.Method+" "+vc.Path != c.sample || strings.Contains(vc.Credential, "plan)") || strings.Contains(vc.Credential, "(plan ") {
					continue
				}
				if _, dup := want[vc.Credential]; dup {
					continue
				}
				want[vc.Credential] = vc.Expectation() + " | " + vc.Got
				if vc.Credential == "key digest" || vc.NotProbed {
					want[vc.Credential] = vc.Expectation() + " | not probed"
				}
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("the page's matrix against inquir verify's (-verify +page):\n%s", d)
			}
			if len(got) < 6 {
				t.Errorf("the matrix has %d cells: %v", len(got), got)
			}
		})
	}
	f.noSecrets()
}

// TestWhy: each refusal's sentence and the config line that decided it.
func TestWhy(t *testing.T) {
	f := newFixture(t)
	type why struct {
		Sentence, File, Field, Text string
		Line                        int
	}
	for _, c := range []struct {
		name   string
		method string
		path   string
		key    string
		want   why
	}{
		{"no key", "GET", "/hello/no-key", "", why{Sentence: "no key was sent in the x-api-key header, and route GET /hello/{name} needs one: keys digest, partner-acme, soon may call it",
			File: "inquir.toml", Line: 34, Field: "routes[0]", Text: "[[routes]]"}},
		{"forbidden", "GET", "/hello/forbidden", agentSecret, why{Sentence: "key search-agent is in group internal; route GET /hello/{name} needs group public-api",
			File: "inquir.toml", Line: 38, Field: "routes[0].group", Text: `group = "public-api"`}},
		{"expired", "GET", "/hello/expired", oldSecret, why{Sentence: "key old expired at 2026-11-01T00:00:00Z",
			File: "inquir.toml", Line: 14, Field: "keys.old.expires", Text: "expires = 2026-11-01T00:00:00Z"}},
		{"authorizer: no identity", "GET", "/orders/1", acmeSecret, why{Sentence: "route GET /orders/{id} runs authorizer tenant, which reads header.Authorization: the request had none, so the authorizer did not run",
			File: "inquir.toml", Line: 60, Field: "authorizers.tenant.identity_sources", Text: `identity_sources = ["header.Authorization"]`}},
		{"authorizer: denied", "GET", "/orders/2", acmeSecret + "|Bearer t", why{Sentence: "authorizer tenant (function authz) answered a policy that denies this route explicitly",
			File: "inquir.toml", Line: 58, Field: "authorizers.tenant.function", Text: `function = "authz"`}},
		{"unknown", "GET", "/hello/unknown", unknown, why{Sentence: "the x-api-key sent is not a secret of any key in inquir.toml", File: "inquir.toml", Line: 2, Field: "keys.partner-acme", Text: "[keys.partner-acme]"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := map[string]string{}
			if key, auth, ok := strings.Cut(c.key, "|"); ok {
				h["x-api-key"], h["Authorization"] = key, auth
			} else if c.key != "" {
				h["x-api-key"] = c.key
			}
			f.do(c.method, c.path, h, "")
			var d struct {
				Why why `json:"why"`
			}
			id := f.idOf(c.method, c.path)
			f.get("/_inquir/api/requests/"+itoa(id), &d)
			if strings.HasPrefix(c.name, "authorizer: denied") {
				var row summary
				f.get("/_inquir/api/requests/"+itoa(id), &row)
				if row.Authorizer != "tenant" || row.Reason != "authorizer_explicit_deny" || row.Status != 403 {
					t.Errorf("the authorizer's refusal: %+v", row)
				}
			}
			// Files are named relative to the working folder, as config
			// errors name them; the test's is elsewhere.
			d.Why.File = strings.TrimPrefix(d.Why.File, f.dir+"/")
			d.Why.Sentence = strings.ReplaceAll(d.Why.Sentence, f.dir+"/", "")
			if diff := cmp.Diff(c.want, d.Why); diff != "" {
				t.Errorf("why (-want +got):\n%s", diff)
			}
		})
	}
	f.noSecrets()
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }

// runVerify runs inquir verify's local matrix on the fixture's config, at
// the fixture's instant.
func runVerify(t *testing.T, f *fixture) *verify.Report {
	t.Helper()
	rep, err := verify.Run(context.Background(), verify.Options{ConfigPath: filepath.Join(f.dir, "inquir.toml"), Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestVerdicts: each answer's verdict in a word, and the gateway's own
// refusals (no route, a body over 6 MB) explained.
func TestVerdicts(t *testing.T) {
	f := newFixture(t)
	f.do("GET", "/hello/ok", map[string]string{"x-api-key": acmeSecret}, "")
	f.do("GET", "/health", nil, "")
	f.do("GET", "/nowhere", nil, "")
	f.do("POST", "/internal/echo", map[string]string{"x-api-key": agentSecret}, strings.Repeat("x", 6<<20+1))
	for _, c := range []struct {
		method, path, verdict, sentence string
		status                          int
	}{
		{"GET", "/hello/ok", "allowed", "", 200},
		{"GET", "/health", "public", "", 200},
		{"GET", "/nowhere", "refused", "matches /nowhere", 404},
		{"POST", "/internal/echo", "refused", "the body is over 6 MB", 413},
	} {
		var d struct {
			Verdict string `json:"verdict"`
			Status  int    `json:"status"`
			Why     *struct{ Sentence string }
		}
		f.get("/_inquir/api/requests/"+itoa(f.idOf(c.method, c.path)), &d)
		if d.Verdict != c.verdict || d.Status != c.status || (c.sentence == "") != (d.Why == nil) || d.Why != nil && !strings.Contains(d.Why.Sentence, c.sentence) {
			t.Errorf("%s %s: %+v (why %+v), want %s %d %q", c.method, c.path, d, d.Why, c.verdict, c.status, c.sentence)
		}
	}
}

// TestLargeBody: the page keeps 64 KiB of a body, says how much it left
// out, and will not replay a body it does not hold whole.
func TestLargeBody(t *testing.T) {
	f := newFixture(t)
	f.do("POST", "/internal/echo", map[string]string{"x-api-key": agentSecret}, strings.Repeat("b", 200<<10))
	id := f.idOf("POST", "/internal/echo")
	var d struct {
		Body struct {
			Text string
			Cut  int
		}
		Testscript string
	}
	f.get("/_inquir/api/requests/"+itoa(id), &d)
	if len(d.Body.Text) != 16<<10 || d.Body.Cut != 200<<10-16<<10 || !strings.HasPrefix(d.Testscript, "# the body was 204800 bytes") {
		t.Errorf("shown %d bytes, cut %d; testscript %q", len(d.Body.Text), d.Body.Cut, d.Testscript)
	}
	before := f.fn.count("hello")
	code, out := f.do("POST", "/_inquir/api/replay", map[string]string{"Content-Type": "application/json", page.TokenHeader: f.token}, `{"id":`+itoa(id)+`,"as":"as-is"}`)
	if code != 400 || !strings.Contains(out, "body_cut") || f.fn.count("hello") != before {
		t.Errorf("replay of a cut body: %d %s", code, out)
	}
}

// TestProxiedRefused: a request a proxy on this machine forwarded (a
// tunnel such as `ngrok http --host-header=rewrite 8787`, cloudflared, a
// reverse proxy) reaches the page from 127.0.0.1 with a loopback Host,
// but it comes from whoever reached the proxy: the page, its token, its
// state and its replays are refused, and the function does not run. A
// browser never sends these headers itself.
func TestProxiedRefused(t *testing.T) {
	f := newFixture(t)
	f.do("GET", "/hello/ada", map[string]string{"x-api-key": acmeSecret}, "")
	id := f.idOf("GET", "/hello/ada")
	before := f.fn.count("hello")
	for _, proxy := range []map[string]string{
		{"X-Forwarded-For": "203.0.113.7"},
		{"Forwarded": "for=203.0.113.7;proto=https"},
		{"X-Forwarded-Host": "abc.ngrok.app"},
		{"X-Original-Host": "abc.ngrok.app"},
		{"X-Real-Ip": "203.0.113.7"},
		{"Via": "1.1 proxy"},
		{"Cf-Connecting-Ip": "203.0.113.7"},
	} {
		for name := range proxy {
			t.Run(name, func(t *testing.T) {
				code, out := f.do("GET", "/_inquir/", proxy, "")
				if code != 403 || strings.Contains(out, f.token) {
					t.Errorf("the page, forwarded: %d (token shown: %v)", code, strings.Contains(out, f.token))
				}
				for _, path := range []string{"/_inquir/api/state", "/_inquir/events", "/_inquir/api/requests/" + itoa(id)} {
					if code, _ := f.do("GET", path, proxy, ""); code != 403 {
						t.Errorf("GET %s, forwarded: %d, want 403", path, code)
					}
				}
				h := map[string]string{"Content-Type": "application/json", page.TokenHeader: f.token}
				for k, v := range proxy {
					h[k] = v
				}
				if code, out := f.do("POST", "/_inquir/api/replay", h, `{"id":`+itoa(id)+`,"as":"key","key":"search-agent"}`); code != 403 {
					t.Errorf("a replay, forwarded: %d %s, want 403", code, out)
				}
				if code, out := f.do("POST", "/_inquir/api/matrix", h, `{"id":`+itoa(id)+`}`); code != 403 {
					t.Errorf("the matrix, forwarded: %d %s, want 403", code, out)
				}
			})
		}
	}
	if n := f.fn.count("hello") - before; n != 0 {
		t.Errorf("forwarded calls invoked the function %d times", n)
	}
	// The gateway's own routes are not the page's: a forwarded request to
	// a route is answered as any other.
	if code, _ := f.do("GET", "/hello/ada", map[string]string{"x-api-key": acmeSecret, "X-Forwarded-For": "203.0.113.7"}, ""); code != 200 {
		t.Errorf("a forwarded request to a route: %d, want 200", code)
	}
}

// TestHeadersCut: the page keeps a bounded number of a request's header
// fields; a request with more says how many it left out, and is not
// replayed (it would go out without them), so its function does not run.
func TestHeadersCut(t *testing.T) {
	f := newFixture(t)
	h := map[string]string{"x-api-key": acmeSecret}
	for i := range 1000 {
		h["X-Field-"+itoa(uint64(i))] = "v"
	}
	f.do("GET", "/hello/many", h, "")
	id := f.idOf("GET", "/hello/many")
	var d struct {
		Headers    [][2]string `json:"headers"`
		HeadersCut int         `json:"headers_cut"`
		Curl       string      `json:"curl"`
		Testscript string      `json:"testscript"`
	}
	f.get("/_inquir/api/requests/"+itoa(id), &d)
	if d.HeadersCut == 0 || len(d.Headers)+d.HeadersCut < 1001 {
		t.Errorf("%d headers shown, %d cut; the request had over 1,001", len(d.Headers), d.HeadersCut)
	}
	if !strings.Contains(d.Curl, "header fields") || !strings.Contains(d.Testscript, "header fields") {
		t.Errorf("the copies do not say headers were left out:\n%s\n%s", d.Curl, d.Testscript)
	}
	before := f.fn.count("hello")
	code, out := f.do("POST", "/_inquir/api/replay", map[string]string{"Content-Type": "application/json", page.TokenHeader: f.token},
		`{"id":`+itoa(id)+`,"as":"as-is"}`)
	if code != 400 || !strings.Contains(out, "headers_cut") {
		t.Errorf("a replay of a request whose headers were cut: %d %s", code, out)
	}
	if n := f.fn.count("hello") - before; n != 0 {
		t.Errorf("the function ran %d times", n)
	}
	f.noSecrets()
}

// TestWhyFileEdited: why quotes the config line of the config that judged
// the request. Once the file on disk is edited (a reload refused, or not
// yet applied), its line of that number may be another, one with a
// secret inquir has not yet learned to redact: the page quotes none.
func TestWhyFileEdited(t *testing.T) {
	f := newFixture(t)
	f.do("GET", "/hello/forbidden", map[string]string{"x-api-key": agentSecret}, "")
	id := f.idOf("GET", "/hello/forbidden")
	const fresh = "fresh-secret-0123456789abcdef"
	// Line 38, the route's group in the config in force, is now a new
	// key's literal secret; the file does not validate, so no reload
	// teaches the Redactor that secret.
	write(t, filepath.Join(f.dir, "inquir.toml"), strings.Repeat("# edited\n", 37)+`secret = "`+fresh+`"`+"\n")
	var d struct {
		Why struct {
			Line int
			Text string
		} `json:"why"`
	}
	body := f.get("/_inquir/api/requests/"+itoa(id), &d)
	if strings.Contains(body, fresh) {
		t.Errorf("why quotes a line of the edited file, with its secret: %+v", d.Why)
	}
	if d.Why.Line != 38 {
		t.Errorf("why's line: %d, want 38 (the config in force's)", d.Why.Line)
	}
}

// TestTestscriptBodyLines: a body with line breaks cannot be quoted on
// the request's one line of a testscript, where a line break ends the
// command: the copy puts it in a file of the archive. A caller's body
// ending one line and starting another ("exec rm ...") became a command
// of whoever pasted the copy into a suite.
func TestTestscriptBodyLines(t *testing.T) {
	f := newFixture(t)
	body := "{\"a\":1}\nexec rm -rf $WORK/../..\n"
	f.do("POST", "/internal/echo", map[string]string{"x-api-key": agentSecret, "Content-Type": "application/json"}, body)
	id := f.idOf("POST", "/internal/echo")
	var d struct{ Testscript string }
	f.get("/_inquir/api/requests/"+itoa(id), &d)
	// As testscript reads it: an archive, its script, then its files.
	ar := txtar.Parse([]byte(d.Testscript))
	for _, line := range strings.Split(string(ar.Comment), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "exec") && !strings.HasPrefix(line, "exec inquir request POST $URL") {
			t.Errorf("the body made a command of the testscript: %q\n%s", line, d.Testscript)
		}
	}
	if !strings.Contains(string(ar.Comment), " -d @body.txt") || len(ar.Files) != 1 || ar.Files[0].Name != "body.txt" || string(ar.Files[0].Data) != body {
		t.Errorf("the body is not in a file of the archive:\n%s", d.Testscript)
	}
}
