package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRoutesTableEscapesText: a reason (or a path) holding a newline, a tab
// or another control character is printed escaped, one route to a line,
// so the table cannot be made to show a row the config does not have
// (issue 22 fault 4).
func TestRoutesTableEscapesText(t *testing.T) {
	dir := t.TempDir()
	config := filepath.Join(dir, "inquir.toml")
	toml := `[keys.k]
secret = "sha256:abababababababababababababababababababababababababababababababab"

[functions.f]
runtime = "process"
command = ["./f"]

[[routes]]
method = "GET"
path = "/health"
function = "f"
auth = "none"
reason = "probe\nPOST    /admin   f         api_key  k\tbell\u0007 \u202e end"

[[routes]]
method = "GET"
path = "/a\tb"
function = "f"
keys = ["k"]

[[routes]]
method = "GET"
path = "/plain"
function = "f"
auth = "none"
reason = "load balancer checks: \"quoted\" C:\\dir"
`
	if err := os.WriteFile(config, []byte(toml), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if code := Main(context.Background(), []string{"routes", "--config", config}, &out, &errOut); code != exitOK {
		t.Fatalf("inquir routes: exit %d\n%s", code, errOut.String())
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 4 {
		t.Fatalf("inquir routes printed %d lines, want a header and 3 routes:\n%s", len(lines), out.String())
	}
	for _, want := range []string{
		`anyone (public: "probe\nPOST    /admin   f         api_key  k\tbell\a \u202e end")`,
		`"/a\tb"`,
		`anyone (public: load balancer checks: "quoted" C:\dir)`, // printable text as it is
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("inquir routes does not show %s:\n%s", want, out.String())
		}
	}
	if strings.ContainsAny(out.String(), "\t\a\u202e") {
		t.Errorf("inquir routes printed a control character raw:\n%q", out.String())
	}
}
