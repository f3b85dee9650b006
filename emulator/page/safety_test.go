package page

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestOnLoopback: the page answers a connection from this machine to a
// loopback address, and nothing else, whatever the Host (inquir dev may
// listen on every address).
func TestOnLoopback(t *testing.T) {
	for _, c := range []struct {
		name, local, remote string
		want                bool
	}{
		{"loopback", "127.0.0.1:8787", "127.0.0.1:50000", true},
		{"loopback v6", "[::1]:8787", "[::1]:50000", true},
		{"another machine, to the LAN address", "192.168.1.5:8787", "192.168.1.9:50000", false},
		{"another machine's packet to 127.0.0.1", "127.0.0.1:8787", "192.168.1.9:50000", false},
		{"this machine, to the LAN address", "192.168.1.5:8787", "127.0.0.1:50000", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			local, err := net.ResolveTCPAddr("tcp", c.local)
			if err != nil {
				t.Fatal(err)
			}
			r := httptest.NewRequest("GET", "/_inquir/", nil).WithContext(context.WithValue(context.Background(), http.LocalAddrContextKey, local))
			r.RemoteAddr = c.remote
			if got := onLoopback(r); got != c.want {
				t.Errorf("onLoopback = %v, want %v", got, c.want)
			}
			pg := New(Options{})
			w := httptest.NewRecorder()
			pg.ServeHTTP(w, r)
			if c.want && w.Code == http.StatusForbidden || !c.want && w.Code != http.StatusForbidden {
				t.Errorf("the page answered %d", w.Code)
			}
		})
	}
	// No local address at all (a handler called directly): refused.
	if onLoopback(httptest.NewRequest("GET", "/_inquir/", nil)) {
		t.Error("a request with no local address passes")
	}
}
