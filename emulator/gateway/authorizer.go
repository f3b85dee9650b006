package gateway

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/inquir-dev/inquir/emulator/authorizers"
	"github.com/inquir-dev/inquir/emulator/config"
	"github.com/inquir-dev/inquir/emulator/internal/uuid"
	"github.com/inquir-dev/inquir/emulator/policy"
)

// authorized is what a route's Lambda authorizer let through: its answer,
// for the handler's requestContext.authorizer.
type authorized struct {
	answer  authorizers.Answer
	latency time.Duration // the authorizer's invocation; zero on a cache hit
}

// setAuthorizer puts the authorizer's answer in the event as REST APIs do:
// principalId, integrationLatency and each context value, stringified; a
// simple response's context goes in lambda, as HTTP APIs put it.
// The key's apiKeyId, set by newEvent, stays: it is what inquir vouches
// for, whatever the authorizer's context says.
func (ev *proxyEvent) setAuthorizer(az *authorized) {
	rc := &ev.RequestContext
	keyID, hasKey := rc.Authorizer["apiKeyId"]
	if rc.Authorizer == nil {
		rc.Authorizer = make(map[string]any, len(az.answer.Context)+2)
	}
	for k, v := range az.answer.Context {
		rc.Authorizer[k] = v
	}
	if az.answer.Simple {
		// HTTP APIs hand a Lambda authorizer's context over here, with
		// its JSON types.
		if az.answer.RawContext != nil {
			rc.Authorizer["lambda"] = az.answer.RawContext
		}
	} else {
		rc.Authorizer["principalId"] = az.answer.PrincipalID
	}
	rc.Authorizer["integrationLatency"] = az.latency.Milliseconds()
	if hasKey {
		rc.Authorizer["apiKeyId"] = keyID
	}
}

// handlerMessager is an Invoker error that carries the errorMessage a
// handler reported (runtimeapi.HandlerError).
type handlerMessager interface{ HandlerMessage() string }

// authorizerCache holds the answers of every authorizer across reloads,
// and the definitions they were given under, so that a reload that
// changes an authorizer drops its answers. An answer is read and kept
// only for the definition in force: a request that began under the
// previous policy and ends after a reload neither reads the new
// definition's answers nor leaves its own for it.
type authorizerCache struct {
	cache    *authorizers.Cache
	mu       sync.Mutex
	defined  map[string]string                          // authorizer name -> its definition in force, as text
	prepared map[*config.Authorizer]*preparedAuthorizer // the authorizers of the config in force
}

// preparedAuthorizer is what the gateway derives from an authorizer's
// definition once per config: the definition as text (what a reload
// compares) and its token_validation, compiled.
type preparedAuthorizer struct {
	def   string
	token *regexp.Regexp
}

func prepareAuthorizer(c *config.Config, a *config.Authorizer) *preparedAuthorizer {
	pa := &preparedAuthorizer{def: fmt.Sprintf("%+v|%+v", *a, c.Function(a.Function))}
	if a.TokenValidation != "" {
		pa.token = regexp.MustCompile(`^(?:` + a.TokenValidation + `)$`) // checked by config
	}
	return pa
}

func newAuthorizerCache() *authorizerCache {
	return &authorizerCache{cache: authorizers.NewCache(), defined: map[string]string{}, prepared: map[*config.Authorizer]*preparedAuthorizer{}}
}

// setConfig keeps the answers of authorizers c defines as before and
// drops the rest.
func (ac *authorizerCache) setConfig(c *config.Config) {
	now := map[string]string{}
	prepared := map[*config.Authorizer]*preparedAuthorizer{}
	for i := range c.Authorizers {
		a := &c.Authorizers[i]
		pa := prepareAuthorizer(c, a)
		prepared[a] = pa
		now[a.Name] = pa.def
	}
	ac.mu.Lock()
	defer ac.mu.Unlock()
	prev := ac.defined
	ac.defined, ac.prepared = now, prepared
	ac.cache.Flush(func(name string) bool { return prev[name] != "" && prev[name] == now[name] })
}

// prepare returns what c's authorizer a is prepared as: from the config
// in force, or, for a request that began under an earlier one, afresh.
func (ac *authorizerCache) prepare(c *config.Config, a *config.Authorizer) *preparedAuthorizer {
	ac.mu.Lock()
	pa := ac.prepared[a]
	ac.mu.Unlock()
	if pa == nil {
		pa = prepareAuthorizer(c, a)
	}
	return pa
}

// get returns the answer cached for a's identity values, if a is
// defined as pa says.
func (ac *authorizerCache) get(a *config.Authorizer, pa *preparedAuthorizer, values []string, now time.Time) (authorizers.Answer, bool) {
	ac.mu.Lock()
	defer ac.mu.Unlock()
	if ac.defined[a.Name] != pa.def {
		return authorizers.Answer{}, false
	}
	return ac.cache.Get(a.Name, values, now)
}

// put caches answer for a's TTL, if a is still defined as pa says.
func (ac *authorizerCache) put(a *config.Authorizer, pa *preparedAuthorizer, values []string, answer authorizers.Answer, now time.Time) {
	ac.mu.Lock()
	defer ac.mu.Unlock()
	if ac.defined[a.Name] != pa.def {
		return
	}
	ac.cache.Put(a.Name, values, answer, a.TTL, now)
}

// authorizerRefusal is how an authorizer's refusal is answered.
type authorizerRefusal struct {
	status  int
	errCode string // inquir's body
	message string
	awsBody []byte // under compat = "aws"
	reason  string // log and stats
	err     error  // why, for the log; never sent
	// notRun is set when the authorizer's function could not be run
	// (still building, or the caller went away): answered as a handler's
	// would be, not as the authorizer's failure.
	notRun error
}

// AWS's bodies for the gateway responses an authorizer gives rise to
// (UNAUTHORIZED, ACCESS_DENIED, AUTHORIZER_CONFIGURATION_ERROR and
// AUTHORIZER_FAILURE), as API Gateway sends them.
var (
	awsUnauthorizedBody = []byte(`{"message":"Unauthorized"}` + "\n")
	awsImplicitDenyBody = []byte(`{"message":"User is not authorized to access this resource"}` + "\n")
	awsExplicitDenyBody = []byte(`{"message":"User is not authorized to access this resource with an explicit deny"}` + "\n")
	awsAuthorizerError  = []byte(`{"message":null}` + "\n")
)

func unauthorized(reason, message string) *authorizerRefusal {
	return &authorizerRefusal{http.StatusUnauthorized, "unauthorized", message, awsUnauthorizedBody, reason, nil, nil}
}

func authorizerFailed(reason string, err error) *authorizerRefusal {
	return &authorizerRefusal{http.StatusInternalServerError, "authorizer_error", "the route's authorizer failed; the inquir dev log says why", awsAuthorizerError, reason, err, nil}
}

// runAuthorizer runs route's Lambda authorizer for r, or answers from its
// cache, and judges the answer against the request's method ARN. A nil
// refusal means go on. The authorizer is not invoked when an identity
// source is missing or a token fails token_validation.
func (g *Gateway) runAuthorizer(ctx context.Context, p *policy.Policy, route *policy.Route, r *http.Request, m policy.Match, d policy.Decision, names string, now time.Time, rec *logEntry) (*authorized, *authorizerRefusal) {
	a := p.Config.Authorizer(route.Authorizer)
	rec.authorizer = a.Name
	values, missing := identityValues(a, r, p.Config.Gateway.KeyHeader)
	if missing != "" {
		g.stats.authorizer(a.Name, "missing_identity")
		return nil, unauthorized("authorizer_missing_identity", "this route needs "+missing)
	}
	pa := g.authz.prepare(p.Config, a)
	if pa.token != nil && !pa.token.MatchString(values[0]) {
		g.stats.authorizer(a.Name, "missing_identity")
		return nil, unauthorized("authorizer_token_invalid", "the token does not have the form the authorizer takes")
	}
	v2 := route.Payload == config.Payload2
	stage := Stage
	if v2 {
		stage = StageV2 // an HTTP API's routeArn names its stage, $default
	}
	arn := authorizers.MethodARN(p.Config.Gateway.Region, accountID, apiID, stage, r.Method, m.Path)

	answer, hit := g.authz.get(a, pa, values, now)
	var latency time.Duration
	if hit {
		rec.authorizerCache = "hit"
		g.stats.authorizer(a.Name, "cache_hit")
	} else {
		rec.authorizerCache = "miss"
		var event []byte
		switch {
		case a.Type == config.AuthorizerToken:
			event = authorizers.TokenEvent(values[0], arn)
		case v2:
			// An HTTP API's REQUEST authorizer (payload format 2.0): its
			// event is the route's own, with routeArn and identitySource.
			ev := newEventV2(r, m, d, nil, uuid.New(), p.Config.Gateway.KeyHeader, now)
			ev.setTrace(requestTraceRoot(r, now))
			var err error
			if event, err = authorizers.RequestEventV2(ev.marshal(), arn, values); err != nil {
				return nil, authorizerFailed("authorizer_error", fmt.Errorf("authorizer %s: building its event: %w", a.Name, err))
			}
		default:
			ev := newEvent(r, m, d, nil, uuid.New(), p.Config.Gateway.KeyHeader, names, now)
			ev.addForwarded(r, names, requestTraceRoot(r, now))
			var err error
			if event, err = authorizers.RequestEvent(marshalEvent(&ev), arn); err != nil {
				return nil, authorizerFailed("authorizer_error", fmt.Errorf("authorizer %s: building its event: %w", a.Name, err))
			}
		}
		g.stats.authorizer(a.Name, "invocation")
		g.stats.invoke(a.Function)
		start := time.Now()
		out, err := g.opts.Invoker.Invoke(ctx, a.Function, event)
		latency = time.Since(start)
		if err != nil {
			var hm handlerMessager
			if errors.As(err, &hm) && hm.HandlerMessage() == "Unauthorized" {
				// API Gateway's one word for "no": 401, not an error.
				g.stats.authorizer(a.Name, "unauthorized")
				return nil, unauthorized("authorizer_unauthorized", "the authorizer refused the request")
			}
			if errors.Is(err, ErrBuilding) || errors.Is(err, context.Canceled) {
				return nil, &authorizerRefusal{notRun: err, err: fmt.Errorf("authorizer %s (function %s): %w", a.Name, a.Function, err)}
			}
			g.stats.authorizer(a.Name, "error")
			return nil, authorizerFailed("authorizer_error", fmt.Errorf("authorizer %s (function %s): %w (API Gateway answers 500)", a.Name, a.Function, err))
		}
		if answer, err = authorizers.Parse(out, a.SimpleResponses); err != nil {
			g.stats.authorizer(a.Name, "error")
			return nil, authorizerFailed("authorizer_bad_answer", fmt.Errorf("authorizer %s (function %s): %w (API Gateway answers 500: AuthorizerConfigurationException)", a.Name, a.Function, err))
		}
		g.authz.put(a, pa, values, answer, now)
	}

	refuse := func(verdict string, awsBody []byte) (*authorized, *authorizerRefusal) {
		g.stats.authorizer(a.Name, "denied")
		return nil, &authorizerRefusal{http.StatusForbidden, "forbidden", "the route's authorizer does not allow this request", awsBody, "authorizer_" + verdict, nil, nil}
	}
	if answer.Simple {
		if !answer.Authorized {
			return refuse("denied", awsForbiddenBody)
		}
	} else {
		switch answer.Policy.Evaluate(arn) {
		case authorizers.ExplicitDeny:
			return refuse("explicit_deny", awsExplicitDenyBody)
		case authorizers.ImplicitDeny:
			return refuse("implicit_deny", awsImplicitDenyBody)
		}
	}
	return &authorized{answer: answer, latency: latency}, nil
}

// identityValues reads the authorizer's identity sources from r, in
// order; missing names the first that is absent or empty. A header is
// read as the event hands it over (its last value), and so is a query
// parameter.
func identityValues(a *config.Authorizer, r *http.Request, keyHeader string) (values []string, missing string) {
	var query map[string]string
	for _, s := range a.IdentitySources {
		v := ""
		switch s.Kind {
		case config.SourceHeader:
			if !strings.EqualFold(s.Name, keyHeader) {
				if vs := r.Header.Values(s.Name); len(vs) > 0 {
					v = vs[len(vs)-1]
				}
			}
		case config.SourceQuery:
			if query == nil {
				query, _ = splitQuery(r.URL.RawQuery)
			}
			v = query[s.Name]
		case config.SourceContext:
			v = contextValue(s.Name, r)
		}
		// stageVariables: inquir has no stages, so none is ever set.
		if v == "" {
			return nil, "the " + identityName(s)
		}
		values = append(values, v)
	}
	return values, ""
}

// identityName says what a missing identity source is, for the 401's
// message.
func identityName(s config.IdentitySource) string {
	switch s.Kind {
	case config.SourceHeader:
		return s.Name + " header"
	case config.SourceQuery:
		return "query parameter " + s.Name
	}
	return s.String()
}

// contextValue is the value of a $context variable config.ContextSources
// names.
func contextValue(name string, r *http.Request) string {
	switch name {
	case "identity.sourceIp":
		ip, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			return r.RemoteAddr
		}
		return ip
	case "identity.userAgent":
		return r.UserAgent()
	case "httpMethod":
		return r.Method
	case "path":
		return r.URL.Path
	case "protocol":
		return r.Proto
	}
	return ""
}
