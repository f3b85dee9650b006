package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Exit statuses and streams, as the Go tools use them: help asked for is
// stdout and 0; a usage error is stderr and 2; a missing or invalid config
// is stderr and 2 from every command that reads one, in one shape. (The
// scripts in testdata/script/cli*.txtar show the words; testscript does not
// tell one failing status from another.)
func TestExitStatuses(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	files := map[string]string{
		"broken.toml": "[keys.partner]\nsecret = \"env:K\"\ngroups = \"orders\"\n",
		"syntax.toml": "[keys.partner\nsecret = \"env:K\"\n",
		// secrets.toml is valid, but its secrets cannot be resolved here.
		"secrets.toml": "[keys.ci]\nsecret = \"env:INQUIR_CLI_TEST_UNSET\"\ngroups = [\"o\"]\n[keys.vault]\nsecret = \"file:nope.key\"\n" +
			"[functions.f]\nruntime = \"node\"\npath = \"f.mjs\"\n[[routes]]\nmethod = \"GET\"\npath = \"/o\"\nfunction = \"f\"\ngroup = \"o\"\n",
		"f.mjs": "export async function handler() {}\n",
		// open.toml is valid, but its one route is open and nobody said why.
		"open.toml": "[functions.f]\nruntime = \"node\"\npath = \"f.mjs\"\n[[routes]]\nmethod = \"GET\"\npath = \"/o\"\nfunction = \"f\"\nauth = \"none\"\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		args         []string
		code         int
		stdout       bool   // something on stdout
		stderrPrefix string // "" for nothing on stderr
	}{
		{nil, exitUsage, false, "inquir runs serverless functions"},
		{[]string{"help"}, exitOK, true, ""},
		{[]string{"--help"}, exitOK, true, ""},
		{[]string{"-h"}, exitOK, true, ""},
		// Every command's help, however it is asked: stdout, exit 0.
		{[]string{"help", "dev"}, exitOK, true, ""},
		{[]string{"dev", "--help"}, exitOK, true, ""},
		{[]string{"dev", "-h"}, exitOK, true, ""},
		{[]string{"help", "lint"}, exitOK, true, ""},
		{[]string{"lint", "--help"}, exitOK, true, ""},
		{[]string{"lint", "-h"}, exitOK, true, ""},
		{[]string{"help", "routes"}, exitOK, true, ""},
		{[]string{"routes", "--help"}, exitOK, true, ""},
		{[]string{"routes", "-h"}, exitOK, true, ""},
		{[]string{"help", "verify"}, exitOK, true, ""},
		{[]string{"verify", "--help"}, exitOK, true, ""},
		{[]string{"verify", "-h"}, exitOK, true, ""},
		{[]string{"help", "export"}, exitOK, true, ""},
		{[]string{"export", "--help"}, exitOK, true, ""},
		{[]string{"export", "-h"}, exitOK, true, ""},
		{[]string{"help", "request"}, exitOK, true, ""},
		{[]string{"request", "--help"}, exitOK, true, ""},
		{[]string{"request", "-h"}, exitOK, true, ""},
		{[]string{"request", "GET", "--help"}, exitOK, true, ""},
		{[]string{"help", "keys"}, exitOK, true, ""},
		{[]string{"keys", "--help"}, exitOK, true, ""},
		{[]string{"keys", "-h"}, exitOK, true, ""},
		{[]string{"help", "keys", "new"}, exitOK, true, ""},
		{[]string{"keys", "new", "--help"}, exitOK, true, ""},
		{[]string{"keys", "new", "-h"}, exitOK, true, ""},
		{[]string{"help", "keys", "hash"}, exitOK, true, ""},
		{[]string{"keys", "hash", "--help"}, exitOK, true, ""},
		{[]string{"keys", "hash", "-h"}, exitOK, true, ""},
		{[]string{"help", "version"}, exitOK, true, ""},
		{[]string{"version", "--help"}, exitOK, true, ""},
		{[]string{"version", "-h"}, exitOK, true, ""},
		{[]string{"help", "help"}, exitOK, true, ""},
		{[]string{"--version"}, exitOK, true, ""},
		{[]string{"version"}, exitOK, true, ""},
		{[]string{"frobnicate"}, exitUsage, false, "inquir: unknown command"},
		{[]string{"help", "frobnicate"}, exitUsage, false, "inquir help: unknown command"},
		{[]string{"routes", "--bogus"}, exitUsage, false, "inquir routes: unknown flag --bogus"},
		{[]string{"request", "GET"}, exitUsage, false, "inquir request: missing URL after GET"},
		{[]string{"request", "GET", "127.0.0.1:8787/x"}, exitUsage, false, "inquir request: URL needs a scheme: http://127.0.0.1:8787/x"},
		{[]string{"keys"}, exitUsage, false, "usage: inquir keys new"},
		{[]string{"keys", "old"}, exitUsage, false, "inquir keys: unknown subcommand \"old\""},
		{[]string{"keys", "new", "extra"}, exitUsage, false, "inquir keys new: unexpected argument \"extra\""},
		{[]string{"help", "keys", "old"}, exitUsage, false, "inquir help: unknown command \"keys old\""},
		{[]string{"help", "routes", "extra"}, exitUsage, false, "inquir help: unknown command \"routes extra\""},
		{[]string{"dev", "--config", "missing.toml", "--listen", "127.0.0.1:0"}, exitUsage, false, "inquir dev: missing.toml: no such file or directory"},
		{[]string{"lint", "--config", "missing.toml"}, exitUsage, false, "inquir lint: missing.toml: no such file or directory"},
		{[]string{"routes", "--config", "missing.toml"}, exitUsage, false, "inquir routes: missing.toml: no such file or directory"},
		{[]string{"verify", "--config", "missing.toml"}, exitUsage, false, "inquir verify: missing.toml: no such file or directory"},
		{[]string{"dev", "--config", "broken.toml", "--listen", "127.0.0.1:0"}, exitUsage, false, "inquir dev: broken.toml:3:10: keys.partner.groups: expected an array of strings"},
		{[]string{"lint", "--config", "broken.toml"}, exitUsage, false, "inquir lint: broken.toml:3:10: keys.partner.groups: expected an array of strings"},
		{[]string{"routes", "--config", "broken.toml"}, exitUsage, false, "inquir routes: broken.toml:3:10: keys.partner.groups: expected an array of strings"},
		{[]string{"verify", "--config", "broken.toml"}, exitUsage, false, "inquir verify: broken.toml:3:10: keys.partner.groups: expected an array of strings"},
		{[]string{"routes", "--config", "secrets.toml"}, exitOK, true, ""},
		{[]string{"dev", "--config", "secrets.toml", "--listen", "127.0.0.1:0"}, exitUsage, false, "inquir dev: secrets.toml:2:1: keys.ci.secret: environment variable INQUIR_CLI_TEST_UNSET is not set"},
		{[]string{"dev", "--config", "open.toml", "--listen", "127.0.0.1:0"}, exitUsage, false, "inquir dev: open.toml:8:1: error INQ001: GET /o is open to anyone"},
		{[]string{"dev", "--config", "syntax.toml", "--listen", "127.0.0.1:0"}, exitUsage, false, "inquir dev: syntax.toml:1:14: expected '.' or ']' to end table name, but got '\\n' instead"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := Main(context.Background(), tt.args, &stdout, &stderr)
			if code != tt.code {
				t.Errorf("exit %d; want %d (stderr: %s)", code, tt.code, stderr.String())
			}
			if got := stdout.Len() > 0; got != tt.stdout {
				t.Errorf("stdout %q; want something: %v", stdout.String(), tt.stdout)
			}
			if tt.stderrPrefix == "" && stderr.Len() > 0 {
				t.Errorf("stderr %q; want nothing", stderr.String())
			}
			if tt.stderrPrefix != "" && !strings.HasPrefix(stderr.String(), tt.stderrPrefix) {
				t.Errorf("stderr %q; want it to start with %q", stderr.String(), tt.stderrPrefix)
			}
		})
	}
}
