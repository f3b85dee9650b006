package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// TestRoutesTablePayload: a PAYLOAD column appears when some route is
// payload 2.0, naming each route's version; without one the table is as
// it was.
func TestRoutesTablePayload(t *testing.T) {
	const base = `[keys.k]
secret = "sha256:abababababababababababababababababababababababababababababababab"

[functions.f]
runtime = "process"
command = ["./f"]

[[routes]]
method = "GET"
path = "/rest"
function = "f"
keys = ["k"]
`
	for _, tt := range []struct {
		name, toml string
		want       []string // regular expressions, one a line
	}{
		{"no payload 2.0", base, []string{`^METHOD\s+PATH\s+FUNCTION\s+AUTH\s+CALLERS$`, `^GET\s+/rest\s+f\s+api_key\s+k$`}},
		{"a payload 2.0 route", base + "\n[[routes]]\nmethod = \"GET\"\npath = \"/http\"\nfunction = \"f\"\nkeys = [\"k\"]\npayload = \"2.0\"\n",
			[]string{`^METHOD\s+PATH\s+FUNCTION\s+AUTH\s+PAYLOAD\s+CALLERS$`, `^GET\s+/rest\s+f\s+api_key\s+1\.0\s+k$`, `^GET\s+/http\s+f\s+api_key\s+2\.0\s+k$`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			config := filepath.Join(t.TempDir(), "inquir.toml")
			if err := os.WriteFile(config, []byte(tt.toml), 0o644); err != nil {
				t.Fatal(err)
			}
			var out, errOut bytes.Buffer
			if code := Main(context.Background(), []string{"routes", "--config", config}, &out, &errOut); code != exitOK {
				t.Fatalf("inquir routes: exit %d\n%s", code, errOut.String())
			}
			lines := bytes.Split(bytes.TrimSuffix(out.Bytes(), []byte("\n")), []byte("\n"))
			if len(lines) != len(tt.want) {
				t.Fatalf("%d lines, want %d:\n%s", len(lines), len(tt.want), out.String())
			}
			for i, re := range tt.want {
				if !regexp.MustCompile(re).Match(lines[i]) {
					t.Errorf("line %d %q does not match %s", i+1, lines[i], re)
				}
			}
		})
	}
}
