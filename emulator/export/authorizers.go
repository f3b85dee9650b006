package export

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/inquir-dev/inquir/emulator/config"
	"github.com/inquir-dev/inquir/emulator/policy"
)

// Lambda authorizers: HAProxy cannot run one. A route with an authorizer
// is exported only when the user says the upstream runs it itself
// (Options.UpstreamAuthorizes, --upstream-authorizes); HAProxy then still
// refuses what inquir dev refuses before any authorizer runs, a request
// without one of the authorizer's identity sources (401), and the export
// lists what it leaves to the upstream (Warnings).

// cfgAuthorizer is one authorizer's presence checks in haproxy.cfg.
type cfgAuthorizer struct {
	ACL     string   // authz_<n>: the request's route is one of Routes
	Comment string   // the authorizer and what it reads
	Routes  []string // route names
	Checks  []identityCheck
}

// identityCheck refuses a request that lacks one identity source.
type identityCheck struct {
	// Missing is an HAProxy condition, true when the source is missing.
	Missing string
	// Body is inquir's 401 body naming the source, as the gateway writes it.
	Body string
}

// awsUnauthorizedBody is API Gateway's UNAUTHORIZED answer, which the
// gateway sends under compat = "aws" for a missing identity source.
const awsUnauthorizedBody = `{"message":"Unauthorized"}` + "\n"

// plainQueryName is a query parameter name HAProxy's url_param takes as
// written and a regular expression holds once quoted.
var plainQueryName = regexp.MustCompile(`^[A-Za-z0-9._~-]+$`)

// authorizerRoutes refuses, with one error per route (file, line, field),
// a config whose routes run a Lambda authorizer, unless the upstream runs
// it (opts.UpstreamAuthorizes); with api_key_source = "authorizer" it
// refuses them whatever opts say, since HAProxy cannot learn the key the
// authorizer names. Otherwise it returns the presence checks, in file
// order of the authorizers.
func authorizerRoutes(p *policy.Policy, opts Options) ([]cfgAuthorizer, error) {
	c := p.Config
	var errs []error
	byName := map[string]int{} // authorizer -> its index in out
	var out []cfgAuthorizer
	for _, r := range p.InFileOrder() {
		if r.Authorizer == "" {
			continue
		}
		at := []string{"routes", strconv.Itoa(r.Index), "authorizer"}
		if c.Pos(at...) == c.Pos(at[:2]...) && r.Group != "" {
			at = []string{"groups", r.Group, "authorizer"} // the group's authorizer
		}
		switch {
		case r.NeedsKey() && c.Gateway.APIKeySource == config.KeySourceAuthorizer:
			errs = append(errs, c.ErrorAt(at, "cannot export to HAProxy: %s takes its API key from authorizer %q (gateway.api_key_source = \"authorizer\"), which HAProxy cannot run, so it cannot learn the key or check it; use api_key_source = \"header\" to export", r.Route, r.Authorizer))
			continue
		case !opts.UpstreamAuthorizes:
			errs = append(errs, c.ErrorAt(at, "cannot export to HAProxy: %s runs Lambda authorizer %q, which HAProxy cannot run, so the export would let through requests the authorizer refuses; if the upstream runs the authorizer itself, export with --upstream-authorizes", r.Route, r.Authorizer))
			continue
		}
		i, seen := byName[r.Authorizer]
		if !seen {
			a := c.Authorizer(r.Authorizer)
			checks, err := identityChecks(c, a)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			i = len(out)
			out = append(out, cfgAuthorizer{ACL: fmt.Sprintf("authz_%d", i), Comment: describeAuthorizer(a), Checks: checks})
			byName[r.Authorizer] = i
		}
		out[i].Routes = append(out[i].Routes, routeName(r))
	}
	return out, errors.Join(errs...)
}

// identityChecks are a's presence checks, in its identity sources' order,
// so the first missing one is the one named, as the gateway names it.
func identityChecks(c *config.Config, a *config.Authorizer) ([]identityCheck, error) {
	at := []string{"authorizers", a.Name, "identity_sources"}
	var out []identityCheck
	header := func(name string) (string, error) {
		if !plainHeaderName.MatchString(name) {
			return "", c.ErrorAt(at, "cannot export to HAProxy: header %q holds a character other than letters, digits, '-', '_' and '.'", name)
		}
		return "!{ req.fhdr(" + strings.ToLower(name) + ") -m len gt 0 }", nil
	}
	for _, s := range a.IdentitySources {
		body := jsonBody("unauthorized", "this route needs "+identityName(s))
		switch {
		case s.Kind == config.SourceHeader:
			missing, err := header(s.Name)
			if err != nil {
				return nil, err
			}
			out = append(out, identityCheck{missing, body})
		case s.Kind == config.SourceQuery:
			if !plainQueryName.MatchString(s.Name) {
				return nil, c.ErrorAt(at, "cannot export to HAProxy: query parameter %q holds a character other than letters, digits, '.', '_', '~' and '-'", s.Name)
			}
			// The gateway reads the last value, decoded; HAProxy's
			// url_param reads the first, as sent. Stricter, never weaker:
			// refused when no value is found, and when any is empty.
			out = append(out,
				identityCheck{"!{ url_param(" + s.Name + ") -m len gt 0 }", body},
				identityCheck{"{ query -m reg " + quote(`(^|[&;])`+regexp.QuoteMeta(s.Name)+`=?([&;]|$)`) + " }", body})
		case s.Kind == config.SourceContext && s.Name == "identity.userAgent":
			missing, _ := header("User-Agent")
			out = append(out, identityCheck{missing, body})
		case s.Kind == config.SourceContext && (s.Name == "identity.sourceIp" || s.Name == "httpMethod" || s.Name == "path" || s.Name == "protocol"):
			// Every request carries these.
		default:
			// A stage variable, or a context variable inquir has no value
			// for: no request carries it (lint INQ021), so every request
			// is refused, as inquir dev refuses it.
			out = append(out, identityCheck{"always_true", body})
		}
	}
	return out, nil
}

// identityName names a missing identity source as the gateway's 401 does.
func identityName(s config.IdentitySource) string {
	switch s.Kind {
	case config.SourceHeader:
		return "the " + s.Name + " header"
	case config.SourceQuery:
		return "the query parameter " + s.Name
	}
	return "the " + s.String()
}

// describeAuthorizer is an authorizer's comment line in haproxy.cfg.
func describeAuthorizer(a *config.Authorizer) string {
	var sources []string
	for _, s := range a.IdentitySources {
		sources = append(sources, s.String())
	}
	return fmt.Sprintf("authorizer %s (function %s, run by the upstream): %s", a.Name, a.Function, strings.Join(sources, ", "))
}

// Warnings lists what an export of p with opts leaves to others: each
// Lambda authorizer the upstream must run (with --upstream-authorizes),
// and what of it HAProxy does not check. inquir export prints them; the
// exported haproxy.cfg holds them as comments.
func Warnings(p *policy.Policy, opts Options) []string {
	if !opts.UpstreamAuthorizes {
		return nil
	}
	var out []string
	for _, a := range p.Config.Authorizers {
		var routes []string
		for _, r := range p.InFileOrder() {
			if r.Authorizer == a.Name {
				routes = append(routes, r.Route.String())
			}
		}
		if len(routes) == 0 {
			continue
		}
		var sources []string
		for _, s := range a.IdentitySources {
			sources = append(sources, s.String())
		}
		msg := fmt.Sprintf("authorizer %q (function %s) is not run by HAProxy: the upstream must run it for %s; HAProxy only refuses a request without %s (401)",
			a.Name, a.Function, strings.Join(routes, ", "), strings.Join(sources, ", "))
		if a.TokenValidation != "" {
			msg += ", not one whose token fails token_validation"
		}
		if a.TTL > 0 {
			msg += fmt.Sprintf(", and caches no answer (inquir dev caches for %ds)", int(a.TTL.Seconds()))
		}
		out = append(out, msg)
	}
	return out
}
