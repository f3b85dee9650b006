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
// repository" word for word in a scratch module that holds a copy of the
// example project: the go.mod step, the files it says to save, and the
// commands it says to run, which must pass. Only the clone's path differs
// (the repository itself stands in for ../inquir), and the go command runs
// offline, from the module cache this test's own build filled.
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
	// The user's project: the example's inquir.toml and functions, in a
	// module of its own.
	write("go.mod", "module example.com/shop\n\ngo 1.26\n")
	copyTree(t, filepath.Join(root, "inquir.toml"), filepath.Join(dir, "inquir.toml"))
	copyTree(t, filepath.Join(root, "functions"), filepath.Join(dir, "functions"))

	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Minute)
	defer cancel()
	run := func(block string) {
		t.Helper()
		for _, line := range strings.Split(strings.TrimSpace(block), "\n") {
			line = strings.ReplaceAll(line, "=../inquir", "="+root)
			cmd := exec.CommandContext(ctx, "sh", "-c", line)
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "GOPROXY=off", "GOSUMDB=off", "GOFLAGS=-mod=mod")
			cmd.WaitDelay = 10 * time.Second
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%s: %v\n%s", line, err, out)
			}
			t.Logf("%s\n%s", line, out)
		}
	}
	run(scripts[0])
	for name, content := range files {
		write(name, content)
	}
	run(scripts[1])
}

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
