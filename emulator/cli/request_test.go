package cli

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// request runs `inquir request args...` and returns its exit status and output.
func request(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), append([]string{"request"}, args...), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// A redirect is printed as it came: the key header never reaches the
// other origin, which gets no request at all.
func TestRequestNeverFollowsRedirects(t *testing.T) {
	const secret = "inq_request_test_secret"
	var mu sync.Mutex
	var got []string
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Method+" "+r.URL.Path+" key="+r.Header.Get("x-api-key"))
		mu.Unlock()
		w.Write([]byte("elsewhere\n"))
	}))
	defer elsewhere.Close()
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", elsewhere.URL+"/landed")
		w.WriteHeader(http.StatusFound)
		w.Write([]byte("moved"))
	}))
	defer redirector.Close()

	code, stdout, stderr := request(t, "GET", redirector.URL+"/orders", "-H", "x-api-key: "+secret)
	if code != exitOK {
		t.Fatalf("exit %d; stderr: %s", code, stderr)
	}
	if want := "302\nmoved\n"; stdout != want {
		t.Errorf("stdout = %q; want %q", stdout, want)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) > 0 {
		t.Errorf("the redirect was followed; the other origin got %v", got)
	}
}

// The body always ends in a newline, so the next line of a script's
// output starts on its own line; a body that has one gets no second.
func TestRequestEndsBodyWithNewline(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(strings.TrimPrefix(r.URL.Path, "/")))
		if r.URL.Query().Has("nl") {
			w.Write([]byte("\n"))
		}
	}))
	defer srv.Close()
	for _, tt := range []struct{ url, want string }{
		{"/ok", "200\nok\n"},
		{"/ok?nl", "200\nok\n"},
		{"/", "200\n"},
	} {
		code, stdout, stderr := request(t, "GET", srv.URL+tt.url)
		if code != exitOK || stdout != tt.want {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want 0, %q", tt.url, code, stdout, stderr, tt.want)
		}
	}
}

// The method goes out as written, as curl sends it: a gateway must be
// testable with "get" and "Get".
func TestRequestSendsMethodAsWritten(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(r.Method))
	}))
	defer srv.Close()
	for _, method := range []string{"get", "Get", "GET", "PoSt"} {
		code, stdout, stderr := request(t, method, srv.URL+"/")
		if want := "200\n" + method + "\n"; code != exitOK || stdout != want {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want 0, %q", method, code, stdout, stderr, want)
		}
	}
}

// --timeout bounds the whole request: a server that never answers makes
// it exit 1 with a message that names the flag.
func TestRequestTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	code, stdout, stderr := request(t, "GET", srv.URL+"/", "--timeout", "50ms")
	if code != exitFail || stdout != "" {
		t.Errorf("exit %d, stdout %q; want 1 and nothing", code, stdout)
	}
	if !strings.Contains(stderr, "no complete answer within 50ms (--timeout raises it)") {
		t.Errorf("stderr = %q; want it to name the timeout", stderr)
	}

	for _, bad := range []string{"soon", "0s", "-1s"} {
		code, _, stderr := request(t, "GET", srv.URL+"/", "--timeout", bad)
		if code != exitUsage || !strings.Contains(stderr, "is not a positive duration") {
			t.Errorf("--timeout %s: exit %d, stderr %q; want a usage error", bad, code, stderr)
		}
	}
}

// A large body is sent only once the server asks for it (Expect:
// 100-continue, as curl does): a server that refuses at once, as the
// gateway does with 413 or 401, gets none of it, and the answer is printed
// instead of lost under a connection reset.
func TestRequestLargeBodyAsksFirst(t *testing.T) {
	var mu sync.Mutex
	var expect []string
	var received int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		expect = append(expect, r.Header.Get("Expect"))
		mu.Unlock()
		w.Header().Set("Connection", "close")
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		w.Write([]byte("too large"))
		// After answering (flushed, so net/http will not send "100
		// Continue" for the read below): whatever of the body the client
		// sent anyway, within a moment.
		rc := http.NewResponseController(w)
		_ = rc.Flush()
		_ = rc.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		n, _ := io.Copy(io.Discard, r.Body)
		mu.Lock()
		received += n
		mu.Unlock()
	}))
	defer srv.Close()
	file := filepath.Join(t.TempDir(), "big")
	if err := os.WriteFile(file, bytes.Repeat([]byte("a"), 6<<20+1), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := request(t, "POST", srv.URL+"/echo", "-d", "@"+file)
	if code != exitOK || stdout != "413\ntoo large\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q; want 413 printed", code, stdout, stderr)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(expect) != 1 || expect[0] != "100-continue" {
		t.Errorf("Expect headers %q; want one request asking 100-continue", expect)
	}
	if received != 0 {
		t.Errorf("the server received %d bytes of a body it refused before asking for it", received)
	}
}

// Nothing listening: the message says where inquir request tried to
// connect and asks whether inquir dev runs there; no answer is a failed
// request, exit 1.
func TestRequestNothingListening(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.Listener.Addr().String()
	srv.Close() // the port is free again, with nothing behind it
	code, stdout, stderr := request(t, "GET", "http://"+addr+"/orders")
	want := "inquir request: cannot connect to " + addr + ": connection refused; is inquir dev running on " + addr + "?\n"
	if code != exitFail || stdout != "" || stderr != want {
		t.Errorf("exit %d, stdout %q, stderr %q; want 1, nothing, %q", code, stdout, stderr, want)
	}
}

// A missing METHOD or URL, or a URL inquir request cannot send to, is a
// usage error that says what is missing and, where it can, the fix.
func TestRequestUsageErrors(t *testing.T) {
	usage := "usage: inquir request METHOD URL [-i] [-H 'Name: value']... [-d BODY|@FILE] [--timeout 60s]\n"
	tests := []struct {
		name   string
		args   []string
		stderr string
	}{
		{"nothing", nil, "inquir request: missing METHOD and URL\n" + usage},
		{"no URL", []string{"GET"}, "inquir request: missing URL after GET, as in: inquir request GET http://127.0.0.1:8787/PATH\n" + usage},
		{"no method", []string{"http://127.0.0.1:8787/x"}, "inquir request: missing METHOD before the URL, as in: inquir request GET http://127.0.0.1:8787/x\n" + usage},
		{"one argument too many", []string{"GET", "http://127.0.0.1:8787/x", "extra"}, "inquir request: unexpected argument \"extra\"\n" + usage},
		{"no scheme", []string{"GET", "127.0.0.1:8787/x"}, "inquir request: URL needs a scheme: http://127.0.0.1:8787/x\n"},
		{"no scheme, a host name", []string{"GET", "localhost:8787/x"}, "inquir request: URL needs a scheme: http://localhost:8787/x\n"},
		{"a path alone", []string{"GET", "/x"}, "inquir request: URL needs a scheme and a host: http://127.0.0.1:8787/x\n"},
		{"no scheme, a URL in the query", []string{"GET", "127.0.0.1:8787/x?next=http://a/b"}, "inquir request: URL needs a scheme: http://127.0.0.1:8787/x?next=http://a/b\n"},
		{"another scheme", []string{"GET", "ftp://127.0.0.1/x"}, "inquir request: URL \"ftp://127.0.0.1/x\" must start with http:// or https://\n"},
		{"no host", []string{"GET", "http:///x"}, "inquir request: URL \"http:///x\" has no host, as in http://127.0.0.1:8787/x\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := request(t, tt.args...)
			if code != exitUsage || stdout != "" || stderr != tt.stderr {
				t.Errorf("exit %d, stdout %q, stderr %q; want 2, nothing, %q", code, stdout, stderr, tt.stderr)
			}
		})
	}
}
