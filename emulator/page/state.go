package page

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/inquir-dev/inquir/emulator/config"
	"github.com/inquir-dev/inquir/emulator/gateway"
	"github.com/inquir-dev/inquir/emulator/lint"
	"github.com/inquir-dev/inquir/emulator/policy"
)

// state is what the page shows beside the live list: the routes, the keys,
// lint's findings and the reloads. It holds key ids and fingerprints, never
// a secret.
type state struct {
	Config  string           `json:"config"` // the id of the config in force
	File    string           `json:"file"`
	Now     time.Time        `json:"now"` // the gateway's clock
	Routes  []routeRow       `json:"routes"`
	Keys    []keyRow         `json:"keys"`
	Lint    []finding        `json:"lint"` // findings about no route
	LintErr string           `json:"lint_error,omitempty"`
	Reloads []gateway.Reload `json:"reloads"`
	// Dropped counts the records the page's streams skipped in all.
	Dropped uint64 `json:"dropped"`
}

type routeRow struct {
	Method   string   `json:"method"`
	Path     string   `json:"path"`
	Function string   `json:"function"`
	Runtime  string   `json:"runtime"`
	Public   bool     `json:"public"`
	Reason   string   `json:"reason,omitempty"` // why a public route is public
	Group    string   `json:"group,omitempty"`
	Keys     []string `json:"keys,omitempty"`
	AnyKey   bool     `json:"any_key,omitempty"`
	Callers  []string `json:"callers"`
	Inactive []string `json:"inactive,omitempty"`
	// Plans are the usage plans of the keys that may call it.
	Plans []string `json:"plans,omitempty"`
	// Authorizer is the Lambda authorizer that runs for the route (its
	// own or its group's): after the key check, or alone when Auth is
	// "authorizer"; "" for none.
	Authorizer string `json:"authorizer"`
	Auth       string `json:"auth"`
	// Payload is "2.0" on a route that hands its function an HTTP API's
	// event, "" for a REST API's (1.0).
	Payload string    `json:"payload,omitempty"`
	Line    int       `json:"line"`
	Lint    []finding `json:"lint,omitempty"`
}

type keyRow struct {
	ID     string   `json:"id"`
	Groups []string `json:"groups"`
	// State is "active", "expiring", "expired", "not yet valid",
	// "disabled" or "revoked"; Detail says more ("in 3d 4h", "its secret
	// file secrets/acme is empty or missing").
	State        string   `json:"state"`
	Detail       string   `json:"detail,omitempty"`
	Fingerprints []string `json:"fingerprints"`
	// Secret says where the secret comes from ("env:ACME_KEY",
	// "file:/abs/path", "literal secret", "sha256:..."), never what it is.
	Secret []string `json:"secret"`
	// Replayable: inquir holds the secret itself, so a replay may send it.
	Replayable bool   `json:"replayable"`
	Plan       string `json:"plan,omitempty"`
	Used       int64  `json:"used"`
	// Limit is the plan's quota, 0 with none; Remaining is -1 with none.
	Limit     int64  `json:"limit,omitempty"`
	Remaining int64  `json:"remaining"`
	Period    string `json:"period,omitempty"`
	Line      int    `json:"line"`
}

type finding struct {
	Rule     string `json:"rule"`
	Severity string `json:"severity"`
	Line     int    `json:"line"`
	Message  string `json:"message"`
}

// expiringWithin is how far ahead a key's expiry makes it "expiring".
const expiringWithin = 7 * 24 * time.Hour

func (pg *Page) serveState(w http.ResponseWriter, r *http.Request) {
	p := pg.policy()
	if p == nil {
		writeError(w, http.StatusServiceUnavailable, "not_ready", "the gateway has no config loaded yet")
		return
	}
	writeJSON(w, http.StatusOK, pg.state(p))
}

func (pg *Page) state(p *policy.Policy) state {
	now := pg.opts.Now()
	stats := pg.stats()
	s := state{Config: p.ID(), File: displayFile(p.Config.File), Now: now, Reloads: stats.Reloads.History, Dropped: pg.Dropped()}
	if s.Reloads == nil {
		s.Reloads = []gateway.Reload{}
	}
	findings, err := pg.lint.get(p, now)
	if err != nil {
		s.LintErr = pg.redact(err.Error())
	}
	bySubject := map[string][]finding{}
	for _, f := range findings {
		bySubject[f.Subject] = append(bySubject[f.Subject], finding{Rule: f.Rule, Severity: f.Severity.String(), Line: f.Pos.Line, Message: pg.redact(f.Message)})
	}
	runtime := map[string]string{}
	for _, f := range p.Config.Functions {
		runtime[f.Name] = f.Runtime
	}
	planOf := map[string]string{}
	for _, k := range p.Config.Keys {
		planOf[k.ID] = k.Plan
	}
	for _, ri := range p.Table(now) {
		row := routeRow{Method: ri.Method, Path: ri.Path, Function: ri.Function, Runtime: runtime[ri.Function], Public: ri.Auth == config.AuthNone,
			Reason: ri.Reason, Group: ri.Group, Keys: ri.Keys, AnyKey: ri.AnyKey, Callers: ri.Callers, Inactive: ri.Inactive, Line: ri.Line,
			Authorizer: ri.Authorizer, Auth: ri.Auth, Payload: ri.Payload}
		subject := "route " + ri.Method + " " + ri.Path
		row.Lint = bySubject[subject]
		delete(bySubject, subject)
		seen := map[string]bool{}
		for _, id := range ri.Callers {
			if pl := planOf[id]; pl != "" && !seen[pl] {
				seen[pl] = true
				row.Plans = append(row.Plans, pl)
			}
		}
		s.Routes = append(s.Routes, row)
	}
	for _, fs := range bySubject {
		s.Lint = append(s.Lint, fs...)
	}
	slices.SortFunc(s.Lint, func(a, b finding) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), strings.Compare(a.Rule, b.Rule), strings.Compare(a.Message, b.Message))
	})
	for i := range p.Config.Keys {
		s.Keys = append(s.Keys, pg.keyRow(p, &p.Config.Keys[i], stats, now))
	}
	return s
}

func (pg *Page) keyRow(p *policy.Policy, ck *config.Key, stats gateway.Stats, now time.Time) keyRow {
	k := p.Key(ck.ID)
	row := keyRow{ID: ck.ID, Groups: ck.Groups, Fingerprints: p.Fingerprints(ck.ID), Plan: ck.Plan, Remaining: -1,
		Line: p.Config.Pos("keys", ck.ID).Line, State: "active"}
	if row.Groups == nil {
		row.Groups = []string{}
	}
	if row.Fingerprints == nil {
		row.Fingerprints = []string{}
	}
	for _, ref := range ck.Secrets {
		row.Secret = append(row.Secret, pg.redact(ref.String()))
	}
	_, row.Replayable = pg.secretOf(p, ck.ID)
	switch k.Validity(now) {
	case policy.ReasonDisabled:
		row.State = "disabled"
		for _, r := range p.Revoked {
			if r.KeyID == ck.ID && r.Disabled {
				row.State, row.Detail = "revoked", "its secret file "+displayFile(r.File)+" is empty or missing"
			}
		}
	case policy.ReasonExpired:
		row.State, row.Detail = "expired", "since "+k.Expires.UTC().Format(time.RFC3339)
	case policy.ReasonNotYetValid:
		row.State, row.Detail = "not yet valid", "from "+k.NotBefore.UTC().Format(time.RFC3339)
	default:
		if !k.Expires.IsZero() && k.Expires.Sub(now) <= expiringWithin {
			row.State, row.Detail = "expiring", "in "+roughly(k.Expires.Sub(now))
		}
		for _, r := range p.Revoked {
			if r.KeyID == ck.ID && !r.Disabled {
				row.Detail = strings.TrimPrefix(row.Detail+"; ", "; ") + "a secret revoked: its file " + displayFile(r.File) + " is empty or missing"
			}
		}
	}
	if u, ok := stats.Usage[ck.ID]; ok {
		row.Used, row.Remaining = u.Used, u.Remaining
	}
	if pl := p.Config.Plan(ck.Plan); pl != nil && pl.Quota != nil {
		row.Limit, row.Period = pl.Quota.Limit, pl.Quota.Period
	}
	return row
}

// roughly says a duration as a person reads it: "3d 4h", "5h 2m", "42s".
func roughly(d time.Duration) string {
	switch {
	case d >= 24*time.Hour:
		return fmt.Sprintf("%dd %dh", int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour))
	case d >= time.Hour:
		return fmt.Sprintf("%dh %dm", int(d/time.Hour), int(d%time.Hour/time.Minute))
	case d >= time.Minute:
		return fmt.Sprintf("%dm %ds", int(d/time.Minute), int(d%time.Minute/time.Second))
	}
	return strconv.Itoa(int(d/time.Second)) + "s"
}

// lintCache holds lint's findings on the config in force, by its id: lint
// reads and compiles the file, too much for every refresh of the page.
type lintCache struct {
	mu       sync.Mutex
	id       string
	findings []lint.Finding
	err      error
}

func (c *lintCache) get(p *policy.Policy, now time.Time) ([]lint.Finding, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.id != p.ID() {
		rep, err := lint.Run(p.Config.File, lint.Options{Now: func() time.Time { return now }})
		c.id, c.findings, c.err = p.ID(), nil, err
		if rep != nil {
			c.findings = rep.Findings
		}
	}
	return c.findings, c.err
}
