package verify

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/inquir-dev/inquir/emulator/config"
	"github.com/inquir-dev/inquir/emulator/policy"
)

// A route with a Lambda authorizer: the key check first, then the
// authorizer, which refuses a request that lacks one of its identity
// sources (401) without running. verify sends no identity source, so the
// authorizer's function never runs for a cell; a token the authorizer
// would accept is the user's own, which verify does not hold.

// behindAuthorizer is what rt answers a request without its authorizer's
// identity sources, given keyWant, what the key check alone answers: the
// key check's refusal stands (it comes first), and what it lets through
// the authorizer refuses. With api_key_source = "authorizer" the
// authorizer runs first, since it names the key: every request is its 401.
func (pr *prober) behindAuthorizer(rt *policy.Route, keyWant Expect) Expect {
	if rt.Authorizer == "" {
		return keyWant
	}
	if keyWant == Reach || (rt.NeedsKey() && pr.p.Config.Gateway.APIKeySource == config.KeySourceAuthorizer) {
		if alwaysRuns(pr.p.Config.Authorizer(rt.Authorizer)) {
			return AuthorizerDecides
		}
		return NoIdentity
	}
	return keyWant
}

// alwaysRuns reports whether every request verify sends carries a's
// identity sources: each is a $context variable the gateway always has a
// value for, or a has none (a request authorizer with ttl = "0"). Such an
// authorizer runs for every request, and what it answers is the user's.
func alwaysRuns(a *config.Authorizer) bool {
	for _, s := range a.IdentitySources {
		if s.Kind != config.SourceContext || !slices.Contains(config.ContextSources, s.Name) {
			return false
		}
	}
	return true
}

// decidedCell is a cell of a route whose authorizer runs for every
// request: not sent, listed as not probed.
func (pr *prober) decidedCell(rt *policy.Route, method, path string, cr Credential) Cell {
	a := pr.p.Config.Authorizer(rt.Authorizer)
	return Cell{Route: rt.String(), Function: rt.Function, Method: method, Path: path, Credential: cr.Label,
		Want: AuthorizerDecides, Invoked: -1, NotProbed: true,
		Got: fmt.Sprintf("not probed (authorizer %q runs for every request and decides; verify cannot say what it answers)", a.Name)}
}

// tokenCell is the cell verify cannot send on route rt: a request with the
// identity sources of its authorizer, from a caller the key check lets
// through, which the user's authorizer decides. It is listed as not
// probed, so a run never reads as having proved the authorizer's side.
func (pr *prober) tokenCell(rt *policy.Route, method, path string, creds []Credential, unprobed []*policy.Key) Cell {
	a := pr.p.Config.Authorizer(rt.Authorizer)
	who := "no key"
	if rt.NeedsKey() && pr.p.Config.Gateway.APIKeySource != config.KeySourceAuthorizer {
		who = ""
		for _, cr := range creds {
			if cr.Secret != "" && expectFor(pr.p.Authorize(rt, cr.Secret, pr.now)) == Reach {
				who = cr.Label
				break
			}
		}
		for _, k := range unprobed {
			if who == "" && expectFor(pr.p.AuthorizeKey(rt, k, pr.now)) == Reach {
				who = "key " + k.ID
			}
		}
		if who == "" {
			who = "a key it allows"
		}
	}
	var sources []string
	for _, s := range a.IdentitySources {
		sources = append(sources, s.String())
	}
	return Cell{Route: rt.String(), Function: rt.Function, Method: method, Path: path,
		Credential: fmt.Sprintf("%s + %s", who, strings.Join(sources, ", ")), Want: Reach, Invoked: -1, NotProbed: true,
		Expected: fmt.Sprintf("authorizer %q decides", a.Name),
		Got:      fmt.Sprintf("not probed (needs a token authorizer %q accepts; verify holds none)", a.Name)}
}

// invocations counts the runs of rt's function and of its authorizer's
// function, where the prober can count (locally, or with the live page's
// counts): a refused request must cause neither.
func (pr *prober) invocations(rt *policy.Route) (int, bool) {
	n, ok := pr.count(rt.Function)
	if !ok {
		return 0, false
	}
	if rt.Authorizer != "" {
		if a := pr.p.Config.Authorizer(rt.Authorizer); a != nil && a.Function != rt.Function {
			m, _ := pr.count(a.Function)
			n += m
		}
	}
	return n, true
}

// authorizerRefusal reports whether a 401's body is a gateway's refusal
// for a route's authorizer: inquir's {"error":"unauthorized",...}, API
// Gateway's {"message":"Unauthorized"} under compat = "aws", or a body
// that is not a JSON object (judged by its status, as classify judges).
// Another JSON body is the function's own 401.
func authorizerRefusal(body []byte, aws bool) bool {
	var named struct {
		Error   *string `json:"error"`
		Message *string `json:"message"`
	}
	if json.Unmarshal(body, &named) != nil {
		return true
	}
	switch {
	case named.Error != nil:
		return *named.Error == "unauthorized"
	case aws && named.Message != nil:
		return *named.Message == "Unauthorized"
	}
	return true
}
