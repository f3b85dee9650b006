// Package cli is the inquir command line. Main is the whole program:
// cmd/inquir only calls it, and the testscript suites run it the same way.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// Exit statuses, as the SPEC gives them.
const (
	exitOK    = 0
	exitFail  = 1 // lint findings, a failed check
	exitUsage = 2 // a usage error or an invalid config
)

// command is one subcommand.
type command struct {
	name     string
	run      func(ctx context.Context, args []string, stdout, stderr io.Writer) int
	synopsis string // the arguments, as in the usage text
	brief    string // what it is for
}

// commands in the order the usage text lists them.
func commands() []command {
	return []command{
		{"dev", runDev, "[--config inquir.toml] [--listen 127.0.0.1:8787] [--no-watch]", "serve the functions behind the gateway"},
		{"lint", runLint, "[--config inquir.toml] [--format text|json|sarif] [--strict] [--fail-on error|warning]\n                 [--list-rules] [--explain INQnnn]", "flag open routes and key-hygiene faults"},
		{"routes", runRoutes, "[--config inquir.toml] [--format text|json]", "print the effective route table"},
		{"verify", runVerify, "[--config inquir.toml] [--url URL] [--key ID=SECRET]...", "probe a gateway with the config's auth matrix"},
		{"export", runExport, "--target haproxy [--config inquir.toml] --out DIR [--upstream [FUNCTION=]URL]...", "write a production gateway's configuration (HAProxy) for the config"},
		{"request", runRequest, "METHOD URL [-i] [-H 'Name: value']... [-d BODY|@FILE]", "send one HTTP request; print the status, then the body"},
		{"keys", runKeys, "new | hash", "make a new API key, or hash one read on stdin for inquir.toml"},
		{"version", runVersion, "", "print the version"},
	}
}

// usage is the help text, made from commands().
func usage() string {
	var b strings.Builder
	b.WriteString("inquir runs serverless functions locally behind an API-key gateway.\n\nUsage:\n")
	for _, c := range commands() {
		b.WriteString(strings.TrimRight(fmt.Sprintf("  inquir %-7s %s", c.name, c.synopsis), " ") + "\n")
	}
	b.WriteString("\nCommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(&b, "  %-8s %s\n", c.name, c.brief)
	}
	return b.String()
}

// Main runs the inquir command line with args (without the program name)
// and returns the exit status. It neither exits nor panics.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, usage())
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "inquir: unknown command %q\n\n%s", args[0], usage())
	return exitUsage
}

// newFlags makes a flag set that reports errors to stderr and returns them.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("inquir "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parseFlags parses args and reports whether to go on, with the exit
// status to use otherwise.
func parseFlags(fs *flag.FlagSet, args []string) (int, bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK, false
		}
		return exitUsage, false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "%s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		return exitUsage, false
	}
	return exitOK, true
}

// oneOf checks a flag value against its choices.
func oneOf(stderr io.Writer, flagName, value string, choices ...string) bool {
	for _, c := range choices {
		if value == c {
			return true
		}
	}
	fmt.Fprintf(stderr, "inquir: --%s must be %s, not %q\n", flagName, strings.Join(choices, " or "), value)
	return false
}

// SignalContext is the context a program hands Main: it ends on SIGINT or
// SIGTERM, which makes inquir dev drain and stop its workers.
func SignalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}
