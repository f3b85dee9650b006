package export_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/inquir-dev/inquir/emulator/cli"
)

// TestSecretsOnlyAsDigests: whatever form a secret takes in inquir.toml
// (env:, file:, a literal, sha256:), the export holds its digest and never
// the secret.
func TestSecretsOnlyAsDigests(t *testing.T) {
	t.Setenv("INQUIR_EXPORT_PARTNER_KEY", fixtureKeys["partner"])
	dir := exportTo(t, fixtureConfig, "http://127.0.0.1:9")
	var all strings.Builder
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		all.Write(b)
	}
	keys, err := os.ReadFile(filepath.Join(dir, "keys.map"))
	if err != nil {
		t.Fatal(err)
	}
	secrets := append([]string{"export-fixture-rotating-old"}, mapValues(fixtureKeys)...)
	for _, s := range secrets {
		if strings.Contains(all.String(), s) {
			t.Errorf("the export holds the secret %q in plain text", s)
		}
		d := sha256.Sum256([]byte(s))
		inMap := strings.Contains(string(keys), hex.EncodeToString(d[:])+" ")
		if want := s != fixtureKeys["off"]; inMap != want {
			t.Errorf("keys.map holds the digest of %q: %v, want %v (a disabled key's secrets are left out)", s, inMap, want)
		}
	}
	if fi, err := os.Stat(filepath.Join(dir, "keys.map")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("keys.map mode: %v %v, want 0600", fi.Mode(), err)
	}
}

func mapValues(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// TestExportRefuses: what export cannot do right is a usage error (exit 2)
// that says what and how to fix it, and nothing is written.
func TestExportRefuses(t *testing.T) {
	spaced := filepath.Join(t.TempDir(), "inquir.toml")
	if err := os.WriteFile(spaced, []byte(`
[keys.a]
secret = "sha256:`+strings.Repeat("ab", 32)+`"
[functions.f]
runtime = "process"
command = ["./f"]
[[routes]]
method = "GET"
path = "/a b"
function = "f"
`), 0o644); err != nil {
		t.Fatal(err)
	}
	slow := filepath.Join(t.TempDir(), "inquir.toml")
	if err := os.WriteFile(slow, []byte(`
[plans.slow]
rate = 0.0001
burst = 300
[keys.a]
secret = "sha256:`+strings.Repeat("ab", 32)+`"
plan = "slow"
[functions.f]
runtime = "process"
command = ["./f"]
[[routes]]
method = "GET"
path = "/a"
function = "f"
`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		env    bool // INQUIR_EXPORT_PARTNER_KEY set
		config string
		args   []string
		want   string
	}{
		{"unresolvable secret", false, fixtureConfig, []string{"--upstream", "http://127.0.0.1:9"}, "keys.partner.secret: environment variable INQUIR_EXPORT_PARTNER_KEY is not set"},
		{"no upstream", true, fixtureConfig, []string{"--upstream", "search=http://127.0.0.1:9"}, "function customers has no upstream: give --upstream URL (for every function) or --upstream customers=URL"},
		{"upstream with a path", true, fixtureConfig, []string{"--upstream", "http://127.0.0.1:9/prod"}, "has a path; the function must receive the path the gateway authorised"},
		{"upstream for no function", true, fixtureConfig, []string{"--upstream", "http://127.0.0.1:9", "--upstream", "nosuch=http://127.0.0.1:9"}, `no function "nosuch"`},
		{"upstream scheme", true, fixtureConfig, []string{"--upstream", "ftp://127.0.0.1:9"}, "want http://host:port or https://host[:port]"},
		{"literal a request sends encoded", true, spaced, []string{"--upstream", "http://127.0.0.1:9"}, `routes[0].path: cannot export to HAProxy: segment "a b" holds " "`},
		{"bucket slower than a stick-table keeps", true, slow, []string{"--upstream", "http://127.0.0.1:9"}, "plans.slow: cannot export to HAProxy: a bucket of 300 at 0.0001 requests per second takes over 24 days to refill"},
		{"no target", true, fixtureConfig, []string{"--target", ""}, "--target is required"},
		{"other target", true, fixtureConfig, []string{"--target", "nginx"}, `--target must be haproxy or openapi, not "nginx"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.env {
				t.Setenv("INQUIR_EXPORT_PARTNER_KEY", fixtureKeys["partner"])
			} else {
				t.Setenv("INQUIR_EXPORT_PARTNER_KEY", "")
				os.Unsetenv("INQUIR_EXPORT_PARTNER_KEY")
			}
			out := filepath.Join(t.TempDir(), "out")
			args := append([]string{"export", "--target", "haproxy", "--config", tc.config, "--out", out}, tc.args...)
			code, msg := runCLI(t, args...)
			if code != 2 || !strings.Contains(msg, tc.want) {
				t.Fatalf("exit %d, output:\n%s\nwant exit 2 and %q", code, msg, tc.want)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("export wrote %s although it failed", out)
			}
		})
	}
}

// TestExportSaysWhatItDoesNotCarry: a field HAProxy cannot honour
// (binary_media_types: no Lambda proxy event behind it) is a listed warning
// naming its line, and the export still succeeds; without it, no warning.
func TestExportSaysWhatItDoesNotCarry(t *testing.T) {
	config := `[gateway]
binary_media_types = ["image/png", "*/*"]

[keys.a]
secret = "sha256:` + strings.Repeat("ab", 32) + `"
[functions.f]
runtime = "process"
command = ["./f"]
[[routes]]
method = "GET"
path = "/a"
function = "f"
`
	for _, tc := range []struct {
		name, config string
		want         string
	}{
		{"binary media types", config, `inquir export: warning: inquir.toml:2:1: gateway.binary_media_types: not exported to HAProxy: HAProxy forwards request and response bodies to and from the upstream as they are, with no Lambda proxy event to base64-encode them in; binary media types (image/png, */*) apply only to a Lambda proxy integration behind API Gateway or inquir dev` + "\n"},
		{"nothing left out", strings.Replace(config, "binary_media_types", "# binary_media_types", 1), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "inquir.toml")
			if err := os.WriteFile(path, []byte(tc.config), 0o644); err != nil {
				t.Fatal(err)
			}
			var out, errOut bytes.Buffer
			args := []string{"export", "--target", "haproxy", "--config", path, "--out", filepath.Join(dir, "out"), "--upstream", "http://127.0.0.1:9"}
			if code := cli.Main(context.Background(), args, &out, &errOut); code != 0 {
				t.Fatalf("exit %d: %s", code, errOut.String())
			}
			got := strings.ReplaceAll(errOut.String(), path, "inquir.toml")
			if got != tc.want {
				t.Errorf("stderr:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
}
