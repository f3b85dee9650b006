package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadmeImport: every inquir command of the README's "Coming from
// serverless-offline or SAM" is run, as written, by
// testdata/script/import_readme.txtar (inquir dev by its dev command), and
// the output the section shows is the script's golden output.
func TestReadmeImport(t *testing.T) {
	root := filepath.Join("..", "..")
	section := readmeSection(t, filepath.Join(root, "README.md"), "## Coming from serverless-offline or SAM")
	b, err := os.ReadFile(filepath.Join(root, "testdata", "script", "import_readme.txtar"))
	if err != nil {
		t.Fatal(err)
	}
	script := string(b)
	_, scripts := readmeSteps(t, section)
	n := 0
	for _, block := range scripts {
		for _, line := range strings.Split(strings.TrimSpace(block), "\n") {
			var want string
			switch {
			case line == "inquir dev":
				want = "\ndev "
			case strings.HasPrefix(line, "inquir "):
				want = "\nexec " + line + "\n"
			default:
				continue
			}
			n++
			if !strings.Contains(script, want) {
				t.Errorf("the README runs %q, which import_readme.txtar does not (want a line %q)", line, strings.TrimSpace(want))
			}
		}
	}
	if n < 4 {
		t.Errorf("found %d inquir commands in the section, want at least 4 (import, lint, verify, dev)", n)
	}
	_, golden, _ := strings.Cut(script, "-- import.txt --\n")
	if golden == "" || !strings.Contains(section, "```\n"+golden+"```") {
		t.Errorf("the section does not show import.txt's output as the script checks it:\n%s", golden)
	}
}
