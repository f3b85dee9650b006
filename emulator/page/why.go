package page

import (
	"bufio"
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/inquir-dev/inquir/emulator/config"
	"github.com/inquir-dev/inquir/emulator/gateway"
	"github.com/inquir-dev/inquir/emulator/policy"
)

// why explains a refusal: the sentence, and the line of inquir.toml that
// decided it, which is the one to change.
type why struct {
	Sentence string `json:"sentence"`
	// File:Line is the config line, Field its dotted name ("routes[2].group")
	// and Text the line as the file holds it now; empty when no line
	// decided (an unknown key, a path no route has).
	File  string `json:"file,omitempty"`
	Line  int    `json:"line,omitempty"`
	Field string `json:"field,omitempty"`
	Text  string `json:"text,omitempty"`
	// Change says what to change there, or elsewhere.
	Change string `json:"change,omitempty"`
}

// why builds the explanation of x's refusal from the policy that judged it.
func (pg *Page) why(x *gateway.Exchange) why {
	p := x.Policy
	if p == nil {
		return why{Sentence: "the gateway had no config loaded yet"}
	}
	cfg := p.Config
	header := cfg.Gateway.KeyHeader
	var w why
	at := func(key ...string) {
		pos := cfg.Pos(key...)
		if pos.Line == 0 {
			return
		}
		w.File, w.Line, w.Field, w.Text = displayFile(cfg.File), pos.Line, fieldName(key), pg.redact(lineOf(cfg, pos.Line))
	}
	route := x.Route
	routeName, routeIdx := "", ""
	if route != nil {
		routeName, routeIdx = route.String(), strconv.Itoa(route.Index)
	}
	key := p.Key(x.KeyID)
	switch x.Reason {
	case "missing_api_key":
		w.Sentence = fmt.Sprintf("no key was sent in the %s header, and route %s needs one: %s", header, routeName, whoMayCall(p, route, pg.opts.Now()))
		w.Change = "send a key that may call it; or, if the route is meant to be open, add auth = \"none\" with a reason"
		at("routes", routeIdx)
	case "multiple_keys":
		w.Sentence = fmt.Sprintf("the request carried more than one %s header; the gateway takes one key, in one header", header)
		w.Change = "send the key once"
	case "unknown_key":
		w.Sentence = fmt.Sprintf("the %s sent is not a secret of any key in %s", header, displayFile(cfg.File))
		w.Change = "send a configured key's secret, or add this one to a key's secret list"
		if len(cfg.Keys) > 0 {
			at("keys", cfg.Keys[0].ID) // where the keys begin
		}
	case "expired_key":
		w.Sentence = fmt.Sprintf("key %s expired at %s", x.KeyID, key.Expires.UTC().Format(time.RFC3339))
		w.Change = "move the key's expires later, or rotate to a key that is valid"
		at("keys", x.KeyID, "expires")
	case "key_not_yet_valid":
		w.Sentence = fmt.Sprintf("key %s is not valid before %s", x.KeyID, key.NotBefore.UTC().Format(time.RFC3339))
		w.Change = "move the key's not_before earlier, or wait"
		at("keys", x.KeyID, "not_before")
	case "disabled_key":
		w.Sentence = fmt.Sprintf("key %s is disabled", x.KeyID)
		w.Change = "remove disabled = true from the key"
		at("keys", x.KeyID, "disabled")
		for _, r := range p.Revoked {
			if r.KeyID == x.KeyID && r.Disabled {
				w.Sentence = fmt.Sprintf("key %s is disabled: its secret file %s is missing or empty, so it has no secret", x.KeyID, displayFile(r.File))
				w.Change = "write the key's secret back into its file"
				w.Field, w.File, w.Line, w.Text = "", "", 0, ""
				at("keys", x.KeyID, "secret")
			}
		}
	case "revoked_secret":
		w.Sentence = fmt.Sprintf("the secret sent was one of key %s's, read from a file that has since been emptied or deleted: it is revoked", x.KeyID)
		w.Change = "send the key's current secret"
		at("keys", x.KeyID, "secret")
	case "forbidden":
		groups := "no group"
		if key != nil && len(key.Groups) > 0 {
			groups = plural(len(key.Groups), "group", "groups") + " " + strings.Join(key.Groups, ", ")
		}
		w.Sentence = fmt.Sprintf("key %s is in %s; route %s %s", x.KeyID, groups, routeName, needs(route))
		switch {
		case route != nil && route.Group != "":
			w.Change = fmt.Sprintf("add %q to key %s's groups, or call with a key in it", route.Group, x.KeyID)
			at("routes", routeIdx, "group")
		case route != nil:
			w.Change = fmt.Sprintf("add %q to the route's keys, or call with one of them", x.KeyID)
			at("routes", routeIdx, "keys")
		}
	case "rate_limited", "quota_exceeded":
		plan := ""
		for _, k := range cfg.Keys {
			if k.ID == x.KeyID {
				plan = k.Plan
			}
		}
		if x.Reason == "rate_limited" {
			w.Sentence = fmt.Sprintf("key %s spent its usage plan %s's bucket: the request came faster than the plan's rate", x.KeyID, plan)
			w.Change = "raise the plan's rate or burst, or send slower"
			at("plans", plan, "rate")
		} else {
			w.Sentence = fmt.Sprintf("key %s spent its usage plan %s's quota for this window", x.KeyID, plan)
			w.Change = "raise the plan's quota limit, or wait for the next window"
			at("plans", plan, "quota")
		}
	case "authorizer_missing_identity", "authorizer_token_invalid", "authorizer_unauthorized", "authorizer_error", "authorizer_bad_answer",
		"authorizer_denied", "authorizer_explicit_deny", "authorizer_implicit_deny":
		pg.whyAuthorizer(&w, x, at, routeName, routeIdx)
	case "ambiguous_request":
		w.Sentence = "the function would read this request as another than the router did (a method override, an encoded path); the gateway refused it rather than guess which route's key rules hold"
		w.Change = "send the method and path the route serves, plainly"
	case "builtin_host_not_loopback":
		w.Sentence = "a built-in endpoint was asked for under a Host that is not loopback (a page reaching inquir by DNS rebinding)"
	default:
		switch x.Status {
		case 404:
			w.Sentence = fmt.Sprintf("no route of %s matches %s", displayFile(cfg.File), x.Path)
			w.Change = "add a [[routes]] entry for it, or fix the path"
		case 405:
			w.Sentence = fmt.Sprintf("%s is routed, but not for %s (the answer's Allow header lists the methods it takes)", x.Path, x.Method)
			w.Change = "add a route for the method, or send one it takes"
		case 413:
			w.Sentence = "the body is over 6 MB, the most Lambda hands a function (it was not read)"
			w.Change = "send a smaller body"
		case 400:
			w.Sentence = "the gateway could not read the request: " + cmp.Or(x.Err, "see the answer")
		default:
			w.Sentence = fmt.Sprintf("the gateway refused it (%s)", x.Reason)
		}
	}
	return w
}

// whyAuthorizer explains a refusal by the route's Lambda authorizer, and
// points at the authorizer's table (or the route's authorizer field).
func (pg *Page) whyAuthorizer(w *why, x *gateway.Exchange, at func(key ...string), routeName, routeIdx string) {
	name := x.Authorizer
	if name == "" && x.Route != nil {
		name = x.Route.Authorizer
	}
	var a *config.Authorizer
	if x.Policy != nil {
		a = x.Policy.Config.Authorizer(name)
	}
	sources := ""
	if a != nil {
		var ss []string
		for _, src := range a.IdentitySources {
			ss = append(ss, src.String())
		}
		sources = strings.Join(ss, ", ")
	}
	cached := ""
	if x.AuthorizerCache == "hit" {
		cached = " (its answer came from its cache)"
	}
	switch x.Reason {
	case "authorizer_missing_identity":
		w.Sentence = fmt.Sprintf("route %s runs authorizer %s, which reads %s: the request had none, so the authorizer did not run", routeName, name, sources)
		w.Change = "send " + sources + ", or change the authorizer's identity_sources"
		at("authorizers", name, "identity_sources")
	case "authorizer_token_invalid":
		w.Sentence = fmt.Sprintf("the token does not match authorizer %s's token_validation, so the authorizer did not run", name)
		w.Change = "send a token of that form, or change token_validation"
		at("authorizers", name, "token_validation")
	case "authorizer_unauthorized":
		w.Sentence = fmt.Sprintf("authorizer %s (function %s) answered Unauthorized%s", name, authorizerFunction(a), cached)
		w.Change = "send credentials the authorizer accepts; its function decides"
		at("authorizers", name, "function")
	case "authorizer_denied", "authorizer_explicit_deny", "authorizer_implicit_deny":
		how := map[string]string{"authorizer_denied": "refused it (isAuthorized: false)", "authorizer_explicit_deny": "answered a policy that denies this route explicitly",
			"authorizer_implicit_deny": "answered a policy that does not allow this route (a policy that allows only the methodArn it was asked for denies the caller's next route while it is cached)"}[x.Reason]
		w.Sentence = fmt.Sprintf("authorizer %s (function %s) %s%s", name, authorizerFunction(a), how, cached)
		w.Change = "the authorizer's function decides; its answer is cached for its ttl"
		at("authorizers", name, "function")
	default: // authorizer_error, authorizer_bad_answer: 500
		w.Sentence = fmt.Sprintf("authorizer %s (function %s) failed: %s", name, authorizerFunction(a), cmp.Or(x.Err, "the inquir dev log says why"))
		w.Change = "fix the authorizer's function; the inquir dev log has its output"
		at("authorizers", name, "function")
	}
	if w.Line == 0 && routeIdx != "" {
		at("routes", routeIdx, "authorizer")
	}
}

func authorizerFunction(a *config.Authorizer) string {
	if a == nil {
		return "?"
	}
	return a.Function
}

// whoMayCall says who may call route now, as the sentence after "needs
// one".
func whoMayCall(p *policy.Policy, r *policy.Route, now time.Time) string {
	if r == nil {
		return "no one"
	}
	var valid []string
	for _, id := range r.Callers {
		if p.Key(id).Validity(now) == policy.ReasonNone {
			valid = append(valid, id)
		}
	}
	switch {
	case len(valid) == 0:
		return "no key may call it now"
	case r.AnyKey:
		return "any valid key may call it"
	case len(valid) == 1:
		return "key " + valid[0] + " may call it"
	}
	return "keys " + strings.Join(valid, ", ") + " may call it"
}

// needs says what route asks of a key.
func needs(r *policy.Route) string {
	switch {
	case r == nil:
		return "matched none"
	case r.Group != "":
		return "needs group " + r.Group
	case len(r.Keys) > 0:
		return "allows only " + plural(len(r.Keys), "key", "keys") + " " + strings.Join(r.Keys, ", ")
	}
	return "allows any valid key"
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// fieldName spells a key path as config errors do: routes.2.group →
// routes[2].group.
func fieldName(key []string) string {
	var b strings.Builder
	for i, k := range key {
		if _, err := strconv.Atoi(k); err == nil && i > 0 {
			b.WriteString("[" + k + "]")
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(k)
	}
	return b.String()
}

// displayFile is path relative to the working folder when it is inside it,
// as config errors name files.
func displayFile(path string) string {
	wd, err := os.Getwd()
	if err == nil && strings.HasPrefix(path, wd+string(os.PathSeparator)) {
		return path[len(wd)+1:]
	}
	return path
}

// lineOf is line n of cfg's file, trimmed; "" if it cannot be read or has
// changed since cfg was read from it. The caller redacts it: a literal
// secret may be on it.
func lineOf(cfg *config.Config, n int) string {
	data, err := os.ReadFile(cfg.File)
	if err != nil {
		return ""
	}
	// The file as it is now must be the one that config was read from
	// (Config.ID, the first 12 hex digits of its SHA-256): once edited,
	// its line n may be another, one holding a secret the Redactor has
	// not learned (it learns a config's secrets as it is put in force).
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:6]) != cfg.ID {
		return ""
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for i := 1; sc.Scan(); i++ {
		if i == n {
			return strings.TrimSpace(sc.Text())
		}
	}
	return ""
}
