package gateway

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// overlapVConfig is issue 9's overlap (a partner greedy route whose
// prefix is an admin greedy route's) under payload version, for the
// path-as-sent review: partnerSecret is the partner key.
const overlapVConfig = `
[gateway]
payload = "%s"

[keys.partner]
secret = "sha256:%s"
groups = ["partners"]

[keys.admin]
secret = "sha256:%s"
groups = ["admins"]

[functions.api]
runtime = "node"
path = "fn.mjs"

[[routes]]
method = "ANY"
path = "/api/{proxy+}"
function = "api"
group = "partners"

[[routes]]
method = "ANY"
path = "/api/admin/{proxy+}"
function = "api"
group = "admins"
`

// TestSentPathNeverReadsAsAdmin: whatever the spelling of a path a partner
// key may call, the path (payload 1.0's path, payload 2.0's rawPath and
// requestContext.http.path) and the proxy parameter the function gets,
// decoded once as a web framework decodes them, are never under
// /api/admin/, which the admins' route guards, and hold no dot segment a
// framework would resolve there. A framework's /api/admin/* (Express,
// chi's /api/admin/*) matches "/api/admin/" with an empty rest, so a
// trailing slash after /api/admin is such a path too.
func TestSentPathNeverReadsAsAdmin(t *testing.T) {
	targets := []string{
		"/api/admin/../x",
		"/api/admin/%2E%2E/x",
		"/api/admin/%2e%2e/x",
		"/api/admin/.%2E/x",
		"/api/admin/./../x",
		"/api/%61dmin/../x",
		"/api/admin/",
		"/api/adm%69n/",
		"/api/admin//",
		"/api/x/../admin/",
		"/api/admin%2F",
		"/api/admin%2Fx",
		"/api/admin%5Cx",
		"/api/admin%7E/",
		"/api/x/..%2Fadmin/y",
		"/api/ADMIN/",
		"/api/Admin/",
		"/api/admin;x/",
		"/api/admin%3Bx/",
		"/api/admin%3F/",
		"/api/admin%5C",
	}
	for _, version := range []string{"1.0", "2.0"} {
		t.Run(version, func(t *testing.T) {
			addr, s := liveGatewayConfig(t, fmt.Sprintf(overlapVConfig, version, sha(partnerSecret), sha(internalSecret)))
			for _, target := range targets {
				before := len(s.called())
				code, _ := rawRequest(t, addr, "GET", target, "x-api-key", partnerSecret)
				calls := s.called()
				if code != http.StatusOK {
					if len(calls) != before {
						t.Errorf("%s: %d, yet the function ran", target, code)
					}
					continue
				}
				if len(calls) != before+1 {
					t.Fatalf("%s: 200 with %d calls", target, len(calls)-before)
				}
				var ev struct {
					Path           string
					RawPath        string
					PathParameters map[string]string
					RequestContext struct{ HTTP struct{ Path string } }
				}
				if err := json.Unmarshal(calls[before].raw, &ev); err != nil {
					t.Fatal(err)
				}
				paths := []string{ev.Path, ev.RawPath, ev.RequestContext.HTTP.Path}
				if p, ok := ev.PathParameters["proxy"]; ok {
					paths = append(paths, "/api/"+p)
				}
				for _, p := range paths {
					if p == "" {
						continue
					}
					d, err := url.PathUnescape(p)
					if err != nil {
						d = p
					}
					d = strings.ReplaceAll(d, "\\", "/")
					// As frameworks read it: letter case ignored (Express),
					// cut at "?" or "#" (a URL rebuilt from it),
					// ";parameters" dropped (servlet containers).
					d = strings.ToLower(d)
					if i := strings.IndexAny(d, "?#"); i >= 0 {
						d = d[:i]
					}
					segs := strings.Split(d, "/")
					for i, seg := range segs {
						segs[i], _, _ = strings.Cut(seg, ";")
					}
					d = strings.Join(segs, "/")
					if strings.HasPrefix(d, "/api/admin/") || strings.Contains(d+"/", "/../") || strings.Contains(d+"/", "/./") {
						t.Errorf("%s: a partner's request reaches the function as %q (read %q), under the admins' route", target, p, d)
					}
				}
			}
			// A trailing slash no route reads otherwise stays, as sent.
			before := len(s.called())
			if code, _ := rawRequest(t, addr, "GET", "/api/x%7E/", "x-api-key", partnerSecret); code != http.StatusOK {
				t.Fatalf("/api/x%%7E/: %d", code)
			}
			var ev struct{ Path, RawPath string }
			if err := json.Unmarshal(s.called()[before].raw, &ev); err != nil {
				t.Fatal(err)
			}
			if got := ev.Path + ev.RawPath; got != "/api/x%7E/" {
				t.Errorf("/api/x%%7E/ reaches the function as %q, want it as sent", got)
			}
		})
	}
}
