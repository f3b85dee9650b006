// Package lint is `inquir lint`: it flags every route a caller could reach
// without a key, and other key-hygiene faults, each as a Finding of a Rule
// with a stable id (INQ001...) that points at the line of inquir.toml it is
// about.
//
// Lint never decides by itself whether a route is open or who may call it:
// it compiles the config with policy.Compile and asks the compiled policy and
// its router (Policy.Match), the same value the gateway asks on every
// request, so lint and the gateway cannot disagree. It needs no secret: env:
// and file: references are never read (see View).
package lint

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/inquir-dev/inquir/emulator/config"
)

// Severity is how serious a finding is.
type Severity uint8

// Severities, weakest first. The zero Severity is none: below every finding.
const (
	Warning Severity = iota + 1
	Error
)

func (s Severity) String() string {
	switch s {
	case Warning:
		return "warning"
	case Error:
		return "error"
	}
	return "none"
}

// ParseSeverity reads "error" or "warning", as --fail-on takes them.
func ParseSeverity(s string) (Severity, error) {
	switch s {
	case "error":
		return Error, nil
	case "warning":
		return Warning, nil
	}
	return 0, fmt.Errorf("severity must be error or warning, not %q", s)
}

// Finding is one fault lint found. Its message names the route
// ("GET /customers/{id}"), key id or function it is about, never a secret.
type Finding struct {
	Rule     string   // the rule's id, "INQ001"
	Severity Severity // the rule's, or as --strict raised it
	// File is the absolute path of the inquir.toml the finding is about, and
	// Pos the line and column of the table or field there.
	File  string
	Pos   config.Position
	Field string // dotted, as config errors name it: "routes[2].auth"
	// Message is one line.
	Message string
	// Subject identifies what the finding is about ("route GET /a",
	// "key partner", "function search"), independently of where it is
	// written: SARIF fingerprints hash it, so an alert survives lines moving.
	Subject string
	// Related are other places that explain the finding, such as the
	// handler line INQ011 found.
	Related []Location
}

// Location is a place in a file other than the finding's own.
type Location struct {
	File    string // absolute
	Line    int
	Message string
}

// Options tune a run. The zero Options lints as `inquir lint` does by default.
type Options struct {
	// Strict makes INQ002 (a public route with a reason) an error.
	Strict bool
	// Now is the clock INQ004 and INQ010 judge keys by. If nil, time.Now.
	Now func() time.Time
	// Enable turns on optional rules (Rule.Optional), by id ("INQ019").
	// Naming a rule that is on anyway changes nothing. If empty, only the
	// rules that are on by default run.
	Enable []string
}

// Report is the outcome of a run.
type Report struct {
	// Config is the absolute path of the file linted.
	Config string
	// Findings are ordered by position, then rule id.
	Findings []Finding
}

// Count returns how many findings have severity s.
func (r *Report) Count(s Severity) int {
	n := 0
	for _, f := range r.Findings {
		if f.Severity == s {
			n++
		}
	}
	return n
}

// Fails reports whether any finding is at or above threshold: what makes
// `inquir lint --fail-on` exit 1.
func (r *Report) Fails(threshold Severity) bool {
	for _, f := range r.Findings {
		if f.Severity >= threshold {
			return true
		}
	}
	return false
}

// Run lints the config file at path with every rule. An error means the
// config cannot be read, parsed or compiled (inquir lint exits 2): each
// problem in it is a *config.Error with a position where one is known.
func Run(path string, opts Options) (*Report, error) {
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	v, err := Load(path, now())
	if err != nil {
		return nil, err
	}
	return Check(v, opts), nil
}

// Check applies every rule to v.
func Check(v *View, opts Options) *Report {
	rep := &Report{Config: v.Config.File}
	for _, r := range Rules() {
		if r.Optional && !slices.Contains(opts.Enable, r.ID) {
			continue
		}
		sev := r.Severity
		if opts.Strict && r.StrictSeverity != 0 {
			sev = r.StrictSeverity
		}
		for _, f := range r.check(v) {
			f.Rule, f.Severity, f.File = r.ID, sev, v.Config.File
			rep.Findings = append(rep.Findings, f)
		}
	}
	slices.SortStableFunc(rep.Findings, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(a.Pos.Line, b.Pos.Line), cmp.Compare(a.Pos.Col, b.Pos.Col), strings.Compare(a.Rule, b.Rule))
	})
	return rep
}
