package policy

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// TestOverrideNames pins which names are read as a method override
// (issue 22): the headers in any case with "-" or "_", and _method as
// PHP, Rack, Symfony, qs and ASP.NET read form and query names.
func TestOverrideNames(t *testing.T) {
	for _, tc := range []struct {
		key  string
		want int
	}{
		{"X-Http-Method-Override", 0},
		{"X_http_method_override", 0},
		{"X-Http_method-Override", 0},
		{"X_http_method", 1},
		{"X_method_override", 2},
		{"X-Http-Method-Overrides", 3},
		{"X.http.method", 3},
		{"Xhttpmethod", 3},
	} {
		if got := overrideHeader(tc.key); got != tc.want {
			t.Errorf("overrideHeader(%q) = %d, want %d", tc.key, got, tc.want)
		}
	}
	for name, want := range map[string]bool{
		"_method": true, "_METHOD": true, "_Method": true, "%5Fmethod": true, "_%6Dethod": true,
		".method": true, "+_method": true, "%20_method": true, "_method[]": true, "_method[0]": true,
		"method": false, "__method": false, "_methods": false, "x_method": false, "[method": false,
		"+method": false, "_method%": false, "": false, "_meth": false,
	} {
		if got := isOverrideField(name); got != want {
			t.Errorf("isOverrideField(%q) = %v, want %v", name, got, want)
		}
	}
}

// TestMatchFormAndQuery: a _method that names a method another route
// serves is refused wherever a framework reads it; one the route itself
// answers is not.
func TestMatchFormAndQuery(t *testing.T) {
	p := compile(t, caseKeys+routeTOML("GET", "/reports", `group = "admins"`)+routeTOML("ANY", "/reports", `group = "partners"`))
	for _, tc := range []struct {
		target  string
		refused bool
	}{
		{"/reports?_method=GET", true},
		{"/reports?_method=HEAD", true},
		{"/reports?_method=get,put", true},
		{"/reports?_method=PUT", false},
		{"/reports?_method=", false},
		{"/reports?_method", false},
		{"/reports?a=_method", false},
	} {
		r := httptest.NewRequest("POST", tc.target, nil)
		if m := p.MatchRequest(r); (m.Refused != "") != tc.refused {
			t.Errorf("POST %s: refused %q, want refused %v", tc.target, m.Refused, tc.refused)
		}
	}
	m := p.Match("POST", "/reports")
	for _, tc := range []struct {
		types   []string
		body    string
		refused bool
	}{
		{nil, "_method=GET", true},
		{[]string{"application/x-www-form-urlencoded"}, "a=b;_method=GET", true},
		{[]string{"APPLICATION/X-WWW-FORM-URLENCODED ; charset=utf-8"}, "_method=GET", true},
		{[]string{"text/plain", "application/x-www-form-urlencoded"}, "_method=GET", true},
		{[]string{"multipart/form-data; boundary=xyz"}, "--xyz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\n" + strings.Repeat("a", 1<<20) + "\r\n--xyz\r\nContent-Disposition: form-data; name=\"_method\"\r\n\r\nGET\r\n--xyz--\r\n", true},
		{[]string{"multipart/form-data; boundary=xyz"}, "--xyz\r\nContent-Disposition: form-data; name=\"_method\"\r\n\r\nPUT\r\n--xyz--\r\n", false},
		// Spellings Rack and PHP read as forms though Go's MIME parser
		// refuses them: a parameter without a value, a list, nothing.
		{[]string{"multipart/form-data; boundary=xyz; x"}, "--xyz\r\nContent-Disposition: form-data; name=\"_method\"\r\n\r\nGET\r\n--xyz--\r\n", true},
		{[]string{"application/x-www-form-urlencoded, text/plain"}, "_method=GET", true},
		{[]string{""}, "_method=GET", true},
		{[]string{"application/json"}, "_method=GET", false},
		{[]string{"text/plain"}, "_method=GET", false},
		{nil, "", false},
	} {
		if f := p.MatchForm(m, tc.types, []byte(tc.body)); (f.Refused != "") != tc.refused {
			t.Errorf("%q, %.40q: refused %q, want refused %v", tc.types, tc.body, f.Refused, tc.refused)
		}
	}
}

// TestOverrideListIsBounded: an override naming a method thousands of times
// (in one header value, or in many query fields) is refused without
// routing the path each time: each distinct method is routed once, and a
// request naming more than maxOverrideMethods is refused outright. Before,
// a 28 KB path and a 28 KB header held a core for seconds, before the key
// check.
func TestOverrideListIsBounded(t *testing.T) {
	p := compile(t, caseKeys+routeTOML("ANY", "/reports/{id}", `group = "partners"`))
	long := "/reports/" + strings.Repeat("a%2Cb;", 4000)
	for _, tc := range []struct{ name, target, header string }{
		{"header", long, strings.Repeat("PUT,", 7000) + "PUT"},
		{"query", long + "?" + strings.Repeat("_method=PUT&", 2000), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", tc.target, nil)
			if tc.header != "" {
				r.Header.Set("X-HTTP-Method-Override", tc.header)
			}
			routed := 0
			p.matchHook = func() { routed++ }
			defer func() { p.matchHook = nil }()
			m := p.MatchRequest(r)
			if m.Refused == "" {
				t.Errorf("an override naming thousands of methods was let through")
			}
			if routed > maxOverrideMethods+1 {
				t.Errorf("the path was routed %d times for one request, want at most %d", routed, maxOverrideMethods+1)
			}
		})
	}
}
