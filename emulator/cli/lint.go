package cli

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/inquir-dev/inquir/emulator/lint"
)

func runLint(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("lint", stderr)
	cfgPath := fs.String("config", "inquir.toml", "the config `file`")
	format := fs.String("format", "text", "output `format`: text, json or sarif")
	strict := fs.Bool("strict", false, "make INQ002 (a public route with a reason) an error")
	failOn := fs.String("fail-on", "error", "exit 1 on findings of this `severity` or above: error or warning")
	listRules := fs.Bool("list-rules", false, "list every rule and exit")
	explain := fs.String("explain", "", "explain the rule `INQnnn`, with a bad and a good example, and exit")
	var enable enableFlags
	fs.Var(&enable, "enable", "turn on the rule `INQnnn`, which is off by default (repeatable, or a comma-separated list)")
	if code, ok := parseFlags(fs, args, stdout); !ok {
		return code
	}
	if !oneOf(stderr, "format", *format, "text", "json", "sarif") || !oneOf(stderr, "fail-on", *failOn, "error", "warning") {
		return exitUsage
	}
	threshold, _ := lint.ParseSeverity(*failOn)
	for _, id := range enable {
		if lint.RuleByID(id) == nil {
			fmt.Fprintf(stderr, "inquir lint: --enable: no rule %q; inquir lint --list-rules lists them\n", id)
			return exitUsage
		}
	}
	switch {
	case *listRules:
		_ = lint.WriteRuleList(stdout)
		return exitOK
	case *explain != "":
		r := lint.RuleByID(strings.ToUpper(*explain))
		if r == nil {
			fmt.Fprintf(stderr, "inquir lint: no rule %q; inquir lint --list-rules lists them\n", *explain)
			return exitUsage
		}
		_ = lint.WriteExplanation(stdout, r)
		return exitOK
	}

	rep, err := lint.Run(*cfgPath, lint.Options{Strict: *strict, Enable: enable})
	if err != nil {
		if *format == "sarif" {
			_ = lint.WriteSARIFFailure(stdout, *cfgPath, err)
		}
		return configFailed(stderr, "lint", err)
	}
	switch *format {
	case "json":
		err = lint.WriteJSON(stdout, rep)
	case "sarif":
		err = lint.WriteSARIF(stdout, rep)
	default:
		err = lint.WriteText(stdout, rep)
	}
	if err != nil {
		fmt.Fprintf(stderr, "inquir lint: writing the report: %v\n", err)
		return exitUsage
	}
	if rep.Fails(threshold) {
		fmt.Fprintf(stderr, "inquir lint: %s, %s (failing on %s)\n", plural(rep.Count(lint.Error), "error"), plural(rep.Count(lint.Warning), "warning"), threshold)
		return exitFail
	}
	return exitOK
}

// enableFlags collects --enable INQnnn, repeated or comma-separated, in
// upper case (ids are not case-sensitive, as --explain takes them).
type enableFlags []string

func (e *enableFlags) String() string { return strings.Join(*e, ",") }

func (e *enableFlags) Set(v string) error {
	for _, id := range strings.Split(v, ",") {
		if id = strings.ToUpper(strings.TrimSpace(id)); id != "" {
			*e = append(*e, id)
		}
	}
	return nil
}
