package lint

import (
	"errors"

	"github.com/inquir-dev/inquir/emulator/config"
	"github.com/inquir-dev/inquir/emulator/policy"
)

// guardRules are the error rules inquir dev holds every config it serves
// to, not only lint in CI: each finds a route that is open, or that nobody
// can call, by accident, or a limit that applies to nothing (INQ018: a
// plan's per-route throttle that no request takes, so the requests it was
// meant for run at the plan's rate). A config with such a finding is
// refused at start and on reload (the last good config stays in force).
var guardRules = []string{"INQ001", "INQ003", "INQ004", "INQ016", "INQ018"}

// GuardRules returns the ids of the rules Guard applies.
func GuardRules() []string { return append([]string(nil), guardRules...) }

// Guard applies the guard rules to p, the policy inquir dev is about to put
// in force, and returns their findings as *config.Error values (joined),
// each reading as lint prints it: "inquir.toml:12:1: error INQ001: ...". It
// returns nil when there are none.
//
// INQ004 is held structurally here: a route is uncallable when no key in
// the config is allowed on it at all. A route whose only keys expired, are
// disabled or lost their secret file is still served (refused per request),
// since expiry and revocation must take effect without holding a reload
// back; lint reports those.
func Guard(p *policy.Policy) error {
	v := &View{Config: p.Config, Policy: p, Routes: p.InFileOrder(), guard: true}
	var errs []error
	for _, id := range guardRules {
		r := RuleByID(id)
		for _, f := range r.check(v) {
			errs = append(errs, &config.Error{File: p.Config.File, Pos: f.Pos, Msg: r.Severity.String() + " " + r.ID + ": " + f.Message})
		}
	}
	return errors.Join(errs...)
}
