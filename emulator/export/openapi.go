package export

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/inquir-dev/inquir/emulator/config"
)

// OpenAPIFile is the file inquir export --target openapi writes.
const OpenAPIFile = "openapi.json"

// exampleAccount stands for the AWS account in the integration ARNs: AWS's
// own documentation uses it, and a deployment replaces it (or imports the
// document with the account's ARNs substituted).
const exampleAccount = "123456789012"

// OpenAPI writes the config as an OpenAPI 3 document in the form API
// Gateway imports (REST API, Lambda proxy integrations): the apiKey
// security scheme on every protected operation, an empty security on the
// public ones, x-amazon-apigateway-api-key-source HEADER, and an
// x-amazon-apigateway-integration naming each route's function. What API
// Gateway has no place for in an OpenAPI document is kept in x-inquir-*
// extensions (groups, the keys a route names, key references, functions,
// plans, the gateway's settings), which API Gateway ignores and inquir
// import reads back, and is listed in the returned notes, one a line.
// Secrets are never written: env: and file: secrets stay references, a
// literal one is written as its sha256: digest.
//
// Paths in the extensions (functions, file: secrets) are written relative
// to docDir, the folder the document is written into, as inquir import
// reads them.
func OpenAPI(c *config.Config, docDir string) (doc []byte, notes []string, err error) {
	docDir, err = filepath.Abs(docDir)
	if err != nil {
		return nil, nil, err
	}
	region := c.Gateway.Region
	root := ordered{}
	root.set("openapi", "3.0.1")
	root.set("info", ordered{}.with("title", "inquir "+filepath.Base(c.Dir)).with("version", c.ID))
	keySource := "HEADER"
	if c.Gateway.APIKeySource == config.KeySourceAuthorizer {
		keySource = "AUTHORIZER"
	}
	root.set("x-amazon-apigateway-api-key-source", keySource)
	if !strings.EqualFold(c.Gateway.KeyHeader, config.DefaultKeyHeader) {
		notes = append(notes, fmt.Sprintf("key_header %q: API Gateway reads API keys from x-api-key only; the apiKey scheme names %s", c.Gateway.KeyHeader, c.Gateway.KeyHeader))
	}
	if c.Gateway.Compat != config.CompatAWS {
		notes = append(notes, "compat = \""+c.Gateway.Compat+"\": API Gateway answers every key rejection with 403 {\"message\":\"Forbidden\"}, as compat = \"aws\" does")
	}
	// The API key's scheme is api_key, as in API Gateway's examples,
	// unless an authorizer has that name: the scheme then takes another,
	// or the authorizer's would replace it and its routes read back
	// without their key check.
	keyScheme := "api_key"
	for c.Authorizer(keyScheme) != nil {
		keyScheme += "_"
	}
	schemes := ordered{}.with(keyScheme, ordered{}.with("type", "apiKey").with("name", c.Gateway.KeyHeader).with("in", "header"))
	for _, a := range c.Authorizers {
		schemes.set(a.Name, authorizerScheme(a, region))
	}
	root.set("components", ordered{}.with("securitySchemes", schemes))

	paths := ordered{}
	for _, r := range c.Routes {
		item, _ := paths.get(r.Path).(ordered)
		if item == nil {
			item = ordered{}
			if params := pathParams(r.Path); len(params) > 0 {
				item.set("parameters", params)
			}
		}
		method := strings.ToLower(r.Method)
		if r.Method == config.MethodAny {
			method = "x-amazon-apigateway-any-method"
		}
		op := ordered{}
		op.set("operationId", fmt.Sprintf("route%d", r.Index))
		switch {
		case r.Public():
			op.set("security", []any{})
			op.set("x-inquir-reason", r.Reason)
		case !r.NeedsKey():
			op.set("security", []any{ordered{}.with(r.Authorizer, []string{})})
		default:
			req := ordered{}.with(keyScheme, []string{})
			if r.Authorizer != "" {
				req.set(r.Authorizer, []string{})
			}
			op.set("security", []any{req})
			if r.Group != "" {
				op.set("x-inquir-groups", []string{r.Group})
			}
			if len(r.Keys) > 0 {
				op.set("x-inquir-keys", r.Keys)
			}
		}
		op.set("x-inquir-function", r.Function)
		op.set("x-inquir-route", r.Index)
		if usesPayload2(c) {
			// A REST API has one payload format version, 1.0; the route's
			// is kept for inquir import.
			op.set("x-inquir-payload", r.Payload)
		}
		op.set("responses", ordered{}.with("default", ordered{}.with("description", "the function's response")))
		op.set("x-amazon-apigateway-integration", ordered{}.
			with("type", "aws_proxy").
			with("httpMethod", "POST").
			with("uri", fmt.Sprintf("arn:aws:apigateway:%s:lambda:path/2015-03-31/functions/arn:aws:lambda:%s:%s:function:%s/invocations", region, region, exampleAccount, r.Function)).
			with("passthroughBehavior", "when_no_match"))
		item.set(method, op)
		paths.set(r.Path, item)
	}
	root.set("paths", paths)
	if hasScoped(c) {
		notes = append(notes, "route groups and a route's keys: API Gateway lets every key of a usage plan call every protected route of its stages; they are kept as x-inquir-groups and x-inquir-keys")
	}

	gateway := ordered{}.with("listen", c.Gateway.Listen).with("key_header", c.Gateway.KeyHeader).
		with("compat", c.Gateway.Compat).with("region", c.Gateway.Region)
	if usesPayload2(c) {
		gateway.set("payload", c.Gateway.Payload)
		notes = append(notes, `payload = "2.0" routes: a REST API hands every function a payload 1.0 event; deploy those routes on an HTTP API (payload 2.0), or their handlers get the other event; kept as x-inquir-payload`)
	}
	root.set("x-inquir-gateway", gateway)
	groups := ordered{}
	for _, g := range c.Groups {
		group := ordered{}.with("internal", g.Internal)
		if g.Authorizer != "" {
			group.set("authorizer", g.Authorizer)
		}
		groups.set(g.Name, group)
	}
	root.set("x-inquir-groups", groups)
	keys := ordered{}
	for _, k := range c.Keys {
		if len(k.Secrets) != 1 {
			notes = append(notes, fmt.Sprintf("key %s: %d secrets (a rotation): only the first is kept in x-inquir-keys", k.ID, len(k.Secrets)))
		}
		key := ordered{}
		if len(k.Secrets) > 0 {
			key.set("secret", secretRef(docDir, k.Secrets[0]))
			if k.Secrets[0].Kind == config.SecretLiteral {
				notes = append(notes, "key "+k.ID+": a literal secret is written as its sha256: digest")
			}
		}
		if len(k.Groups) > 0 {
			key.set("groups", k.Groups)
		}
		if k.Plan != "" {
			key.set("plan", k.Plan)
		}
		if k.Disabled {
			key.set("disabled", true)
		}
		if len(k.Metadata) > 0 {
			key.set("metadata", k.Metadata)
		}
		if !k.NotBefore.IsZero() {
			key.set("not_before", k.NotBefore.Format(time.RFC3339))
		}
		if !k.Expires.IsZero() {
			key.set("expires", k.Expires.Format(time.RFC3339))
		}
		keys.set(k.ID, key)
	}
	if len(c.Keys) > 0 {
		notes = append(notes, "API keys are not part of an OpenAPI document: create them in API Gateway (CreateApiKey) and add them to a usage plan; their ids and secret references (never a secret) are kept in x-inquir-keys")
	}
	root.set("x-inquir-keys", keys)
	functions := ordered{}
	for _, f := range c.Functions {
		fn := ordered{}.with("runtime", f.Runtime)
		if f.Path != "" {
			fn.set("path", relative(docDir, f.Path))
		}
		if f.Export != "" && f.Export != config.DefaultExport {
			fn.set("export", f.Export)
		}
		if len(f.Command) > 0 {
			fn.set("command", f.Command)
		}
		fn.set("timeout", f.Timeout.String())
		fn.set("concurrency", f.Concurrency)
		if len(f.Env) > 0 {
			fn.set("env", f.Env)
		}
		functions.set(f.Name, fn)
	}
	root.set("x-inquir-functions", functions)
	plans := ordered{}
	for _, p := range c.Plans {
		plan := ordered{}
		aws := []string{}
		if p.Rate > 0 {
			plan.set("rate", p.Rate)
			plan.set("burst", p.Burst)
			aws = append(aws, fmt.Sprintf("throttle rateLimit %v burstLimit %d", p.Rate, p.Burst))
		}
		if q := p.Quota; q != nil {
			plan.set("quota", ordered{}.with("limit", q.Limit).with("period", q.Period).with("offset", q.Offset))
			aws = append(aws, fmt.Sprintf("quota limit %d period %s offset %d", q.Limit, q.Period, q.Offset))
		}
		var routes []any
		for _, r := range p.Routes {
			routes = append(routes, ordered{}.with("method", r.Method).with("path", r.Path).with("rate", r.Rate).with("burst", r.Burst))
			aws = append(aws, fmt.Sprintf("apiStages throttle %s/%s rateLimit %v burstLimit %d", r.Path, r.Method, r.Rate, r.Burst))
		}
		if len(routes) > 0 {
			plan.set("routes", routes)
		}
		plans.set(p.Name, plan)
		notes = append(notes, fmt.Sprintf("plan %s: usage plans are not part of an OpenAPI document; create it with CreateUsagePlan (%s) and add its keys; kept in x-inquir-plans", p.Name, strings.Join(aws, ", ")))
	}
	root.set("x-inquir-plans", plans)

	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(root); err != nil {
		return nil, nil, err
	}
	return b.Bytes(), notes, nil
}

// authorizerScheme writes a Lambda authorizer as API Gateway's OpenAPI
// extension describes one (x-amazon-apigateway-authorizer), naming the
// inquir function in x-inquir-function.
func authorizerScheme(a config.Authorizer, region string) ordered {
	var sources []string
	header := "Unused"
	for _, s := range a.IdentitySources {
		switch s.Kind {
		case config.SourceHeader:
			sources = append(sources, "method.request.header."+s.Name)
			if header == "Unused" {
				header = s.Name
			}
		case config.SourceQuery:
			sources = append(sources, "method.request.querystring."+s.Name)
		default:
			sources = append(sources, s.Kind+"."+s.Name)
		}
	}
	az := ordered{}.with("type", a.Type).
		with("authorizerUri", fmt.Sprintf("arn:aws:apigateway:%s:lambda:path/2015-03-31/functions/arn:aws:lambda:%s:%s:function:%s/invocations", region, region, exampleAccount, a.Function))
	if len(sources) > 0 {
		az.set("identitySource", strings.Join(sources, ", "))
	}
	az.set("authorizerResultTtlInSeconds", int(a.TTL/time.Second))
	if a.TokenValidation != "" {
		az.set("identityValidationExpression", a.TokenValidation)
	}
	if a.SimpleResponses {
		az.set("x-inquir-simple-responses", true)
	}
	return ordered{}.with("type", "apiKey").with("name", header).with("in", "header").
		with("x-amazon-apigateway-authtype", "custom").with("x-amazon-apigateway-authorizer", az).
		with("x-inquir-function", a.Function)
}

// hasScoped reports whether any protected route is limited to some keys.
func hasScoped(c *config.Config) bool {
	for _, r := range c.Routes {
		if !r.Public() && (r.Group != "" || len(r.Keys) > 0) {
			return true
		}
	}
	return false
}

// secretRef writes a secret reference as inquir.toml spells it, with a
// file: path relative to docDir and a literal as its digest.
func secretRef(docDir string, s config.SecretRef) string {
	switch s.Kind {
	case config.SecretFile:
		return "file:" + relative(docDir, s.Value)
	case config.SecretLiteral:
		d := sha256.Sum256([]byte(s.Value))
		return "sha256:" + hex.EncodeToString(d[:])
	}
	return s.String()
}

// relative makes an absolute path relative to dir, slash-separated.
func relative(dir, path string) string {
	if rel, err := filepath.Rel(dir, path); err == nil {
		return filepath.ToSlash(rel)
	}
	return filepath.ToSlash(path)
}

var pathParam = regexp.MustCompile(`\{([^{}+]+)\+?\}`)

// pathParams declares a path template's parameters, as OpenAPI requires.
func pathParams(path string) []any {
	var out []any
	for _, m := range pathParam.FindAllStringSubmatch(path, -1) {
		out = append(out, ordered{}.with("name", m[1]).with("in", "path").with("required", true).
			with("schema", ordered{}.with("type", "string")))
	}
	return out
}

// ordered is a JSON object that keeps its keys in the order they were set,
// so the document reads as the config does and is the same on every run.
type ordered []field

type field struct {
	key   string
	value any
}

func (o ordered) with(k string, v any) ordered { o.set(k, v); return o }

func (o *ordered) set(k string, v any) {
	for i := range *o {
		if (*o)[i].key == k {
			(*o)[i].value = v
			return
		}
	}
	*o = append(*o, field{k, v})
}

func (o ordered) get(k string) any {
	for _, f := range o {
		if f.key == k {
			return f.value
		}
	}
	return nil
}

func (o ordered) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(f.key)
		b.Write(k)
		b.WriteByte(':')
		v, err := json.Marshal(f.value)
		if err != nil {
			return nil, err
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// usesPayload2 reports whether a route of c, or the gateway, names payload
// 2.0.
func usesPayload2(c *config.Config) bool {
	if c.Gateway.Payload == config.Payload2 {
		return true
	}
	for _, r := range c.Routes {
		if r.Payload == config.Payload2 {
			return true
		}
	}
	return false
}
