package verify

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// An authorizer whose identity sources every request carries (a $context
// variable) or that has none (ttl = "0") runs for every request: no
// request verify can send goes without them, so its cells are the
// user's authorizer's to decide, listed as not probed, never expected to
// be a 401 the authorizer does not give.
func TestVerifyAuthorizerEveryRequestCarries(t *testing.T) {
	for _, sources := range []string{`["context.identity.sourceIp"]`, `[]`} {
		t.Run(sources, func(t *testing.T) {
			dir := t.TempDir()
			cfg := `
[authorizers.ip]
function = "ip-auth"
type = "request"
identity_sources = ` + sources + `
ttl = "0"

[functions.ip-auth]
runtime = "node"
path = "fn.mjs"

[functions.api]
runtime = "node"
path = "fn.mjs"

[[routes]]
method = "GET"
path = "/office"
function = "api"
auth = "authorizer"
authorizer = "ip"
`
			for name, content := range map[string]string{"inquir.toml": cfg, "fn.mjs": "export async function handler() {}\n"} {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			rep, err := Run(ctx, Options{ConfigPath: filepath.Join(dir, "inquir.toml")})
			if err != nil {
				t.Fatal(err)
			}
			if n := rep.Mismatches(); n != 0 {
				for _, c := range rep.Cells {
					if !c.OK && !c.NotProbed {
						t.Logf("%s %s %s: want %s, got %s", c.Route, c.Path, c.Credential, c.Expectation(), c.Got)
					}
				}
				t.Errorf("%d mismatches on a config the gateway serves as written", n)
			}
			probed := 0
			for _, c := range rep.Cells {
				if c.Route == "GET /office" && !c.NotProbed {
					probed++
				}
			}
			if probed != 0 {
				t.Errorf("%d cells of GET /office probed; its authorizer decides every one", probed)
			}
			if rep.NotProbed() == 0 || !strings.Contains(rep.Cells[0].Got+rep.Cells[len(rep.Cells)-1].Got, "not probed") {
				t.Errorf("no cell listed as not probed: %+v", rep.Cells)
			}
		})
	}
}
