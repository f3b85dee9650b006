package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestReadmeTestingInCI follows the README's "Testing in CI, in your own
// repository" word for word in a scratch repository that has never seen
// inquir: no go.mod, a function and routes of its own (not the example's).
// It runs the commands the section gives and saves the files it says to
// save; they must pass. Only the clone's path differs (the repository itself
// stands in for ../inquir). The go command may fetch what go mod tidy needs
// from the module proxy, as a user's would.
func TestReadmeTestingInCI(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a scratch module's tests")
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	section := readmeSection(t, filepath.Join(root, "README.md"), "## Testing in CI, in your own repository")
	files, scripts := readmeSteps(t, section)
	if len(scripts) != 2 || len(files) != 2 {
		t.Fatalf("the section has %d command blocks and %d files, want 2 and 2 (the test follows them in order)", len(scripts), len(files))
	}

	dir := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The user's project: a config and a function of its own, and no
	// go.mod yet.
	write("inquir.toml", scratchConfig)
	write("functions/orders.mjs", "export async function handler(event) {\n  return { statusCode: 200, body: `order ${event.pathParameters.id}` };\n}\n")

	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Minute)
	defer cancel()
	run := func(block string) {
		t.Helper()
		for _, line := range strings.Split(strings.TrimSpace(block), "\n") {
			line = strings.ReplaceAll(line, "=../inquir", "="+root)
			cmd := exec.CommandContext(ctx, "sh", "-c", line)
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
			cmd.WaitDelay = 10 * time.Second
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%s: %v\n%s", line, err, out)
			}
			t.Logf("%s\n%s", line, out)
		}
	}
	run(scripts[0])
	if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err != nil || !strings.Contains(string(b), "module example.com/yourproject") {
		t.Fatalf("the section's first commands made no go.mod of the project's own: %v\n%s", err, b)
	}
	for name, content := range files {
		write(name, content)
	}
	run(scripts[1])

	// The suite can fail: the same project with its refund route left open
	// by accident does.
	write("inquir.toml", strings.Replace(scratchConfig, `group = "ops"`, `auth = "none"`, 1))
	lines := strings.Split(strings.TrimSpace(scripts[1]), "\n")
	cmd := exec.CommandContext(ctx, "sh", "-c", lines[len(lines)-1])
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
	cmd.WaitDelay = 10 * time.Second
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "INQ001") {
		t.Errorf("%s passed (or failed for another reason) with a route open by accident: %v\n%s", lines[len(lines)-1], err, out)
	}
}

// scratchConfig is the scratch project's own: none of the example's routes
// or keys, a public route with its reason, an internal group.
const scratchConfig = `[keys.shop-partner]
secret = "env:SHOP_PARTNER_KEY"
groups = ["shop"]

[keys.ops]
secret = "env:SHOP_OPS_KEY"
groups = ["ops"]

[groups.ops]
internal = true

[functions.orders]
runtime = "node"
path = "functions/orders.mjs"

[[routes]]
method = "GET"
path = "/orders/{id}"
function = "orders"
group = "shop"

[[routes]]
method = "POST"
path = "/admin/orders/{id}/refund"
function = "orders"
group = "ops"

[[routes]]
method = "GET"
path = "/ping"
function = "orders"
auth = "none"
reason = "the shop's uptime checks carry no key"
`

// readmeSection returns the README's text from heading to the next "## ".
func readmeSection(t *testing.T, path, heading string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "\n"+heading+"\n")
	if !ok {
		t.Fatalf("README.md has no section %q", heading)
	}
	if i := strings.Index(rest, "\n## "); i >= 0 {
		rest = rest[:i]
	}
	return rest
}

var saveAs = regexp.MustCompile("Save this as `([^`]+)`")

// readmeSteps returns the files a section says to save (a fenced block
// after "Save this as `NAME`") and its ```sh blocks, in order.
func readmeSteps(t *testing.T, section string) (files map[string]string, scripts []string) {
	files = map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(section))
	var pending, lang string
	var block []string
	inBlock := false
	for sc.Scan() {
		line := sc.Text()
		switch {
		case !inBlock && strings.HasPrefix(line, "```"):
			inBlock, lang, block = true, strings.TrimPrefix(line, "```"), nil
		case inBlock && line == "```":
			inBlock = false
			text := strings.Join(block, "\n") + "\n"
			switch {
			case pending != "":
				files[pending] = text
				pending = ""
			case lang == "sh":
				scripts = append(scripts, text)
			}
		case inBlock:
			block = append(block, line)
		default:
			if m := saveAs.FindStringSubmatch(line); m != nil {
				pending = m[1]
			}
		}
	}
	return files, scripts
}

// copyTree copies a file or a folder.
func copyTree(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.Walk(from, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, path)
		dst := filepath.Join(to, rel)
		if info.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, info.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
}
