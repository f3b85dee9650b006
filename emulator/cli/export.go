package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/inquir-dev/inquir/emulator/config"
	"github.com/inquir-dev/inquir/emulator/export"
	"github.com/inquir-dev/inquir/emulator/policy"
)

// upstreamFlags collects repeated --upstream URL and --upstream FUNCTION=URL
// flags; the plain URL is kept under "".
type upstreamFlags map[string]string

func (u upstreamFlags) String() string { return fmt.Sprintf("%d upstreams", len(u)) }

func (u upstreamFlags) Set(v string) error {
	fn, url := "", v
	// FUNCTION=URL: a function name holds no ':' or '/', a URL's scheme does.
	if name, rest, ok := strings.Cut(v, "="); ok && !strings.ContainsAny(name, ":/") {
		fn, url = name, rest
	}
	if url == "" {
		return fmt.Errorf("want URL or FUNCTION=URL")
	}
	if _, dup := u[fn]; dup {
		if fn == "" {
			return fmt.Errorf("a default upstream is already given")
		}
		return fmt.Errorf("function %s already has an upstream", fn)
	}
	u[fn] = url
	return nil
}

// runExport writes a production gateway's configuration for the config.
func runExport(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("export", stderr)
	target := fs.String("target", "", "the `gateway` to configure: haproxy, or openapi (an OpenAPI 3 document for API Gateway)")
	cfgPath := fs.String("config", "inquir.toml", "the config `file`")
	out := fs.String("out", "", "the `folder` to write haproxy.cfg and its map files (or openapi.json) into")
	upstreams := upstreamFlags{}
	fs.Var(upstreams, "upstream", "where functions live: `URL` for all, or FUNCTION=URL (repeatable)")
	upstreamAuthorizes := fs.Bool("upstream-authorizes", false, "the upstream runs the routes' Lambda authorizers itself (HAProxy cannot): export them, HAProxy refusing only a request without the identity sources")
	if code, ok := parseFlags(fs, args, stdout); !ok {
		return code
	}
	if *target == "" {
		fmt.Fprintln(stderr, "inquir export: --target is required (haproxy or openapi)")
		return exitUsage
	}
	if !oneOf(stderr, "target", *target, "haproxy", "openapi") {
		return exitUsage
	}
	if *target == "openapi" {
		if *upstreamAuthorizes {
			fmt.Fprintln(stderr, "inquir export: --upstream-authorizes is for --target haproxy; an OpenAPI document declares the authorizers for API Gateway to run")
			return exitUsage
		}
		return exportOpenAPI(*cfgPath, *out, len(upstreams) > 0, stdout, stderr)
	}
	if *out == "" {
		fmt.Fprintln(stderr, "inquir export: --out is required: the folder to write haproxy.cfg and its map files into")
		return exitUsage
	}
	// The real secrets: export hashes each one, and one that cannot be
	// resolved is an error naming it.
	p, err := policy.Load(*cfgPath)
	if err != nil {
		return configFailed(stderr, "export", err)
	}
	opts := export.Options{Upstreams: upstreams, UpstreamAuthorizes: *upstreamAuthorizes}
	files, err := export.HAProxy(p, *out, opts)
	if err != nil {
		// One line per refusal: each names the file, line and field.
		for _, e := range config.Errors(err) {
			fmt.Fprintf(stderr, "inquir export: %v\n", e)
		}
		return exitUsage
	}
	for _, w := range export.Warnings(p, opts) {
		fmt.Fprintf(stderr, "inquir export: warning: %s\n", w)
	}
	for _, f := range files {
		fmt.Fprintln(stdout, filepath.Join(*out, f))
	}
	// What HAProxy does not carry is said, never dropped silently.
	for _, n := range export.Notes(p) {
		fmt.Fprintf(stderr, "inquir export: warning: %s\n", n)
	}
	return exitOK
}

// exportOpenAPI writes the config as an OpenAPI 3 document for API
// Gateway; what API Gateway cannot express there is listed on stderr. No
// secret is read: the document holds references only.
func exportOpenAPI(cfgPath, out string, upstreams bool, stdout, stderr io.Writer) int {
	if out == "" {
		fmt.Fprintln(stderr, "inquir export: --out is required: the folder to write openapi.json into")
		return exitUsage
	}
	if upstreams {
		fmt.Fprintln(stderr, "inquir export: --upstream is for --target haproxy; an OpenAPI document names Lambda functions")
		return exitUsage
	}
	c, err := config.Load(cfgPath)
	if err != nil {
		return configFailed(stderr, "export", err)
	}
	doc, notes, err := export.OpenAPI(c, out)
	if err == nil {
		err = os.MkdirAll(out, 0o755)
	}
	path := filepath.Join(out, export.OpenAPIFile)
	if err == nil {
		err = os.WriteFile(path, doc, 0o644)
	}
	if err != nil {
		fmt.Fprintf(stderr, "inquir export: %v\n", err)
		return exitUsage
	}
	for _, n := range notes {
		fmt.Fprintf(stderr, "inquir export: not in OpenAPI for API Gateway: %s\n", n)
	}
	fmt.Fprintln(stdout, path)
	return exitOK
}
