package page_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inquir-dev/inquir/emulator"
	"github.com/inquir-dev/inquir/emulator/page"
	"github.com/inquir-dev/inquir/emulator/policy"
	"github.com/inquir-dev/inquir/emulator/redact"
)

// The secrets of the test project. None may reach anything the page sends.
const (
	acmeSecret   = "acme-secret-0123456789abcdef"
	agentSecret  = "agent-secret-0123456789abcdef"
	oldSecret    = "old-secret-0123456789abcdef"
	digestSecret = "digest-secret-0123456789abcdef"
	literal      = "literal-secret-0123456789abcdef"
	unknown      = "unknown-secret-0123456789abcdef"
)

var testNow = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

func testConfig() string {
	return `
[keys.partner-acme]
secret = "env:PAGE_TEST_ACME_KEY"
groups = ["public-api"]
plan = "partner"

[keys.search-agent]
secret = "file:agent.key"
groups = ["internal"]

[keys.old]
secret = "` + oldSecret + `"
groups = ["public-api"]
expires = 2026-11-01T00:00:00Z

[keys.soon]
secret = "` + literal + `"
groups = ["public-api"]
expires = 2026-12-02T15:00:00Z

[keys.digest]
secret = "sha256:fb22095c154049de7845af4087da099bc4cf85f3c97b5cd3d7c65e8b9e03c09a"
groups = ["public-api"]

[plans.partner]
rate = 100
burst = 100
quota = { limit = 1000, period = "DAY" }

[functions.hello]
runtime = "node"
path = "fn.mjs"

[[routes]]
method = "GET"
path = "/hello/{name}"
function = "hello"
group = "public-api"

[[routes]]
method = "POST"
path = "/internal/echo"
function = "hello"
group = "internal"

[[routes]]
method = "GET"
path = "/health"
function = "hello"
auth = "none"
reason = "load balancer checks carry no key"

[functions.authz]
runtime = "node"
path = "fn.mjs"

[authorizers.tenant]
function = "authz"
type = "request"
identity_sources = ["header.Authorization"]

[[routes]]
method = "GET"
path = "/orders/{id}"
function = "hello"
group = "public-api"
authorizer = "tenant"
`
}

// counter stands in for the functions: it counts invocations and answers
// 200 with the path it was handed; the authorizer function authz denies.
type counter struct {
	mu    sync.Mutex
	calls map[string]int
}

func (c *counter) Invoke(ctx context.Context, function string, event []byte) ([]byte, error) {
	c.mu.Lock()
	c.calls[function]++
	c.mu.Unlock()
	if function == "authz" {
		// The authorizer denies everyone, with an IAM policy.
		return []byte(`{"principalId":"someone","policyDocument":{"Version":"2012-10-17","Statement":[{"Action":"execute-api:Invoke","Effect":"Deny","Resource":"*"}]}}`), nil
	}
	var ev struct {
		Path string `json:"path"`
	}
	_ = json.Unmarshal(event, &ev)
	return json.Marshal(map[string]any{"statusCode": 200, "body": `{"path":"` + ev.Path + `"}`})
}

func (c *counter) count(function string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls[function]
}

type fixture struct {
	t      *testing.T
	e      *emulator.Emulator
	pg     *page.Page
	fn     *counter
	dir    string
	token  string
	client *http.Client
	// sent is everything the page answered, to look for secrets in.
	mu   sync.Mutex
	sent strings.Builder
}

func newFixture(t *testing.T, tune ...func(*page.Options)) *fixture {
	t.Helper()
	// The digest key's secret: only its SHA-256 is in the config.
	if fmt.Sprintf("%x", sha256Sum(digestSecret)) != "fb22095c154049de7845af4087da099bc4cf85f3c97b5cd3d7c65e8b9e03c09a" {
		t.Fatalf("the digest key's digest is not digestSecret's: %x", sha256Sum(digestSecret))
	}
	dir := t.TempDir()
	write(t, filepath.Join(dir, "fn.mjs"), "export async function handler() {}\n")
	write(t, filepath.Join(dir, "agent.key"), agentSecret+"\n")
	write(t, filepath.Join(dir, "inquir.toml"), testConfig())
	t.Setenv("PAGE_TEST_ACME_KEY", acmeSecret)
	r := redact.New()
	opts := page.Options{Now: func() time.Time { return testNow }, Redactor: r}
	for _, f := range tune {
		f(&opts)
	}
	pg := page.New(opts)
	fn := &counter{calls: map[string]int{}}
	e, err := emulator.Start(emulator.Options{ConfigPath: filepath.Join(dir, "inquir.toml"), Listen: "127.0.0.1:0", Invoker: fn, Redactor: r,
		Clock: policy.NewManualClock(testNow), Page: pg})
	if err != nil {
		t.Fatal(err)
	}
	pg.Attach(e)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = e.Close(ctx)
	})
	f := &fixture{t: t, e: e, pg: pg, fn: fn, dir: dir, client: &http.Client{Timeout: 30 * time.Second}}
	index := f.get("/_inquir/", nil)
	m := regexp.MustCompile(`name="inquir-token" content="([^"]+)"`).FindStringSubmatch(index)
	if m == nil {
		t.Fatalf("the page holds no token:\n%s", index)
	}
	f.token = m[1]
	return f
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// do sends a request to the gateway and returns the answer's status and
// body.
func (f *fixture) do(method, path string, header map[string]string, body string) (int, string) {
	f.t.Helper()
	req, err := http.NewRequest(method, f.e.URL()+path, strings.NewReader(body))
	if err != nil {
		f.t.Fatal(err)
	}
	for k, v := range header {
		if strings.EqualFold(k, "host") {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := f.client.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if strings.HasPrefix(path, "/_inquir") {
		f.mu.Lock()
		f.sent.Write(b)
		for k, vs := range resp.Header {
			f.sent.WriteString(k + ": " + strings.Join(vs, ",") + "\n")
		}
		f.mu.Unlock()
	}
	return resp.StatusCode, string(b)
}

func (f *fixture) get(path string, into any) string {
	f.t.Helper()
	code, body := f.do("GET", path, nil, "")
	if code != 200 {
		f.t.Fatalf("GET %s: %d %s", path, code, body)
	}
	if into != nil {
		if err := json.Unmarshal([]byte(body), into); err != nil {
			f.t.Fatalf("GET %s: %v\n%s", path, err, body)
		}
	}
	return body
}

// post makes a state-changing call as the page's script does.
func (f *fixture) post(path string, body any, into any) {
	f.t.Helper()
	b, _ := json.Marshal(body)
	code, out := f.do("POST", path, map[string]string{"Content-Type": "application/json", page.TokenHeader: f.token,
		"Origin": f.e.URL(), "Sec-Fetch-Site": "same-origin"}, string(b))
	if code != 200 {
		f.t.Fatalf("POST %s %s: %d %s", path, b, code, out)
	}
	if err := json.Unmarshal([]byte(out), into); err != nil {
		f.t.Fatalf("POST %s: %v\n%s", path, err, out)
	}
}

// noSecrets fails if anything the page sent holds a secret.
func (f *fixture) noSecrets() {
	f.t.Helper()
	f.mu.Lock()
	sent := f.sent.String()
	f.mu.Unlock()
	for _, s := range []string{acmeSecret, agentSecret, oldSecret, digestSecret, literal, unknown} {
		if strings.Contains(sent, s) {
			f.t.Errorf("the page sent a secret (%.6s…)", s)
		}
	}
}

// idOf is the id of the first request the page holds with method and path.
func (f *fixture) idOf(method, path string) uint64 {
	f.t.Helper()
	// The stream sends what the ring holds at once: read it until the
	// request shows, with a deadline.
	for _, s := range f.stream(1, func(s summary) bool { return s.Method == method && s.Path == path }) {
		if s.Method == method && s.Path == path {
			return s.ID
		}
	}
	f.t.Fatalf("%s %s is not in the page's stream", method, path)
	return 0
}

type summary struct {
	ID      uint64 `json:"id"`
	Method  string `json:"method"`
	Path    string `json:"path"`
	Route   string `json:"route"`
	Key     string `json:"key"`
	Verdict string `json:"verdict"`
	Reason  string `json:"reason"`
	Status  int    `json:"status"`
	// Authorizer is the Lambda authorizer that ran, if one did.
	Authorizer string `json:"authorizer"`
}

// stream reads /_inquir/events until until says stop (or a deadline),
// and returns the requests read.
func (f *fixture) stream(after uint64, until func(summary) bool) []summary {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", f.e.URL()+"/_inquir/events", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		f.t.Fatalf("the stream's Content-Type is %q", ct)
	}
	var out []summary
	sc := bufio.NewScanner(resp.Body)
	event := ""
	for sc.Scan() {
		line := sc.Text()
		f.mu.Lock()
		f.sent.WriteString(line + "\n")
		f.mu.Unlock()
		switch {
		case strings.HasPrefix(line, "event: "):
			event = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: ") && event == "request":
			var s summary
			if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &s); err != nil {
				f.t.Fatal(err)
			}
			out = append(out, s)
			if until(s) {
				return out
			}
		}
	}
	f.t.Fatalf("the stream ended (%v) before the request awaited; read %+v", ctx.Err(), out)
	return nil
}

func sha256Sum(s string) [32]byte { return sha256.Sum256([]byte(s)) }
