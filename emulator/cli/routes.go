package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
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
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if !oneOf(stderr, "format", *format, "text", "json") {
		return exitUsage
	}
	p, code := loadPolicy(*cfgPath, stderr)
	if p == nil {
		return code
	}
	rows := p.Table(time.Now())
	if *format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(rows)
		return exitOK
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "METHOD\tPATH\tFUNCTION\tAUTH\tCALLERS")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Method, r.Path, r.Function, r.Auth, callers(r))
	}
	_ = tw.Flush()
	return exitOK
}

// callers says in words who may call a route.
func callers(r policy.RouteInfo) string {
	switch {
	case r.Auth == config.AuthNone && r.Reason != "":
		return "anyone (public: " + r.Reason + ")"
	case r.Auth == config.AuthNone:
		return "anyone (public, no reason given)"
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
	return who
}

// loadPolicy loads and compiles a config, printing why not (exit 2).
func loadPolicy(path string, stderr io.Writer) (*policy.Policy, int) {
	p, err := policy.Load(path)
	if err != nil {
		fmt.Fprintf(stderr, "inquir: %v\n", err)
		return nil, exitUsage
	}
	return p, exitOK
}
