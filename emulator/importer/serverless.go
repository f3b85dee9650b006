package importer

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// The Serverless Framework's settings a local gateway has no use for:
// listed as notes, not drops (they do not change who may call what, or
// what a caller gets).
var (
	slsDeployOnly = map[string]bool{
		"service": true, "frameworkVersion": true, "plugins": true, "custom": true, "package": true,
		"configValidationMode": true, "deprecationNotificationMode": true, "useDotenv": true,
		"variablesResolutionMode": true, "unresolvedVariablesNotificationMode": true, "org": true, "app": true,
		"disabledDeprecations": true, "outputs": true, "params": true, "stages": true, "layers": true,
		"build": true, "license": true,
	}
	slsProviderDeployOnly = map[string]bool{
		"name": true, "stage": true, "profile": true, "memorySize": true, "deploymentBucket": true,
		"deploymentMethod": true, "versionFunctions": true, "architecture": true, "logs": true, "tracing": true,
		"tags": true, "stackTags": true, "stackName": true, "lambdaHashingVersion": true, "logRetentionInDays": true,
		"iam": true, "iamRoleStatements": true, "iamManagedPolicies": true, "role": true, "layers": true,
		"vpc": true, "deploymentPrefix": true, "apiName": true, "cfnRole": true, "rolePermissionsBoundary": true,
		"kmsKeyArn": true, "ecr": true, "eventBridge": true, "stackPolicy": true, "notificationArns": true,
		"environment": true, "runtime": true, "timeout": true, "region": true, "apiGateway": true,
		"apiKeys": true, "usagePlan": true, "httpApi": true, "endpointType": true,
	}
	slsFunctionDeployOnly = map[string]bool{
		"memorySize": true, "description": true, "iamRoleStatements": true, "iamRoleStatementsName": true,
		"layers": true, "package": true, "tags": true, "role": true, "provisionedConcurrency": true,
		"vpc": true, "architecture": true, "logRetentionInDays": true, "tracing": true, "name": true,
		"maximumRetryAttempts": true, "maximumEventAge": true, "destinations": true, "onError": true,
		"kmsKeyArn": true, "disableLogs": true, "ephemeralStorageSize": true, "runtimeManagement": true,
		"snapStart": true, "logs": true, "condition": true, "dependsOn": true,
	}
)

// serverless reads a serverless.yml.
func (p *Project) serverless(root *node) error {
	v := &slsVars{root: root}
	provider := root.get("provider")
	if name := provider.get("name").str(); name != "" && name != "aws" {
		return fmt.Errorf("%s:%d: provider %s: inquir import reads AWS projects", p.Source, provider.get("name").line(), name)
	}
	service := root.get("service").str()
	if root.get("service").isMap() {
		service = root.get("service").get("name").str()
	}
	if s, ok := v.resolve(service); ok {
		service = s
	}
	if service == "" {
		service = "api"
	}
	stage := "dev"
	if s, ok := v.resolve(provider.get("stage").str()); ok && s != "" {
		stage = s
	}
	group := tableName(service)

	for _, e := range root.pairs() {
		switch {
		case e.key == "provider", e.key == "functions":
		case e.key == "resources":
			p.note(e.line, "resources", "CloudFormation resources are not read (tables, buckets, queues: deploy them as before; an AWS::ApiGateway resource there is not imported)")
		case slsDeployOnly[e.key]:
			p.note(e.line, e.key, "deployment setting, not used by a local gateway")
		default:
			p.drop(e.line, e.key, "unknown to inquir import")
		}
	}
	for _, e := range provider.pairs() {
		switch e.key {
		case "environment", "runtime", "timeout", "region", "apiGateway", "apiKeys", "usagePlan", "endpointType", "stage", "name":
		case "httpApi":
			p.note(e.line, "provider.httpApi", "HTTP API settings (CORS, authorizers) are not applied, but for payload; see the httpApi routes' notes")
		default:
			if slsProviderDeployOnly[e.key] {
				p.note(e.line, "provider."+e.key, "deployment setting, not used by a local gateway")
			} else {
				p.note(e.line, "provider."+e.key, "not read by inquir import")
			}
		}
	}
	if r, ok := v.resolve(provider.get("region").str()); ok && r != "" {
		p.Gateway.Region, p.Gateway.Line = r, provider.get("region").line()
	}
	if t := provider.get("endpointType"); t != nil && strings.EqualFold(t.str(), "PRIVATE") {
		p.note(t.line(), "provider.endpointType", "a PRIVATE endpoint is reachable only from a VPC on AWS; inquir dev listens where --listen says")
	}
	apiGateway := provider.get("apiGateway")
	for _, e := range apiGateway.pairs() {
		field := "provider.apiGateway." + e.key
		switch e.key {
		case "apiKeys", "usagePlan":
		case "apiKeySourceType":
			if strings.EqualFold(e.value.str(), "AUTHORIZER") {
				p.Gateway.APIKeySource, p.Gateway.Line = "authorizer", e.line
			}
		case "resourcePolicy":
			p.drop(e.line, field, "a resource policy (source IPs, VPCs, accounts) is not enforced by inquir; routes keep their key checks")
		case "minimumCompressionSize", "description", "metrics", "shouldStartNameWithService", "disableDefaultEndpoint", "stage":
			p.note(e.line, field, "deployment setting, not used by a local gateway")
		case "binaryMediaTypes":
			p.note(e.line, field, "inquir hands every body as it came (isBase64Encoded for binary ones) whatever the media type")
		case "restApiId", "restApiRootResourceId", "restApiResources", "websocketApiId":
			p.note(e.line, field, "a shared API: inquir serves this service's routes on their own")
		default:
			p.drop(e.line, field, "unknown to inquir import")
		}
	}

	// Usage plans, then the keys that name them.
	plans := apiGateway.get("usagePlan")
	plansField := "provider.apiGateway.usagePlan"
	if plans == nil {
		plans, plansField = provider.get("usagePlan"), "provider.usagePlan"
	}
	singlePlan := ""
	switch {
	case plans.isMap():
		singlePlan = tableName(service + "-" + stage)
		p.slsPlan(singlePlan, plans, plans.line(), plansField)
	case plans.isSeq():
		for i, it := range plans.items() {
			if !it.isMap() {
				p.drop(it.line(), fmt.Sprintf("%s[%d]", plansField, i), "%s: a usage plan is {name: {quota, throttle}}; not imported", short(it))
			}
			for _, e := range it.pairs() {
				p.slsPlan(tableName(e.key), e.value, e.line, fmt.Sprintf("%s[%d].%s", plansField, i, e.key))
			}
		}
	case plans != nil:
		p.drop(plans.line(), plansField, "%s: inquir import reads a usage plan written in this file; not imported", short(plans))
	}
	keys := apiGateway.get("apiKeys")
	keysField := "provider.apiGateway.apiKeys"
	if keys == nil {
		keys, keysField = provider.get("apiKeys"), "provider.apiKeys"
	}
	if keys != nil && !keys.isSeq() {
		what := "not a list"
		if strings.Contains(keys.str(), "${") {
			what = short(keys) // a reference, never a key's value
		}
		p.drop(keys.line(), keysField, "%s: inquir import reads a list of keys written in this file; none imported", what)
	}
	for i, it := range keys.items() {
		field := fmt.Sprintf("%s[%d]", keysField, i)
		// The multi-plan syntax: - free: [key, {name, value}].
		if prs := it.pairs(); len(prs) == 1 && prs[0].value.isSeq() {
			plan := tableName(prs[0].key)
			if p.plan(plan) == nil {
				p.drop(prs[0].line, field+"."+prs[0].key, "keys of usage plan %s, which usagePlan does not define; they are imported without a plan", prs[0].key)
				plan = ""
			}
			for j, k := range prs[0].value.items() {
				p.slsKey(v, k, plan, group, fmt.Sprintf("%s.%s[%d]", field, prs[0].key, j))
			}
			continue
		}
		p.slsKey(v, it, singlePlan, group, field)
	}

	functions := root.get("functions")
	if functions != nil && !functions.isMap() {
		p.drop(functions.line(), "functions", "%s: inquir import reads functions written in this file as a mapping (not ${file(...)} nor a list of files); none imported", short(functions))
	}
	for _, e := range functions.pairs() {
		p.slsFunction(v, e, provider, group)
	}
	if slices.ContainsFunc(p.Routes, func(r Route) bool { return r.Group == group }) {
		p.Groups = append(p.Groups, Group{Name: group, Line: root.get("service").line(),
			Comment: "the routes of service " + service + " that need a key (private: true)"})
	}
	p.ensureKeys(group, service+" has private routes and no apiKeys: a key is made for them, as serverless-offline makes one", keys.line())
	return nil
}

// slsPlan reads one usage plan: {quota: {limit, offset, period}, throttle: {burstLimit, rateLimit}}.
func (p *Project) slsPlan(name string, n *node, line int, field string) {
	plan := Plan{Name: name, Line: line, Comment: field}
	for _, e := range n.pairs() {
		switch e.key {
		case "quota":
			q := &Quota{Period: strings.ToUpper(e.value.get("period").str())}
			if l, ok := e.value.get("limit").number(); ok {
				q.Limit = int64(l)
			}
			if o, ok := e.value.get("offset").number(); ok {
				q.Offset = int64(o)
			}
			if q.Limit > 0 && q.Period != "" {
				plan.Quota = q
			} else {
				p.drop(e.line, field+".quota", "a quota needs limit and period")
			}
		case "throttle":
			p.throttle(&plan, e.value.get("rateLimit"), e.value.get("burstLimit"), e.line, field+".throttle")
		default:
			p.drop(e.line, field+"."+e.key, "unknown to inquir import")
		}
	}
	p.Plans = append(p.Plans, plan)
}

// throttle sets a plan's rate and burst from API Gateway's rateLimit and
// burstLimit.
func (p *Project) throttle(plan *Plan, rate, burst *node, line int, field string) {
	r, rok := rate.number()
	b, bok := burst.number()
	switch {
	case rok && bok && r > 0 && b >= 1:
		plan.Rate, plan.Burst = r, int(b)
	case rok && r > 0 && !bok:
		// API Gateway takes a rate alone; a bucket needs a size.
		plan.Rate, plan.Burst = r, int(math.Max(1, math.Ceil(r)))
		p.note(line, field, "no burstLimit: inquir's bucket holds %d (the rate's second)", plan.Burst)
	case !rok && !bok:
	default:
		p.drop(line, field, "a throttle needs a positive rateLimit (and a burstLimit of at least 1)")
	}
}

// slsKey reads one API key: a name, or {name, value, description, customerId, enabled}.
func (p *Project) slsKey(v *slsVars, n *node, plan, group, field string) {
	k := Key{Plan: plan, Groups: []string{group}, Line: n.line(), Comment: field}
	var value *node
	switch {
	case n.isScalar():
		k.ID = n.Value
	case n.isMap():
		k.ID = n.get("name").str()
		value = n.get("value")
		for _, e := range n.pairs() {
			switch e.key {
			case "name", "value":
			case "description":
				k.Comment += ": " + e.value.str()
			case "enabled":
				if on, ok := e.value.boolean(); ok && !on {
					k.Disabled = true
				}
			case "customerId":
				p.drop(e.line, field+".customerId", "a Marketplace customer id is not kept (metadata could hold it: metadata = { customerId = \"...\" })")
			default:
				p.drop(e.line, field+"."+e.key, "unknown to inquir import")
			}
		}
	default:
		p.drop(n.line(), field, "an API key is a name or {name, value}")
		return
	}
	if s, ok := v.resolve(k.ID); ok {
		k.ID = s
	}
	if k.ID == "" {
		k.ID = "api-key-" + itoa(len(p.Keys)+1)
	}
	k.ID = uniqueName(tableName(k.ID), func(s string) bool { return p.key(s) != nil })
	raw := value.str()
	switch {
	case value == nil:
		k.Secret = p.addSecret(k.ID, "", false)
		p.note(n.line(), field, "key %s has no value: API Gateway would generate one; a new one is made", k.ID)
	case slsEnvRef.MatchString(raw):
		k.Secret = "env:" + slsEnvRef.FindStringSubmatch(raw)[1]
	case slsSSMRef.MatchString(raw):
		param := slsSSMRef.FindStringSubmatch(raw)[1]
		k.Secret = p.addSecret(k.ID, "$(aws ssm get-parameter --name '"+param+"' --with-decryption --query Parameter.Value --output text)", true)
	case strings.Contains(raw, "${"):
		if s, ok := v.resolve(raw); ok {
			k.Secret = p.addSecret(k.ID, s, false)
			break
		}
		k.Secret = p.addSecret(k.ID, "", false)
		p.drop(value.line(), field+".value", "a variable inquir import cannot resolve; the key gets a new secret")
	default:
		k.Secret = p.addSecret(k.ID, raw, false)
	}
	p.Keys = append(p.Keys, k)
}

var (
	slsEnvRef = regexp.MustCompile(`^\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}$`)
	slsSSMRef = regexp.MustCompile(`^\$\{ssm:([^,}]+)\}$`)
)

// slsFunction reads one function and its events.
func (p *Project) slsFunction(v *slsVars, e pair, provider *node, group string) {
	fnNode := e.value
	field := "functions." + e.key
	runtime := fnNode.get("runtime").str()
	if runtime == "" {
		runtime = provider.get("runtime").str()
	}
	if runtime == "" {
		runtime = "nodejs20.x" // the framework's default
	}
	handler, ok := v.resolve(fnNode.get("handler").str())
	if fnNode.get("image") != nil {
		p.drop(fnNode.get("image").line(), field+".image", "a container image function: inquir runs handlers from source; the function and its routes are left out")
		return
	}
	if !ok || handler == "" {
		p.drop(e.line, field+".handler", "no handler inquir import can read; the function and its routes are left out")
		return
	}
	name := uniqueName(tableName(e.key), func(s string) bool { return p.function(s) != nil })
	fn, ok := p.handlerFunction(name, handler, runtime, "", e.line, field)
	if !ok {
		return
	}
	fn.Comment = field
	timeout := fnNode.get("timeout")
	if timeout == nil {
		timeout = provider.get("timeout")
	}
	if t, ok := timeout.number(); ok && t > 0 {
		fn.Timeout = strconv.FormatFloat(t, 'f', -1, 64) + "s"
	} else {
		fn.Timeout = "6s" // the framework's default
	}
	if c, ok := fnNode.get("reservedConcurrency").number(); ok && c >= 1 {
		fn.Concurrency = int(c)
	}
	env := map[string]string{}
	for _, src := range []struct {
		n     *node
		field string
	}{{provider.get("environment"), "provider.environment"}, {fnNode.get("environment"), field + ".environment"}} {
		for _, ev := range src.n.pairs() {
			raw := ev.value.Value
			switch {
			case !ev.value.isScalar() || ev.value.tag() != "":
				p.drop(ev.line, src.field+"."+ev.key, "a CloudFormation value inquir import cannot resolve here; set it in env by hand")
			case slsEnvRef.MatchString(raw):
				env[ev.key] = "env:" + slsEnvRef.FindStringSubmatch(raw)[1]
			default:
				s, ok := v.resolve(raw)
				if !ok {
					// The variables alone: the rest of the value may be a secret.
					p.drop(ev.line, src.field+"."+ev.key, "%s: a variable inquir import cannot resolve; set it in env by hand", v.unresolved(raw))
					continue
				}
				env[ev.key] = s
			}
		}
	}
	if len(env) > 0 {
		fn.Env = env
	}
	for _, fe := range fnNode.pairs() {
		switch {
		case fe.key == "handler" || fe.key == "runtime" || fe.key == "timeout" || fe.key == "environment" ||
			fe.key == "events" || fe.key == "reservedConcurrency":
		case fe.key == "url":
			p.drop(fe.line, field+".url", "a Lambda function URL is an endpoint outside API Gateway and its keys; not served")
		case slsFunctionDeployOnly[fe.key]:
			p.note(fe.line, field+"."+fe.key, "deployment setting, not used by a local gateway")
		default:
			p.drop(fe.line, field+"."+fe.key, "unknown to inquir import")
		}
	}
	p.Functions = append(p.Functions, fn)
	if evs := fnNode.get("events"); evs != nil && !evs.isSeq() {
		p.drop(evs.line(), field+".events", "%s: inquir import reads a list of events written in this file; none imported", short(evs))
	}
	for i, ev := range fnNode.get("events").items() {
		if !ev.isMap() {
			p.drop(ev.line(), fmt.Sprintf("%s.events[%d]", field, i), "%s: an event is {http: ...} or {httpApi: ...}; not imported", short(ev))
		}
		for _, kind := range ev.pairs() {
			efield := fmt.Sprintf("%s.events[%d].%s", field, i, kind.key)
			switch kind.key {
			case "http":
				p.slsHTTP(v, kind.value, name, group, efield)
			case "httpApi":
				p.slsHTTPAPI(v, kind.value, name, efield)
			default:
				p.drop(kind.line, efield, "a %s event: inquir serves HTTP events only", kind.key)
			}
		}
	}
}

// slsHTTP reads an http event (a REST API route).
func (p *Project) slsHTTP(v *slsVars, n *node, fn, group, field string) {
	r := Route{Function: fn, Line: n.line(), Comment: field}
	private := false
	var authorizer *node
	if n.isScalar() {
		r.Method, r.Path, _ = strings.Cut(n.Value, " ")
	}
	for _, e := range n.pairs() {
		switch e.key {
		case "method":
			r.Method = e.value.str()
		case "path":
			r.Path = e.value.str()
		case "private":
			private = p.slsPrivate(v, e.value, field+".private")
		case "authorizer":
			authorizer = e.value
		case "cors":
			if on, ok := e.value.boolean(); !ok || on {
				p.drop(e.line, field+".cors", "inquir does not answer CORS preflights (OPTIONS gets 405) nor add CORS headers; a handler's own headers pass through")
			}
		case "integration":
			if s := strings.ToLower(e.value.str()); s != "lambda-proxy" && s != "aws_proxy" {
				p.drop(e.line, field+".integration", "integration %s: inquir serves the Lambda proxy integration only, so the function gets a proxy event and its answer is read as a proxy response", e.value.str())
			}
		case "request", "response":
			p.drop(e.line, field+"."+e.key, "request/response templates and parameters are not applied by inquir")
		case "async":
			p.drop(e.line, field+".async", "an asynchronous invocation: inquir waits for the function's answer")
		case "operationId", "summary", "description", "documentation":
		default:
			p.drop(e.line, field+"."+e.key, "unknown to inquir import")
		}
	}
	path, ok := v.resolve(r.Path)
	if !ok {
		p.drop(n.line(), field+".path", "%s: a variable inquir import cannot resolve; the route is left out", r.Path)
		return
	}
	r.Path = "/" + strings.Trim(path, "/")
	r.Method = strings.ToUpper(r.Method)
	if r.Method == "*" {
		r.Method = "ANY"
	}
	name := ""
	if authorizer != nil {
		name = p.authorizer(slsAuthorizer(v, authorizer, field+".authorizer"))
	}
	r.guard(private, name, authorizer != nil, group)
	if r.Auth == "none" {
		r.Reason = fmt.Sprintf("open in %s:%d (http event without private: true), kept open by inquir import", p.base(), n.line())
	}
	p.addRoute(r)
}

// slsPrivate reads an http event's private flag: true, false, or a
// variable that resolves to one. One inquir import cannot resolve keeps
// the key check (never more open than the source) and is listed.
func (p *Project) slsPrivate(v *slsVars, n *node, field string) bool {
	if on, ok := n.boolean(); ok {
		return on
	}
	if s, ok := v.resolve(n.str()); ok {
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "true":
			return true
		case "false":
			return false
		}
	}
	p.drop(n.line(), field, "%s is not true or false once resolved; the route needs an API key, never less", n.Value)
	return true
}

// slsAuthorizer reads an http event's authorizer.
func slsAuthorizer(v *slsVars, n *node, field string) sourceAuthorizer {
	a := sourceAuthorizer{Line: n.line(), Field: field, TTL: -1, Type: "TOKEN"}
	if n.isScalar() {
		a.Name = n.Value
		if !strings.HasPrefix(a.Name, "arn:") {
			a.Function = a.Name
		} else {
			a.Name = "authorizer"
		}
		if strings.EqualFold(n.Value, "aws_iam") {
			a.Type, a.Function = "AWS_IAM", ""
		}
		return a
	}
	a.Name = n.get("name").str()
	if arn := n.get("arn"); arn != nil {
		if a.Name == "" {
			a.Name = "authorizer"
		}
		if n.get("type").str() == "" && strings.Contains(arn.str(), "cognito-idp") {
			a.Type = "COGNITO_USER_POOLS"
		}
	} else if n.get("authorizerId") == nil {
		a.Function = a.Name
	} else if a.Name == "" {
		a.Name = n.get("authorizerId").str()
	}
	if t := n.get("type").str(); t != "" {
		a.Type = strings.ToUpper(t)
		if a.Type == "CUSTOM" {
			a.Type = "TOKEN"
		}
	}
	if s := n.get("identitySource").str(); s != "" {
		a.IdentitySources = strings.Split(s, ",")
	}
	if ttl, ok := n.get("resultTtlInSeconds").number(); ok {
		a.TTL = int(ttl)
	}
	a.TokenValidation = n.get("identityValidationExpression").str()
	return a
}

// slsHTTPAPI reads an httpApi event (an HTTP API route, payload 2.0 by
// default, which takes no API keys).
func (p *Project) slsHTTPAPI(v *slsVars, n *node, fn, field string) {
	r := Route{Function: fn, Line: n.line(), Comment: field}
	spec := n.str()
	if n.isMap() {
		r.Method, r.Path = n.get("method").str(), n.get("path").str()
	} else if spec != "*" {
		r.Method, r.Path, _ = strings.Cut(spec, " ")
	}
	if spec == "*" || r.Path == "*" {
		r.Method, r.Path = "ANY", "/{proxy+}"
	}
	if r.Method == "*" || r.Method == "" {
		r.Method = "ANY"
	}
	path, ok := v.resolve(r.Path)
	if !ok {
		p.drop(n.line(), field+".path", "%s: a variable inquir import cannot resolve; the route is left out", r.Path)
		return
	}
	r.Path, r.Method = "/"+strings.Trim(path, "/"), strings.ToUpper(r.Method)
	for _, e := range n.pairs() {
		switch e.key {
		case "method", "path", "authorizer":
		case "private":
			p.drop(e.line, field+".private", "an httpApi event takes no private: HTTP APIs have no API keys, so the framework deploys the route open (a warning at most); it is imported open")
		default:
			p.drop(e.line, field+"."+e.key, "unknown to inquir import")
		}
	}
	p.httpAPIPayload(&r, v.root.get("provider").get("httpApi").get("payload"), "provider.httpApi.payload", n.line(), field)
	if a := n.get("authorizer"); a != nil {
		p.drop(a.line(), field+".authorizer", "an HTTP API authorizer (JWT or Lambda) is not run by inquir; the route needs an API key instead, never less")
		r.Group = "httpApi"
		p.addRoute(r)
		p.ensureKeys("httpApi", "routes that had an HTTP API authorizer need a key", n.line())
		return
	}
	r.Auth = "none"
	r.Reason = fmt.Sprintf("open in %s:%d (an HTTP API route: HTTP APIs take no API keys), kept open by inquir import", p.base(), n.line())
	p.addRoute(r)
}

// slsVars resolves the Serverless Framework's ${...} variables that are
// static: ${self:...}, ${opt:...}/${sls:...} with their defaults, quoted
// fallbacks. ${env:...}, ${ssm:...}, ${file(...)} and the like are not
// (the callers treat env: and ssm: references themselves).
type slsVars struct {
	root  *node
	depth int
}

var slsVar = regexp.MustCompile(`\$\{([^${}]*)\}`)

// resolve replaces every variable in s; ok is false if one cannot be.
func (v *slsVars) resolve(s string) (string, bool) {
	if v.depth > 10 {
		return s, false
	}
	ok := true
	for i := 0; i < 10 && strings.Contains(s, "${"); i++ {
		changed := false
		s = slsVar.ReplaceAllStringFunc(s, func(m string) string {
			inner := m[2 : len(m)-1]
			for _, alt := range strings.Split(inner, ",") {
				if val, found := v.one(strings.TrimSpace(alt)); found {
					changed = true
					return val
				}
			}
			ok = false
			return m
		})
		if !changed {
			break
		}
	}
	return s, ok && !strings.Contains(s, "${")
}

// unresolved lists the variables of s that resolve cannot resolve.
func (v *slsVars) unresolved(s string) string {
	var out []string
	for _, m := range slsVar.FindAllString(s, -1) {
		if _, ok := v.resolve(m); !ok {
			out = append(out, m)
		}
	}
	if len(out) == 0 {
		return "a variable" // one nested in another
	}
	return strings.Join(out, ", ")
}

// one resolves one alternative of a variable.
func (v *slsVars) one(ref string) (string, bool) {
	switch {
	case len(ref) >= 2 && (ref[0] == '\'' || ref[0] == '"') && ref[len(ref)-1] == ref[0]:
		return ref[1 : len(ref)-1], true
	case ref == "sls:stage":
		if s, ok := v.self("provider.stage"); ok {
			return s, true
		}
		return "dev", true
	case strings.HasPrefix(ref, "self:"):
		return v.self(strings.TrimPrefix(ref, "self:"))
	case ref == "sls:instanceId":
		return "local", true
	}
	if _, err := strconv.ParseFloat(ref, 64); err == nil {
		return ref, true
	}
	return "", false
}

// self looks a dotted path up in the document and resolves what it finds.
func (v *slsVars) self(path string) (string, bool) {
	n := v.root
	for _, part := range strings.Split(path, ".") {
		if i, err := strconv.Atoi(part); err == nil && n.isSeq() {
			items := n.items()
			if i >= len(items) {
				return "", false
			}
			n = items[i]
			continue
		}
		n = n.get(part)
	}
	if !n.isScalar() {
		if path == "provider.stage" {
			return "dev", true
		}
		return "", false
	}
	v.depth++
	defer func() { v.depth-- }()
	return v.resolve(n.Value)
}

// base is the source file's name, for reasons and comments.
func (p *Project) base() string { return baseName(p.Source) }

// addRoute adds r unless a route with its method and path is there,
// which inquir refuses (API Gateway would too, in one API).
func (p *Project) addRoute(r Route) {
	if i := slices.IndexFunc(p.Routes, func(o Route) bool { return o.Method == r.Method && o.Path == r.Path }); i >= 0 {
		p.drop(r.Line, r.Comment, "%s %s is already a route (line %d); inquir serves one API, so the second is left out", r.Method, r.Path, p.Routes[i].Line)
		return
	}
	p.Routes = append(p.Routes, r)
}

// ensureKeys makes a key for group when routes need one and no key holds
// the group: otherwise no caller could reach them (lint INQ004).
func (p *Project) ensureKeys(group, why string, line int) {
	used := false
	for _, r := range p.Routes {
		if r.Group == group && r.Auth == "" {
			if !used && line == 0 {
				line = r.Line // the first route that needs the key
			}
			used = true
		}
	}
	if !used {
		return
	}
	for _, k := range p.Keys {
		if slices.Contains(k.Groups, group) {
			return
		}
	}
	id := uniqueName(tableName(group+"-key"), func(s string) bool { return p.key(s) != nil })
	p.Keys = append(p.Keys, Key{ID: id, Secret: p.addSecret(id, "", false), Groups: []string{group}, Line: line,
		Comment: "made by inquir import"})
	p.note(line, "", "%s (key %s)", why, id)
}

func (p *Project) key(id string) *Key {
	for i := range p.Keys {
		if p.Keys[i].ID == id {
			return &p.Keys[i]
		}
	}
	return nil
}

func (p *Project) plan(name string) *Plan {
	for i := range p.Plans {
		if p.Plans[i].Name == name {
			return &p.Plans[i]
		}
	}
	return nil
}

func (p *Project) function(name string) *Function {
	for i := range p.Functions {
		if p.Functions[i].Name == name {
			return &p.Functions[i]
		}
	}
	return nil
}
