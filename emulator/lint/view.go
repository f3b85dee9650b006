package lint

import (
	"strconv"
	"time"

	"github.com/inquir-dev/inquir/emulator/config"
	"github.com/inquir-dev/inquir/emulator/policy"
)

// View is what the rules look at: the config as written, the policy the
// gateway would compile from it, and what its router answers to sample
// requests derived from every route.
type View struct {
	// Config is the config as written. Unlike a config the gateway serves,
	// its routes may name undefined functions (config.LoadLenient).
	Config *config.Config
	// Policy is compiled by policy.Compile, as the gateway compiles it;
	// only the secrets differ (see config.WithStandInSecrets), which decide neither routing
	// nor who may call a route.
	Policy *policy.Policy
	// Now is the instant keys are judged at (expiry, not_before).
	Now time.Time
	// Routes are the policy's routes in the order the file writes them.
	Routes []*policy.Route
	// Probes are sample requests for every route and what the router
	// answers to each (see probe.go).
	Probes []Probe

	// guard is set when Guard asks: rules judge structure, not time.
	guard bool
}

// Load reads the config at path and compiles it for linting. Errors are the
// config's own (*config.Error, with positions), as inquir dev would refuse
// it, except that routes naming undefined functions are let through for
// INQ003 to report.
func Load(path string, now time.Time) (*View, error) {
	cfg, err := config.LoadLenient(path)
	if err != nil {
		return nil, err
	}
	// Stand-ins for env: and file: secrets: lint runs in CI where they are
	// not set, and never reads a secret it could leak.
	p, err := policy.Compile(cfg.WithStandInSecrets())
	if err != nil {
		return nil, err
	}
	return &View{Config: cfg, Policy: p, Now: now, Routes: p.InFileOrder(), Probes: probe(p)}, nil
}

// Open reports whether the policy lets a request without a key through
// route r: the question the gateway asks, asked of the same policy.
func (v *View) Open(r *policy.Route) bool {
	return v.Policy.Authorize(r, "", v.Now).Outcome == policy.Public
}

// at makes a finding about the table or field at key in the config.
func (v *View) at(subject, message string, key ...string) Finding {
	e := v.Config.ErrorAt(key, "%s", message)
	return Finding{Pos: e.Pos, Field: e.Field, Message: message, Subject: subject}
}

// routeKey is the key path of a route's field ("" for the route's table).
func routeKey(r config.Route, field string) []string {
	key := []string{"routes", strconv.Itoa(r.Index)}
	if field != "" {
		key = append(key, field)
	}
	return key
}

// subjectRoute names a route as fingerprints and messages do.
func subjectRoute(r config.Route) string { return "route " + r.String() }
