package importer

import (
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// implicitAPI is the logical id SAM gives the API its functions' Api
// events make when they name no RestApiId.
const implicitAPI = "ServerlessRestApi"

// samAPI is one AWS::Serverless::Api (or the implicit one) with Globals.Api
// folded in.
type samAPI struct {
	id          string
	line        int
	props       *node // its Properties; nil for the implicit API
	globals     *node // Globals.Api
	keyed       bool  // Auth.ApiKeyRequired
	defaultAuz  string
	authorizers map[string]sourceAuthorizer
}

// prop looks a property up in the API, then in Globals.Api.
func (a *samAPI) prop(path ...string) *node {
	for _, base := range []*node{a.props, a.globals} {
		n := base
		for _, k := range path {
			n = n.get(k)
		}
		if n != nil {
			return n
		}
	}
	return nil
}

// propField names where prop found path: the API's Properties, else
// Globals.Api.
func (a *samAPI) propField(path ...string) string {
	n := a.props
	for _, k := range path {
		n = n.get(k)
	}
	if n != nil {
		return "Resources." + a.id + ".Properties." + strings.Join(path, ".")
	}
	return "Globals.Api." + strings.Join(path, ".")
}

// unresolved is the authorizer name of a route whose authorizer is an
// intrinsic inquir import cannot resolve: it had one, which one is not
// known, so the route keeps a key check.
const unresolved = "\x00unresolved"

// samBool reads a boolean written plainly or as a static intrinsic
// (!Ref a parameter with a Default). ok is false when n is missing. One
// that is not static is listed and read as true: the fields it serves
// (ApiKeyRequired) then ask for a key, never less.
func (p *Project) samBool(c *cfn, n *node, field string) (on, ok bool) {
	if n == nil {
		return false, false
	}
	if on, ok := n.boolean(); ok {
		return on, true
	}
	s, static, what := c.value(n)
	if static {
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "true":
			return true, true
		case "false":
			return false, true
		}
		what = s + " (not true or false)"
	}
	p.drop(n.line(), field, "%s is not static; read as true, so the route needs an API key, never less", what)
	return true, true
}

// samAuthorizerName reads an authorizer's name written plainly or as a
// static intrinsic; one that is not static is listed and returned as
// unresolved (the route keeps a key check).
func (p *Project) samAuthorizerName(c *cfn, n *node, field string) string {
	if n == nil {
		return ""
	}
	s, static, what := c.value(n)
	if static {
		return s
	}
	p.drop(n.line(), field, "%s is not static; the route needs an API key instead, never less", what)
	return unresolved
}

// sam reads an AWS SAM template.
func (p *Project) sam(root *node) error {
	c := &cfn{params: root.get("Parameters")}
	resources := root.get("Resources")
	globalsFn := root.get("Globals").get("Function")
	globalsAPI := root.get("Globals").get("Api")
	apis := map[string]*samAPI{}
	var apiOrder []string
	api := func(id string, line int, props *node) *samAPI {
		a := &samAPI{id: id, line: line, props: props, globals: globalsAPI, authorizers: map[string]sourceAuthorizer{}}
		field := a.propField("Auth", "ApiKeyRequired")
		if on, ok := p.samBool(c, a.prop("Auth", "ApiKeyRequired"), field); ok {
			a.keyed = on
		}
		a.defaultAuz = p.samAuthorizerName(c, a.prop("Auth", "DefaultAuthorizer"), a.propField("Auth", "DefaultAuthorizer"))
		for _, e := range a.prop("Auth", "Authorizers").pairs() {
			a.authorizers[e.key] = samAuthorizer(e, resources, fmt.Sprintf("Resources.%s.Properties.Auth.Authorizers.%s", id, e.key))
		}
		apis[id] = a
		apiOrder = append(apiOrder, id)
		return a
	}
	for _, e := range root.pairs() {
		switch e.key {
		case "Resources", "Globals", "Parameters":
		case "AWSTemplateFormatVersion", "Transform", "Description", "Outputs", "Metadata", "Mappings", "Conditions", "Rules":
			p.note(e.line, e.key, "deployment setting, not used by a local gateway")
		default:
			p.drop(e.line, e.key, "unknown to inquir import")
		}
	}
	for _, e := range root.get("Globals").pairs() {
		if e.key != "Function" && e.key != "Api" && e.key != "HttpApi" {
			p.note(e.line, "Globals."+e.key, "not read by inquir import")
		}
	}
	for _, e := range resources.pairs() {
		typ := e.value.get("Type").str()
		field := "Resources." + e.key
		switch typ {
		case "AWS::Serverless::Api":
			p.samAPIProps(api(e.key, e.line, e.value.get("Properties")), c, field)
		case "AWS::Serverless::Function", "AWS::Serverless::HttpApi":
		case "AWS::ApiGateway::ApiKey", "AWS::ApiGateway::UsagePlan", "AWS::ApiGateway::UsagePlanKey",
			"AWS::ApiGateway::Method", "AWS::ApiGateway::Resource", "AWS::ApiGateway::RestApi", "AWS::ApiGateway::Authorizer",
			"AWS::Lambda::Function", "AWS::Lambda::Url":
			p.drop(e.line, field, "%s: inquir import reads SAM's resources, not CloudFormation's own API Gateway and Lambda ones", typ)
		default:
			p.note(e.line, field, "%s: not read (deploy it as before)", typ)
		}
	}
	httpAPIs := map[string]*node{}
	for _, e := range resources.pairs() {
		if e.value.get("Type").str() == "AWS::Serverless::HttpApi" {
			httpAPIs[e.key] = e.value.get("Properties")
			p.note(e.line, "Resources."+e.key, "an HTTP API: its routes are served with its payload format version (2.0 unless a route says 1.0); HTTP APIs take no API keys")
			for _, pe := range e.value.get("Properties").pairs() {
				if pe.key == "DefinitionBody" || pe.key == "DefinitionUri" {
					p.drop(pe.line, "Resources."+e.key+".Properties."+pe.key, "an HTTP API's OpenAPI definition is not read: its routes are left out (its functions' HttpApi events are read)")
				}
			}
		}
	}
	// httpDefault is an HTTP API's DefaultAuthorizer, on the resource or
	// in Globals.HttpApi (sam-resource-httpapi, HttpApiAuth).
	httpDefault := func(id string) string {
		props, field := httpAPIs[id], "Resources."+id+".Properties.Auth.DefaultAuthorizer"
		n := props.get("Auth").get("DefaultAuthorizer")
		if n == nil {
			n, field = root.get("Globals").get("HttpApi").get("Auth").get("DefaultAuthorizer"), "Globals.HttpApi.Auth.DefaultAuthorizer"
		}
		return p.samAuthorizerName(c, n, field)
	}
	for _, e := range resources.pairs() {
		if e.value.get("Type").str() != "AWS::Serverless::Function" {
			continue
		}
		p.samFunction(c, e, globalsFn, httpDefault, func(id string) *samAPI {
			if a, ok := apis[id]; ok {
				return a
			}
			if id == implicitAPI {
				return api(id, 0, nil)
			}
			return nil
		})
	}
	// Usage plans and their keys, API by API, as SAM makes them
	// (sam-property-api-apiusageplan).
	var shared []string
	for _, id := range apiOrder {
		a := apis[id]
		up := a.prop("Auth", "UsagePlan")
		field := fmt.Sprintf("Resources.%s.Properties.Auth.UsagePlan", id)
		switch strings.ToUpper(up.get("CreateUsagePlan").str()) {
		case "PER_API":
			plan := p.samPlan(id+"UsagePlan", up, field)
			key := Key{ID: id + "ApiKey", Groups: []string{id}, Plan: plan, Line: up.line(), Comment: field + ": CreateUsagePlan PER_API"}
			key.Secret = p.addSecret(key.ID, "", false)
			p.Keys = append(p.Keys, key)
			p.note(up.line(), field, "SAM makes key %s for this API and CloudFormation generates its value; a new one is made", key.ID)
		case "SHARED":
			if len(shared) == 0 {
				p.samPlan("ServerlessUsagePlan", up, field)
			}
			shared = append(shared, id)
		case "NONE", "":
		default:
			p.drop(up.line(), field+".CreateUsagePlan", "%s: SAM takes PER_API, SHARED or NONE", up.get("CreateUsagePlan").str())
		}
	}
	if len(shared) > 0 {
		key := Key{ID: "ServerlessApiKey", Groups: shared, Plan: "ServerlessUsagePlan", Comment: "CreateUsagePlan SHARED: " + strings.Join(shared, ", ")}
		key.Secret = p.addSecret(key.ID, "", false)
		key.Line = apis[shared[0]].prop("Auth", "UsagePlan").line()
		p.Keys = append(p.Keys, key)
		p.note(key.Line, "", "SAM makes one key, %s, for the APIs that share a usage plan (%s); a new one is made", key.ID, strings.Join(shared, ", "))
	}
	for _, id := range apiOrder {
		p.ensureKeys(id, "API "+id+" requires keys and SAM makes none without a usage plan", apis[id].line)
	}
	return nil
}

// samAPIProps lists what inquir does with an AWS::Serverless::Api's properties.
func (p *Project) samAPIProps(a *samAPI, c *cfn, field string) {
	for _, e := range a.props.pairs() {
		f := field + ".Properties." + e.key
		switch e.key {
		case "Auth":
			for _, ae := range e.value.pairs() {
				switch ae.key {
				case "ApiKeyRequired", "UsagePlan", "Authorizers", "DefaultAuthorizer", "AddDefaultAuthorizerToCorsPreflight", "AddApiKeyRequiredToCorsPreflight":
				case "ResourcePolicy":
					p.drop(ae.line, f+".ResourcePolicy", "a resource policy (source IPs, VPCs, accounts) is not enforced by inquir; routes keep their key checks")
				case "InvokeRole":
					p.note(ae.line, f+".InvokeRole", "deployment setting, not used by a local gateway")
				default:
					p.drop(ae.line, f+"."+ae.key, "unknown to inquir import")
				}
			}
		case "ApiKeySourceType":
			if strings.EqualFold(e.value.str(), "AUTHORIZER") {
				p.Gateway.APIKeySource, p.Gateway.Line = "authorizer", e.line
			}
		case "Cors":
			p.drop(e.line, f, "inquir does not answer CORS preflights (OPTIONS gets 405) nor add CORS headers; a handler's own headers pass through")
		case "GatewayResponses":
			p.drop(e.line, f, "custom gateway responses: inquir answers rejections with its own bodies (or AWS's defaults under compat = \"aws\")")
		case "MethodSettings":
			p.drop(e.line, f, "stage method settings (throttling, caching) are not applied; a usage plan's throttle is")
		case "DefinitionBody":
			p.note(e.line, f, "an inline OpenAPI definition: its operations are imported as this API's routes")
			from := len(p.Routes)
			if err := p.openAPI(e.value, a.id); err != nil {
				p.drop(e.line, f, "%v", err)
			}
			p.samDefinitionDefaults(a, p.Routes[from:])
		case "DefinitionUri":
			p.drop(e.line, f, "an OpenAPI definition in another file: run inquir import --from on it")
		case "EndpointConfiguration":
			if s, _, _ := c.value(e.value.get("Type")); strings.EqualFold(s, "PRIVATE") || strings.EqualFold(e.value.str(), "PRIVATE") {
				p.note(e.line, f, "a PRIVATE endpoint is reachable only from a VPC on AWS; inquir dev listens where --listen says")
			} else {
				p.note(e.line, f, "deployment setting, not used by a local gateway")
			}
		case "BinaryMediaTypes":
			p.note(e.line, f, "inquir hands every body as it came (isBase64Encoded for binary ones) whatever the media type")
		default:
			p.note(e.line, f, "deployment setting, not used by a local gateway")
		}
	}
}

// samDefinitionDefaults applies an API's Auth defaults to the routes of
// its DefinitionBody, as SAM does: ApiKeyRequired and DefaultAuthorizer
// go onto every method of every path of the definition, not only those
// its functions' events name (samtranslator's _set_default_apikey_required
// and _set_default_authorizer iterate swagger_editor.iter_on_path()). A
// method with an authorizer of its own keeps it.
func (p *Project) samDefinitionDefaults(a *samAPI, routes []Route) {
	def := a.defaultAuz
	if strings.EqualFold(def, "NONE") {
		def = ""
	}
	for i := range routes {
		r := &routes[i]
		keyed := r.Auth == "" || a.keyed
		name, had := r.Authorizer, r.Authorizer != ""
		if !had && def != "" {
			had = true
			switch src, ok := a.authorizers[def]; {
			case def == unresolved: // listed where it is written
			case strings.EqualFold(def, "AWS_IAM"):
				p.authorizer(sourceAuthorizer{Name: "AWS_IAM", Type: "AWS_IAM", Line: r.Line, Field: r.Comment})
			case !ok:
				p.drop(r.Line, r.Comment, "DefaultAuthorizer %s is not in API %s's Auth.Authorizers; the route needs an API key instead", def, a.id)
			default:
				name = p.authorizer(src)
			}
		}
		if keyed == (r.Auth == "") && name == r.Authorizer && (r.Auth != "none" || !had) {
			continue
		}
		group := cmpOr(r.Group, tableName(a.id))
		r.Auth, r.Reason = "", ""
		r.guard(keyed, name, had, group)
		if r.Auth == "none" {
			r.Reason = fmt.Sprintf("open in %s:%d (no API key in its security), kept open by inquir import", p.base(), r.Line)
		}
	}
}

// samPlan makes a plan from a UsagePlan's Quota and Throttle.
func (p *Project) samPlan(name string, up *node, field string) string {
	plan := Plan{Name: tableName(name), Line: up.line(), Comment: field}
	if n := up.get("UsagePlanName").str(); n != "" {
		plan.Comment += ": " + n
	}
	if q := up.get("Quota"); q != nil {
		l, _ := q.get("Limit").number()
		o, _ := q.get("Offset").number()
		plan.Quota = &Quota{Limit: int64(l), Offset: int64(o), Period: strings.ToUpper(q.get("Period").str())}
		if plan.Quota.Limit <= 0 || plan.Quota.Period == "" {
			p.drop(q.line(), field+".Quota", "a quota needs Limit and Period")
			plan.Quota = nil
		}
	}
	if t := up.get("Throttle"); t != nil {
		p.throttle(&plan, t.get("RateLimit"), t.get("BurstLimit"), t.line(), field+".Throttle")
	}
	for _, e := range up.pairs() {
		switch e.key {
		case "CreateUsagePlan", "Quota", "Throttle", "UsagePlanName", "Description", "Tags":
		default:
			p.drop(e.line, field+"."+e.key, "unknown to inquir import")
		}
	}
	p.Plans = append(p.Plans, plan)
	return plan.Name
}

// samAuthorizer reads one entry of an API's Auth.Authorizers.
func samAuthorizer(e pair, resources *node, field string) sourceAuthorizer {
	n := e.value
	a := sourceAuthorizer{Name: e.key, Line: e.line, Field: field, TTL: -1, Type: "TOKEN"}
	if n.get("UserPoolArn") != nil {
		a.Type = "COGNITO_USER_POOLS"
	}
	if t := n.get("FunctionPayloadType").str(); t != "" {
		a.Type = strings.ToUpper(t)
	}
	// FunctionArn: !GetAtt Fn.Arn names a function of this template.
	if name, arg := intrinsic(n.get("FunctionArn")); name == "Fn::GetAtt" {
		target := arg.Value
		if arg.isSeq() && len(arg.items()) > 0 {
			target = arg.items()[0].Value
		}
		target, _, _ = strings.Cut(target, ".")
		if resources.get(target) != nil {
			a.Function = tableName(target)
		}
	}
	id := n.get("Identity")
	if h := id.get("Header").str(); h != "" {
		a.IdentitySources = append(a.IdentitySources, "method.request.header."+h)
	}
	for _, h := range id.get("Headers").strings() {
		a.IdentitySources = append(a.IdentitySources, "method.request.header."+h)
	}
	for _, q := range id.get("QueryStrings").strings() {
		a.IdentitySources = append(a.IdentitySources, "method.request.querystring."+q)
	}
	for _, s := range id.get("StageVariables").strings() {
		a.IdentitySources = append(a.IdentitySources, "stageVariables."+s)
	}
	for _, s := range id.get("Context").strings() {
		a.IdentitySources = append(a.IdentitySources, "context."+s)
	}
	if ttl, ok := id.get("ReauthorizeEvery").number(); ok {
		a.TTL = int(ttl)
	}
	a.TokenValidation = id.get("ValidationExpression").str()
	return a
}

// samFunction reads one AWS::Serverless::Function and its events.
func (p *Project) samFunction(c *cfn, e pair, globals *node, httpDefault func(string) string, apiOf func(string) *samAPI) {
	props := e.value.get("Properties")
	field := "Resources." + e.key
	get := func(k string) *node {
		if n := props.get(k); n != nil {
			return n
		}
		return globals.get(k)
	}
	str := func(k string) string {
		s, ok, what := c.value(get(k))
		if !ok && get(k) != nil {
			p.drop(get(k).line(), field+".Properties."+k, "%s is not static; inquir import cannot read it", what)
		}
		return s
	}
	if strings.EqualFold(get("PackageType").str(), "Image") {
		p.drop(e.line, field, "a container image function: inquir runs handlers from source; the function and its routes are left out")
		return
	}
	name := tableName(e.key)
	handler, runtime := str("Handler"), str("Runtime")
	codeDir := ""
	if inline := props.get("InlineCode"); inline != nil {
		mod, _ := splitHandler(handler)
		ext := ".js"
		if strings.HasPrefix(runtime, "python") {
			ext = ".py"
		}
		codeDir = "inline/" + name
		p.Files = append(p.Files, File{Path: codeDir + "/" + mod + ext, Content: []byte(inline.Value)})
		p.note(inline.line(), field+".Properties.InlineCode", "inline code is written to %s/%s%s", codeDir, mod, ext)
	} else if cu := get("CodeUri"); cu != nil {
		s, ok, _ := c.value(cu)
		switch {
		case !ok || cu.isMap():
			p.note(cu.line(), field+".Properties.CodeUri", "code in S3: the handler is looked for in the template's folder")
		case strings.HasPrefix(s, "s3://"):
			p.note(cu.line(), field+".Properties.CodeUri", "code in S3 (%s): the handler is looked for in the template's folder", s)
		default:
			codeDir = filepath.ToSlash(filepath.Clean(s))
		}
	}
	fn, ok := p.handlerFunction(name, handler, runtime, codeDir, e.line, field)
	if !ok {
		return
	}
	fn.Comment = field
	fn.Timeout = "3s" // Lambda's default, which SAM keeps
	if t, ok := get("Timeout").number(); ok && t > 0 {
		fn.Timeout = strconv.FormatFloat(t, 'f', -1, 64) + "s"
	}
	if n, ok := props.get("ReservedConcurrentExecutions").number(); ok && n >= 1 {
		fn.Concurrency = int(n)
	}
	env := map[string]string{}
	for _, src := range []*node{globals.get("Environment").get("Variables"), props.get("Environment").get("Variables")} {
		for _, ev := range src.pairs() {
			s, ok, what := c.value(ev.value)
			if !ok {
				p.drop(ev.line, field+".Properties.Environment.Variables."+ev.key, "%s is not static; set it in env by hand (an env:NAME reference reads it from inquir's environment)", what)
				continue
			}
			env[ev.key] = s
		}
	}
	if len(env) > 0 {
		fn.Env = env
	}
	for _, pe := range props.pairs() {
		switch pe.key {
		case "Handler", "Runtime", "CodeUri", "InlineCode", "Timeout", "Environment", "Events", "ReservedConcurrentExecutions", "PackageType":
		case "FunctionUrlConfig":
			p.drop(pe.line, field+".Properties.FunctionUrlConfig", "a Lambda function URL is an endpoint outside API Gateway and its keys; not served")
		default:
			p.note(pe.line, field+".Properties."+pe.key, "deployment setting, not used by a local gateway")
		}
	}
	p.Functions = append(p.Functions, fn)
	for _, ev := range props.get("Events").pairs() {
		efield := field + ".Properties.Events." + ev.key
		typ := ev.value.get("Type").str()
		ep := ev.value.get("Properties")
		switch typ {
		case "Api":
			p.samRoute(c, ep, name, ev.line, efield, apiOf)
		case "HttpApi":
			r := Route{Function: name, Method: strings.ToUpper(ep.get("Method").str()), Path: ep.get("Path").str(), Line: ev.line, Comment: efield}
			if r.Method == "" {
				r.Method, r.Path = "ANY", "/{proxy+}"
			}
			if r.Method == "X-AMAZON-APIGATEWAY-ANY-METHOD" {
				r.Method = "ANY"
			}
			p.httpAPIPayload(&r, ep.get("PayloadFormatVersion"), efield+".Properties.PayloadFormatVersion", ev.line, efield)
			apiID := "ServerlessHttpApi" // the implicit HTTP API
			if id := ep.get("ApiId"); id != nil {
				apiID = ref(id)
			}
			authorizer, authLine := httpDefault(apiID), ev.line
			if a := ep.get("Auth").get("Authorizer"); a != nil {
				authorizer, authLine = p.samAuthorizerName(c, a, efield+".Properties.Auth.Authorizer"), a.line()
			}
			if authorizer != "" && !strings.EqualFold(authorizer, "NONE") {
				if authorizer == unresolved {
					authorizer = "not static"
				}
				p.drop(authLine, efield+".Properties.Auth", "an HTTP API authorizer (%s) is not run by inquir; the route needs an API key instead, never less", authorizer)
				r.Group = "HttpApi"
				p.addRoute(r)
				p.ensureKeys("HttpApi", "routes that had an HTTP API authorizer need a key", ev.line)
				continue
			}
			r.Auth = "none"
			r.Reason = fmt.Sprintf("open in %s:%d (an HTTP API route: HTTP APIs take no API keys), kept open by inquir import", p.base(), ev.line)
			p.addRoute(r)
		default:
			p.drop(ev.line, efield, "a %s event: inquir serves HTTP events only", typ)
		}
	}
}

// samRoute reads an Api event.
func (p *Project) samRoute(c *cfn, ep *node, fn string, line int, field string, apiOf func(string) *samAPI) {
	apiID := implicitAPI
	if rid := ep.get("RestApiId"); rid != nil {
		apiID = ref(rid)
	}
	a := apiOf(apiID)
	if a == nil {
		p.drop(line, field+".Properties.RestApiId", "an API that is not an AWS::Serverless::Api of this template; the route is left out")
		return
	}
	path, ok, what := c.value(ep.get("Path"))
	if !ok {
		p.drop(line, field+".Properties.Path", "%s is not static; the route is left out", what)
		return
	}
	r := Route{Function: fn, Method: strings.ToUpper(ep.get("Method").str()), Path: path, Line: line, Comment: field}
	if r.Method == "X-AMAZON-APIGATEWAY-ANY-METHOD" {
		r.Method = "ANY"
	}
	keyed := a.keyed
	auth := ep.get("Auth")
	if on, ok := p.samBool(c, auth.get("ApiKeyRequired"), field+".Properties.Auth.ApiKeyRequired"); ok {
		keyed = on
	}
	authorizer := a.defaultAuz
	if s := p.samAuthorizerName(c, auth.get("Authorizer"), field+".Properties.Auth.Authorizer"); s != "" {
		authorizer = s
	}
	// On an API described by its DefinitionBody, an event loosens the
	// API's Auth only with OverrideApiAuth: true (sam-property-function-
	// apifunctionauth); without it the API's defaults stay.
	if a.props.get("DefinitionBody") != nil {
		if override, ok := p.samBool(c, auth.get("OverrideApiAuth"), field+".Properties.Auth.OverrideApiAuth"); !ok || !override {
			keyed = keyed || a.keyed
			if authorizer == "" || strings.EqualFold(authorizer, "NONE") {
				authorizer = a.defaultAuz
			}
		}
	}
	for _, e := range ep.pairs() {
		switch e.key {
		case "Path", "Method", "RestApiId", "Auth":
		case "RequestParameters", "RequestModel":
			p.drop(e.line, field+".Properties."+e.key, "request validation is not applied by inquir")
		default:
			p.note(e.line, field+".Properties."+e.key, "not read by inquir import")
		}
	}
	for _, e := range auth.pairs() {
		switch e.key {
		case "ApiKeyRequired", "Authorizer", "AuthorizationScopes", "OverrideApiAuth":
		case "ResourcePolicy":
			p.drop(e.line, field+".Properties.Auth.ResourcePolicy", "a resource policy (source IPs, VPCs, accounts) is not enforced by inquir; the route keeps its key check")
		default:
			p.drop(e.line, field+".Properties.Auth."+e.key, "unknown to inquir import")
		}
	}
	name, had := "", false
	switch {
	case authorizer == "" || strings.EqualFold(authorizer, "NONE"):
	case authorizer == unresolved:
		had = true
	case strings.EqualFold(authorizer, "AWS_IAM"):
		p.authorizer(sourceAuthorizer{Name: "AWS_IAM", Type: "AWS_IAM", Line: line, Field: field + ".Properties.Auth.Authorizer"})
		had = true
	default:
		had = true
		src, ok := a.authorizers[authorizer]
		if !ok {
			p.drop(line, field+".Properties.Auth.Authorizer", "authorizer %s is not in API %s's Auth.Authorizers; the route needs an API key instead", authorizer, a.id)
		} else {
			name = p.authorizer(src)
		}
	}
	r.guard(keyed, name, had, tableName(a.id))
	if r.Auth == "none" {
		r.Reason = fmt.Sprintf("open in %s:%d (ApiKeyRequired is not true for it), kept open by inquir import", p.base(), line)
	}
	if !slices.ContainsFunc(p.Groups, func(g Group) bool { return g.Name == r.Group }) && r.Group != "" {
		p.Groups = append(p.Groups, Group{Name: r.Group, Comment: "API " + a.id, Line: a.line})
	}
	p.addRoute(r)
}
