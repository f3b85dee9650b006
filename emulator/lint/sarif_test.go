package lint

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// sarifProject is a repository (it has .git) whose config sits in deploy/:
// one INQ001 error, and one INQ011 warning with a related handler line.
const sarifTOML = `
[keys.partner]
secret = "env:PARTNER_KEY"
groups = ["partners"]

[functions.f]
runtime = "node"
path = "fn/f.mjs"

[functions.debug]
runtime = "node"
path = "debug/index.mjs"

[[routes]]
method = "GET"
path = "/a"
function = "f"
group = "partners"

[[routes]]
method = "GET"
path = "/debug"
function = "debug"
auth = "none"
`

func sarifProject(t *testing.T, prefix string) (root, config string) {
	t.Helper()
	root = t.TempDir()
	if err := os.Mkdir(filepath.Join(root, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFiles(t, filepath.Join(root, "deploy"), map[string]string{
		"inquir.toml":     prefix + sarifTOML,
		"debug/index.mjs": StubHandler,
		"fn/f.mjs":        "export async function handler(e) {\n  return { statusCode: 200, body: e.headers['x-api-key'] };\n}\n",
	})
	return root, filepath.Join(root, "deploy", "inquir.toml")
}

func sarifOf(t *testing.T, config string) map[string]any {
	t.Helper()
	rep, err := Run(config, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteSARIF(&buf, rep); err != nil {
		t.Fatal(err)
	}
	var log map[string]any
	if err := json.Unmarshal(buf.Bytes(), &log); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, buf.String())
	}
	return log
}

// get walks a decoded JSON value: get(v, "runs", 0, "tool").
func get(t *testing.T, v any, path ...any) any {
	t.Helper()
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("%v: not an object at %q", path, k)
			}
			if v, ok = m[k]; !ok {
				t.Fatalf("%v: no %q", path, k)
			}
		case int:
			a, ok := v.([]any)
			if !ok || k >= len(a) {
				t.Fatalf("%v: no element %d", path, k)
			}
			v = a[k]
		}
	}
	return v
}

func TestSARIF(t *testing.T) {
	root, config := sarifProject(t, "")
	t.Chdir(filepath.Join(root, "deploy")) // URIs are relative to the repository, not to here
	log := sarifOf(t, config)

	if get(t, log, "version") != "2.1.0" || !strings.Contains(get(t, log, "$schema").(string), "sarif-2.1.0") {
		t.Errorf("version %v, $schema %v", log["version"], log["$schema"])
	}
	driver := get(t, log, "runs", 0, "tool", "driver")
	if get(t, driver, "name") != "inquir" || get(t, driver, "informationUri") != InformationURI || get(t, driver, "version") == "" {
		t.Errorf("driver: %v", driver)
	}
	rules := get(t, driver, "rules").([]any)
	if len(rules) != len(Rules()) {
		t.Fatalf("%d rules, want %d", len(rules), len(Rules()))
	}
	for i, r := range Rules() {
		sr := rules[i]
		if get(t, sr, "id") != r.ID || get(t, sr, "name") != r.Name {
			t.Errorf("rule %d: id %v name %v", i, get(t, sr, "id"), get(t, sr, "name"))
		}
		for _, p := range [][]any{{"shortDescription", "text"}, {"fullDescription", "text"}, {"help", "text"}, {"help", "markdown"}} {
			if s, _ := get(t, sr, p...).(string); s == "" {
				t.Errorf("%s: empty %v", r.ID, p)
			}
		}
		if get(t, sr, "defaultConfiguration", "level") != r.Severity.String() {
			t.Errorf("%s: level %v", r.ID, get(t, sr, "defaultConfiguration", "level"))
		}
		sev, ok := get(t, sr, "properties", "security-severity").(string)
		if f, err := strconv.ParseFloat(sev, 64); !ok || err != nil || f <= 0 || f > 10 {
			t.Errorf("%s: security-severity %v is not a string number in (0, 10]", r.ID, sev)
		}
		if tags := get(t, sr, "properties", "tags").([]any); len(tags) == 0 || tags[0] != "security" {
			t.Errorf("%s: tags %v", r.ID, tags)
		}
	}
	if get(t, rules[0], "properties", "security-severity") != "8.0" {
		t.Errorf("INQ001 security-severity = %v, want 8.0", get(t, rules[0], "properties", "security-severity"))
	}

	results := get(t, log, "runs", 0, "results").([]any)
	type result struct {
		RuleID    string
		RuleIndex float64
		Level     string
		URI       string
		Line      float64
		Column    float64
	}
	var got []result
	for _, r := range results {
		loc := get(t, r, "locations", 0, "physicalLocation")
		got = append(got, result{
			get(t, r, "ruleId").(string), get(t, r, "ruleIndex").(float64), get(t, r, "level").(string),
			get(t, loc, "artifactLocation", "uri").(string), get(t, loc, "region", "startLine").(float64), get(t, loc, "region", "startColumn").(float64),
		})
		if msg, _ := get(t, r, "message", "text").(string); msg == "" {
			t.Errorf("result without message: %v", r)
		}
	}
	want := []result{
		{"INQ011", 10, "warning", "deploy/inquir.toml", 8, 1},
		{"INQ001", 0, "error", "deploy/inquir.toml", 24, 1},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	related := get(t, results[0], "relatedLocations", 0, "physicalLocation")
	if get(t, related, "artifactLocation", "uri") != "deploy/fn/f.mjs" || get(t, related, "region", "startLine") != 2.0 {
		t.Errorf("INQ011 related location: %v", related)
	}
}

// TestSARIFFingerprints checks that fingerprints identify a finding by what
// it is about, not where: moving lines keeps them, and they differ between
// findings.
func TestSARIFFingerprints(t *testing.T) {
	fingerprints := func(log map[string]any) (fps []string, lines []float64) {
		for _, r := range get(t, log, "runs", 0, "results").([]any) {
			fps = append(fps, get(t, r, "partialFingerprints", fingerprintKey).(string))
			lines = append(lines, get(t, r, "locations", 0, "physicalLocation", "region", "startLine").(float64))
		}
		return fps, lines
	}
	_, a := sarifProject(t, "")
	_, b := sarifProject(t, "# moved\n# down\n\n")
	fpa, la := fingerprints(sarifOf(t, a))
	fpb, lb := fingerprints(sarifOf(t, b))
	if cmp.Equal(la, lb) {
		t.Fatalf("lines did not move: %v", la)
	}
	if diff := cmp.Diff(fpa, fpb); diff != "" {
		t.Errorf("fingerprints changed with lines (-before +after):\n%s", diff)
	}
	if fpa[0] == fpa[1] {
		t.Errorf("two findings share fingerprint %s", fpa[0])
	}
}

// TestSARIFOutsideGit checks URIs relative to the working folder when no
// repository holds the config.
func TestSARIFOutsideGit(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, exampleFiles(Example{Config: fn + route("GET", "/debug", "function = \"f\"\nauth = \"none\"")}))
	t.Chdir(dir)
	if _, err := os.Stat(filepath.Join(sarifRoot(filepath.Join(dir, "inquir.toml")), ".git")); err == nil {
		t.Skip("the temporary folder is inside a git repository")
	}
	log := sarifOf(t, "inquir.toml")
	if uri := get(t, log, "runs", 0, "results", 0, "locations", 0, "physicalLocation", "artifactLocation", "uri"); uri != "inquir.toml" {
		t.Errorf("uri = %v, want inquir.toml", uri)
	}
}

func TestSARIFFailure(t *testing.T) {
	root, config := sarifProject(t, "[gateway]\nlisten = \"nowhere\"\n")
	t.Chdir(root)
	_, err := Run(config, Options{})
	if err == nil {
		t.Fatal("want a config error")
	}
	var buf bytes.Buffer
	if err := WriteSARIFFailure(&buf, config, errors.Join(err)); err != nil {
		t.Fatal(err)
	}
	var log map[string]any
	if err := json.Unmarshal(buf.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	inv := get(t, log, "runs", 0, "invocations", 0)
	if get(t, inv, "executionSuccessful") != false {
		t.Errorf("executionSuccessful = %v", get(t, inv, "executionSuccessful"))
	}
	n := get(t, inv, "toolExecutionNotifications", 0)
	if msg := get(t, n, "message", "text").(string); !strings.HasPrefix(msg, "gateway.listen: ") {
		t.Errorf("notification: %q", msg)
	}
	loc := get(t, n, "locations", 0, "physicalLocation")
	if get(t, loc, "artifactLocation", "uri") != "deploy/inquir.toml" || get(t, loc, "region", "startLine") != 2.0 {
		t.Errorf("notification location: %v", loc)
	}
	if len(get(t, log, "runs", 0, "results").([]any)) != 0 {
		t.Error("results in a failed run")
	}
}

func TestJSON(t *testing.T) {
	root, config := sarifProject(t, "")
	t.Chdir(root)
	rep, err := Run(config, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteJSON(&buf, rep); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Config   string
		Findings []jsonFinding
		Errors   int
		Warnings int
	}
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.Config != "deploy/inquir.toml" || got.Errors != 1 || got.Warnings != 1 || len(got.Findings) != 2 {
		t.Fatalf("report: %+v", got)
	}
	want := jsonFinding{Rule: "INQ001", Severity: "error", File: "deploy/inquir.toml", Line: 24, Column: 1, Field: "routes[1].auth",
		Message: `GET /debug is open to anyone (auth = "none") and gives no reason; add reason = "..." or remove auth = "none"`}
	if diff := cmp.Diff(want, got.Findings[1]); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
