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
	exitOK     = 0
	exitFail   = 1 // lint findings, a failed check
	exitUsage  = 2 // a usage error or an invalid config
	usageIntro = `inquir runs serverless functions locally behind an API-key gateway.

Usage:
  inquir dev     [--config inquir.toml] [--listen 127.0.0.1:8787] [--no-watch]
  inquir lint    [--config inquir.toml] [--format text|json|sarif] [--strict] [--fail-on error|warning]
                 [--list-rules] [--explain INQnnn]
  inquir routes  [--config inquir.toml] [--format text|json]
  inquir verify  [--config inquir.toml] [--url URL] [--key ID=SECRET]...
  inquir request METHOD URL [-i] [-H 'Name: value']... [-d BODY]
  inquir keys new | inquir keys hash          (hash reads the key on stdin)
  inquir version
`
)

// command is one subcommand.
type command struct {
	run   func(ctx context.Context, args []string, stdout, stderr io.Writer) int
	brief string
}

func commands() map[string]command {
	return map[string]command{
		"dev":     {runDev, "serve the functions behind the gateway"},
		"lint":    {runLint, "flag open routes and key-hygiene faults"},
		"routes":  {runRoutes, "print the effective route table"},
		"verify":  {runVerify, "probe a gateway with the config's auth matrix"},
		"request": {runRequest, "send one HTTP request; print the status, then the body"},
		"keys":    {runKeys, "make a new API key, or hash one for inquir.toml"},
		"version": {runVersion, "print the version"},
	}
}

// Main runs the inquir command line with args (without the program name)
// and returns the exit status. It neither exits nor panics.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, usageIntro)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	cmd, ok := commands()[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "inquir: unknown command %q\n\n%s", args[0], usageIntro)
		return exitUsage
	}
	return cmd.run(ctx, args[1:], stdout, stderr)
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
