package importer

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// The methods of an OpenAPI path item, in the order routes are written.
var openAPIMethods = []string{"get", "head", "post", "put", "patch", "delete", "options", "x-amazon-apigateway-any-method"}

// lambdaARN finds the function's name in an integration URI:
// ...:function:NAME/invocations, or ${NAME.Arn} in a Sub.
var (
	lambdaARN = regexp.MustCompile(`:function:([A-Za-z0-9_-]+)(?::[^/]*)?/invocations`)
	subARN    = regexp.MustCompile(`\$\{([A-Za-z0-9]+)\.Arn\}`)
)

// inquirGateway, inquirKey, inquirFunction and inquirPlan are the
// x-inquir-* extensions inquir export writes (emulator/export's openapi.go
// is their other side).
type (
	inquirGateway struct {
		Listen    string `yaml:"listen"`
		KeyHeader string `yaml:"key_header"`
		Compat    string `yaml:"compat"`
		Region    string `yaml:"region"`
		Payload   string `yaml:"payload"`
	}
	inquirKey struct {
		Secret    string            `yaml:"secret"`
		Groups    []string          `yaml:"groups"`
		Plan      string            `yaml:"plan"`
		Disabled  bool              `yaml:"disabled"`
		Metadata  map[string]string `yaml:"metadata"`
		NotBefore string            `yaml:"not_before"`
		Expires   string            `yaml:"expires"`
	}
	inquirFunction struct {
		Runtime     string            `yaml:"runtime"`
		Path        string            `yaml:"path"`
		Export      string            `yaml:"export"`
		Command     []string          `yaml:"command"`
		Timeout     string            `yaml:"timeout"`
		Concurrency int               `yaml:"concurrency"`
		Env         map[string]string `yaml:"env"`
	}
	inquirPlan struct {
		Rate   float64 `yaml:"rate"`
		Burst  int     `yaml:"burst"`
		Quota  *Quota  `yaml:"quota"`
		Routes []struct {
			Method string  `yaml:"method"`
			Path   string  `yaml:"path"`
			Rate   float64 `yaml:"rate"`
			Burst  int     `yaml:"burst"`
		} `yaml:"routes"`
	}
)

// decode decodes an extension's value into v, recording a drop if it has
// the wrong shape.
func (p *Project) decode(n *node, field string, v any) bool {
	if err := (*yaml.Node)(n).Decode(v); err != nil {
		p.drop(n.line(), field, "%v", err)
		return false
	}
	return true
}

// openAPI reads an OpenAPI 3 document: on its own (group "" makes the
// group "api"), or as a SAM API's DefinitionBody (group is the API's id).
func (p *Project) openAPI(root *node, group string) error {
	standalone := group == ""
	if standalone {
		group = "api"
		p.fromInquir = root.get("x-inquir-gateway") != nil
		if v := root.get("openapi").str(); !strings.HasPrefix(v, "3.") {
			return fmt.Errorf("%s:%d: openapi %s: inquir import reads OpenAPI 3", p.Source, root.get("openapi").line(), v)
		}
	}
	schemes := root.get("components").get("securitySchemes")
	keySchemes := map[string]bool{}
	authorizers := map[string]sourceAuthorizer{}
	for _, e := range schemes.pairs() {
		field := "components.securitySchemes." + e.key
		s := e.value
		if az := s.get("x-amazon-apigateway-authorizer"); az != nil {
			a := sourceAuthorizer{Name: e.key, Line: e.line, Field: field, TTL: -1, Type: strings.ToUpper(az.get("type").str())}
			if id := az.get("identitySource").str(); id != "" {
				a.IdentitySources = strings.Split(id, ",")
			} else if s.get("in").str() == "header" && s.get("name").str() != "" {
				a.IdentitySources = []string{"method.request.header." + s.get("name").str()}
			}
			if ttl, ok := az.get("authorizerResultTtlInSeconds").number(); ok {
				a.TTL = int(ttl)
			}
			a.TokenValidation = az.get("identityValidationExpression").str()
			a.SimpleResponses, _ = az.get("x-inquir-simple-responses").boolean()
			if fn := s.get("x-inquir-function").str(); fn != "" {
				a.Function = fn
			} else if m := lambdaARN.FindStringSubmatch(az.get("authorizerUri").str()); m != nil {
				a.Function = m[1]
			}
			if a.Type == "COGNITO_USER_POOLS" || strings.EqualFold(a.Type, "cognito_user_pools") {
				a.Type = "COGNITO_USER_POOLS"
			}
			authorizers[e.key] = a
			continue
		}
		if strings.EqualFold(s.get("x-amazon-apigateway-authtype").str(), "awsSigv4") {
			authorizers[e.key] = sourceAuthorizer{Name: e.key, Type: "AWS_IAM", Line: e.line, Field: field}
			continue
		}
		if s.get("type").str() == "apiKey" && s.get("in").str() == "header" {
			keySchemes[e.key] = true
			if h := s.get("name").str(); !strings.EqualFold(h, "x-api-key") {
				p.Gateway.KeyHeader, p.Gateway.Line = strings.ToLower(h), e.line
			}
			continue
		}
		p.drop(e.line, field, "a %s security scheme: inquir checks API keys in a header (and Lambda authorizers)", s.get("type").str())
	}
	if standalone {
		// Every authorizer, in the document's order, used or not.
		for _, e := range schemes.pairs() {
			if a, ok := authorizers[e.key]; ok {
				p.authorizer(a)
			}
		}
		for _, e := range root.pairs() {
			switch e.key {
			case "openapi", "paths", "components", "security", "x-inquir-gateway", "x-inquir-keys", "x-inquir-groups", "x-inquir-functions", "x-inquir-plans":
			case "x-amazon-apigateway-api-key-source":
				if strings.EqualFold(e.value.str(), "AUTHORIZER") {
					p.Gateway.APIKeySource, p.Gateway.Line = "authorizer", e.line
				}
			case "info", "servers", "tags", "externalDocs", "x-amazon-apigateway-binary-media-types", "x-amazon-apigateway-endpoint-configuration", "x-amazon-apigateway-minimum-compression-size":
				p.note(e.line, e.key, "not used by a local gateway")
			default:
				p.drop(e.line, e.key, "not read by inquir import")
			}
		}
		p.openAPIExtensions(root)
	}
	defaultSecurity := root.get("security")
	for _, pe := range root.get("paths").pairs() {
		for _, op := range pe.value.pairs() {
			method := strings.ToUpper(op.key)
			if op.key == "x-amazon-apigateway-any-method" {
				method = "ANY"
			}
			field := "paths." + pe.key + "." + op.key
			if !slices.Contains(openAPIMethods, op.key) {
				if op.key != "parameters" && op.key != "summary" && op.key != "description" {
					p.drop(op.line, field, "not read by inquir import")
				}
				continue
			}
			p.openAPIOperation(op.value, method, pe.key, op.line, field, group, standalone, defaultSecurity, keySchemes, authorizers)
		}
	}
	if standalone {
		for _, r := range p.Routes {
			if p.function(r.Function) == nil {
				p.Functions = append(p.Functions, Function{Name: r.Function, Runtime: "node", Path: "functions/" + r.Function + "/index.js",
					Export: "handler", Line: r.Line, Comment: "guessed: OpenAPI names the function by ARN only"})
				p.drop(r.Line, r.Comment+".x-amazon-apigateway-integration", "function %s is named by its ARN only: its runtime and path are guesses (node, functions/%s/index.js)", r.Function, r.Function)
			}
		}
		p.ensureKeys(group, "keyed routes and no key: a key is made for them", root.get("paths").line())
		if p.fromInquir {
			slices.SortStableFunc(p.Routes, func(a, b Route) int { return a.order - b.order })
		}
	}
	return nil
}

// openAPIOperation reads one operation into a route.
func (p *Project) openAPIOperation(op *node, method, path string, line int, field, group string, standalone bool,
	defaultSecurity *node, keySchemes map[string]bool, authorizers map[string]sourceAuthorizer) {
	r := Route{Method: method, Path: path, Line: line, Comment: field}
	integ := op.get("x-amazon-apigateway-integration")
	if fn := op.get("x-inquir-function").str(); fn != "" {
		r.Function = fn
	}
	if integ == nil && r.Function == "" {
		p.drop(line, field, "no x-amazon-apigateway-integration: no function to route to; left out")
		return
	}
	if integ != nil {
		if t := strings.ToLower(integ.get("type").str()); t != "aws_proxy" {
			p.drop(integ.line(), field+".x-amazon-apigateway-integration", "integration type %s: inquir serves the Lambda proxy integration only; left out", t)
			return
		}
		if r.Function == "" {
			uri := integ.get("uri")
			text := uri.str()
			if name, arg := intrinsic(uri); name == "Fn::Sub" {
				text = arg.Value
				if arg.isSeq() && len(arg.items()) > 0 {
					text = arg.items()[0].Value
				}
			}
			if m := subARN.FindStringSubmatch(text); m != nil {
				r.Function = tableName(m[1])
			} else if m := lambdaARN.FindStringSubmatch(text); m != nil {
				r.Function = tableName(m[1])
			} else {
				p.drop(integ.line(), field+".x-amazon-apigateway-integration.uri", "no Lambda function in the URI; left out")
				return
			}
		}
	}
	security := op.get("security")
	if security == nil {
		security = defaultSecurity
	}
	// API Gateway reads one requirement object: the API key (if named)
	// and the authorizer (if named) both apply. Alternatives it does not
	// take; inquir asks for what any of them asks, never less.
	keyed := false
	var authorizer *sourceAuthorizer
	for i, req := range security.items() {
		if i > 0 {
			p.note(line, field+".security", "API Gateway reads the first security requirement only; inquir asks for every scheme the requirements name")
		}
		for _, s := range req.pairs() {
			switch {
			case keySchemes[s.key]:
				keyed = true
			case authorizers[s.key].Name != "":
				a := authorizers[s.key]
				authorizer = &a
			default:
				p.drop(s.line, field+".security", "security scheme %s is not defined; the route needs an API key instead", s.key)
				keyed = true
			}
		}
	}
	// x-amazon-apigateway-auth sets a method's authorization type beside
	// its security (api-gateway-swagger-extensions-auth): AWS_IAM asks for
	// a SigV4 signature inquir does not check, so a key instead.
	iam := false
	if a := op.get("x-amazon-apigateway-auth"); a != nil {
		if t := a.get("type").str(); !strings.EqualFold(t, "NONE") {
			iam = true
			p.drop(a.line(), field+".x-amazon-apigateway-auth", "authorization type %s: inquir does not check SigV4 signatures; the route needs an API key instead, never less", cmpOr(t, "(none given)"))
		}
	}
	name := ""
	if authorizer != nil {
		name = p.authorizer(*authorizer)
	}
	r.guard(keyed || iam, name, authorizer != nil, "")
	keyed = r.Auth == ""
	if n, ok := op.get("x-inquir-route").number(); ok {
		r.order = int(n)
	}
	// inquir export's x-inquir-payload, else an HTTP API document's
	// payloadFormatVersion; payload() leaves out the gateway's own.
	r.Payload = op.get("x-inquir-payload").str()
	if v := integ.get("payloadFormatVersion").str(); r.Payload == "" && v != "" {
		r.Payload = v
	}
	if keyed {
		if !p.fromInquir {
			r.Group = group // inquir export writes x-inquir-groups for every group
		}
		var groups, keys []string
		if g := op.get("x-inquir-groups"); g != nil {
			groups = g.strings()
			r.Group = ""
			if len(groups) > 0 {
				r.Group = groups[0]
			}
			if len(groups) > 1 {
				p.drop(g.line(), field+".x-inquir-groups", "a route has one group in inquir.toml; %s are left out", strings.Join(groups[1:], ", "))
			}
		}
		if k := op.get("x-inquir-keys"); k != nil {
			keys = k.strings()
			r.Keys = keys
		}
		if r.Group != "" && !slices.ContainsFunc(p.Groups, func(g Group) bool { return g.Name == r.Group }) && standalone && op.get("x-inquir-groups") == nil {
			p.Groups = append(p.Groups, Group{Name: r.Group, Comment: "the routes of " + p.base() + " that need a key", Line: line})
		}
	} else if r.Auth == "none" {
		r.Reason = op.get("x-inquir-reason").str()
		if r.Reason == "" {
			r.Reason = fmt.Sprintf("open in %s:%d (no API key in its security), kept open by inquir import", p.base(), line)
		}
	}
	for _, e := range op.pairs() {
		switch {
		case e.key == "x-amazon-apigateway-request-validator":
			p.drop(e.line, field+"."+e.key, "request validation is not applied by inquir")
		case strings.HasPrefix(e.key, "x-amazon-apigateway-") && e.key != "x-amazon-apigateway-integration" && e.key != "x-amazon-apigateway-auth":
			p.drop(e.line, field+"."+e.key, "not applied by inquir")
		}
	}
	p.addRoute(r)
}

// openAPIExtensions reads what inquir export writes beside the paths.
func (p *Project) openAPIExtensions(root *node) {
	if g := root.get("x-inquir-gateway"); g != nil {
		var gw inquirGateway
		if p.decode(g, "x-inquir-gateway", &gw) {
			p.Gateway.Listen, p.Gateway.Compat, p.Gateway.Region, p.Gateway.Line = gw.Listen, gw.Compat, gw.Region, g.line()
			if gw.Payload != "1.0" {
				p.Gateway.Payload = gw.Payload
			}
			if gw.KeyHeader != "" {
				p.Gateway.KeyHeader = gw.KeyHeader
			}
		}
	}
	for _, e := range root.get("x-inquir-groups").pairs() {
		internal, _ := e.value.get("internal").boolean()
		p.Groups = append(p.Groups, Group{Name: e.key, Internal: internal, Authorizer: e.value.get("authorizer").str(),
			Line: e.line, Comment: "x-inquir-groups." + e.key})
	}
	for _, e := range root.get("x-inquir-plans").pairs() {
		var ip inquirPlan
		if !p.decode(e.value, "x-inquir-plans."+e.key, &ip) {
			continue
		}
		plan := Plan{Name: e.key, Rate: ip.Rate, Burst: ip.Burst, Quota: ip.Quota, Line: e.line, Comment: "x-inquir-plans." + e.key}
		if plan.Quota != nil {
			plan.Quota.Period = strings.ToUpper(plan.Quota.Period)
		}
		for _, r := range ip.Routes {
			plan.Routes = append(plan.Routes, PlanRoute{Method: r.Method, Path: r.Path, Rate: r.Rate, Burst: r.Burst})
		}
		p.Plans = append(p.Plans, plan)
	}
	for _, e := range root.get("x-inquir-keys").pairs() {
		var ik inquirKey
		if !p.decode(e.value, "x-inquir-keys."+e.key, &ik) {
			continue
		}
		if !strings.HasPrefix(ik.Secret, "env:") && !strings.HasPrefix(ik.Secret, "file:") && !strings.HasPrefix(ik.Secret, "sha256:") {
			p.drop(e.line, "x-inquir-keys."+e.key+".secret", "not an env:, file: or sha256: reference; the key gets a new secret")
			ik.Secret = p.addSecret(e.key, "", false)
		}
		p.Keys = append(p.Keys, Key{ID: e.key, Secret: ik.Secret, Groups: ik.Groups, Plan: ik.Plan, Disabled: ik.Disabled,
			Metadata: ik.Metadata, NotBefore: ik.NotBefore, Expires: ik.Expires, Line: e.line, Comment: "x-inquir-keys." + e.key})
	}
	for _, e := range root.get("x-inquir-functions").pairs() {
		var f inquirFunction
		if !p.decode(e.value, "x-inquir-functions."+e.key, &f) {
			continue
		}
		p.Functions = append(p.Functions, Function{Name: e.key, Runtime: f.Runtime, Path: f.Path, Export: f.Export, Command: f.Command,
			Timeout: f.Timeout, Concurrency: f.Concurrency, Env: f.Env, Line: e.line, Comment: "x-inquir-functions." + e.key})
	}
}
