package config

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"
)

// Authorizer types, as API Gateway names them (in lower case).
const (
	AuthorizerToken   = "token"   // the function gets one header's value
	AuthorizerRequest = "request" // the function gets the request's headers, query and path
)

// Where an API key is read from (gateway.api_key_source), as API Gateway's
// apiKeySource: HEADER or AUTHORIZER.
const (
	KeySourceHeader     = "header"     // the key header (gateway.key_header)
	KeySourceAuthorizer = "authorizer" // the authorizer's usageIdentifierKey
)

// AuthAuthorizer is the route authentication mode in which the route's
// authorizer alone decides: no API key is asked for.
const AuthAuthorizer = "authorizer"

// Authorizer TTL bounds, as API Gateway's authorizerResultTtlInSeconds.
const (
	DefaultAuthorizerTTL = 300 * time.Second
	MaxAuthorizerTTL     = 3600 * time.Second
)

// Authorizer is one [authorizers.NAME] table: a Lambda authorizer, the
// user's own function that API Gateway runs before the handler to decide
// whether a request may go on.
type Authorizer struct {
	Name string
	// Function is the inquir function that decides.
	Function string
	// Type is AuthorizerToken or AuthorizerRequest.
	Type string
	// IdentitySources are where the caller's identity is read from: a
	// request that lacks one is refused (401) without the function
	// running, and their values key the cache.
	IdentitySources []IdentitySource
	// TTL is how long an answer is cached; zero caches nothing.
	TTL time.Duration
	// TokenValidation, if set, is a regular expression a TOKEN
	// authorizer's token must match (API Gateway's
	// identityValidationExpression), or the request is refused (401)
	// without the function running.
	TokenValidation string
	// SimpleResponses lets a payload 2.0 authorizer answer
	// {"isAuthorized": bool, "context": {...}} instead of an IAM policy.
	SimpleResponses bool
}

// Identity source kinds.
const (
	SourceHeader        = "header"
	SourceQuery         = "query"
	SourceContext       = "context"
	SourceStageVariable = "stageVariables"
)

// ContextSources are the $context variables an identity source may name
// that inquir has a value for (context.identity.sourceIp, ...).
var ContextSources = []string{"identity.sourceIp", "identity.userAgent", "httpMethod", "path", "protocol"}

// IdentitySource is one entry of identity_sources.
type IdentitySource struct {
	// Kind is SourceHeader, SourceQuery, SourceContext or
	// SourceStageVariable.
	Kind string
	// Name is the header (as written), query parameter, context variable
	// or stage variable.
	Name string
}

// String writes the source as inquir.toml does: "header.Authorization".
func (s IdentitySource) String() string { return s.Kind + "." + s.Name }

// Authorizer returns the authorizer named name, or nil.
func (c *Config) Authorizer(name string) *Authorizer {
	for i := range c.Authorizers {
		if c.Authorizers[i].Name == name {
			return &c.Authorizers[i]
		}
	}
	return nil
}

type rawAuthorizer struct {
	Function        string   `toml:"function"`
	Type            string   `toml:"type"`
	IdentitySources []string `toml:"identity_sources"`
	TTL             *string  `toml:"ttl"`
	TokenValidation string   `toml:"token_validation"`
	SimpleResponses bool     `toml:"simple_responses"`
}

// buildAuthorizer checks an [authorizers.NAME] table. Functions are built
// first: the authorizer's function must be one of them.
func (c *Config) buildAuthorizer(name string, a rawAuthorizer, fail func(*Error)) Authorizer {
	at := func(field string) []string { return []string{"authorizers", name, field} }
	out := Authorizer{
		Name: name, Function: a.Function, Type: strings.ToLower(a.Type),
		TTL: DefaultAuthorizerTTL, TokenValidation: a.TokenValidation, SimpleResponses: a.SimpleResponses,
	}
	if !idPattern.MatchString(name) {
		fail(c.ErrorAt([]string{"authorizers", name}, "authorizer name %q may only hold letters, digits, '.', '_' and '-'", name))
	}
	switch fn := c.Function(a.Function); {
	case a.Function == "":
		fail(c.ErrorAt([]string{"authorizers", name}, "missing function (the inquir function that decides)"))
	case fn == nil:
		e := c.ErrorAt(at("function"), "function %q is not defined; add a [functions.%s] table", a.Function, a.Function)
		e.undefinedFunction = true // LoadLenient lets this one pass
		fail(e)
	case fn.Runtime == RuntimeGoPlugin:
		fail(c.ErrorAt(at("function"), "function %q is a go-plugin, whose Handler takes an APIGatewayProxyRequest; an authorizer takes an authorizer event: use runtime = \"go\"", a.Function))
	}
	switch out.Type {
	case AuthorizerToken, AuthorizerRequest:
	case "":
		fail(c.ErrorAt([]string{"authorizers", name}, "missing type (\"token\" or \"request\")"))
	default:
		fail(c.ErrorAt(at("type"), "must be \"token\" or \"request\", not %q", a.Type))
	}
	if a.TTL != nil {
		d, err := time.ParseDuration(*a.TTL)
		switch {
		case *a.TTL == "0":
			d = 0
		case err != nil || d < 0:
			fail(c.ErrorAt(at("ttl"), "%q is not a duration, as in \"300s\" (\"0\" caches nothing)", *a.TTL))
		case d > MaxAuthorizerTTL:
			fail(c.ErrorAt(at("ttl"), "%s is over 3600s, the longest API Gateway caches an authorizer's answer", *a.TTL))
		case d%time.Second != 0:
			fail(c.ErrorAt(at("ttl"), "%s is not a whole number of seconds, as API Gateway's TTL is", *a.TTL))
		}
		out.TTL = d
	}
	for _, s := range a.IdentitySources {
		src, err := parseIdentitySource(s)
		if err != nil {
			fail(c.ErrorAt(at("identity_sources"), "%q: %v", s, err))
			continue
		}
		if src.Kind == SourceHeader && strings.EqualFold(src.Name, c.Gateway.KeyHeader) {
			// The key's secret reaches no function, an authorizer's
			// neither.
			fail(c.ErrorAt(at("identity_sources"), "%q is the API key header (gateway.key_header), whose secret no function is handed; an authorizer reads its own header", s))
			continue
		}
		out.IdentitySources = append(out.IdentitySources, src)
	}
	switch {
	case out.Type == AuthorizerToken && len(out.IdentitySources) != 1:
		fail(c.ErrorAt(at("identity_sources"), "a token authorizer reads exactly one header, as in [\"header.Authorization\"]"))
	case out.Type == AuthorizerToken && out.IdentitySources[0].Kind != SourceHeader:
		fail(c.ErrorAt(at("identity_sources"), "a token authorizer reads its token from a header, not %s", out.IdentitySources[0]))
	case out.Type == AuthorizerRequest && out.TTL > 0 && len(out.IdentitySources) == 0:
		// API Gateway keys the cache on them and refuses a cached
		// REQUEST authorizer without any.
		fail(c.ErrorAt([]string{"authorizers", name}, "a cached request authorizer needs identity_sources, which key its cache (or ttl = \"0\")"))
	}
	if a.TokenValidation != "" {
		if out.Type != AuthorizerToken {
			fail(c.ErrorAt(at("token_validation"), "only a token authorizer validates its token"))
		} else if err := checkRegexp(a.TokenValidation); err != nil {
			fail(c.ErrorAt(at("token_validation"), "%v", err))
		}
	}
	return out
}

// parseIdentitySource reads "header.Authorization", "query.tenant",
// "context.X" and "stageVariables.X", and AWS's own spellings of them:
// "method.request.header.Authorization" (REST APIs) and
// "$request.header.Authorization" (HTTP APIs).
func parseIdentitySource(s string) (IdentitySource, error) {
	rest := s
	for _, prefix := range []string{"method.request.", "$request.", "$"} {
		if strings.HasPrefix(rest, prefix) {
			rest = strings.TrimPrefix(rest, prefix)
			break
		}
	}
	kind, name, ok := strings.Cut(rest, ".")
	switch kind {
	case "querystring", "querystrings":
		kind = SourceQuery
	case "stageVariable", "stagevariables":
		kind = SourceStageVariable
	}
	if !ok || name == "" {
		return IdentitySource{}, fmt.Errorf("write header.NAME, query.NAME, context.NAME or stageVariables.NAME")
	}
	switch kind {
	case SourceHeader:
		if !validToken(name) {
			return IdentitySource{}, fmt.Errorf("%q is not a valid HTTP header name", name)
		}
		name = http.CanonicalHeaderKey(name)
	case SourceQuery, SourceContext, SourceStageVariable:
	default:
		return IdentitySource{}, fmt.Errorf("%q is not a source: write header.NAME, query.NAME, context.NAME or stageVariables.NAME", kind)
	}
	return IdentitySource{Kind: kind, Name: name}, nil
}

// checkRegexp compiles a token_validation expression as the gateway will
// use it: anchored at both ends, as API Gateway matches the whole token.
func checkRegexp(expr string) error {
	// Compiled alone first: an expression that closes the group the
	// anchoring opens ("a)|(b") would compile wrapped and match a token
	// that only begins with "a".
	if _, err := regexp.Compile(expr); err != nil {
		return fmt.Errorf("not a regular expression inquir can read (Go's RE2 syntax, a subset of Java's): %v", err)
	}
	if _, err := regexp.Compile(`^(?:` + expr + `)$`); err != nil {
		return fmt.Errorf("not a regular expression inquir can read (Go's RE2 syntax, a subset of Java's): %v", err)
	}
	return nil
}
