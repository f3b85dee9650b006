package verify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// A gateway that redirects must not lead verify to send a key to another
// origin, and a redirect never counts as the function answering.
func TestURLNeverFollowsRedirects(t *testing.T) {
	const secret = "partner-secret-for-verify-test"
	digest := sha256.Sum256([]byte(secret))
	dir := t.TempDir()
	config := `[keys.partner]
secret = "sha256:` + hex.EncodeToString(digest[:]) + `"
groups = ["partners"]

[functions.orders]
runtime = "node"
path = "handler.mjs"

[[routes]]
method = "GET"
path = "/orders/{id}"
function = "orders"
group = "partners"
`
	for name, content := range map[string]string{"inquir.toml": config, "handler.mjs": "export async function handler() {}\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// elsewhere is another origin; it records every request and the key
	// header each carried.
	var mu sync.Mutex
	var got []string
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.URL.Path+" key="+r.Header.Get("x-api-key"))
		mu.Unlock()
		w.Write([]byte("elsewhere"))
	}))
	defer elsewhere.Close()
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL+r.URL.Path, http.StatusFound)
	}))
	defer redirector.Close()

	rep, err := Run(context.Background(), Options{
		ConfigPath: filepath.Join(dir, "inquir.toml"),
		URL:        redirector.URL,
		Keys:       map[string]string{"partner": secret},
	})
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, g := range got {
		if strings.Contains(g, secret) {
			t.Errorf("the other origin got the key: %s", g)
		}
	}
	if len(got) > 0 {
		t.Errorf("verify followed %d redirects to another origin: %v", len(got), got)
	}
	reached := 0
	for _, c := range rep.Cells {
		if c.Want == Reach {
			reached++
			if c.OK {
				t.Errorf("cell %s %s (%s) counted a %d redirect as the function answering: %s", c.Method, c.Path, c.Credential, c.Status, c.Got)
			}
			if c.Status != http.StatusFound || !strings.Contains(c.Got, "redirect") {
				t.Errorf("cell %s %s (%s): got %q (status %d); want the 302 reported as a redirect", c.Method, c.Path, c.Credential, c.Got, c.Status)
			}
		}
	}
	if reached == 0 {
		t.Fatalf("no cell expected the function; cells: %+v", rep.Cells)
	}
	if rep.OK() {
		t.Error("the report is OK against a gateway that only redirects")
	}
}
