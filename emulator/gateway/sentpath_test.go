package gateway

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
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
// /api/admin/, which the admins' route guards, whether a router resolves
// their dot segments or not. A framework's /api/admin/* (Express,
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
		"/api/admin%2F..%2Fx",
		"/api/admin%5C..%5Cx",
		"/api/admin%2F%2E%2E%2Fx",
		"/api/ADMIN%2F..%2Fx",
		"/api/Admin%5C..%5Cx",
		"/api/x%2F..%2Fy",
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
					// Read with its dot segments (chi on Go's decoded
					// r.URL.Path) and with them resolved.
					resolved := path.Clean(d)
					if strings.HasSuffix(d, "/") {
						resolved += "/"
					}
					if strings.HasPrefix(d, "/api/admin/") || strings.HasPrefix(resolved, "/api/admin/") {
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

// FuzzGatewayRoutingV2 is FuzzGatewayRouting for payload 2.0, over
// overlapVConfig: when the function runs, its rawPath and
// requestContext.http.path, read as a web framework reads them (decoded
// once, "\" as "/", a trailing slash as an empty {proxy+}), route to the
// route that authorised the request.
func FuzzGatewayRoutingV2(f *testing.F) {
	for _, target := range []string{
		"/api/admin/../x", "/api/admin/%2E%2E/x", "/api/admin/", "/api/admin%2F", "/api/admin;x/",
		"/api/ADMIN/", "/api/x/", "/api//admin/x", "http://127.0.0.1/api/admin/../x", "/api/admin%5C..%5Cx",
	} {
		f.Add("GET", target)
	}
	fx := newFixtureConfig(f, fmt.Sprintf(overlapVConfig, "2.0", sha(partnerSecret), sha(internalSecret)))
	p := fx.gw.Policy()
	f.Fuzz(func(t *testing.T, method, target string) {
		raw := method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: " + partnerSecret + "\r\n\r\n"
		req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
		if err != nil {
			return
		}
		req.RemoteAddr = "127.0.0.1:1"
		before := len(fx.spy.called())
		fx.gw.ServeHTTP(httptest.NewRecorder(), req)
		calls := fx.spy.called()
		if len(calls) == before {
			return
		}
		m := p.MatchRequest(req)
		var ev struct {
			RawPath        string
			RequestContext struct{ HTTP struct{ Path string } }
		}
		if err := json.Unmarshal(calls[len(calls)-1].raw, &ev); err != nil {
			t.Fatal(err)
		}
		for _, path := range []string{ev.RawPath, ev.RequestContext.HTTP.Path} {
			decoded, err := url.PathUnescape(path)
			if err != nil {
				t.Fatalf("%s %q: the event's path %q is not valid percent-encoding", method, target, path)
			}
			segs := strings.Split(strings.ReplaceAll(decoded, `\`, "/"), "/")
			for i, seg := range segs {
				segs[i] = url.PathEscape(seg)
			}
			read := strings.Join(segs, "/")
			if r := p.Match(method, read); r.Route != m.Route {
				t.Fatalf("%s %q ran under %s, but its path as a function reads it, %q, routes to %v", method, target, m.Route, decoded, r.Route)
			}
			if len(read) > 1 && strings.HasSuffix(read, "/") {
				if r := p.Match(method, read+"%00"); r.Route != nil && r.Route != m.Route {
					t.Fatalf("%s %q ran under %s, but its path as a function reads it, %q, is %v's with an empty {proxy+}", method, target, m.Route, decoded, r.Route)
				}
			}
		}
	})
}
