package lint

import (
	"fmt"
	"io"
	"strings"

	"github.com/inquir-dev/inquir/emulator/config"
)

// WriteText prints one finding a line, as compilers and editors read them:
//
//	inquir.toml:12:1: error INQ001: GET /debug is open to anyone ...
//
// The file is relative to the working folder when it is inside it.
func WriteText(w io.Writer, rep *Report) error {
	for _, f := range rep.Findings {
		if _, err := fmt.Fprintf(w, "%s: %s %s: %s\n", place(f.File, f.Pos), f.Severity, f.Rule, f.Message); err != nil {
			return err
		}
	}
	return nil
}

// place spells FILE:LINE:COL, leaving out what is unknown.
func place(file string, pos config.Position) string {
	var b strings.Builder
	b.WriteString(config.DisplayPath(file))
	if pos.Line > 0 {
		fmt.Fprintf(&b, ":%d", pos.Line)
		if pos.Col > 0 {
			fmt.Fprintf(&b, ":%d", pos.Col)
		}
	}
	return b.String()
}
