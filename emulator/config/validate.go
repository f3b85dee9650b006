package config

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"net"
	"net/http"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// idPattern is what key ids, group and function names may be: they appear
// in events, logs and URLs, so they stay plain.
var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// paramPattern is what a path parameter's name may be.
var paramPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// methods are the HTTP methods a route may name, besides ANY.
var methods = map[string]bool{
	http.MethodGet: true, http.MethodHead: true, http.MethodPost: true, http.MethodPut: true,
	http.MethodPatch: true, http.MethodDelete: true, http.MethodOptions: true,
}

// BuiltinPrefix is the path prefix of inquir's own endpoints; no route may use it.
const BuiltinPrefix = "/_inquir/"

// build fills c from raw, applying defaults and collecting every problem.
func (c *Config) build(raw *rawFile) error {
	var errs []error
	fail := func(e *Error) { errs = append(errs, e) }

	c.buildGateway(raw.Gateway, fail)

	for _, name := range c.order("plans", slices.Sorted(maps.Keys(raw.Plans))) {
		c.Plans = append(c.Plans, c.buildPlan(name, raw.Plans[name], fail))
	}
	for _, name := range c.order("keys", slices.Sorted(maps.Keys(raw.Keys))) {
		c.Keys = append(c.Keys, c.buildKey(name, raw.Keys[name], fail))
	}
	for _, name := range c.order("groups", slices.Sorted(maps.Keys(raw.Groups))) {
		if !idPattern.MatchString(name) {
			fail(c.ErrorAt([]string{"groups", name}, "group name %q may only hold letters, digits, '.', '_' and '-'", name))
		}
		c.Groups = append(c.Groups, Group{Name: name, Internal: raw.Groups[name].Internal, Authorizer: raw.Groups[name].Authorizer})
	}
	for _, name := range c.order("functions", slices.Sorted(maps.Keys(raw.Functions))) {
		c.Functions = append(c.Functions, c.buildFunction(name, raw.Functions[name], fail))
	}
	for _, name := range c.order("authorizers", slices.Sorted(maps.Keys(raw.Authorizers))) {
		c.Authorizers = append(c.Authorizers, c.buildAuthorizer(name, raw.Authorizers[name], fail))
	}
	for _, g := range c.Groups {
		if g.Authorizer != "" && c.Authorizer(g.Authorizer) == nil {
			fail(c.undefinedAuthorizer([]string{"groups", g.Name, "authorizer"}, g.Authorizer))
		}
	}
	seen := map[string]int{}
	for i, r := range raw.Routes {
		route := c.buildRoute(i, r, fail)
		// Two routes with one method and one shape (parameter names aside)
		// would leave it to declaration order which one runs.
		sig := route.Method + " " + routeShape(route.Path)
		if j, dup := seen[sig]; dup && route.Path != "" {
			fail(c.ErrorAt([]string{"routes", strconv.Itoa(i)}, "%s duplicates routes[%d] (%s)", route, j, c.Routes[j]))
		}
		seen[sig] = i
		c.Routes = append(c.Routes, route)
	}
	return errors.Join(errs...)
}

func (c *Config) buildGateway(g rawGateway, fail func(*Error)) {
	c.Gateway = Gateway{Listen: g.Listen, KeyHeader: g.KeyHeader, Compat: g.Compat}
	if c.Gateway.Listen == "" {
		c.Gateway.Listen = DefaultListen
	} else if _, port, err := net.SplitHostPort(g.Listen); err != nil || port == "" {
		fail(c.ErrorAt([]string{"gateway", "listen"}, "%q is not host:port, as in %q", g.Listen, DefaultListen))
	}
	if c.Gateway.KeyHeader == "" {
		c.Gateway.KeyHeader = DefaultKeyHeader
	} else if !validToken(g.KeyHeader) {
		fail(c.ErrorAt([]string{"gateway", "key_header"}, "%q is not a valid HTTP header name", g.KeyHeader))
	}
	c.Gateway.KeyHeader = strings.ToLower(c.Gateway.KeyHeader)
	switch c.Gateway.Compat {
	case "":
		c.Gateway.Compat = CompatInquir
	case CompatInquir, CompatAWS:
	default:
		fail(c.ErrorAt([]string{"gateway", "compat"}, "must be %q or %q, not %q", CompatInquir, CompatAWS, g.Compat))
	}
	switch c.Gateway.APIKeySource = strings.ToLower(g.APIKeySource); c.Gateway.APIKeySource {
	case "":
		c.Gateway.APIKeySource = KeySourceHeader
	case KeySourceHeader, KeySourceAuthorizer:
	default:
		fail(c.ErrorAt([]string{"gateway", "api_key_source"}, "must be %q or %q, not %q", KeySourceHeader, KeySourceAuthorizer, g.APIKeySource))
	}
	c.Gateway.Payload = Payload1
	if g.Payload != "" {
		c.Gateway.Payload = g.Payload
		if err := checkPayload(g.Payload); err != "" {
			fail(c.ErrorAt([]string{"gateway", "payload"}, "%s", err))
		}
	}
	c.Gateway.Region = DefaultRegion
	if g.Region != nil {
		c.Gateway.Region = *g.Region
		if !regionPattern.MatchString(*g.Region) {
			fail(c.ErrorAt([]string{"gateway", "region"}, "%q is not an AWS Region name such as %q (leave region out for the default)", *g.Region, DefaultRegion))
		}
	}
	for i, t := range g.BinaryMediaTypes {
		mt, ok := mediaRange(t)
		if !ok {
			fail(c.ErrorAt([]string{"gateway", "binary_media_types", strconv.Itoa(i)}, "%q is not a media type such as \"image/png\", \"image/*\" or \"*/*\"", t))
			continue
		}
		if !slices.Contains(c.Gateway.BinaryMediaTypes, mt) {
			c.Gateway.BinaryMediaTypes = append(c.Gateway.BinaryMediaTypes, mt)
		}
	}
}

// mediaRange reads one binary_media_types entry as API Gateway's
// binaryMediaTypes takes it: type/subtype, either part a token or "*"
// (a "*" type only with a "*" subtype), no parameters. It returns it in
// lower case, as media types compare (RFC 9110 section 8.3.1).
func mediaRange(s string) (string, bool) {
	typ, sub, ok := strings.Cut(strings.ToLower(s), "/")
	if !ok || !validToken(typ) || !validToken(sub) || (typ == "*" && sub != "*") {
		return "", false
	}
	return typ + "/" + sub, true
}

// regionPattern is the shape of an AWS Region name: us-east-1,
// ap-southeast-2, us-gov-west-1, cn-north-1.
var regionPattern = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[1-9][0-9]?$`)

func (c *Config) buildKey(id string, k rawKey, fail func(*Error)) Key {
	at := func(field string) []string { return []string{"keys", id, field} }
	key := Key{ID: id, Groups: k.Groups, Disabled: k.Disabled, Metadata: k.Metadata}
	if !idPattern.MatchString(id) {
		fail(c.ErrorAt([]string{"keys", id}, "key id %q may only hold letters, digits, '.', '_' and '-'", id))
	}
	if !k.Secret.set || len(k.Secret.values) == 0 {
		fail(c.ErrorAt([]string{"keys", id}, "a key needs secret = \"env:NAME\", \"file:path\" or \"sha256:<hex>\""))
	}
	for i, s := range k.Secret.values {
		ref, err := parseSecretRef(c.Dir, s)
		if err != nil {
			field := at("secret")
			if len(k.Secret.values) > 1 {
				field = append(field, strconv.Itoa(i))
			}
			fail(c.ErrorAt(field, "%v", err))
			continue
		}
		key.Secrets = append(key.Secrets, ref)
	}
	for _, g := range k.Groups {
		if !idPattern.MatchString(g) {
			fail(c.ErrorAt(at("groups"), "group name %q may only hold letters, digits, '.', '_' and '-'", g))
		}
	}
	if k.NotBefore != nil {
		key.NotBefore = *k.NotBefore
	}
	if k.Expires != nil {
		key.Expires = *k.Expires
	}
	if k.NotBefore != nil && k.Expires != nil && !key.Expires.After(key.NotBefore) {
		fail(c.ErrorAt(at("expires"), "expires (%s) must be after not_before (%s)", key.Expires.Format(time.RFC3339), key.NotBefore.Format(time.RFC3339)))
	}
	if _, ok := k.Metadata["apiKeyId"]; ok {
		fail(c.ErrorAt(at("metadata"), "apiKeyId is set by the gateway; choose another name"))
	}
	if k.Plan != "" {
		key.Plan = k.Plan
		if c.Plan(k.Plan) == nil {
			fail(c.ErrorAt(at("plan"), "plan %q is not defined; add a [plans.%s] table or fix the name", k.Plan, k.Plan))
		}
	}
	return key
}

// buildPlan checks a [plans.NAME] table: a throttle needs both a rate and
// a burst of at least one request, a quota a positive limit, a period and
// an offset below the limit.
func (c *Config) buildPlan(name string, p rawPlan, fail func(*Error)) Plan {
	at := func(field ...string) []string { return append([]string{"plans", name}, field...) }
	plan := Plan{Name: name}
	if !idPattern.MatchString(name) {
		fail(c.ErrorAt(at(), "plan name %q may only hold letters, digits, '.', '_' and '-'", name))
	}
	plan.Rate, plan.Burst = c.throttle(p.Rate, p.Burst, at, fail)
	if q := p.Quota; q != nil {
		quota := &Quota{Period: q.Period, Offset: q.Offset}
		switch {
		case q.Limit == nil:
			fail(c.ErrorAt(at("quota"), "a quota needs limit = N, the requests allowed per period"))
		case *q.Limit <= 0:
			fail(c.ErrorAt(at("quota"), "quota limit must be at least 1, not %d (leave quota out for no quota)", *q.Limit))
		default:
			quota.Limit = *q.Limit
		}
		switch q.Period {
		case PeriodDay, PeriodWeek, PeriodMonth:
		case "":
			fail(c.ErrorAt(at("quota"), "a quota needs period = %q, %q or %q", PeriodDay, PeriodWeek, PeriodMonth))
		default:
			fail(c.ErrorAt(at("quota"), "quota period must be %q, %q or %q, not %q", PeriodDay, PeriodWeek, PeriodMonth, q.Period))
		}
		if q.Offset < 0 || (quota.Limit > 0 && q.Offset >= quota.Limit) {
			fail(c.ErrorAt(at("quota"), "quota offset (the requests taken from the first period's limit) must be from 0 to limit - 1, not %d", q.Offset))
		}
		plan.Quota = quota
	}
	seen := map[string]int{}
	for i, r := range p.Routes {
		rat := func(field ...string) []string { return append(at("routes", strconv.Itoa(i)), field...) }
		pr := PlanRoute{Index: i, Method: strings.ToUpper(r.Method), Path: r.Path}
		switch {
		case r.Method == "":
			fail(c.ErrorAt(rat(), "missing method: the route to throttle is named by method and path"))
		case pr.Method != MethodAny && !methods[pr.Method]:
			fail(c.ErrorAt(rat("method"), "unknown method %q (GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS or ANY)", r.Method))
		}
		if r.Path == "" {
			fail(c.ErrorAt(rat(), "missing path: the route to throttle is named by method and path"))
		}
		if j, dup := seen[pr.String()]; dup {
			fail(c.ErrorAt(rat(), "%s is throttled twice in this plan (routes[%d] too)", pr, j))
		}
		seen[pr.String()] = i
		if r.Rate == nil && r.Burst == nil {
			fail(c.ErrorAt(rat(), "a route's throttle needs rate and burst"))
		} else {
			pr.Rate, pr.Burst = c.throttle(r.Rate, r.Burst, rat, fail)
		}
		plan.Routes = append(plan.Routes, pr)
	}
	return plan
}

// maxRefill is the longest a plan's bucket may take to refill from empty.
const maxRefill = 365 * 24 * time.Hour

// throttle checks a rate and a burst, given or left out together.
func (c *Config) throttle(rate *float64, burst *int, at func(...string) []string, fail func(*Error)) (float64, int) {
	switch {
	case rate == nil && burst == nil:
		return 0, 0
	case rate == nil:
		fail(c.ErrorAt(at("burst"), "burst needs a rate (requests per second) beside it"))
	case burst == nil:
		fail(c.ErrorAt(at("rate"), "rate needs a burst (the most requests at once) beside it"))
	case *rate <= 0 || math.IsNaN(*rate) || math.IsInf(*rate, 0):
		fail(c.ErrorAt(at("rate"), "rate must be a positive number of requests per second, not %v (leave rate and burst out for no throttle)", *rate))
	case *burst < 1:
		fail(c.ErrorAt(at("burst"), "burst must be at least 1 with a rate of %v: a bucket of %d lets no request through", *rate, *burst))
	case float64(*burst) / *rate > maxRefill.Seconds():
		// Past this a bucket is a quota in disguise, and the seconds of its
		// RateLimit fields and Retry-After would overflow.
		fail(c.ErrorAt(at("rate"), "a burst of %d at %v requests per second takes over a year to refill; for limits over days use quota", *burst, *rate))
	default:
		return *rate, *burst
	}
	return 0, 0
}

func (c *Config) buildFunction(name string, f rawFunction, fail func(*Error)) Function {
	at := func(field string) []string { return []string{"functions", name, field} }
	fn := Function{
		Name: name, Runtime: f.Runtime, Export: f.Export, Command: f.Command,
		Timeout: DefaultTimeout, Concurrency: DefaultConcurrency, Env: f.Env, Dir: c.Dir,
		Region: c.Gateway.Region,
	}
	if !idPattern.MatchString(name) {
		fail(c.ErrorAt([]string{"functions", name}, "function name %q may only hold letters, digits, '.', '_' and '-'", name))
	}
	if fn.Export == "" {
		fn.Export = DefaultExport
	}
	if f.Path != "" {
		fn.Path = resolvePath(c.Dir, f.Path)
	}
	switch f.Runtime {
	case RuntimeGo, RuntimeGoPlugin, RuntimeNode:
		// go and go-plugin build a package folder; node imports a module file.
		wantDir, needs, what := true, "the package folder", "a package folder"
		if f.Runtime == RuntimeNode {
			wantDir, needs, what = false, "the module file", "a module file, not a folder"
		}
		if f.Path == "" {
			fail(c.ErrorAt(at("path"), "runtime %q needs path (%s)", f.Runtime, needs))
		} else if st, err := os.Stat(fn.Path); err != nil {
			fail(c.ErrorAt(at("path"), "%s does not exist", f.Path))
		} else if st.IsDir() != wantDir {
			fail(c.ErrorAt(at("path"), "%s must be %s", f.Path, what))
		}
	case RuntimeProcess:
		if len(f.Command) == 0 || f.Command[0] == "" {
			fail(c.ErrorAt(at("command"), "runtime \"process\" needs command = [\"program\", \"arg\"...]"))
		}
	case "":
		fail(c.ErrorAt([]string{"functions", name}, "missing runtime (go, go-plugin, node or process)"))
	default:
		fail(c.ErrorAt(at("runtime"), "unknown runtime %q (go, go-plugin, node or process)", f.Runtime))
	}
	if f.Timeout != "" {
		d, err := time.ParseDuration(f.Timeout)
		if err != nil || d <= 0 {
			fail(c.ErrorAt(at("timeout"), "%q is not a positive duration, as in \"10s\" or \"500ms\"", f.Timeout))
		} else {
			fn.Timeout = d
		}
	}
	if f.Concurrency != nil {
		if *f.Concurrency < 1 {
			fail(c.ErrorAt(at("concurrency"), "must be at least 1, not %d", *f.Concurrency))
		} else {
			fn.Concurrency = *f.Concurrency
		}
	}
	for _, k := range slices.Sorted(maps.Keys(f.Env)) {
		if !validEnvName(k) {
			fail(c.ErrorAt(at("env"), "%q is not a valid environment variable name", k))
		} else if lambdaReserved[k] {
			// Lambda refuses a function configuration that sets one of these
			// ("reserved keys"); a function tested with it here would not
			// deploy.
			fail(c.ErrorAt(at("env"), "%s is reserved by AWS Lambda, which sets it itself and refuses a function that sets it; use another name", k))
		}
		v := f.Env[k]
		if strings.HasPrefix(v, "env:") && !validEnvName(strings.TrimPrefix(v, "env:")) {
			fail(c.ErrorAt(at("env"), "%s: env: needs a variable name, as in env:SEARCH_KEY", k))
		}
		if v == "file:" {
			fail(c.ErrorAt(at("env"), "%s: file: needs a path", k))
		}
	}
	return fn
}

// lambdaReserved are the environment variables Lambda defines and does not
// let a function's configuration set (the Lambda developer guide,
// "Defined runtime environment variables").
var lambdaReserved = map[string]bool{
	"_HANDLER": true, "_X_AMZN_TRACE_ID": true, "AWS_DEFAULT_REGION": true, "AWS_REGION": true,
	"AWS_EXECUTION_ENV": true, "AWS_LAMBDA_FUNCTION_NAME": true, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": true,
	"AWS_LAMBDA_FUNCTION_VERSION": true, "AWS_LAMBDA_INITIALIZATION_TYPE": true, "AWS_LAMBDA_LOG_GROUP_NAME": true,
	"AWS_LAMBDA_LOG_STREAM_NAME": true, "AWS_ACCESS_KEY": true, "AWS_ACCESS_KEY_ID": true, "AWS_SECRET_ACCESS_KEY": true,
	"AWS_SESSION_TOKEN": true, "AWS_LAMBDA_RUNTIME_API": true, "LAMBDA_TASK_ROOT": true, "LAMBDA_RUNTIME_DIR": true,
}

func (c *Config) buildRoute(i int, r rawRoute, fail func(*Error)) Route {
	at := func(field string) []string { return []string{"routes", strconv.Itoa(i), field} }
	route := Route{
		Index: i, Method: strings.ToUpper(r.Method), Path: r.Path, Function: r.Function,
		Group: r.Group, Keys: r.Keys, Auth: r.Auth, Reason: r.Reason, Authorizer: r.Authorizer,
	}
	switch {
	case r.Method == "":
		fail(c.ErrorAt([]string{"routes", strconv.Itoa(i)}, "missing method (GET, POST, ... or ANY)"))
	case route.Method != MethodAny && !methods[route.Method]:
		fail(c.ErrorAt(at("method"), "unknown method %q (GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS or ANY)", r.Method))
	}
	if r.Path == "" {
		fail(c.ErrorAt([]string{"routes", strconv.Itoa(i)}, "missing path"))
	} else if err := checkPathTemplate(r.Path); err != nil {
		fail(c.ErrorAt(at("path"), "%v", err))
	}
	if r.Function == "" {
		fail(c.ErrorAt([]string{"routes", strconv.Itoa(i)}, "missing function"))
	} else if c.Function(r.Function) == nil {
		e := c.ErrorAt(at("function"), "function %q is not defined; add a [functions.%s] table", r.Function, r.Function)
		e.undefinedFunction = true // LoadLenient lets this one pass
		fail(e)
	}
	switch r.Auth {
	case "":
		route.Auth = AuthAPIKey
	case AuthAPIKey:
	case AuthNone:
		if r.Group != "" || len(r.Keys) > 0 {
			fail(c.ErrorAt(at("auth"), "auth = \"none\" makes the route public, so group and keys would be ignored; remove them or the auth line"))
		}
		if r.Authorizer != "" {
			fail(c.ErrorAt(at("auth"), "auth = \"none\" makes the route public, so its authorizer would not run; for a route only the authorizer guards, write auth = \"authorizer\""))
		}
	case AuthAuthorizer:
		if r.Group != "" || len(r.Keys) > 0 {
			fail(c.ErrorAt(at("auth"), "auth = \"authorizer\" asks for no API key, so group and keys would be ignored; remove them or the auth line"))
		}
	default:
		fail(c.ErrorAt(at("auth"), "must be %q, %q or %q, not %q", AuthAPIKey, AuthNone, AuthAuthorizer, r.Auth))
	}
	if route.Authorizer == "" && route.Auth == AuthAPIKey {
		if g := c.Group(r.Group); g != nil {
			route.Authorizer = g.Authorizer
		}
	}
	switch {
	case r.Authorizer != "" && c.Authorizer(r.Authorizer) == nil:
		fail(c.undefinedAuthorizer(at("authorizer"), r.Authorizer))
	case route.Auth == AuthAuthorizer && route.Authorizer == "":
		fail(c.ErrorAt(at("auth"), "auth = \"authorizer\" needs an authorizer: name one with authorizer = \"NAME\""))
	case route.Auth == AuthAPIKey && route.Authorizer == "" && c.Gateway.APIKeySource == KeySourceAuthorizer:
		fail(c.ErrorAt([]string{"routes", strconv.Itoa(i)}, "with gateway.api_key_source = \"authorizer\" a route's API key is the one its authorizer names, and %s has no authorizer; add authorizer = \"NAME\"", route))
	}
	if r.Reason != "" && route.Auth != AuthNone {
		fail(c.ErrorAt(at("reason"), "reason explains why a route is public; this route is protected (add auth = \"none\" or remove reason)"))
	}
	route.Payload = c.Gateway.Payload
	if r.Payload != "" {
		route.Payload = r.Payload
		if err := checkPayload(r.Payload); err != "" {
			fail(c.ErrorAt(at("payload"), "%s", err))
		}
	}
	return route
}

// undefinedAuthorizer is the error for a reference to an authorizer the
// file does not define.
func (c *Config) undefinedAuthorizer(at []string, name string) *Error {
	return c.ErrorAt(at, "authorizer %q is not defined; add an [authorizers.%s] table or fix the name", name, name)
}

// checkPayload says what is wrong with a payload format version, or "".
func checkPayload(v string) string {
	switch v {
	case Payload1, Payload2:
		return ""
	case "1", "2", "v1", "v2", "1.0.0", "2.0.0":
		return fmt.Sprintf("%q is not a payload format version: write %q or %q, as API Gateway spells them", v, Payload1, Payload2)
	}
	return fmt.Sprintf("must be %q (a REST API's event, the default) or %q (an HTTP API's event), not %q", Payload1, Payload2, v)
}

// checkPathTemplate accepts /literal/{param}/{rest+}.
func checkPathTemplate(p string) error {
	if !strings.HasPrefix(p, "/") {
		return fmt.Errorf("%q must start with /", p)
	}
	if p == "/" {
		return nil
	}
	if strings.HasPrefix(p, BuiltinPrefix) || p == strings.TrimSuffix(BuiltinPrefix, "/") {
		return fmt.Errorf("%q is under %s, which inquir keeps for its own endpoints", p, BuiltinPrefix)
	}
	segs := strings.Split(p[1:], "/")
	params := map[string]bool{}
	for i, s := range segs {
		switch {
		case s == "":
			return fmt.Errorf("%q has an empty segment (a double or trailing slash)", p)
		case s == "." || s == "..":
			return fmt.Errorf("%q has a dot segment", p)
		case strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}"):
			name := strings.TrimSuffix(s[1:len(s)-1], "+")
			if strings.HasSuffix(s, "+}") && i != len(segs)-1 {
				return fmt.Errorf("%q: greedy parameter %s must be the last segment", p, s)
			}
			if !paramPattern.MatchString(name) {
				return fmt.Errorf("%q: parameter %s needs a name of letters, digits and _", p, s)
			}
			if params[name] {
				return fmt.Errorf("%q names parameter %s twice", p, name)
			}
			params[name] = true
		case strings.ContainsAny(s, "{}"):
			return fmt.Errorf("%q: segment %q mixes text and a parameter; a parameter takes a whole segment", p, s)
		case strings.ContainsAny(s, "%?#"):
			return fmt.Errorf("%q: segment %q may not hold %%, ? or #", p, s)
		}
	}
	return nil
}

// routeShape replaces parameter names so /a/{x} and /a/{y} compare equal.
func routeShape(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if strings.HasPrefix(s, "{") {
			if strings.HasSuffix(s, "+}") {
				segs[i] = "{+}"
			} else {
				segs[i] = "{}"
			}
		}
	}
	return strings.Join(segs, "/")
}

// order returns the table's names in the order the file wrote them.
func (c *Config) order(table string, names []string) []string {
	sort.SliceStable(names, func(i, j int) bool {
		pi, pj := c.Pos(table, names[i]), c.Pos(table, names[j])
		if pi.Line != pj.Line {
			return pi.Line < pj.Line
		}
		return names[i] < names[j]
	})
	return names
}

// validToken reports whether s is an RFC 9110 token (a header name).
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r > 127 || !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("!#$%&'*+-.^_`|~", r)) {
			return false
		}
	}
	return true
}
