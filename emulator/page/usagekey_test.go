package page_test

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/inquir-dev/inquir/emulator"
	"github.com/inquir-dev/inquir/emulator/page"
	"github.com/inquir-dev/inquir/emulator/policy"
	"github.com/inquir-dev/inquir/emulator/redact"
)

// usageKeyInvoker stands in for the functions: the authorizer allows
// and names as the API key (usageIdentifierKey) the token it was handed,
// as an authorizer that takes the key from Authorization does; the
// route's function answers 200.
type usageKeyInvoker struct{}

func (usageKeyInvoker) Invoke(ctx context.Context, function string, event []byte) ([]byte, error) {
	if function == "authz" {
		var ev struct {
			Headers map[string]string `json:"headers"`
		}
		_ = json.Unmarshal(event, &ev)
		token := strings.TrimPrefix(ev.Headers["Authorization"], "Bearer ")
		return json.Marshal(map[string]any{"principalId": "p", "usageIdentifierKey": token,
			"policyDocument": map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": "*"}}}})
	}
	return []byte(`{"statusCode":200,"body":"ok"}`), nil
}

// TestUsageKeyRedacted: with api_key_source = "authorizer" the key's
// secret never travels in the key header: the authorizer names it, here
// from the Authorization header it read. For a key known by its sha256:
// digest alone the Redactor cannot know it; the page hides the secret
// the authorizer named wherever the request spelled it.
func TestUsageKeyRedacted(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "fn.mjs"), "export async function handler() {}\n")
	write(t, filepath.Join(dir, "inquir.toml"), `
[gateway]
api_key_source = "authorizer"

[keys.digest]
secret = "sha256:fb22095c154049de7845af4087da099bc4cf85f3c97b5cd3d7c65e8b9e03c09a"
groups = ["public-api"]

[functions.hello]
runtime = "node"
path = "fn.mjs"

[functions.authz]
runtime = "node"
path = "fn.mjs"

[authorizers.tenant]
function = "authz"
type = "request"
identity_sources = ["header.Authorization"]
ttl = "0"

[[routes]]
method = "GET"
path = "/orders/{id}"
function = "hello"
group = "public-api"
authorizer = "tenant"
`)
	r := redact.New()
	pg := page.New(page.Options{Redactor: r})
	e, err := emulator.Start(emulator.Options{ConfigPath: filepath.Join(dir, "inquir.toml"), Listen: "127.0.0.1:0", Invoker: usageKeyInvoker{}, Redactor: r,
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
	f := &fixture{t: t, e: e, pg: pg, dir: dir, client: &http.Client{Timeout: 30 * time.Second}}
	m := regexp.MustCompile(`name="inquir-token" content="([^"]+)"`).FindStringSubmatch(f.get("/_inquir/", nil))
	if m == nil {
		t.Fatal("the page holds no token")
	}
	f.token = m[1]
	if code, out := f.do("GET", "/orders/"+digestSecret, map[string]string{"Authorization": "Bearer " + digestSecret}, ""); code != 200 {
		t.Fatalf("the request: %d %s", code, out)
	}
	ss := f.stream(0, func(s summary) bool { return strings.HasPrefix(s.Path, "/orders/") })
	s := ss[len(ss)-1]
	if s.Key != "digest" {
		t.Errorf("the request's key: %q, want digest (named by the authorizer)", s.Key)
	}
	f.get("/_inquir/api/requests/"+itoa(s.ID), nil)
	f.noSecrets()
}
