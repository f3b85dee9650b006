package policy

import "testing"

// TestKeepSlash: a trailing slash reaches the function (Match.KeepSlash)
// only where a framework reading it as an empty {proxy+} rest
// (Express's and chi's /api/admin/*) finds the route that authorised the
// request; a decoded path ending in "/" that such a framework would read
// as another route is refused.
func TestKeepSlash(t *testing.T) {
	p := compile(t, overlapTOML)
	tests := []struct {
		path      string
		route     string
		keepSlash bool
		refused   bool
	}{
		{"/api/x/", "ANY /api/{proxy+}", true, false},
		{"/api/x%7E/", "ANY /api/{proxy+}", true, false},
		{"/api/x", "ANY /api/{proxy+}", false, false}, // no slash to keep
		{"/api/admin/", "ANY /api/{proxy+}", false, false},
		{"/api/adm%69n/", "ANY /api/{proxy+}", false, false},
		{"/api/admin//", "ANY /api/{proxy+}", false, false},
		{"/api/admin;v=1/", "ANY /api/{proxy+}", false, false},
		{"/api/", "ANY /{proxy+}", false, false},
		{"/api/admin/x/", "ANY /api/admin/{proxy+}", true, false},
		{"/api/admin%2F", "ANY /api/{proxy+}", false, true},
		{"/api/admin%5C", "ANY /api/{proxy+}", false, true},
		{"/api/admin%3B/", "ANY /api/{proxy+}", false, false}, // a servlet container reads /api/admin/
	}
	for _, tt := range tests {
		m := p.Match("GET", tt.path)
		got := ""
		if m.Route != nil {
			got = m.Route.Method + " " + m.Route.Path
		}
		if got != tt.route || m.KeepSlash != tt.keepSlash || (m.Refused != "") != tt.refused {
			t.Errorf("Match(GET, %q) = %q, KeepSlash %v, refused %q; want %q, %v, refused %v", tt.path, got, m.KeepSlash, m.Refused, tt.route, tt.keepSlash, tt.refused)
		}
	}
}

// TestDecodedDotSegments: a path whose decoding makes a "." or ".."
// segment ("/api/admin%2F..%2Fx" is "/api/admin/../x") is refused when a
// router that does not resolve them (chi on Go's decoded r.URL.Path)
// would serve it with another route (in other letter cases too: see the
// gateway's TestSentPathNeverReadsAsAdmin, whose keys make the routes
// differ); it passes when every reading routes the same.
func TestDecodedDotSegments(t *testing.T) {
	p := compile(t, overlapTOML)
	tests := []struct {
		path    string
		refused bool
	}{
		{"/api/admin%2F..%2Fx", true},
		{"/api/admin%2F%2E%2E%2Fx", true},
		{"/api/admin%5C..%5Cx", true},
		{"/api/admin%2F.%2F..%2Fx", true},
		{"/api/x%2F..%2Fy", false},
		{"/api/x%2F.%2Fy", false},
	}
	for _, tt := range tests {
		m := p.Match("GET", tt.path)
		if m.Route == nil || (m.Refused != "") != tt.refused {
			t.Errorf("Match(GET, %q) = %v, refused %q; want refused %v", tt.path, m.Route, m.Refused, tt.refused)
		}
	}
}
