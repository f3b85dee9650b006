package emulator_test

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/inquir-dev/inquir/emulator"
)

// TestExampleProject serves the repository's own inquir.toml, with its real
// Go and Node functions, and replays the session the README shows: the
// README's promises stay true.
func TestExampleProject(t *testing.T) {
	const (
		partnerKey  = "inq_demo_partner_ILsMY9hDezitm0RXj23RpFZB"
		internalKey = "inq_demo_internal_6K_SlNHdc_yuA5LVQBuGixbL"
	)
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{partnerKey, internalKey} {
		if !strings.Contains(string(readme), k) {
			t.Fatalf("the README no longer shows the demo key %s", k)
		}
	}
	e, err := emulator.Start(emulator.Options{
		ConfigPath: filepath.Join("..", "inquir.toml"),
		Listen:     "127.0.0.1:0",
		CacheDir:   t.TempDir(),
		Output:     io.Discard,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := e.Close(ctx); err != nil {
			t.Error(err)
		}
	}()

	// Build first, with a deadline for a cold, busy machine, so no request
	// below races the first compile of the Go function.
	buildCtx, cancelBuild := context.WithTimeout(context.Background(), 10*time.Minute)
	e.Prepare(buildCtx)
	cancelBuild()
	if st := e.FunctionStats()["customers"]; st.Build != "ready" {
		t.Fatalf("customers did not build: %+v", st)
	}

	tests := []struct {
		name, method, path, key, body string
		status                        int
		want                          string
		bearer                        string // the Authorization header, for the authorizer
	}{
		{"no key", "GET", "/customers/c-1001", "", "", 401, `{"error":"missing_api_key","message":"this route needs an API key in the x-api-key header"}`, ""},
		{"internal key on the partner route", "GET", "/customers/c-1001", internalKey, "", 403, `{"error":"forbidden","message":"this API key may not call this route"}`, ""},
		{"partner key", "GET", "/customers/c-1001", partnerKey, "", 200, `{"calledBy":"partner-acme","customer":{"id":"c-1001","name":"Ada Lovelace","tenant":"acme"}}`, ""},
		{"unknown customer", "GET", "/customers/c-9", partnerKey, "", 404, `{"error":"no customer c-9"}`, ""},
		{"bad customer id", "GET", "/customers/x", partnerKey, "", 400, `{"error":"customerId must look like c-1001"}`, ""},
		{"partner key on the internal route", "POST", "/internal/search", partnerKey, `{"query":"keys"}`, 403, `{"error":"forbidden","message":"this API key may not call this route"}`, ""},
		{"search", "POST", "/internal/search", internalKey, `{"query":"rotating"}`, 200, `{"query":"rotating","results":[{"id":"doc-1","title":"Rotating API keys without downtime"}],"calledBy":"search-agent"}`, ""},
		{"search without a query", "POST", "/internal/search", internalKey, `{}`, 400, `{"error":"query must be a non-empty string"}`, ""},
		{"public health", "GET", "/health", "", "", 200, `{"status":"ok"}`, ""},
		{"orders without a token", "GET", "/customers/c-1001/orders", partnerKey, "", 401, `{"error":"unauthorized","message":"this route needs the Authorization header"}`, ""},
		{"orders with a bad token", "GET", "/customers/c-1001/orders", partnerKey, "", 401, `{"error":"unauthorized","message":"the authorizer refused the request"}`, "Bearer nope"},
		{"orders without a key", "GET", "/customers/c-1001/orders", "", "", 401, `{"error":"missing_api_key","message":"this route needs an API key in the x-api-key header"}`, "Bearer demo-acme-token"},
		{"orders", "GET", "/customers/c-1001/orders", partnerKey, "", 200, `{"customerId":"c-1001","tenant":"acme","calledBy":"partner-acme","orders":[{"id":"o-1","total":42}]}`, "Bearer demo-acme-token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, e.URL()+tt.path, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if tt.key != "" {
				req.Header.Set("x-api-key", tt.key)
			}
			if tt.bearer != "" {
				req.Header.Set("Authorization", tt.bearer)
			}
			client := &http.Client{Timeout: 60 * time.Second} // a bound, should a worker hang
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status || strings.TrimSpace(string(body)) != tt.want {
				t.Errorf("got %d %s\nwant %d %s", resp.StatusCode, body, tt.status, tt.want)
			}
		})
	}
	st := e.Gateway().Stats()
	if st.Invocations["customers"] != 3 || st.Invocations["search"] != 2 || st.Invocations["tenant-auth"] != 2 || st.Invocations["orders"] != 1 {
		t.Errorf("invocations = %v; the refused requests must not count", st.Invocations)
	}
}
