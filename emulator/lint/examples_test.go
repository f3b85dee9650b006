package lint

import (
	"bytes"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rogpeppe/go-internal/txtar"
)

var update = flag.Bool("update", false, "rewrite fixtures/lint and the projects in testdata/script/lint_inq*.txtar from the rules' examples")

// The rules' examples are the one source of the projects that show them:
// --explain prints them, fixtures/lint/INQnnn/{bad,good} hold them, and
// testdata/script/lint_inqnnn.txtar lints them. These tests keep the three
// the same (go test ./emulator/lint -update rewrites the copies).

const (
	fixturesDir = "../../fixtures/lint"
	scriptsDir  = "../../testdata/script"
)

// exampleNow is a fixed clock between the examples' past (2024) and
// future (2999) dates.
var exampleNow = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

var modulePath = regexp.MustCompile(`(?m)^path = "([^"]+\.mjs)"$`)

// exampleFiles are all the files of an example's project: its config,
// its Files, and a stub module for every function the Files leave out.
func exampleFiles(ex Example) map[string]string {
	files := map[string]string{"inquir.toml": ex.Config}
	for name, content := range ex.Files {
		files[name] = content
	}
	for _, m := range modulePath.FindAllStringSubmatch(ex.Config, -1) {
		if _, ok := files[m[1]]; !ok {
			files[m[1]] = StubHandler
		}
	}
	return files
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func readFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		files[filepath.ToSlash(rel)] = string(b)
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return files
}

func ruleIDs(rep *Report) []string {
	var ids []string
	for _, f := range rep.Findings {
		ids = append(ids, f.Rule)
	}
	return ids
}

// TestExamples checks that every rule's bad example triggers it and its
// good example does not. An optional rule is turned on for it, and its bad
// example must not trigger it without --enable.
func TestExamples(t *testing.T) {
	for _, r := range Rules() {
		t.Run(r.ID, func(t *testing.T) {
			type example struct {
				name   string
				ex     Example
				enable []string
				want   bool
			}
			tests := []example{{"bad", r.Bad, []string{r.ID}, true}, {"good", r.Good, []string{r.ID}, false}}
			if r.Optional {
				tests = append(tests, example{"bad, not enabled", r.Bad, nil, false})
			}
			for _, tc := range tests {
				dir := t.TempDir()
				writeFiles(t, dir, exampleFiles(tc.ex))
				rep, err := Run(filepath.Join(dir, "inquir.toml"), Options{Now: func() time.Time { return exampleNow }, Enable: tc.enable})
				if err != nil {
					t.Fatalf("%s example: %v", tc.name, err)
				}
				if got := slices.Contains(ruleIDs(rep), r.ID); got != tc.want {
					t.Errorf("%s example: %s reported = %v, want %v; findings: %v", tc.name, r.ID, got, tc.want, ruleIDs(rep))
				}
			}
		})
	}
}

// TestFixtures checks fixtures/lint against the examples.
func TestFixtures(t *testing.T) {
	for _, r := range Rules() {
		for _, tc := range []struct {
			name string
			ex   Example
		}{{"bad", r.Bad}, {"good", r.Good}} {
			dir := filepath.Join(fixturesDir, r.ID, tc.name)
			want := exampleFiles(tc.ex)
			if *update {
				if err := os.RemoveAll(dir); err != nil {
					t.Fatal(err)
				}
				writeFiles(t, dir, want)
				continue
			}
			if diff := cmp.Diff(want, readFiles(t, dir)); diff != "" {
				t.Errorf("%s differs from the %s example of %s (go test ./emulator/lint -update rewrites it) (-want +got):\n%s", dir, tc.name, r.ID, diff)
			}
		}
	}
}

// TestScriptProjects checks the bad/ and good/ projects in each rule's
// script against the examples.
func TestScriptProjects(t *testing.T) {
	for _, r := range Rules() {
		path := filepath.Join(scriptsDir, "lint_"+strings.ToLower(r.ID)+".txtar")
		ar, err := txtar.ParseFile(path)
		if err != nil {
			t.Errorf("%s: %v", r.ID, err)
			continue
		}
		want := map[string]string{}
		for name, content := range exampleFiles(r.Bad) {
			want["bad/"+name] = content
		}
		for name, content := range exampleFiles(r.Good) {
			want["good/"+name] = content
		}
		got := map[string]string{}
		var rest []txtar.File
		for _, f := range ar.Files {
			if strings.HasPrefix(f.Name, "bad/") || strings.HasPrefix(f.Name, "good/") {
				got[f.Name] = string(f.Data)
			} else {
				rest = append(rest, f)
			}
		}
		if *update {
			ar.Files = rest
			for _, name := range slices.Sorted(maps.Keys(want)) {
				ar.Files = append(ar.Files, txtar.File{Name: name, Data: []byte(want[name])})
			}
			if err := os.WriteFile(path, txtar.Format(ar), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: its projects differ from %s's examples (go test ./emulator/lint -update rewrites them) (-want +got):\n%s", path, r.ID, diff)
		}
	}
}

// TestRuleDocs checks what every rule must say about itself.
func TestRuleDocs(t *testing.T) {
	seen := map[string]bool{}
	last := 0
	for i, r := range Rules() {
		// Ids ascend and are never reused; one may be missing while the
		// change that adds it is under way on another branch.
		var n int
		if _, err := fmt.Sscanf(r.ID, "INQ%03d", &n); err != nil || fmt.Sprintf("INQ%03d", n) != r.ID || n <= last {
			t.Errorf("rule %d has id %s, want INQnnn above INQ%03d", i, r.ID, last)
		}
		last = n
		if seen[r.Name] || r.Name == "" || r.Title == "" || r.Explanation == "" || r.Fix == "" || r.Severity == 0 || r.check == nil {
			t.Errorf("%s: missing or repeated documentation: %+v", r.ID, r)
		}
		seen[r.Name] = true
		if !slices.Contains(r.Tags, "security") || r.SecuritySeverity == "" || r.Precision == "" {
			t.Errorf("%s: SARIF properties incomplete", r.ID)
		}
		var buf bytes.Buffer
		if err := WriteExplanation(&buf, r); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{r.ID, "Bad: inquir.toml", "Good: inquir.toml", "Fix: "} {
			if !strings.Contains(buf.String(), want) {
				t.Errorf("%s: --explain lacks %q", r.ID, want)
			}
		}
	}
}
