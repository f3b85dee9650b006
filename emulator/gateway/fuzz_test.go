package gateway

import (
	"bufio"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/inquir-dev/inquir/emulator/policy"
)

// FuzzGatewayRouting drives the real gateway with any method, request
// target and method-override header, with a partner key, over routes of
// different protection that overlap (overlapConfig). When the function runs,
// the route in its event is the one the policy allows the key on, and the
// path in its event, read as a web framework reads it (decoded once, "\" as
// "/"), routes to that same route; otherwise nothing ran.
func FuzzGatewayRouting(f *testing.F) {
	seeds := [][3]string{
		{"GET", "/api/admin%2Fusers", ""}, {"GET", "/api/x%2F..%2Fadmin%2Fusers", ""}, {"GET", "/api/admin%5Cusers", ""},
		{"get", "/reports", ""}, {"HEAD", "/reports", ""}, {"POST", "/reports", "GET"}, {"POST", "/reports", "put"},
		{"GET", "/api/orders/a%25b", ""}, {"GET", "/items/a%2Fb", ""}, {"GET", "/api/admin;x/y", ""}, {"GET", "/api/a%3F/x", ""},
		{"OPTIONS", "*", ""}, {"GET", "http://127.0.0.1/api/admin%2Fx", ""}, {"GET", "/api/%", ""},
		{"GET", "/api/admin/", ""}, {"GET", "/api/admin%2F", ""}, {"GET", "/api/admin;x/", ""},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1], s[2])
	}
	p := overlapPolicy(f)
	s := &spy{}
	gw := New(Options{Invoker: s, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return testNow }})
	gw.SetPolicy(p)
	f.Fuzz(func(t *testing.T, method, target, override string) {
		raw := method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: " + partnerSecret + "\r\n"
		if override != "" {
			raw += "X-HTTP-Method-Override: " + override + "\r\n"
		}
		req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw + "\r\n")))
		if err != nil {
			return // the server would not have parsed it either
		}
		req.RemoteAddr = "127.0.0.1:1"
		before := len(s.called())
		rec := httptest.NewRecorder()
		gw.ServeHTTP(rec, req)
		calls := s.called()
		if len(calls) == before {
			return
		}
		ev := calls[len(calls)-1].event
		m := p.MatchRequest(req)
		if m.Route == nil || m.Refused != "" || ev.Resource != m.Route.Path || ev.RequestContext.ResourceID == "" {
			t.Fatalf("%s %q ran the function for resource %q; the policy routes it to %v (refused %q)", method, target, ev.Resource, m.Route, m.Refused)
		}
		if d := p.Authorize(m.Route, partnerSecret, testNow); d.Key == nil || d.Key.ID != "partner" || d.Outcome != policy.Allowed {
			t.Fatalf("%s %q ran the function under %s, which does not allow the partner key", method, target, m.Route)
		}
		decoded, err := url.PathUnescape(ev.Path)
		if err != nil {
			t.Fatalf("the event's path %q is not valid percent-encoding", ev.Path)
		}
		segs := strings.Split(strings.ReplaceAll(decoded, `\`, "/"), "/")
		for i, seg := range segs {
			segs[i] = url.PathEscape(seg)
		}
		read := strings.Join(segs, "/")
		if r := p.Match(ev.HTTPMethod, read); r.Route != m.Route {
			t.Fatalf("%s %q ran under %s, but its path as a function reads it, %q, routes to %v", method, target, m.Route, decoded, r.Route)
		}
		// A path read with a trailing slash is, to Express's or chi's
		// /api/admin/*, that route with an empty rest.
		if len(read) > 1 && strings.HasSuffix(read, "/") {
			if r := p.Match(ev.HTTPMethod, read+"%00"); r.Route != nil && r.Route != m.Route {
				t.Fatalf("%s %q ran under %s, but its path as a function reads it, %q, is %v's with an empty {proxy+}", method, target, m.Route, decoded, r.Route)
			}
		}
	})
}

// FuzzResponseMapping checks that no function output makes response
// mapping panic, and that what is mapped is written with its status.
func FuzzResponseMapping(f *testing.F) {
	for _, s := range []string{
		`{"statusCode":200,"body":"ok"}`,
		`{"statusCode":201,"headers":{"a":"b"},"multiValueHeaders":{"a":["c","d"],"Content-Length":["9"]},"body":"x"}`,
		`{"statusCode":200,"isBase64Encoded":true,"body":"aGk="}`,
		`{"statusCode":200,"isBase64Encoded":true,"body":"!!"}`,
		`{"statusCode":"201"}`, `{"statusCode":99}`, `{}`, `null`, `[]`, `"x"`, ``, `{"statusCode":200,"headers":{"":"x","a\nb":"c"}}`,
		`{"statusCode":204,"body":"not allowed"}`, `{"statusCode":200,"headers":{"Transfer-Encoding":"chunked"}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, out []byte) {
		resp, err := parseResponse(out)
		if err != nil {
			return
		}
		rec := httptest.NewRecorder()
		if code := writeResponse(rec, resp); code != rec.Code {
			t.Fatalf("writeResponse said %d but wrote %d", code, rec.Code)
		}
	})
}
