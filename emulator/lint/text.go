package lint

import (
	"errors"
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

// WriteConfigError prints why a config could not be linted, one problem a
// line, in the findings' form:
//
//	inquir.toml:31:1: error: functions.customers.timeout: "10 seconds" is not a positive duration...
func WriteConfigError(w io.Writer, err error) {
	for _, e := range configErrors(err) {
		var ce *config.Error
		if errors.As(e, &ce) {
			msg := ce.Msg
			if ce.Field != "" {
				msg = ce.Field + ": " + msg
			}
			fmt.Fprintf(w, "%s: error: %s\n", place(ce.File, ce.Pos), msg)
			continue
		}
		fmt.Fprintf(w, "inquir lint: error: %v\n", e)
	}
}

// configErrors lists the problems errors.Join put together.
func configErrors(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, configErrors(e)...)
		}
		return out
	}
	return []error{err}
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
