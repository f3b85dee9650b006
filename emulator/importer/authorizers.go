package importer

import (
	"cmp"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/inquir-dev/inquir/emulator/config"
)

var cmpOr = cmp.Or[string]

// authorizersInConfig says whether inquir.toml has [authorizers] (issue 18):
// without them every authorizer is listed as dropped and its routes keep
// their key check alone.
const authorizersInConfig = true

// sourceAuthorizer is a Lambda authorizer as the source describes it, in
// API Gateway's own terms, whatever the format.
type sourceAuthorizer struct {
	Name string
	// Function is the inquir function that decides, "" when the source
	// names only an ARN outside it.
	Function string
	// Type is API Gateway's: TOKEN, REQUEST, COGNITO_USER_POOLS, AWS_IAM, JWT.
	Type string
	// IdentitySources in API Gateway's spelling:
	// method.request.header.Authorization, method.request.querystring.tenant.
	IdentitySources []string
	// TTL is the result cache's seconds; -1 when the source leaves it to
	// API Gateway's default (300).
	TTL int
	// SimpleResponses is an HTTP API's simple response format.
	SimpleResponses bool
	// TokenValidation is a TOKEN authorizer's identityValidationExpression.
	TokenValidation string
	Line            int
	Field           string
}

// authorizer maps one authorizer of the source to an [authorizers] table
// and returns the name a route's authorizer field gives, or "" when it
// cannot be carried over (then the route keeps its key check only, never
// less, and the finding says so).
func (p *Project) authorizer(a sourceAuthorizer) string {
	// One finding for an authorizer, however many routes use it.
	seen := a.Field + "\x00" + a.Name
	if name, ok := p.authorizersSeen[seen]; ok {
		return name
	}
	name := p.mapAuthorizer(a)
	if p.authorizersSeen == nil {
		p.authorizersSeen = map[string]string{}
	}
	p.authorizersSeen[seen] = name
	return name
}

// mapAuthorizer is the one place a source's authorizer becomes inquir's.
func (p *Project) mapAuthorizer(a sourceAuthorizer) string {
	var why string
	out := Authorizer{Name: tableName(a.Name), Function: tableName(a.Function), Line: a.Line,
		Comment: a.Field}
	switch strings.ToUpper(a.Type) {
	case "TOKEN", "":
		out.Type = "token"
	case "REQUEST":
		out.Type = "request"
	case "COGNITO_USER_POOLS", "JWT":
		why = "a " + a.Type + " authorizer checks tokens against an identity provider inquir does not run"
	case "AWS_IAM":
		why = "AWS_IAM authorization checks SigV4 signatures inquir does not run"
	default:
		why = "authorizer type " + a.Type + " is not one inquir knows"
	}
	if why == "" && a.Function == "" {
		why = "its function is outside this file (an ARN), so inquir cannot run it"
	}
	keyHeader := cmpOr(p.Gateway.KeyHeader, "x-api-key")
	for _, s := range a.IdentitySources {
		s = strings.TrimSpace(s)
		for _, prefix := range []string{"method.request.", "$request.", "$"} {
			s = strings.TrimPrefix(s, prefix)
		}
		kind, name, _ := strings.Cut(s, ".")
		switch kind {
		case "header":
			if strings.EqualFold(name, keyHeader) {
				why = "its identity source is the API key header, whose secret inquir hands to no function"
			}
			out.IdentitySources = append(out.IdentitySources, "header."+name)
		case "querystring", "querystrings", "query":
			out.IdentitySources = append(out.IdentitySources, "query."+name)
		case "context":
			if !slices.Contains(config.ContextSources, name) && why == "" {
				why = "identity source context." + name + " is not one inquir has a value for (" + strings.Join(config.ContextSources, ", ") + ")"
			}
			out.IdentitySources = append(out.IdentitySources, "context."+name)
		case "stageVariables", "stageVariable", "stagevariables":
			out.IdentitySources = append(out.IdentitySources, "stageVariables."+name)
		case "":
		default:
			if why == "" {
				why = "identity source " + s + " is not one inquir reads"
			}
		}
	}
	if len(out.IdentitySources) == 0 && out.Type == "token" {
		out.IdentitySources = []string{"header.Authorization"} // API Gateway's default for a TOKEN authorizer
	}
	if out.Type == "token" && (len(out.IdentitySources) != 1 || !strings.HasPrefix(out.IdentitySources[0], "header.")) && why == "" {
		why = "a TOKEN authorizer reads exactly one header"
	}
	if a.TokenValidation != "" {
		if _, err := regexp.Compile(a.TokenValidation); err != nil && why == "" {
			why = "its validation expression is not one Go's RE2 reads"
		}
		out.TokenValidation = a.TokenValidation
	}
	switch {
	case a.TTL < 0:
		// API Gateway's default, which is inquir's: written all the same,
		// so a reader sees the cache.
		out.TTL = "300s"
	case a.TTL > 3600:
		why = "a cache TTL over 3600 s, which API Gateway refuses"
	default:
		out.TTL = strconv.Itoa(a.TTL) + "s"
	}
	out.SimpleResponses = a.SimpleResponses
	if why == "" && !authorizersInConfig {
		why = "inquir.toml has no [authorizers] yet (issue 18)"
	}
	if why != "" {
		p.drop(a.Line, a.Field, "authorizer %s: %s; its routes need an API key instead, never less", a.Name, why)
		return ""
	}
	if i := slices.IndexFunc(p.Authorizers, func(x Authorizer) bool { return x.Name == out.Name }); i >= 0 {
		return p.Authorizers[i].Name
	}
	p.Authorizers = append(p.Authorizers, out)
	return out.Name
}

// guard sets how route r is guarded once its authorizer is known: keyed
// says the source asks for an API key; authorizer is the name p.authorizer
// returned ("" if none or dropped); hadAuthorizer says the source named
// one. A route never ends more open than its source: an authorizer that
// could not be carried over leaves a key check in its place.
func (r *Route) guard(keyed bool, authorizer string, hadAuthorizer bool, group string) {
	r.Authorizer = authorizer
	switch {
	case keyed || hadAuthorizer && authorizer == "":
		r.Group = group
	case authorizer != "":
		r.Auth = "authorizer"
	default:
		r.Auth = "none"
	}
}

// checkAuthorizers drops an authorizer whose function the project does
// not have (a name that is no function of the source), and gives its
// routes a key check instead.
func (p *Project) checkAuthorizers() {
	kept := p.Authorizers[:0]
	for _, a := range p.Authorizers {
		if p.function(a.Function) != nil {
			kept = append(kept, a)
			continue
		}
		p.drop(a.Line, a.Comment, "authorizer %s: its function %s is not a function of %s; its routes need an API key instead, never less", a.Name, a.Function, p.base())
		for i := range p.Routes {
			r := &p.Routes[i]
			if r.Authorizer != a.Name {
				continue
			}
			r.Authorizer = ""
			if r.Auth == "authorizer" {
				r.Auth, r.Group = "", a.Name
				p.ensureKeys(a.Name, "routes whose authorizer was dropped need a key", a.Line)
			}
		}
	}
	p.Authorizers = kept
	if p.Gateway.APIKeySource == "authorizer" {
		for _, r := range p.Routes {
			if r.Auth == "" && r.Authorizer == "" {
				p.drop(p.Gateway.Line, "apiKeySource", "API keys from the authorizers' usageIdentifierKey, but %s %s has no authorizer: keys are read from the key header instead", r.Method, r.Path)
				p.Gateway.APIKeySource = ""
				break
			}
		}
	}
}
