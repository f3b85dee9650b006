package export_test

// Issue 22, faults 2 and 3, against a real HAProxy running the export in
// front of a recording upstream: a method override spelled as CGI, WSGI
// and PHP read it (underscores), or as a _method query parameter or form
// field, is refused as the dashed headers are; a client's identity headers
// are dropped in every spelling; and a chunked body is bounded as one with
// a Content-Length is.

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// bodyUpstream records the requests it receives with their bodies' length
// and answers 200.
type bodyUpstream struct {
	*httptest.Server
	mu    sync.Mutex
	hits  []hit
	sizes []int64
}

func newBodyUpstream(t *testing.T) *bodyUpstream {
	u := &bodyUpstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		u.mu.Lock()
		u.hits = append(u.hits, hit{r.Method, r.RequestURI, r.Header.Clone()})
		u.sizes = append(u.sizes, n)
		u.mu.Unlock()
		fmt.Fprint(w, `{"upstream":"all"}`)
	}))
	t.Cleanup(u.Close)
	return u
}

func (u *bodyUpstream) take() ([]hit, []int64) {
	u.mu.Lock()
	defer u.mu.Unlock()
	h, s := u.hits, u.sizes
	u.hits, u.sizes = nil, nil
	return h, s
}

// rawExchange sends head (the request line and headers, without the blank
// line) and then body as it is, reading the response meanwhile: HAProxy may
// answer before the body is sent and close the connection, and a write
// that then fails is not this test's concern.
func rawExchange(t *testing.T, addr, method, head string, body io.Reader) (*http.Response, []byte) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(60 * time.Second))
	go func() {
		w := bufio.NewWriterSize(conn, 64<<10)
		_, _ = io.WriteString(w, head+"\r\n")
		if body != nil {
			_, _ = io.Copy(w, body)
		}
		_ = w.Flush()
	}()
	resp, respBody, err := readResponse(conn, method)
	if err != nil {
		t.Fatalf("%s: %v", strings.SplitN(head, "\r\n", 2)[0], err)
	}
	return resp, respBody
}

// chunked is n bytes of body in chunked transfer coding, in chunks of size.
func chunked(n, size int) io.Reader {
	var parts []io.Reader
	chunk := strings.Repeat("a", size)
	for n > 0 {
		c := min(n, size)
		parts = append(parts, strings.NewReader(fmt.Sprintf("%x\r\n%s\r\n", c, chunk[:c])))
		n -= c
	}
	parts = append(parts, strings.NewReader("0\r\n\r\n"))
	return io.MultiReader(parts...)
}

// TestMethodOverrideSpellingsBehindHAProxy: with GET /reports for the read
// group and a weaker ANY /reports beside it, the anyone key must not reach
// the GET code through any spelling of a method override a framework
// reads. Each is refused 400 with inquir's body, as the dashed headers are,
// and no upstream is reached; spellings no framework reads as an override
// pass.
func TestMethodOverrideSpellingsBehindHAProxy(t *testing.T) {
	requireHAProxy(t)
	config := writeHeadConfig(t)
	up := newBodyUpstream(t)
	h := startHAProxy(t, exportTo(t, config, up.URL))
	addr := strings.TrimPrefix(h.URL, "http://")
	key := "X-Api-Key: " + headKeys["anyone"]

	const (
		form      = "Content-Type: application/x-www-form-urlencoded"
		multipart = "Content-Type: multipart/form-data; boundary=XyZ"
		jsonType  = "Content-Type: application/json"
	)
	multipartBody := func(name string) string {
		return "--XyZ\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n\r\nGET\r\n--XyZ--\r\n"
	}
	bodyMsg := func(what string) string {
		return `{"error":"bad_request","message":"the ` + what + ` names a method another route serves; send the request with that method instead"}` + "\n"
	}
	for _, tc := range []struct {
		name    string
		target  string
		headers []string
		body    string
		refused string // the 400's body; "" for a request that must pass
	}{
		// The headers as CGI, WSGI and PHP read them: HTTP_X_HTTP_METHOD_OVERRIDE
		// whatever the client's separators.
		{name: "underscore override header", target: "/reports", headers: []string{"X_HTTP_METHOD_OVERRIDE: GET"}, refused: bodyMsg("X_HTTP_Method_Override header")},
		{name: "mixed override header", target: "/reports", headers: []string{"x-http_method-override: GET"}, refused: bodyMsg("X-HTTP_Method-Override header")},
		{name: "underscore X-HTTP-Method", target: "/reports", headers: []string{"X_HTTP_Method: GET"}, refused: bodyMsg("X_HTTP_Method header")},
		{name: "underscore X-Method-Override", target: "/reports", headers: []string{"x_method_override: GET"}, refused: bodyMsg("X_Method_Override header")},
		{name: "empty underscore header", target: "/reports", headers: []string{"X_HTTP_METHOD_OVERRIDE: "}},
		// ?_method=, as Laravel, Symfony and Express's method-override read it,
		// and as PHP spells the name ("%5F", ".", leading blanks).
		{name: "query _method", target: "/reports?_method=GET", refused: bodyMsg("_method query parameter")},
		{name: "query _method among others", target: "/reports?a=1&_method=get&b", refused: bodyMsg("_method query parameter")},
		{name: "query %5Fmethod", target: "/reports?%5Fmethod=GET", refused: bodyMsg("_method query parameter")},
		{name: "query %5fm%45thod", target: "/reports?x=%zz&%5fm%45thod=GET", refused: bodyMsg("_method query parameter")},
		{name: "query .method", target: "/reports?.method=GET", refused: bodyMsg("_method query parameter")},
		{name: "query +_method", target: "/reports?+_method=GET", refused: bodyMsg("_method query parameter")},
		{name: "query _method[]", target: "/reports?_method[]=GET", refused: bodyMsg("_method query parameter")},
		{name: "query empty _method", target: "/reports?_method="},
		{name: "query other names", target: "/reports?my_method=GET&_methods=GET&x=_method"},
		// A form body, as Rails (Rack::MethodOverride), Laravel and Symfony
		// read it; Rack reads a POST without a Content-Type as a form too;
		// Laravel reads JSON input.
		{name: "form _method", target: "/reports", headers: []string{form}, body: "a=1&_method=GET", refused: bodyMsg("_method form field")},
		{name: "form %5Fmethod", target: "/reports", headers: []string{form}, body: "%5Fmethod=GET&x=%zz", refused: bodyMsg("_method form field")},
		{name: "untyped _method", target: "/reports", body: "_method=GET", refused: bodyMsg("_method form field")},
		{name: "multipart _method", target: "/reports", headers: []string{multipart}, body: multipartBody("_method"), refused: bodyMsg("_method form field")},
		{name: "json _method", target: "/reports", headers: []string{jsonType}, body: `{"a": 1, "_method" : "GET"}`, refused: bodyMsg("_method form field")},
		{name: "json \\u005fmethod", target: "/reports", headers: []string{jsonType}, body: `{"\u005fmethod":"GET"}`, refused: bodyMsg("_method form field")},
		{name: "form without _method", target: "/reports", headers: []string{form}, body: "method=GET&my_method=GET&a=_method"},
		{name: "json without _method", target: "/reports", headers: []string{jsonType}, body: `{"method":"GET","x":"_method"}`},
		{name: "multipart other field", target: "/reports", headers: []string{multipart}, body: multipartBody("my_method")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			head := "POST " + tc.target + " HTTP/1.1\r\nHost: example.test\r\nConnection: close\r\n" + key + "\r\n"
			for _, hd := range tc.headers {
				head += hd + "\r\n"
			}
			head += fmt.Sprintf("Content-Length: %d\r\n", len(tc.body))
			resp, body := rawExchange(t, addr, "POST", head, strings.NewReader(tc.body))
			hits, _ := up.take()
			if tc.refused == "" {
				if resp.StatusCode != 200 || len(hits) != 1 {
					t.Fatalf("status %d %q, %d upstream requests; want it through", resp.StatusCode, body, len(hits))
				}
				return
			}
			if resp.StatusCode != 400 || string(body) != tc.refused || len(hits) != 0 {
				t.Fatalf("status %d %q, %d upstream requests; want 400 %q and none", resp.StatusCode, body, len(hits), tc.refused)
			}
		})
	}
}

// TestIdentityHeaderSpellingsDropped: X-Inquir-Key-Id and
// X-Inquir-Key-Metadata come from the gateway alone, also as an upstream
// that reads HTTP_X_INQUIR_KEY_ID (CGI, WSGI, PHP) sees them: a client's,
// with underscores for dashes, never travels upstream.
func TestIdentityHeaderSpellingsDropped(t *testing.T) {
	requireHAProxy(t)
	t.Setenv("INQUIR_EXPORT_PARTNER_KEY", fixtureKeys["partner"])
	up := newBodyUpstream(t)
	h := startHAProxy(t, exportTo(t, fixtureConfig, up.URL))
	addr := strings.TrimPrefix(h.URL, "http://")
	for _, target := range []string{"/customers/c-1", "/health"} { // a protected route and a public one
		head := "GET " + target + " HTTP/1.1\r\nHost: example.test\r\nConnection: close\r\nX-Api-Key: " + fixtureKeys["partner"] + "\r\n" +
			"X_Inquir_Key_Id: agent\r\nX-INQUIR_KEY-ID: agent\r\nx_inquir_key_metadata: {\"tenant\":\"evil\"}\r\nX-Inquir_Key_Metadata: {}\r\n"
		resp, body := rawExchange(t, addr, "GET", head, nil)
		hits, _ := up.take()
		if resp.StatusCode != 200 || len(hits) != 1 {
			t.Fatalf("GET %s: status %d %q, %d upstream requests", target, resp.StatusCode, body, len(hits))
		}
		var ids []string
		for name, values := range hits[0].Header {
			switch strings.ReplaceAll(strings.ToLower(name), "_", "-") {
			case "x-inquir-key-id", "x-inquir-key-metadata":
				ids = append(ids, name+": "+strings.Join(values, ", "))
			}
		}
		want := []string(nil)
		if target != "/health" {
			want = []string{"X-Inquir-Key-Id: partner", `X-Inquir-Key-Metadata: {"name":"Acme\u0020Inc.\u0020\u00231,\u0020100\u0025\u0020\u00fcber","tenant":"acme"}`}
		}
		slices.Sort(ids)
		if fmt.Sprint(ids) != fmt.Sprint(want) {
			t.Errorf("GET %s: identity headers upstream %q, want %q", target, ids, want)
		}
	}
}

// TestChunkedBodyBoundBehindHAProxy: a body over 6 MB is refused 413
// whether its length is declared or it comes chunked; a chunked body HAProxy
// cannot see whole is refused too, and a small one passes whole.
func TestChunkedBodyBoundBehindHAProxy(t *testing.T) {
	requireHAProxy(t)
	config := writeHeadConfig(t)
	up := newBodyUpstream(t)
	h := startHAProxy(t, exportTo(t, config, up.URL))
	addr := strings.TrimPrefix(h.URL, "http://")
	head := "POST /reports HTTP/1.1\r\nHost: example.test\r\nConnection: close\r\nX-Api-Key: " + headKeys["anyone"] + "\r\n"
	const overMax = 7 << 20
	var pad string
	for i := range 90 {
		pad += fmt.Sprintf("X-Pad-%d: %s\r\n", i, strings.Repeat("v", 100))
	}
	for _, tc := range []struct {
		name    string
		head    string
		body    io.Reader
		through int64 // the body length the upstream receives; -1 for refused
	}{
		{"small chunked", head + "Transfer-Encoding: chunked\r\n", chunked(1000, 300), 1000},
		{"7 MB chunked", head + "Transfer-Encoding: chunked\r\n", chunked(overMax, 64<<10), -1},
		{"7 MB chunked in 1-byte chunks first", head + "Transfer-Encoding: chunked\r\n", io.MultiReader(strings.NewReader(strings.Repeat("1\r\na\r\n", 20000)), chunked(overMax, 64<<10)), -1},
		// Headers and a long URL take room in HAProxy's buffer from the
		// body it can see: the bound still holds.
		{"7 MB chunked after 90 headers", head + pad + "Transfer-Encoding: chunked\r\n", chunked(overMax, 64<<10), -1},
		{"7 MB chunked with a long URL", strings.Replace(head, "/reports", "/reports?pad="+strings.Repeat("p", 10000), 1) + "Transfer-Encoding: chunked\r\n", chunked(overMax, 64<<10), -1},
		{"small chunked after 90 headers", head + pad + "Transfer-Encoding: chunked\r\n", chunked(100, 7), 100},
		{"7 MB declared", head + fmt.Sprintf("Content-Length: %d\r\n", overMax), strings.NewReader(strings.Repeat("a", overMax)), -1},
		{"1 MB declared", head + fmt.Sprintf("Content-Length: %d\r\n", 1<<20), strings.NewReader(strings.Repeat("a", 1<<20)), 1 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := rawExchange(t, addr, "POST", tc.head, tc.body)
			hits, sizes := up.take()
			if tc.through >= 0 {
				if resp.StatusCode != 200 || len(hits) != 1 || sizes[0] != tc.through {
					t.Fatalf("status %d %q, upstream bodies %v; want 200 and one body of %d bytes", resp.StatusCode, body, sizes, tc.through)
				}
				return
			}
			if resp.StatusCode != 413 || !strings.Contains(string(body), `"error":"payload_too_large"`) || len(hits) != 0 {
				t.Fatalf("status %d %q, upstream bodies %v; want 413 payload_too_large and no upstream request", resp.StatusCode, body, sizes)
			}
		})
	}

	// A request refused before its body matters is answered at once,
	// without waiting for a body that never comes.
	t.Run("keyless, body never sent", func(t *testing.T) {
		start := time.Now()
		resp, body := rawExchange(t, addr, "POST", "POST /reports HTTP/1.1\r\nHost: example.test\r\nTransfer-Encoding: chunked\r\n", strings.NewReader("5\r\nhello\r\n"))
		if resp.StatusCode != 401 || time.Since(start) > 5*time.Second {
			t.Fatalf("status %d %q after %v; want 401 at once", resp.StatusCode, body, time.Since(start))
		}
	})
}
