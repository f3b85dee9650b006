package importer

import (
	"slices"
	"strconv"
	"strings"
)

// authorizersInConfig says whether inquir.toml has [authorizers] (issue 18).
// Until it does, every authorizer is listed as dropped and its routes keep
// their key check alone.
const authorizersInConfig = false

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
	out := Authorizer{Name: tableName(a.Name), Function: a.Function, Line: a.Line,
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
	for _, s := range a.IdentitySources {
		s = strings.TrimSpace(s)
		switch {
		case strings.HasPrefix(s, "method.request.header."):
			out.IdentitySources = append(out.IdentitySources, "header."+strings.ToLower(strings.TrimPrefix(s, "method.request.header.")))
		case strings.HasPrefix(s, "method.request.querystring."):
			out.IdentitySources = append(out.IdentitySources, "query."+strings.TrimPrefix(s, "method.request.querystring."))
		case strings.HasPrefix(s, "$request.header."):
			out.IdentitySources = append(out.IdentitySources, "header."+strings.ToLower(strings.TrimPrefix(s, "$request.header.")))
		case strings.HasPrefix(s, "$request.querystring."):
			out.IdentitySources = append(out.IdentitySources, "query."+strings.TrimPrefix(s, "$request.querystring."))
		case s == "":
		default:
			if why == "" {
				why = "identity source " + s + " (stage variables, context) is not one inquir reads"
			}
		}
	}
	if len(out.IdentitySources) == 0 && out.Type == "token" {
		out.IdentitySources = []string{"header.authorization"} // API Gateway's default for a TOKEN authorizer
	}
	switch {
	case a.TTL < 0:
		out.TTL = "300s" // API Gateway's default
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
		p.drop(a.Line, a.Field, "authorizer %s: %s; its routes keep the API key check only", a.Name, why)
		return ""
	}
	if i := slices.IndexFunc(p.Authorizers, func(x Authorizer) bool { return x.Name == out.Name }); i >= 0 {
		return p.Authorizers[i].Name
	}
	p.Authorizers = append(p.Authorizers, out)
	return out.Name
}
