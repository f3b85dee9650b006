package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/inquir-dev/inquir/emulator/config"
	"github.com/inquir-dev/inquir/emulator/importer"
)

// runImport turns a serverless.yml, SAM template or OpenAPI document into
// inquir.toml. Findings go to stderr, one a line with their source line;
// the export lines that set the keys' secrets go to stdout, never into the
// file.
func runImport(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("import", stderr)
	from := fs.String("from", "", "the `file` to read: serverless.yml, a SAM template or an OpenAPI 3 document")
	out := fs.String("out", "inquir.toml", "the `file` to write (- for standard output)")
	allowPartial := fs.Bool("allow-partial", false, "write the config even if something could not be carried over (exit 0)")
	force := fs.Bool("force", false, "replace --out if it exists")
	if code, ok := parseFlags(fs, args, stdout); !ok {
		return code
	}
	if *from == "" {
		fmt.Fprintln(stderr, "inquir import: --from is required: the serverless.yml, SAM template or OpenAPI document to read")
		return exitUsage
	}
	p, err := importer.Import(*from)
	if err != nil {
		fmt.Fprintf(stderr, "inquir import: %v\n", err)
		return exitUsage
	}
	for _, f := range p.Findings {
		loc := filepath.Base(p.Source)
		if f.Line > 0 {
			loc = fmt.Sprintf("%s:%d", loc, f.Line)
		}
		what := f.Msg
		if f.Field != "" {
			what = f.Field + ": " + f.Msg
		}
		fmt.Fprintf(stderr, "%s: %s: %s\n", loc, f.Severity, what)
	}
	if n := p.Dropped(); n > 0 && !*allowPartial {
		fmt.Fprintf(stderr, "inquir import: %s could not be carried over (listed above); nothing written. Rerun with --allow-partial to write %s without %s\n",
			plural(n, "setting"), *out, map[bool]string{true: "it", false: "them"}[n == 1])
		return exitFail
	}

	var toml bytes.Buffer
	outDir := filepath.Dir(*out)
	if *out == "-" {
		outDir = "."
	}
	if err := p.Write(&toml, outDir); err != nil {
		fmt.Fprintf(stderr, "inquir import: %v\n", err)
		return exitUsage
	}
	exportsTo := stdout
	if *out == "-" {
		_, _ = stdout.Write(toml.Bytes())
		exportsTo = stderr // the secrets never share a stream with the file
	} else {
		if _, err := os.Stat(*out); err == nil && !*force {
			fmt.Fprintf(stderr, "inquir import: %s exists; name another --out, or --force to replace it\n", *out)
			return exitUsage
		}
		for _, f := range p.Files {
			dst := filepath.Join(p.Dir, filepath.FromSlash(f.Path))
			if old, err := os.ReadFile(dst); err == nil && !bytes.Equal(old, f.Content) && !*force {
				fmt.Fprintf(stderr, "inquir import: %s exists with other content; --force to replace it\n", dst)
				return exitUsage
			}
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				fmt.Fprintf(stderr, "inquir import: %v\n", err)
				return exitUsage
			}
			if err := os.WriteFile(dst, f.Content, 0o644); err != nil {
				fmt.Fprintf(stderr, "inquir import: %v\n", err)
				return exitUsage
			}
			fmt.Fprintf(stdout, "wrote %s\n", dst)
		}
		if err := os.WriteFile(*out, toml.Bytes(), 0o644); err != nil {
			fmt.Fprintf(stderr, "inquir import: %v\n", err)
			return exitUsage
		}
		fmt.Fprintf(stdout, "wrote %s: %s, %s, %s, %s\n", *out, plural(len(p.Functions), "function"), plural(len(p.Routes), "route"),
			plural(len(p.Keys), "key"), plural(len(p.Plans), "plan"))
	}
	if len(p.Exports) > 0 {
		fmt.Fprintln(exportsTo, "# Set the keys' secrets before inquir dev (shown only here, never written to the file):")
		for _, e := range p.Exports {
			if e.Shell {
				fmt.Fprintf(exportsTo, "export %s=\"%s\"\n", e.Name, e.Value)
			} else {
				fmt.Fprintf(exportsTo, "export %s=%s\n", e.Name, shellQuote(e.Value))
			}
		}
	}
	if *out == "-" {
		return exitOK
	}
	// The file must be one inquir dev takes: say so now if it is not (a
	// handler the project has not put in place yet).
	if _, err := config.Load(*out); err != nil {
		for _, e := range config.Errors(err) {
			fmt.Fprintf(stderr, "inquir import: %v\n", e)
		}
		fmt.Fprintf(stderr, "inquir import: %s was written, but inquir dev will refuse it until the above is fixed\n", *out)
		return exitFail
	}
	return exitOK
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
