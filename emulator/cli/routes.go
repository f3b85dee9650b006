package cli

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/inquir-dev/inquir/emulator/config"
	"github.com/inquir-dev/inquir/emulator/policy"
)

func runRoutes(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("routes", stderr)
	cfgPath := fs.String("config", "inquir.toml", "the config `file`")
	format := fs.String("format", "text", "output `format`: text or json")
	if code, ok := parseFlags(fs, args, stdout); !ok {
		return code
	}
	if !oneOf(stderr, "format", *format, "text", "json") {
		return exitUsage
	}
	p, err := loadPolicy(*cfgPath)
	if err != nil {
		return configFailed(stderr, "routes", err)
	}
	rows := p.Table(time.Now())
	if *format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(rows)
		return exitOK
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	// The AUTHORIZER and PAYLOAD columns are there when some route has an
	// authorizer or payload 2.0, so a config without either reads as it
	// always has.
	withAuthorizer := slices.ContainsFunc(rows, func(r policy.RouteInfo) bool { return r.Authorizer != "" })
	withPayload := slices.ContainsFunc(rows, func(r policy.RouteInfo) bool { return r.Payload != "" })
	head := []string{"METHOD", "PATH", "FUNCTION", "AUTH"}
	if withAuthorizer {
		head = append(head, "AUTHORIZER")
	}
	if withPayload {
		head = append(head, "PAYLOAD")
	}
	fmt.Fprintln(tw, strings.Join(append(head, "CALLERS"), "\t"))
	for _, r := range rows {
		cells := []string{r.Method, printable(r.Path), printable(r.Function), r.Auth}
		if withAuthorizer {
			authorizer := "-"
			if r.Authorizer != "" {
				authorizer = printable(r.Authorizer)
			}
			cells = append(cells, authorizer)
		}
		if withPayload {
			cells = append(cells, cmp.Or(r.Payload, config.Payload1))
		}
		fmt.Fprintln(tw, strings.Join(append(cells, callers(r)), "\t"))
	}
	_ = tw.Flush()
	return exitOK
}

// callers says in words who may call a route.
func callers(r policy.RouteInfo) string {
	switch {
	case r.Auth == config.AuthNone && r.Reason != "":
		return "anyone (public: " + printable(r.Reason) + ")"
	case r.Auth == config.AuthNone:
		return "anyone (public, no reason given)"
	case r.Auth == config.AuthAuthorizer:
		return "whoever authorizer " + printable(r.Authorizer) + " allows (no key asked)"
	}
	who := strings.Join(r.Callers, ", ")
	switch {
	case len(r.Callers) == 0:
		who = "nobody (no usable key may call it)"
	case r.AnyKey:
		who = "any valid key: " + who
	}
	if len(r.Inactive) > 0 {
		who += "; inactive: " + strings.Join(r.Inactive, ", ")
	}
	if r.Authorizer != "" && len(r.Callers) > 0 {
		who += "; then authorizer " + printable(r.Authorizer) + " decides"
	}
	return who
}

// printable is s for one cell of the text table: as it is when it is
// printable text, else as a Go string literal, so that a newline, a tab
// (which would move text into another column) or a terminal control
// character in a reason cannot make the table show a row the config does
// not have. Text that starts with a double quote is quoted too, so a
// quoted cell is always an escaped one.
func printable(s string) string {
	if strings.HasPrefix(s, `"`) || strings.IndexFunc(s, func(r rune) bool { return !strconv.IsPrint(r) }) >= 0 {
		return strconv.Quote(s)
	}
	return s
}

// loadPolicy loads and compiles a config as the gateway would, with
// stand-ins for its env: and file: secrets: the table says who may call
// what, which no secret decides, so it prints where secrets are not set.
func loadPolicy(path string) (*policy.Policy, error) {
	cfg, err := config.Load(path)
	if err != nil {
		return nil, err
	}
	return policy.Compile(cfg.WithStandInSecrets())
}
