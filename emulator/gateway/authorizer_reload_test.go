package gateway

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/inquir-dev/inquir/emulator/policy"
)

// tokenAuthorizerConfig is a project whose /r route only a TOKEN
// authorizer guards; extra is written into the authorizer's table.
func tokenAuthorizerConfig(extra string) string {
	return `
[authorizers.tok]
function = "auth"
type = "token"
identity_sources = ["header.Authorization"]
` + extra + `

[functions.auth]
runtime = "node"
path = "fn.mjs"

[functions.fn]
runtime = "node"
path = "fn.mjs"

[[routes]]
method = "GET"
path = "/r"
function = "fn"
auth = "authorizer"
authorizer = "tok"
`
}

// loadPolicy writes config to a fresh folder and loads it.
func loadPolicy(t *testing.T, config string) *policy.Policy {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "fn.mjs"), []byte("export async function handler() {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "inquir.toml")
	if err := os.WriteFile(path, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := policy.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func countCalls(s *spy, function string) int {
	n := 0
	for _, c := range s.called() {
		if c.function == function {
			n++
		}
	}
	return n
}

const allowAll = `{"principalId":"p","policyDocument":{"Version":"2012-10-17","Statement":[{"Action":"execute-api:Invoke","Effect":"Allow","Resource":"*"}]}`

// A reload that removes token_validation stops validating the token: the
// expression of the old definition does not outlive it.
func TestReloadDropsTokenValidation(t *testing.T) {
	s := &spy{answer: func(function string, event []byte) ([]byte, error) {
		if function == "auth" {
			return []byte(allowAll + `}`), nil
		}
		return []byte(`{"statusCode":200,"body":"ok"}`), nil
	}}
	gw := New(Options{Invoker: s, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	gw.SetPolicy(loadPolicy(t, tokenAuthorizerConfig(`token_validation = "Bearer .+"`)))
	get := func() int {
		req := httptest.NewRequest("GET", "http://127.0.0.1/r", nil)
		req.Header.Set("Authorization", "opaque-token")
		rec := httptest.NewRecorder()
		gw.ServeHTTP(rec, req)
		return rec.Code
	}
	if code := get(); code != http.StatusUnauthorized {
		t.Fatalf("with token_validation: status %d, want 401", code)
	}
	if n := countCalls(s, "auth"); n != 0 {
		t.Fatalf("with token_validation: the authorizer ran %d times", n)
	}
	gw.SetPolicy(loadPolicy(t, tokenAuthorizerConfig(``)))
	if code := get(); code != http.StatusOK {
		t.Errorf("token_validation removed: status %d, want 200", code)
	}
	if n := countCalls(s, "auth"); n != 1 {
		t.Errorf("token_validation removed: the authorizer ran %d times, want 1", n)
	}
}

// An answer the old definition of an authorizer gave, to a request that
// was in flight when a reload changed it, does not answer for the new
// definition: the reload drops it even though it was cached after.
func TestReloadDuringAuthorizerCall(t *testing.T) {
	entered := make(chan struct{})
	release := make(chan struct{})
	var once sync.Once
	s := &spy{answer: func(function string, event []byte) ([]byte, error) {
		if function != "auth" {
			return []byte(`{"statusCode":200,"body":"ok"}`), nil
		}
		first := false
		once.Do(func() { first = true })
		if first {
			close(entered)
			<-release
			return []byte(allowAll + `,"context":{"def":"old"}}`), nil
		}
		return []byte(allowAll + `,"context":{"def":"new"}}`), nil
	}}
	gw := New(Options{Invoker: s, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	gw.SetPolicy(loadPolicy(t, tokenAuthorizerConfig(`ttl = "300s"`)))
	get := func() int {
		req := httptest.NewRequest("GET", "http://127.0.0.1/r", nil)
		req.Header.Set("Authorization", "token-1")
		rec := httptest.NewRecorder()
		gw.ServeHTTP(rec, req)
		return rec.Code
	}
	done := make(chan int)
	go func() { done <- get() }()
	<-entered
	gw.SetPolicy(loadPolicy(t, tokenAuthorizerConfig(`ttl = "600s"`)))
	close(release)
	if code := <-done; code != http.StatusOK {
		t.Fatalf("in-flight request: status %d", code)
	}
	if code := get(); code != http.StatusOK {
		t.Fatalf("after the reload: status %d", code)
	}
	if n := countCalls(s, "auth"); n != 2 {
		t.Errorf("the authorizer ran %d times, want 2 (the changed definition answers afresh)", n)
	}
	calls := s.called()
	last := calls[len(calls)-1]
	if last.function != "fn" || last.event.RequestContext.Authorizer["def"] != "new" {
		t.Errorf("the handler got %v from %s, want def=new", last.event.RequestContext.Authorizer, last.function)
	}
}

// An authorizer whose function is still being built has not failed: the
// caller gets the 503 and Retry-After a handler still being built gives,
// not the 500 of an authorizer that crashed, and nothing is counted as
// the authorizer's error.
func TestAuthorizerStillBuilding(t *testing.T) {
	s := &spy{answer: func(function string, event []byte) ([]byte, error) {
		if function == "auth" {
			return nil, ErrBuilding
		}
		return []byte(`{"statusCode":200,"body":"ok"}`), nil
	}}
	gw := New(Options{Invoker: s, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	gw.SetPolicy(loadPolicy(t, tokenAuthorizerConfig(``)))
	req := httptest.NewRequest("GET", "http://127.0.0.1/r", nil)
	req.Header.Set("Authorization", "t")
	rec := httptest.NewRecorder()
	gw.ServeHTTP(rec, req)
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Errorf("status %d, Retry-After %q: %s", rec.Code, rec.Header().Get("Retry-After"), rec.Body)
	}
	if n := countCalls(s, "fn"); n != 0 {
		t.Errorf("the handler ran %d times", n)
	}
	if st := gw.Stats().Authorizers["tok"]; st.Errors != 0 {
		t.Errorf("authorizer stats %+v: a build under way counted as its error", st)
	}
}
