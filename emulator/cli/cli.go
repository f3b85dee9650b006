// Package cli is the inquir command line. Main is the whole program:
// cmd/inquir only calls it, and the testscript suites run it the same way.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/inquir-dev/inquir/emulator/config"
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
	synopsis []string // the arguments of each form, as in the usage text
	brief    string   // what it is for
}

// commands in the order the usage text lists them.
func commands() []command {
	return []command{
		{"dev", runDev, []string{"[--config inquir.toml] [--listen 127.0.0.1:8787] [--no-watch] [--clock system|manual]"}, "serve the functions behind the gateway"},
		{"lint", runLint, []string{"[--config inquir.toml] [--format text|json|sarif] [--strict] [--fail-on error|warning] [--enable INQnnn]", "--list-rules | --explain INQnnn"}, "flag open routes and key-hygiene faults"},
		{"routes", runRoutes, []string{"[--config inquir.toml] [--format text|json]"}, "print the effective route table"},
		{"verify", runVerify, []string{"[--config inquir.toml] [--url URL] [--key ID=SECRET]... [--echo ROUTE] [--plans]"}, "probe a gateway with the config's auth matrix"},
		{"export", runExport, []string{"--target haproxy [--config inquir.toml] --out DIR [--upstream [FUNCTION=]URL]... [--upstream-authorizes]", "--target openapi [--config inquir.toml] --out DIR"}, "write a production gateway's configuration (HAProxy, or OpenAPI for API Gateway) for the config"},
		{"import", runImport, []string{"--from serverless.yml|template.yaml|openapi.yaml [--out inquir.toml] [--allow-partial] [--force]"}, "write inquir.toml from a Serverless Framework, SAM or OpenAPI project"},
		{"request", runRequest, []string{"METHOD URL [-i] [-H 'Name: value']... [-d BODY|@FILE] [--timeout 60s]"}, "send one HTTP request; print the status, then the body"},
		{"keys", runKeys, []string{"new", "hash   (reads the key on stdin)"}, "make a new API key (new), or hash one read on stdin for inquir.toml (hash)"},
		{"version", runVersion, []string{""}, "print the version (also inquir --version)"},
	}
}

// lookup returns the command called name.
func lookup(name string) (command, bool) {
	for _, c := range commands() {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// usage is the help text, made from commands().
func usage() string {
	var b strings.Builder
	b.WriteString("inquir runs serverless functions locally behind an API-key gateway.\n\nUsage:\n")
	for _, c := range commands() {
		for _, syn := range c.synopsis {
			b.WriteString(strings.TrimRight(fmt.Sprintf("  inquir %-7s %s", c.name, syn), " ") + "\n")
		}
	}
	b.WriteString("\nCommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(&b, "  %-8s %s\n", c.name, c.brief)
	}
	b.WriteString("\nRun 'inquir help COMMAND' (or 'inquir COMMAND --help') for a command's flags.\n")
	b.WriteString("Exit status: 0 success; 1 lint findings or a failed check; 2 a usage error or an invalid config.\n")
	return b.String()
}

// isHelp reports whether arg asks for help, as the Go tools spell it.
func isHelp(arg string) bool { return arg == "-h" || arg == "-help" || arg == "--help" }

// Main runs the inquir command line with args (without the program name)
// and returns the exit status. It neither exits nor panics.
//
// As with the go command: help that was asked for (inquir help, --help,
// -h, inquir help COMMAND, inquir COMMAND --help) goes to stdout and exits
// 0; a usage error goes to stderr and exits 2, and so does bare inquir.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	switch {
	case len(args) == 0:
		fmt.Fprint(stderr, usage())
		return exitUsage
	case isHelp(args[0]) || args[0] == "help" && (len(args) == 1 || len(args) == 2 && args[1] == "help"):
		fmt.Fprint(stdout, usage())
		return exitOK
	case args[0] == "help":
		c, ok := lookup(args[1])
		// inquir help keys new: the subcommand's help.
		sub := len(args) == 3 && args[1] == "keys" && (args[2] == "new" || args[2] == "hash")
		if !ok || len(args) > 2 && !sub {
			fmt.Fprintf(stderr, "inquir help: unknown command %q; run 'inquir help' for the list\n", strings.Join(args[1:], " "))
			return exitUsage
		}
		return c.run(ctx, append(append([]string(nil), args[2:]...), "--help"), stdout, stderr)
	case args[0] == "--version" || args[0] == "-version":
		return runVersion(ctx, args[1:], stdout, stderr)
	}
	if c, ok := lookup(args[0]); ok {
		return c.run(ctx, args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "inquir: unknown command %q\n\n%s", args[0], usage())
	return exitUsage
}

// commandUsage is the first lines of a command's help: its synopsis and
// what it is for.
func commandUsage(name string) string {
	c, _ := lookup(name)
	return fmt.Sprintf("%s\n%s.\n", synopsis(name), upperFirst(c.brief))
}

// synopsis is a command's usage line, one line a form:
//
//	usage: inquir keys new
//	       inquir keys hash ...
func synopsis(name string) string {
	c, _ := lookup(name)
	var b strings.Builder
	for i, syn := range c.synopsis {
		prefix := "usage: "
		if i > 0 {
			prefix = "       "
		}
		b.WriteString(strings.TrimRight(prefix+"inquir "+c.name+" "+syn, " ") + "\n")
	}
	return b.String()
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// newFlags makes a flag set for command name; parseFlags reports its
// errors and prints its help, each where it belongs, spelling flags as
// inquir does: --config.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("inquir "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {} // parseFlags prints it, where it belongs
	return fs
}

// parseFlags parses args and reports whether to go on, with the exit
// status to use otherwise. Help (-h, --help) goes to stdout with status 0;
// a bad flag or argument goes to stderr with the usage, status 2.
func parseFlags(flags *flag.FlagSet, args []string, stdout io.Writer) (int, bool) {
	name := strings.TrimPrefix(flags.Name(), "inquir ")
	stderr := flags.Output()
	// The flag package writes its errors with one dash (-config); they are
	// written here instead, with two.
	flags.SetOutput(io.Discard)
	err := flags.Parse(args)
	flags.SetOutput(stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			writeFlagUsage(stdout, name, flags)
			return exitOK, false
		}
		fmt.Fprintf(stderr, "%s: %s\n%sRun 'inquir help %s' for details.\n", flags.Name(), flagError(err), synopsis(name), name)
		return exitUsage, false
	}
	if flags.NArg() > 0 {
		fmt.Fprintf(stderr, "%s: unexpected argument %q\nRun 'inquir help %s' for details.\n", flags.Name(), flags.Arg(0), name)
		return exitUsage, false
	}
	return exitOK, true
}

// flagError is the flag package's error as inquir spells flags.
func flagError(err error) string {
	msg := err.Error()
	if rest, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		return "unknown flag --" + rest
	}
	if rest, ok := strings.CutPrefix(msg, "flag needs an argument: -"); ok {
		return "--" + rest + " needs a value"
	}
	// invalid value "x" for flag -key: ..., invalid boolean value "x" for -strict: ...
	for _, sep := range []string{" for flag -", " for -"} {
		if before, after, ok := strings.Cut(msg, sep); ok && strings.HasPrefix(before, "invalid ") {
			return before + " for --" + after
		}
	}
	return msg
}

// flagColumn is where a flag's description starts in a command's help, as
// in inquir request's.
const flagColumn = 25

// writeFlagUsage prints a command's help: synopsis, purpose and flags, one
// a line, spelt --name as the synopsis spells them (the flag package's
// PrintDefaults writes -name).
func writeFlagUsage(w io.Writer, name string, flags *flag.FlagSet) {
	fmt.Fprint(w, commandUsage(name))
	first := true
	flags.VisitAll(func(f *flag.Flag) {
		if first {
			fmt.Fprint(w, "\nFlags:\n")
			first = false
		}
		arg, usage := flag.UnquoteUsage(f)
		left := "--" + f.Name
		if arg != "" {
			left += " " + arg
		}
		if def := flagDefault(f); def != "" {
			usage += " (default " + def + ")"
		}
		fmt.Fprintf(w, "  %-*s %s\n", flagColumn-1, left, usage)
	})
}

// flagDefault is how a flag's help shows its default: "" for none (an
// empty string, false, a repeatable flag), a string in quotes.
func flagDefault(f *flag.Flag) string {
	g, ok := f.Value.(flag.Getter)
	if !ok || f.DefValue == "" || f.DefValue == "false" || f.DefValue == "0" {
		return ""
	}
	if _, ok := g.Get().(string); ok {
		return strconv.Quote(f.DefValue)
	}
	return f.DefValue
}

// configFailed prints why a command could not use its config and returns
// the exit status for it (2). Every command that reads inquir.toml answers
// the same way, one problem a line, each as the config package names it:
//
//	inquir dev: inquir.toml: no such file or directory
//	inquir lint: inquir.toml:3:10: keys.partner.groups: expected an array of strings, like ["public-api"]
func configFailed(stderr io.Writer, cmd string, err error) int {
	for _, e := range config.Errors(err) {
		fmt.Fprintf(stderr, "inquir %s: %v\n", cmd, e)
	}
	// The default file missing: likely run from another folder.
	var cerr *config.Error
	if errors.Is(err, fs.ErrNotExist) && errors.As(err, &cerr) && filepath.Base(cerr.File) == "inquir.toml" && cerr.Pos.Line == 0 {
		fmt.Fprintf(stderr, "inquir %s: run inquir in the folder that holds inquir.toml, or name the file with --config\n", cmd)
	}
	return exitUsage
}

// isConfigError reports whether err is about the config (a *config.Error):
// the file is missing, unreadable or invalid, or a secret it names cannot
// be resolved.
func isConfigError(err error) bool {
	var cerr *config.Error
	return errors.As(err, &cerr)
}

// plural counts a noun in English: "1 error", "0 warnings", "2 mismatches".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	for _, end := range []string{"s", "x", "ch", "sh"} {
		if strings.HasSuffix(noun, end) {
			return fmt.Sprintf("%d %ses", n, noun)
		}
	}
	return fmt.Sprintf("%d %ss", n, noun)
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
