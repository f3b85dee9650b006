package authorizers

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Policy is an authorizer's IAM policy document, as API Gateway reads it:
// statements that allow or deny execute-api:Invoke on method ARNs.
type Policy struct {
	Statements []Statement
}

// Statement is one statement of a Policy.
type Statement struct {
	Effect    string   // "Allow" or "Deny"
	Actions   []string // IAM action patterns: "execute-api:Invoke", "execute-api:*", "*"
	Resources []string // method ARN patterns, * and ? as wildcards (see globMatch)
}

// Verdict is what a Policy says about one method ARN.
type Verdict uint8

// Verdicts, as IAM evaluates a policy: an explicit Deny wins over any
// Allow; with neither, the request is denied implicitly.
const (
	ImplicitDeny Verdict = iota
	Allow
	ExplicitDeny
)

func (v Verdict) String() string {
	return [...]string{"implicit_deny", "allow", "explicit_deny"}[v]
}

// Evaluate judges a request for methodARN as API Gateway does.
func (p Policy) Evaluate(methodARN string) Verdict {
	v := ImplicitDeny
	for _, s := range p.Statements {
		// Where AWS's reading of a * inside a Resource is shown only by
		// examples, inquir takes the reading that refuses: an Allow's *
		// stays within a "/" segment, a Deny's reaches across them.
		deny := s.Effect == "Deny"
		if !matchAny(s.Actions, "execute-api:Invoke", true, true) || !matchAny(s.Resources, methodARN, false, deny) {
			continue
		}
		if s.Effect == "Deny" {
			return ExplicitDeny
		}
		v = Allow
	}
	return v
}

// Resources returns the resources of the policy's Allow statements, for
// messages that say which routes a cached answer covers.
func (p Policy) Resources() []string {
	var out []string
	for _, s := range p.Statements {
		if s.Effect == "Allow" {
			out = append(out, s.Resources...)
		}
	}
	return out
}

func matchAny(patterns []string, s string, foldCase, acrossSegments bool) bool {
	for _, p := range patterns {
		if foldCase {
			p, s = strings.ToLower(p), strings.ToLower(s)
		}
		if globMatch(p, s, acrossSegments) {
			return true
		}
	}
	return false
}

// globMatch matches s against a policy's pattern as API Gateway matches
// a Resource against a method ARN: * is any run of characters within one
// "/" segment, except a * that ends the pattern, which takes the rest of
// the ARN (slashes included); ? is any one character but "/". The
// developer guide reads ".../api-id/*/*/petstorewalkthrough/pets" as any
// method on that one resource path, in any stage
// (api-gateway-iam-policy-examples-for-api-execution). With
// acrossSegments, * and ? match "/" too, as IAM's wildcards do elsewhere.
func globMatch(pattern, s string, acrossSegments bool) bool {
	// Iterative, with one backtrack point: linear in practice and never
	// exponential, whatever the pattern. One point is enough: a * before
	// a "/" of the pattern cannot reach past the "/" of s that matched it.
	px, sx := 0, 0
	starPx, starSx := -1, -1
	for sx < len(s) {
		switch {
		case px < len(pattern) && pattern[px] == '*':
			starPx, starSx = px, sx
			px++
		case px < len(pattern) && ((pattern[px] == '?' && (acrossSegments || s[sx] != '/')) || pattern[px] == s[sx]):
			px++
			sx++
		case starPx >= 0 && (acrossSegments || s[starSx] != '/' || starPx == len(pattern)-1):
			starSx++
			px, sx = starPx+1, starSx
		default:
			return false
		}
	}
	for px < len(pattern) && pattern[px] == '*' {
		px++
	}
	return px == len(pattern)
}

// parsePolicy reads a policyDocument: Statement may be one object or an
// array, Action and Resource a string or an array of strings. What inquir
// cannot evaluate (NotAction, NotResource, Condition) is an error, never
// skipped: a statement read otherwise than AWS reads it could let in a
// request AWS refuses.
func parsePolicy(raw json.RawMessage) (Policy, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(raw, &doc); err != nil {
		return Policy{}, errors.New("the authorizer's policyDocument is not a JSON object")
	}
	stmts, ok := doc["Statement"]
	if !ok {
		return Policy{}, errors.New("the authorizer's policyDocument has no Statement")
	}
	var list []json.RawMessage
	if err := json.Unmarshal(stmts, &list); err != nil {
		list = []json.RawMessage{stmts}
	}
	var p Policy
	for i, raw := range list {
		var st map[string]json.RawMessage
		if err := json.Unmarshal(raw, &st); err != nil {
			return Policy{}, fmt.Errorf("the authorizer's policy Statement[%d] is not a JSON object", i)
		}
		for _, k := range []string{"NotAction", "NotResource", "Condition", "NotPrincipal"} {
			if _, ok := st[k]; ok {
				return Policy{}, fmt.Errorf("the authorizer's policy Statement[%d] has %s, which inquir does not evaluate; write the statement with Action and Resource", i, k)
			}
		}
		var s Statement
		if err := json.Unmarshal(st["Effect"], &s.Effect); err != nil || (s.Effect != "Allow" && s.Effect != "Deny") {
			return Policy{}, fmt.Errorf("the authorizer's policy Statement[%d] has no Effect of \"Allow\" or \"Deny\"", i)
		}
		var err error
		if s.Actions, err = stringOrStrings(st["Action"]); err != nil {
			return Policy{}, fmt.Errorf("the authorizer's policy Statement[%d] Action: %v", i, err)
		}
		if s.Resources, err = stringOrStrings(st["Resource"]); err != nil {
			return Policy{}, fmt.Errorf("the authorizer's policy Statement[%d] Resource: %v", i, err)
		}
		p.Statements = append(p.Statements, s)
	}
	return p, nil
}

func stringOrStrings(raw json.RawMessage) ([]string, error) {
	if len(raw) == 0 {
		return nil, errors.New("missing")
	}
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}, nil
	}
	var many []string
	if err := json.Unmarshal(raw, &many); err != nil || len(many) == 0 {
		return nil, errors.New("not a string or an array of strings")
	}
	return many, nil
}
