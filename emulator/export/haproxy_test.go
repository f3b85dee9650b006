package export_test

// These tests run the exported configuration in a real HAProxy (a child
// process on 127.0.0.1, on a socket this test opens on port 0 and hands
// over) in front of recording upstreams, and prove it with inquir verify.

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/inquir-dev/inquir/emulator/cli"
	"github.com/inquir-dev/inquir/emulator/export"
	"github.com/inquir-dev/inquir/emulator/gateway"
	"github.com/inquir-dev/inquir/emulator/policy"
	"github.com/inquir-dev/inquir/emulator/verify"
)

// The demo plaintexts README.md gives for the root inquir.toml.
var exampleKeys = map[string]string{
	"partner-acme": "inq_demo_partner_ILsMY9hDezitm0RXj23RpFZB",
	"search-agent": "inq_demo_internal_6K_SlNHdc_yuA5LVQBuGixbL",
}

// fixtureKeys are the plaintexts of fixtures/export/inquir.toml.
var fixtureKeys = map[string]string{
	"partner":  "export-fixture-partner",
	"agent":    "export-fixture-agent",
	"rotating": "export-fixture-rotating-new",
	"direct":   "export-fixture-direct",
	"expired":  "export-fixture-expired",
	"early":    "export-fixture-early",
	"off":      "export-fixture-off",
}

// headConfigText puts a GET route and a weaker ANY route on one path, and a
// HEAD route beside a GET route on another: how HEAD and a method's
// spelling are routed decides which policy applies (issue 9 fault 2). A
// literal ":" beside a weaker {param} makes an escaped ":" change the route
// once decoded (fault 1).
const headConfigText = `[gateway]
key_header = "X-Api-Key"

[keys.reader]
secret = "export-head-reader"
groups = ["read"]

[keys.anyone]
secret = "export-head-anyone"
groups = ["anyone"]

[functions.f]
runtime = "process"
command = ["./f"]

[[routes]]
method = "GET"
path = "/reports"
function = "f"
group = "read"

[[routes]]
method = "ANY"
path = "/reports"
function = "f"
group = "anyone"

[[routes]]
method = "GET"
path = "/docs/{id}"
function = "f"
group = "read"

[[routes]]
method = "HEAD"
path = "/docs/{id}"
function = "f"
group = "anyone"

[[routes]]
method = "ANY"
path = "/docs/index"
function = "f"
group = "read"

[[routes]]
method = "GET"
path = "/v1:batch"
function = "f"
group = "read"

[[routes]]
method = "GET"
path = "/{name}"
function = "f"
group = "anyone"
`

// headKeys are the plaintexts of headConfigText.
var headKeys = map[string]string{"reader": "export-head-reader", "anyone": "export-head-anyone"}

// writeHeadConfig writes headConfigText into a new folder.
func writeHeadConfig(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "inquir.toml")
	if err := os.WriteFile(path, []byte(headConfigText), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

const (
	exampleConfig = "../../inquir.toml"
	fixtureConfig = "../../fixtures/export/inquir.toml"
	awsConfig     = "../../fixtures/export/aws.toml"
)

func requireHAProxy(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("haproxy")
	if err != nil {
		bin, err = exec.LookPath("/usr/sbin/haproxy") // Debian's place, often not on a user's PATH
	}
	if err != nil {
		t.Skip("haproxy is not installed; these tests need a real HAProxy 2.6 or later (apt-get install haproxy)")
	}
	return bin
}

// hit is one request an upstream received.
type hit struct {
	Method, URI string
	Header      http.Header
}

// upstream stands in for the functions: it records every request and
// answers 200.
type upstream struct {
	*httptest.Server
	mu   sync.Mutex
	hits []hit
}

func newUpstream(t *testing.T, name string) *upstream {
	u := &upstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.mu.Lock()
		u.hits = append(u.hits, hit{r.Method, r.RequestURI, r.Header.Clone()})
		u.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"upstream":%q}`, name)
	}))
	t.Cleanup(u.Close)
	return u
}

func (u *upstream) take() []hit {
	u.mu.Lock()
	defer u.mu.Unlock()
	h := u.hits
	u.hits = nil
	return h
}

// haproxy is a running HAProxy child.
type haproxy struct {
	URL, Socket string
	cmd         *exec.Cmd
	out         *syncBuffer
	exited      chan struct{}
}

// startHAProxy runs haproxy -f dir/haproxy.cfg -db, listening on a
// loopback socket opened here on port 0, and waits until it answers.
func startHAProxy(t *testing.T, dir string) *haproxy {
	t.Helper()
	bin := requireHAProxy(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f, err := l.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	h := &haproxy{URL: "http://" + l.Addr().String(), Socket: filepath.Join(dir, "admin.sock"), out: &syncBuffer{}, exited: make(chan struct{})}
	h.cmd = exec.Command(bin, "-f", filepath.Join(dir, export.ConfigFile), "-db")
	h.cmd.ExtraFiles = []*os.File{f} // fd 3
	h.cmd.Env = append(os.Environ(), "INQUIR_LISTEN=fd@3", "INQUIR_ADMIN_SOCKET="+h.Socket)
	h.cmd.Stdout, h.cmd.Stderr = h.out, h.out
	h.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := h.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	l.Close() // HAProxy holds the socket now
	go func() { _ = h.cmd.Wait(); close(h.exited) }()
	t.Cleanup(func() { h.stop(t) })

	// The socket was listening before HAProxy started, so a request waits
	// in the kernel's queue until HAProxy takes it: no window to race.
	ready := make(chan error, 1)
	go func() {
		c := &http.Client{Timeout: 60 * time.Second}
		resp, err := c.Get(h.URL + "/_inquir/ready")
		if err == nil {
			resp.Body.Close()
		}
		ready <- err
	}()
	select {
	case err := <-ready:
		if err != nil {
			t.Fatalf("haproxy did not answer: %v\n%s", err, h.out)
		}
	case <-h.exited:
		t.Fatalf("haproxy exited at start:\n%s", h.out)
	}
	return h
}

func (h *haproxy) stop(t *testing.T) {
	select {
	case <-h.exited:
		return
	default:
	}
	_ = syscall.Kill(-h.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-h.exited:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-h.cmd.Process.Pid, syscall.SIGKILL)
		<-h.exited
	}
	if t.Failed() {
		t.Logf("haproxy output:\n%s", h.out)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// runCLI runs inquir with args and returns its exit status and output.
func runCLI(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := cli.Main(context.Background(), args, &out, &errOut)
	return code, out.String() + errOut.String()
}

// exportTo runs inquir export --target haproxy for config into a new
// folder.
func exportTo(t *testing.T, config string, upstreams ...string) string {
	t.Helper()
	return exportWith(t, config, nil, upstreams...)
}

// exportWith is exportTo with more flags.
func exportWith(t *testing.T, config string, flags []string, upstreams ...string) string {
	t.Helper()
	dir := t.TempDir()
	args := append([]string{"export", "--target", "haproxy", "--config", config, "--out", dir}, flags...)
	for _, u := range upstreams {
		args = append(args, "--upstream", u)
	}
	if code, out := runCLI(t, args...); code != 0 {
		t.Fatalf("inquir export: exit %d\n%s", code, out)
	}
	return dir
}

func keyArgs(keys map[string]string) []string {
	var args []string
	for id, secret := range keys {
		args = append(args, "--key", id+"="+secret)
	}
	return args
}

// checkVerify runs inquir verify --url against h and then proves what the
// upstreams saw: exactly one request per cell that should reach a function,
// never the key header, and always the key id the cell's key has.
func checkVerify(t *testing.T, config, url string, keys map[string]string, ups ...*upstream) {
	t.Helper()
	code, out := runCLI(t, append([]string{"verify", "--config", config, "--url", url}, keyArgs(keys)...)...)
	if code != 0 || !strings.Contains(out, " 0 mismatches, 0 problems") {
		t.Fatalf("inquir verify --url: exit %d\n%s", code, out)
	}
	for _, u := range ups {
		u.take()
	}

	// The same matrix again, cell by cell, to account for every request
	// the upstreams received.
	rep, err := verify.Run(context.Background(), verify.Options{ConfigPath: config, URL: url, Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Fatalf("verify report not OK: %+v", rep)
	}
	want := map[string]int{} // key id ("" for none) -> requests that should reach a function
	for _, c := range rep.Cells {
		if c.Want == verify.Reach && !c.NotProbed { // a cell not probed sent nothing
			id := ""
			if !isPublic(t, config, c.Route) {
				id = strings.TrimPrefix(c.Credential, "key ")
			}
			want[id]++
		}
	}
	p, err := policy.Load(config)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, u := range ups {
		for _, h := range u.take() {
			if v := h.Header.Values(p.Config.Gateway.KeyHeader); len(v) > 0 {
				t.Errorf("upstream received the key header on %s %s", h.Method, h.URI)
			}
			got[h.Header.Get("X-Inquir-Key-Id")]++
		}
	}
	t.Logf("upstream requests by key id: %v", got)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("upstream requests by X-Inquir-Key-Id: got %v, want %v (a refused request reached an upstream, or a key id was wrong)", got, want)
	}
}

func isPublic(t *testing.T, config, route string) bool {
	p, err := policy.Load(config)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range p.Routes {
		if r.String() == route {
			return r.Public()
		}
	}
	t.Fatalf("no route %s", route)
	return false
}

func TestExampleConfigBehindHAProxy(t *testing.T) {
	requireHAProxy(t)
	up := newUpstream(t, "all")
	// GET /customers/{customerId}/orders runs the example's node authorizer
	// (tenant), which HAProxy cannot run: the upstream runs it, and verify's
	// cells without its identity source prove HAProxy refuses those.
	dir := exportWith(t, exampleConfig, []string{"--upstream-authorizes"}, up.URL)
	h := startHAProxy(t, dir)
	checkVerify(t, exampleConfig, h.URL, exampleKeys, up)
}

func TestFixtureConfigBehindHAProxy(t *testing.T) {
	requireHAProxy(t)
	t.Setenv("INQUIR_EXPORT_PARTNER_KEY", fixtureKeys["partner"])
	all, search := newUpstream(t, "all"), newUpstream(t, "search")
	dir := exportTo(t, fixtureConfig, all.URL, "search="+search.URL)
	h := startHAProxy(t, dir)

	// Every request for the search function went to its own upstream.
	code, out := runCLI(t, append([]string{"verify", "--config", fixtureConfig, "--url", h.URL}, keyArgs(fixtureKeys)...)...)
	if code != 0 {
		t.Fatalf("inquir verify --url: exit %d\n%s", code, out)
	}
	for _, hit := range all.take() {
		if strings.HasPrefix(hit.URI, "/search") {
			t.Errorf("the default upstream received %s %s, which search=URL sends elsewhere", hit.Method, hit.URI)
		}
	}
	if hits := search.take(); len(hits) == 0 {
		t.Errorf("the search upstream received nothing")
	}

	checkVerify(t, fixtureConfig, h.URL, fixtureKeys, all, search)

	// Forged identity headers are replaced; the key's metadata arrives as
	// JSON; on a public route no identity travels at all.
	send := func(path string, header ...string) hit {
		t.Helper()
		req, _ := http.NewRequest("GET", h.URL+path, nil)
		for i := 0; i < len(header); i += 2 {
			req.Header.Add(header[i], header[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		hits := append(all.take(), search.take()...)
		if resp.StatusCode != 200 || len(hits) != 1 {
			t.Fatalf("GET %s: status %d, %d upstream requests", path, resp.StatusCode, len(hits))
		}
		return hits[0]
	}
	got := send("/customers/c-1", "X-Api-Key", fixtureKeys["partner"], "X-Inquir-Key-Id", "agent", "X-Inquir-Key-Metadata", `{"tenant":"evil"}`)
	if ids := got.Header.Values("X-Inquir-Key-Id"); len(ids) != 1 || ids[0] != "partner" {
		t.Errorf("X-Inquir-Key-Id upstream = %q, want [partner]", ids)
	}
	if md := got.Header.Values("X-Inquir-Key-Metadata"); len(md) != 1 || md[0] != `{"name":"Acme\u0020Inc.\u0020\u00231,\u0020100\u0025\u0020\u00fcber","tenant":"acme"}` {
		t.Errorf("X-Inquir-Key-Metadata upstream = %q", md)
	}
	got = send("/health", "X-Api-Key", fixtureKeys["partner"], "X-Inquir-Key-Id", "agent")
	if len(got.Header.Values("X-Inquir-Key-Id")) != 0 || len(got.Header.Values("X-Api-Key")) != 0 {
		t.Errorf("public route upstream headers: %v", got.Header)
	}
}

func TestAWSCompatBehindHAProxy(t *testing.T) {
	requireHAProxy(t)
	up := newUpstream(t, "items")
	dir := exportTo(t, awsConfig, up.URL)
	h := startHAProxy(t, dir)
	checkVerify(t, awsConfig, h.URL, map[string]string{"reader": "export-fixture-aws-reader", "writer": "export-fixture-aws-writer"}, up)
}

// TestHeadConfigBehindHAProxy: with a weaker ANY route beside a GET route,
// inquir verify --url probes HEAD and a lower-case method with the key only
// the ANY route lets in; the export refuses both, as inquir dev does.
func TestHeadConfigBehindHAProxy(t *testing.T) {
	requireHAProxy(t)
	config := writeHeadConfig(t)
	up := newUpstream(t, "all")
	dir := exportTo(t, config, up.URL)
	h := startHAProxy(t, dir)
	code, out := runCLI(t, append([]string{"verify", "--config", config, "--url", h.URL}, keyArgs(headKeys)...)...)
	for _, probe := range []string{"HEAD /reports", "get /reports"} {
		if !strings.Contains(out, probe) {
			t.Errorf("inquir verify did not probe %s; this test no longer shows the export refuses it\n%s", probe, out)
		}
	}
	if code != 0 {
		t.Fatalf("inquir verify --url: exit %d\n%s", code, out)
	}
	checkVerify(t, config, h.URL, headKeys, up)
}

// TestWeakenedConfigFailsVerify edits the exported haproxy.cfg as a
// careless hand might and shows inquir verify --url catches each edit.
func TestWeakenedConfigFailsVerify(t *testing.T) {
	requireHAProxy(t)
	t.Setenv("INQUIR_EXPORT_PARTNER_KEY", fixtureKeys["partner"])
	headConfig := writeHeadConfig(t)
	for _, tc := range []struct {
		name   string
		config string                 // fixtureConfig when empty
		drop   func(line string) bool // lines to remove
		edit   func(line string) string
	}{
		{name: "group check removed", drop: func(l string) bool { return strings.Contains(l, "if !public_route !key_allowed") }},
		{name: "expiry dropped", edit: func(l string) string { return strings.ReplaceAll(l, " || !public_route key_expired", "") }},
		{name: "path folding off", drop: func(l string) bool {
			return strings.Contains(l, "normalize-uri") || strings.Contains(l, "set-path")
		}},
		// Issue 9: a partner key on /customers/x%2F..%2Fme reaches the
		// function as /customers/me, which only internal keys may call.
		{name: "decoded-path refusal removed", drop: func(l string) bool {
			return strings.Contains(l, "return status 400") && strings.Contains(l, `path_reg "%(2[Ff]`)
		}},
		// Issue 22 fault B: a partner key on /customers/ME is served by
		// GET /customers/{customerId}, and by /customers/me in Express.
		{name: "letter-case refusal removed", drop: func(l string) bool { return strings.Contains(l, "concat(>,txn.lroute)") }},
		{name: "lower-case method refusal removed", config: headConfig, drop: func(l string) bool {
			return strings.Contains(l, "if { method -m reg [a-z] }")
		}},
		// Both routings, the path's and the lowered path's: with only the
		// first dropped, the second finds GET's route and refuses (400).
		{name: "HEAD routed as HEAD", config: headConfig, drop: func(l string) bool {
			return strings.Contains(l, "method) str(GET) if { method HEAD }")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			config, keys := fixtureConfig, fixtureKeys
			if tc.config != "" {
				config, keys = tc.config, headKeys
			}
			up := newUpstream(t, "all")
			dir := exportTo(t, config, up.URL)
			original, err := os.ReadFile(filepath.Join(dir, export.ConfigFile))
			if err != nil {
				t.Fatal(err)
			}
			var lines []string
			changed := false
			for _, l := range strings.Split(string(original), "\n") {
				switch {
				case tc.drop != nil && tc.drop(l):
					changed = true
					continue
				case tc.edit != nil && tc.edit(l) != l:
					changed = true
					l = tc.edit(l)
				}
				lines = append(lines, l)
			}
			if !changed {
				t.Fatal("the edit found nothing to change in haproxy.cfg")
			}
			if err := os.WriteFile(filepath.Join(dir, export.ConfigFile), []byte(strings.Join(lines, "\n")), 0o644); err != nil {
				t.Fatal(err)
			}
			h := startHAProxy(t, dir)
			defer h.stop(t)
			code, out := runCLI(t, append([]string{"verify", "--config", config, "--url", h.URL}, keyArgs(keys)...)...)
			if code != 1 || !strings.Contains(out, "MISMATCH") {
				t.Fatalf("inquir verify against a config with the %s: exit %d, want 1 with a MISMATCH\n%s", tc.name, code, out)
			}
			if testing.Verbose() {
				t.Logf("%s", out)
			}
		})
	}
}

// readResponse reads one HTTP response off a raw connection.
func readResponse(conn net.Conn, method string) (*http.Response, []byte, error) {
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: method})
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, err = b.ReadFrom(resp.Body)
	return resp, b.Bytes(), err
}

// rawRequest sends one request exactly as spelled (a Go client would clean
// some spellings up) and returns the response and its body.
func rawRequest(t *testing.T, addr, method, target string, header ...string) (*http.Response, []byte) {
	t.Helper()
	resp, body, err := sendRaw(addr, method, target, header...)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	return resp, body
}

// sendRaw is rawRequest without a test, for goroutines.
func sendRaw(addr, method, target string, header ...string) (*http.Response, []byte, error) {
	conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return nil, nil, err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: example.test\r\n", method, target)
	for i := 0; i < len(header); i += 2 {
		fmt.Fprintf(&b, "%s: %s\r\n", header[i], header[i+1])
	}
	b.WriteString("Connection: close\r\n\r\n")
	if _, err := conn.Write([]byte(b.String())); err != nil {
		return nil, nil, err
	}
	return readResponse(conn, method)
}

// invoker answers for the functions of the in-process gateway as the
// recording upstream does.
type invoker struct{ calls int }

func (i *invoker) Invoke(ctx context.Context, function string, event []byte) ([]byte, error) {
	i.calls++
	return []byte(`{"statusCode":200,"body":"{\"upstream\":\"all\"}"}`), nil
}

// The bodies of inquir's 400s for issue 9's spellings (policy.Match,
// policy.MatchRequest), as gateway.Gateway writes them.
const (
	reroutedBody = `{"error":"bad_request","message":"the path, once percent-decoded as a web framework decodes it, is served by another route than the one that authorised it; send reserved characters (/, \\, ?, #, ;) unencoded or not at all"}` + "\n"
	overrideBody = `{"error":"bad_request","message":"the %s header names a method another route serves; send the request with that method instead"}` + "\n"
)

// TestGatewayAnswers sends the same requests, spelled byte for byte the
// same, to inquir's gateway and to HAProxy running the export, and wants
// the same status, body and headers from both, and the function reached by
// both or by neither, with the method as sent.
//
// Where HAProxy cannot compute what inquir computes, the export is
// stricter by design, and only there may the answers differ: the requests
// in stricter below. For each, inquir's answer is still taken (and must
// differ from HAProxy's, or the entry is stale) and HAProxy's is asserted
// exactly: 400, the body given, and no upstream reached.
func TestGatewayAnswers(t *testing.T) {
	requireHAProxy(t)
	t.Setenv("INQUIR_EXPORT_PARTNER_KEY", fixtureKeys["partner"])
	const key = "X-Api-Key"
	k := fixtureKeys
	type req struct {
		method, target string
		header         []string
	}
	// stricter lists, by the request as named in failures, HAProxy's 400
	// body where the export refuses what inquir dev lets through.
	stricter := map[string]string{
		// A decoded path that routes where the path as sent does: inquir
		// routes it a second time and lets it through; HAProxy cannot, so
		// it refuses every escaped "/", "\", "?", "#", ";", NUL and every
		// bare ";" or backslash (haproxy.cfg section 5).
		"GET /files/a%2Fb X-Api-Key <partner>":     reroutedBody,
		"GET /customers/c%3Fx X-Api-Key <partner>": reroutedBody,
		"GET /customers/c;v=1 X-Api-Key <partner>": reroutedBody,
		"GET /files/a;v=1/b X-Api-Key <partner>":   reroutedBody,
		"GET /files/a%5Cb X-Api-Key <partner>":     reroutedBody,
		"GET /customers/c%00 X-Api-Key <partner>":  reroutedBody,
		"GET /customers/c%23x X-Api-Key <partner>": reroutedBody,
		"GET /customers/c%3bx X-Api-Key <partner>": reroutedBody,
		// A method-override header naming a method the same route serves
		// (the ANY route, or the request's own method): inquir lets it
		// through; HAProxy refuses any override header with a value
		// (haproxy.cfg section 6).
		"DELETE /admin/x X-Api-Key <agent> X-HTTP-Method PUT":          fmt.Sprintf(overrideBody, "X-HTTP-Method"),
		"GET /customers/c-1 X-Api-Key <partner> x-method-override get": fmt.Sprintf(overrideBody, "X-Method-Override"),
	}
	fixture := []req{
		{"GET", "/customers/c-1", nil},
		{"GET", "/customers/c-1", []string{key, ""}},
		{"GET", "/customers/c-1", []string{key, "bogus"}},
		{"GET", "/customers/c-1", []string{key, k["partner"], key, k["partner"]}},
		{"GET", "/customers/c-1", []string{key, k["expired"]}},
		{"GET", "/customers/c-1", []string{key, k["early"]}},
		{"GET", "/customers/c-1", []string{key, k["off"]}},
		{"GET", "/customers/c-1", []string{key, k["agent"]}},
		{"GET", "/customers/c-1", []string{key, k["partner"]}},
		{"GET", "/customers/c-1", []string{"x-api-key", "export-fixture-rotating-old"}},
		{"GET", "/customers/me", []string{key, k["partner"]}},
		{"GET", "/customers/me", []string{key, k["agent"]}},
		{"POST", "/customers/c-1", []string{key, k["direct"]}},
		{"POST", "/customers/c-1", []string{key, k["partner"]}},
		{"POST", "/customers/c-1", []string{key, k["direct"], "Content-Length", "7000000"}},
		{"PUT", "/customers/c-1", []string{key, k["partner"]}},
		{"HEAD", "/customers/c-1", []string{key, k["partner"]}},
		{"get", "/health", nil},
		{"GET", "/nope", nil},
		{"GET", "/customers", nil},
		{"GET", "/", nil},
		{"GET", "//customers//c-1/", nil},
		{"GET", "/customers/./c-1", nil},
		{"GET", "/x/../customers/c-1", nil},
		{"GET", "/customers/c-1/..", nil},
		{"GET", "/%63ustomers/c-1", nil},
		{"GET", "/customers/c%2d1", []string{key, k["partner"]}},
		{"GET", "/customers/%2e%2E/health", []string{key, k["partner"]}},
		{"GET", "/customers/c%zz", nil},
		{"GET", "/customers/c%2", nil},
		{"GET", "/CUSTOMERS/c-1", nil},
		{"GET", "/customers/a%2Fb", []string{key, k["partner"]}},
		{"GET", "/customers/a%2fb", nil},
		{"GET", "/admin/x/y", []string{key, k["agent"]}},
		{"DELETE", "/admin/x", []string{key, k["agent"]}},
		{"DELETE", "/admin/x", []string{key, k["partner"]}},
		{"GET", "/admin", []string{key, k["agent"]}},
		{"GET", "/files/a/b/c", []string{key, k["partner"]}},
		{"GET", "/files/a/../../admin/x", []string{key, k["partner"]}},
		{"GET", "/status", []string{key, k["direct"]}},
		{"GET", "/status", nil},
		{"GET", "/health", nil},
		{"GET", "/health/", []string{key, "bogus"}},
		{"GET", "/health?x=1", nil},
		{"POST", "/search", []string{key, k["rotating"]}},
		{"GET", "/search", []string{key, k["rotating"]}},
		// Issue 9 fault 2: a method's spelling.
		{"get", "/customers/c-1", []string{key, k["partner"]}},
		{"Get", "/admin/x", []string{key, k["agent"]}},
		{"post", "/nope", nil},
		{"HEAD", "/customers/me", []string{key, k["partner"]}},
		{"HEAD", "/customers/me", []string{key, k["agent"]}},
		{"HEAD", "/search", []string{key, k["rotating"]}},
		{"HEAD", "/admin/x", []string{key, k["partner"]}},
		// Issue 9 fault 1: an encoded "/" or "\" into a more protected
		// route, or to no route.
		{"GET", "/customers/x%2F..%2Fme", []string{key, k["partner"]}},
		{"GET", "/customers/x%5c..%5cme", []string{key, k["partner"]}},
		{"GET", "/files/x%2F..%2F..%2Fadmin%2Fx", []string{key, k["partner"]}},
		{"GET", "/files/x%5C..%5C..%5Cadmin%5Cx", []string{key, k["partner"]}},
		{"GET", "/nope%2Fx", nil},
		// Escapes that cannot change routing pass as they are.
		{"GET", "/customers/c%20-%251", []string{key, k["partner"]}},
		// An override header naming a method another route serves.
		{"POST", "/customers/c-1", []string{key, k["direct"], "X-HTTP-Method-Override", "DELETE"}},
		{"GET", "/customers/c-1", []string{key, k["partner"], "X-Http-Method-Override", " , delete"}},
		{"GET", "/customers/c-1", []string{key, k["partner"], "X-HTTP-Method-Override", ""}},
		// Issue 21: an unencoded | { } in the query is refused before
		// anything, as API Gateway refuses it; encoded, it passes.
		{"GET", "/customers/c-1?filter={x}", []string{key, k["partner"]}},
		{"GET", "/health?a=|", nil},
		{"GET", "/nope?a=}", nil},
		{"GET", "/customers/c-1?filter=%7Bx%7D%7C", []string{key, k["partner"]}},
		// Answered by HAProxy as stricter by design (stricter above).
		{"GET", "/files/a%2Fb", []string{key, k["partner"]}},
		{"GET", "/customers/c%3Fx", []string{key, k["partner"]}},
		{"GET", "/customers/c;v=1", []string{key, k["partner"]}},
		{"GET", "/files/a;v=1/b", []string{key, k["partner"]}},
		{"GET", "/files/a%5Cb", []string{key, k["partner"]}},
		{"GET", "/customers/c%00", []string{key, k["partner"]}},
		{"GET", "/customers/c%23x", []string{key, k["partner"]}},
		{"GET", "/customers/c%3bx", []string{key, k["partner"]}},
		{"DELETE", "/admin/x", []string{key, k["agent"], "X-HTTP-Method", "PUT"}},
		{"GET", "/customers/c-1", []string{key, k["partner"], "x-method-override", "get"}},
	}
	aws := []req{
		{"GET", "/items/1", nil},
		{"GET", "/items/1", []string{"x-api-key", "bogus"}},
		{"GET", "/items/1", []string{"x-api-key", "export-fixture-aws-reader"}},
		{"GET", "/items/1", []string{"x-api-key", "export-fixture-aws-reader", "x-api-key", "export-fixture-aws-reader"}},
		{"PUT", "/items/1", []string{"x-api-key", "export-fixture-aws-writer"}},
		{"PUT", "/items/1", []string{"x-api-key", "export-fixture-aws-reader"}},
		{"DELETE", "/items/1", nil},
		{"GET", "/nope", nil},
		{"GET", "/ping", nil},
		{"get", "/items/1", []string{"x-api-key", "export-fixture-aws-reader"}},
		{"HEAD", "/items/1", []string{"x-api-key", "export-fixture-aws-reader"}},
		{"HEAD", "/items/1", nil},
		{"GET", "/items/1%2F..%2F..%2Fping", nil},
		{"PUT", "/items/1", []string{"x-api-key", "export-fixture-aws-writer", "X-HTTP-Method-Override", "GET"}},
		{"GET", "/items/1?x={y}", []string{"x-api-key", "export-fixture-aws-reader"}},
		{"GET", "/nope?a=|", nil},
	}
	// HEAD beside GET and ANY routes, and a HEAD route of its own.
	h := headKeys
	head := []req{
		{"HEAD", "/reports", []string{key, h["anyone"]}},
		{"HEAD", "/reports", []string{key, h["reader"]}},
		{"GET", "/reports", []string{key, h["anyone"]}},
		{"get", "/reports", []string{key, h["anyone"]}},
		{"POST", "/reports", []string{key, h["anyone"]}},
		{"POST", "/reports", []string{key, h["anyone"], "X-HTTP-Method-Override", "GET"}},
		{"HEAD", "/docs/1", []string{key, h["anyone"]}},
		{"HEAD", "/docs/1", []string{key, h["reader"]}},
		{"GET", "/docs/1", []string{key, h["anyone"]}},
		{"PUT", "/docs/1", []string{key, h["anyone"]}},
		{"HEAD", "/docs/index", []string{key, h["anyone"]}},
		{"HEAD", "/docs/index", []string{key, h["reader"]}},
		{"GET", "/v1:batch", []string{key, h["anyone"]}},
		{"GET", "/v1%3abatch", []string{key, h["anyone"]}},
		{"GET", "/v1%3Abatch", []string{key, h["reader"]}},
		{"GET", "/v1%40batch", []string{key, h["anyone"]}},
	}
	// Letter case: paths a router ignoring it serves with a stricter route.
	ck := caseKeys
	letterCase := []req{
		{"GET", "/KELVIN", []string{key, ck["low"]}},
		{"GET", "/Kelvin", nil},
		{"GET", "/%E2%84%AAelvin", []string{key, ck["low"]}},
		{"GET", "/%e2%84%aaelvin", []string{key, ck["high"]}},
		{"GET", "/kelvin", []string{key, ck["low"]}},
		{"GET", "/kelvin", []string{key, ck["high"]}},
		{"GET", "/mixed", []string{key, ck["low"]}},
		{"GET", "/MIXED", []string{key, ck["high"]}},
		{"GET", "/Mixed", []string{key, ck["high"]}},
		{"GET", "/other", []string{key, ck["low"]}},
		{"GET", "/%C5%BFomething", []string{key, ck["low"]}},
		{"GET", "/api/ADMIN/users", []string{key, ck["low"]}},
		{"HEAD", "/api/Admin/users", []string{key, ck["low"]}},
		{"POST", "/api/ADMIN/users", []string{key, ck["low"]}},
		{"GET", "/API/admin/users", []string{key, ck["low"]}},
		{"GET", "/api/other/users", []string{key, ck["low"]}},
		{"GET", "/open/SECRET", nil},
		{"GET", "/open/Secret", []string{key, ck["low"]}},
		{"GET", "/open/page", nil},
		{"GET", "/OPEN/secret", nil},
		{"GET", "/open/secret", []string{key, ck["low"]}},
	}
	head = append(head,
		req{"GET", "/REPORTS", []string{key, h["anyone"]}},
		req{"GET", "/Reports", nil},
		req{"GET", "/report%C5%BF", []string{key, h["anyone"]}},
		req{"GET", "/report%c5%bf", []string{key, h["reader"]}},
		req{"HEAD", "/REPORTS", []string{key, h["anyone"]}},
		req{"GET", "/V1:BATCH", []string{key, h["reader"]}},
		req{"GET", "/Docs/1", []string{key, h["anyone"]}},
		req{"HEAD", "/docs/INDEX", []string{key, h["anyone"]}},
		req{"GET", "/docs/INDEX", []string{key, h["reader"]}},
	)
	fixture = append(fixture,
		req{"GET", "/customers/ME", []string{key, k["partner"]}},
		req{"GET", "/customers/Me", []string{key, k["agent"]}},
		req{"GET", "/customers/mE", nil},
		req{"HEAD", "/customers/ME", []string{key, k["partner"]}},
		req{"POST", "/customers/ME", []string{key, k["direct"]}},
		req{"DELETE", "/customers/ME", []string{key, k["agent"]}},
		req{"GET", "/CUSTOMERS/me", []string{key, k["agent"]}},
	)
	aws = append(aws,
		req{"GET", "/PING", nil},
		req{"GET", "/ITEMS/1", []string{"x-api-key", "export-fixture-aws-reader"}},
	)
	for _, tc := range []struct {
		name, config string
		reqs         []req
	}{
		{"fixture", fixtureConfig, fixture}, {"aws", awsConfig, aws}, {"head", writeHeadConfig(t), head},
		{"letter case", writeCaseConfig(t, "", "", `"low"`), letterCase},
		{"letter case aws", writeCaseConfig(t, "", "compat = \"aws\"\n", `"low"`), letterCase},
	} {
		t.Run(tc.name, func(t *testing.T) {
			up := newUpstream(t, "all")
			dir := exportTo(t, tc.config, up.URL)
			h := startHAProxy(t, dir)
			p, err := policy.Load(tc.config)
			if err != nil {
				t.Fatal(err)
			}
			inv := &invoker{}
			g := gateway.New(gateway.Options{Invoker: inv})
			g.SetPolicy(p)
			gw := httptest.NewServer(g)
			defer gw.Close()

			for _, r := range tc.reqs {
				name := r.method + " " + r.target + " " + strings.Join(r.header, " ")
				for _, s := range fixtureKeys {
					name = strings.ReplaceAll(name, s, "<"+s[len("export-fixture-"):]+">")
				}
				calls := inv.calls
				want, wantBody := rawRequest(t, strings.TrimPrefix(gw.URL, "http://"), r.method, r.target, r.header...)
				up.take()
				got, gotBody := rawRequest(t, strings.TrimPrefix(h.URL, "http://"), r.method, r.target, r.header...)
				hits := up.take()
				reached := len(hits)
				for _, hit := range hits {
					if hit.Method != r.method {
						t.Errorf("%s: the upstream received %s, not the method sent", name, hit.Method)
					}
				}
				if body, ok := stricter[name]; ok {
					delete(stricter, name)
					if got.StatusCode != 400 || string(gotBody) != body || got.Header.Get("Content-Type") != "application/json" || reached > 0 {
						t.Errorf("%s: haproxy %d %q (%s), upstream reached %d times; want the stricter 400 %q and no upstream", name, got.StatusCode, gotBody, got.Header.Get("Content-Type"), reached, body)
					}
					if want.StatusCode == got.StatusCode && string(wantBody) == string(gotBody) {
						t.Errorf("%s: inquir answers as haproxy does (%d %q): drop it from the stricter list", name, want.StatusCode, wantBody)
					}
					t.Logf("%s: stricter by design: haproxy 400, inquir %d", name, want.StatusCode)
					continue
				}
				if want.StatusCode != got.StatusCode {
					t.Errorf("%s: haproxy %d, inquir %d %s", name, got.StatusCode, want.StatusCode, wantBody)
					continue
				}
				if (inv.calls > calls) != (reached > 0) {
					t.Errorf("%s: inquir invoked the function: %v; haproxy reached the upstream: %v", name, inv.calls > calls, reached > 0)
				}
				if want.StatusCode == 200 {
					continue // the function's answer, not the gateway's
				}
				if string(gotBody) != string(wantBody) {
					t.Errorf("%s: haproxy body %q, inquir %q", name, gotBody, wantBody)
				}
				for _, hd := range []string{"Content-Type", "Allow", "WWW-Authenticate"} {
					if g, w := got.Header.Values(hd), want.Header.Values(hd); fmt.Sprint(g) != fmt.Sprint(w) {
						t.Errorf("%s: haproxy %s %q, inquir %q", name, hd, g, w)
					}
				}
			}
		})
	}
	for name := range stricter {
		t.Errorf("%s: listed as stricter by design but never sent", name)
	}
}
