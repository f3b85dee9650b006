//go:build unix

package runtimes

import (
	"net/http"
	"strings"
	"testing"
)

// TestRuntimeAPI checks the Runtime API's answers to requests that are not
// a worker's own: an unknown token, a request id that is not in flight,
// and attempts to start an invocation, which the API has no route for.
func TestRuntimeAPI(t *testing.T) {
	h := newManager(t, processFunction(t, "fn"))
	h.pid(t, "fn") // a live worker, waiting in /next
	var token string
	h.mu.Lock()
	for tok := range h.byToken {
		token = tok
	}
	h.mu.Unlock()
	if token == "" {
		t.Fatal("no live worker")
	}

	base := "http://" + h.apiAddr
	tests := []struct {
		name, method, path string
		want               int
	}{
		{"unknown token, next", "GET", "/w/bogus/2018-06-01/runtime/invocation/next", http.StatusNotFound},
		{"unknown token, response", "POST", "/w/bogus/2018-06-01/runtime/invocation/some-id/response", http.StatusNotFound},
		{"unknown token, error", "POST", "/w/bogus/2018-06-01/runtime/invocation/some-id/error", http.StatusNotFound},
		{"unknown token, init error", "POST", "/w/bogus/2018-06-01/runtime/init/error", http.StatusNotFound},
		{"no token", "GET", "/2018-06-01/runtime/invocation/next", http.StatusNotFound},
		{"response to an id not in flight", "POST", "/w/" + token + "/2018-06-01/runtime/invocation/some-id/response", http.StatusBadRequest},
		{"error for an id not in flight", "POST", "/w/" + token + "/2018-06-01/runtime/invocation/some-id/error", http.StatusBadRequest},
		{"posting an invocation", "POST", "/w/" + token + "/2018-06-01/runtime/invocation", http.StatusNotFound},
		{"posting to next", "POST", "/w/" + token + "/2018-06-01/runtime/invocation/next", http.StatusMethodNotAllowed},
		{"invoke API", "POST", "/2015-03-31/functions/fn/invocations", http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(t.Context(), tt.method, base+tt.path, strings.NewReader(`{"statusCode":200}`))
			if err != nil {
				t.Fatal(err)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != tt.want {
				t.Errorf("%s %s = %d, want %d", tt.method, tt.path, res.StatusCode, tt.want)
			}
		})
	}

	// None of that disturbed the worker.
	if got, want := h.mustCall(t, "fn", "/hello", nil).Body, "hello from python /hello"; got != want {
		t.Errorf("body %q, want %q", got, want)
	}
}
