package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/inquir-dev/inquir/emulator/verify"
)

// keyFlags collects repeated --key ID=SECRET flags.
type keyFlags map[string]string

func (k keyFlags) String() string { return fmt.Sprintf("%d keys", len(k)) } // never the secrets

func (k keyFlags) Set(v string) error {
	id, secret, ok := strings.Cut(v, "=")
	if !ok || id == "" || secret == "" {
		return fmt.Errorf("want ID=SECRET")
	}
	k[id] = secret
	return nil
}

// runVerify probes a gateway with the auth matrix of a config and exits 1
// on any cell that does not answer as the policy says.
func runVerify(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("verify", stderr)
	cfgPath := fs.String("config", "inquir.toml", "the config `file` the matrix comes from")
	url := fs.String("url", "", "the gateway to probe, as a `URL` (default: a local emulator verify starts itself)")
	keys := keyFlags{}
	fs.Var(keys, "key", "a key to probe with, as `ID=SECRET` (repeatable)")
	echo := fs.String("echo", "", "an echo `ROUTE` of the config (\"GET /echo\"): its function answers what it received, so verify also proves what a function is handed")
	probePlans := fs.Bool("plans", false, "against --url, also probe the usage plans with a burst beyond each bucket (it spends the keys' quotas); the local emulator's are always probed")
	if code, ok := parseFlags(fs, args, stdout); !ok {
		return code
	}
	rep, err := verify.Run(ctx, verify.Options{ConfigPath: *cfgPath, URL: strings.TrimSuffix(*url, "/"), Keys: keys, Echo: *echo, Plans: *probePlans})
	if errors.Is(err, verify.ErrUsage) {
		fmt.Fprintf(stderr, "inquir verify: %v\n", err)
		return exitUsage
	}
	if isConfigError(err) {
		return configFailed(stderr, "verify", err)
	}
	if err != nil {
		fmt.Fprintf(stderr, "inquir verify: %v\n", err)
		return exitFail
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ROUTE\tREQUEST\tCREDENTIAL\tEXPECT\tGOT\tRESULT")
	for _, c := range rep.Cells {
		result := "ok"
		switch {
		case c.NotProbed:
			result = "not probed"
		case !c.OK:
			result = "MISMATCH"
		}
		got := c.Got
		if c.Invoked > 0 && c.Want != verify.Reach {
			got += invokedTimes(c.Function, c.Invoked)
		}
		req := c.Method + " " + c.Path
		if c.Sent > 1 {
			req += fmt.Sprintf(" ×%d", c.Sent)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", c.Route, req, c.Credential, c.Expectation(), got, result)
	}
	_ = tw.Flush()
	for _, p := range rep.Problems {
		fmt.Fprintf(stdout, "problem: %s\n", p)
	}
	for _, n := range rep.NotChecked {
		fmt.Fprintf(stdout, "not checked: %s\n", n)
	}
	target := *url
	if target == "" {
		target = "the local emulator (functions stood in for by a recorder)"
	}
	// Cells not probed do not fail the run (a CI job may hold only some
	// keys' secrets), but they are counted where the verdict is read.
	fmt.Fprintln(stdout, verifySummary(len(rep.Cells), target, rep.Mismatches(), len(rep.Problems), rep.NotProbed()))
	if !rep.OK() {
		return exitFail
	}
	return exitOK
}

// verifySummary is verify's last line: what it probed and what it found.
func verifySummary(cells int, target string, mismatches, problems, notProbed int) string {
	return fmt.Sprintf("%s against %s: %s, %s, %d not probed", plural(cells, "cell"), target, plural(mismatches, "mismatch"), plural(problems, "problem"), notProbed)
}

// invokedTimes says how often a cell's request ran its function.
func invokedTimes(function string, n int) string {
	if n == 1 {
		return ", invoked " + function + " once"
	}
	return fmt.Sprintf(", invoked %s %d times", function, n)
}
