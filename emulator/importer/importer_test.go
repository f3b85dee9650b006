package importer_test

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/inquir-dev/inquir/emulator/config"
	"github.com/inquir-dev/inquir/emulator/importer"
)

// imported is what one import gave: the project, the inquir.toml written,
// and that file loaded as inquir dev loads it.
type imported struct {
	p    *importer.Project
	toml string
	cfg  *config.Config
}

// importSource writes src as name in a new folder with files beside it
// (path → content), imports it, writes inquir.toml and loads it.
func importSource(t *testing.T, name, src string, files map[string]string) imported {
	t.Helper()
	dir := t.TempDir()
	for f, content := range files {
		writeFile(t, filepath.Join(dir, f), content)
	}
	path := filepath.Join(dir, name)
	writeFile(t, path, src)
	p, err := importer.Import(path)
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	for _, f := range p.Files {
		writeFile(t, filepath.Join(dir, f.Path), string(f.Content))
	}
	var b bytes.Buffer
	if err := p.Write(&b, dir); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "inquir.toml")
	writeFile(t, out, b.String())
	cfg, err := config.Load(out)
	if err != nil {
		t.Fatalf("the imported config does not load: %v\n%s", err, b.String())
	}
	return imported{p, b.String(), cfg}
}

// findings renders a project's findings as the command prints them,
// without the file name.
func findings(p *importer.Project) []string {
	var out []string
	for _, f := range p.Findings {
		out = append(out, strings.TrimSpace(strings.Join([]string{strconv.Itoa(f.Line), f.Severity.String(), f.Field, f.Msg}, " ")))
	}
	return out
}

// hasFinding reports whether a finding matches the regular expression.
func hasFinding(p *importer.Project, expr string) bool {
	re := regexp.MustCompile(expr)
	for _, f := range findings(p) {
		if re.MatchString(f) {
			return true
		}
	}
	return false
}

func route(c *config.Config, method, path string) *config.Route {
	for i := range c.Routes {
		if c.Routes[i].Method == method && c.Routes[i].Path == path {
			return &c.Routes[i]
		}
	}
	return nil
}

const handler = "exports.handler = async () => ({ statusCode: 200 });\n"

func TestServerlessVariablesAndKeys(t *testing.T) {
	src := `service: shop
provider:
  name: aws
  runtime: nodejs20.x
  stage: ${opt:stage, 'prod'}
  apiGateway:
    apiKeys:
      - free:
          - free-key
      - paid:
          - name: paid-key
            value: ${ssm:/shop/paid-key}
          - name: inline-key
            value: "it's-a-secret-0123456789"
    usagePlan:
      - free:
          quota: { limit: 100, period: DAY }
          throttle: { rateLimit: 1, burstLimit: 2 }
      - paid:
          throttle: { rateLimit: 50 }
custom:
  base: orders
functions:
  orders:
    handler: src/orders.handler
    environment:
      TABLE: ${self:custom.base}-${sls:stage}
      TOKEN: ${env:ORDERS_TOKEN}
      MISSING: ${file(./config.json):x}
    events:
      - http:
          path: ${self:custom.base}/{id}
          method: get
          private: true
      - http: GET ${file(./paths.json):admin}
      - httpApi: 'POST /orders'
`
	got := importSource(t, "serverless.yml", src, map[string]string{"src/orders.js": handler})

	// The multi-plan syntax: each key takes its plan.
	for id, plan := range map[string]string{"free-key": "free", "paid-key": "paid", "inline-key": "paid"} {
		k := got.cfg.Key(id)
		if k == nil || k.Plan != plan || len(k.Groups) != 1 || k.Groups[0] != "shop" {
			t.Errorf("key %s = %+v, want plan %s and group shop", id, k, plan)
		}
	}
	if p := got.cfg.Plan("free"); p == nil || p.Rate != 1 || p.Burst != 2 || p.Quota == nil || p.Quota.Limit != 100 || p.Quota.Period != "DAY" {
		t.Errorf("plan free = %+v", p)
	}
	if p := got.cfg.Plan("paid"); p == nil || p.Rate != 50 || p.Burst != 50 {
		t.Errorf("plan paid = %+v, want rate 50 and a burst of the rate's second", p)
	}
	// No secret in the file; each export line sets one.
	if strings.Contains(got.toml, "it's-a-secret") {
		t.Errorf("the inline secret was written to inquir.toml:\n%s", got.toml)
	}
	want := map[string]string{
		"FREE_API_KEY":   "", // generated: any value
		"PAID_API_KEY":   "$(aws ssm get-parameter --name '/shop/paid-key' --with-decryption --query Parameter.Value --output text)",
		"INLINE_API_KEY": "it's-a-secret-0123456789",
	}
	for _, e := range got.p.Exports {
		w, ok := want[e.Name]
		if !ok {
			t.Errorf("unexpected export %s", e.Name)
			continue
		}
		if w != "" && e.Value != w {
			t.Errorf("export %s = %q, want %q", e.Name, e.Value, w)
		}
		if w == "" && len(e.Value) < 43 {
			t.Errorf("export %s = %q: a generated secret needs 32 bytes", e.Name, e.Value)
		}
		delete(want, e.Name)
	}
	if len(want) > 0 {
		t.Errorf("no export line for %v", want)
	}
	// Variables resolved where static: self:, sls:stage from opt:'s default.
	fn := got.cfg.Function("orders")
	if diff := cmp.Diff(map[string]string{"TABLE": "orders-prod", "TOKEN": "env:ORDERS_TOKEN"}, fn.Env); diff != "" {
		t.Errorf("env (-want +got):\n%s", diff)
	}
	if fn.Timeout.String() != "6s" {
		t.Errorf("timeout %s, want the framework's default 6s", fn.Timeout)
	}
	if r := route(got.cfg, "GET", "/orders/{id}"); r == nil || r.Group != "shop" || r.Public() {
		t.Errorf("GET /orders/{id} = %+v, want it keyed to group shop", r)
	}
	// The HTTP API route is open, and gets an HTTP API's event (payload
	// 2.0, the framework's default).
	if r := route(got.cfg, "POST", "/orders"); r == nil || !r.Public() || !strings.Contains(r.Reason, "HTTP APIs take no API keys") || r.Payload != config.Payload2 {
		t.Errorf("POST /orders = %+v, want it open with its reason, payload 2.0", r)
	}
	for _, expr := range []string{
		`^29 dropped functions.orders.environment.MISSING \$\{file\(./config.json\):x\}: a variable inquir import cannot resolve`,
		`^35 dropped functions.orders.events\[1\].http.path \$\{file\(./paths.json\):admin\}: a variable inquir import cannot resolve; the route is left out`,
	} {
		if !hasFinding(got.p, expr) {
			t.Errorf("no finding matches %s in:\n%s", expr, strings.Join(findings(got.p), "\n"))
		}
	}
	if len(got.cfg.Routes) != 2 {
		t.Errorf("%d routes, want 2 (the unresolvable path is left out)", len(got.cfg.Routes))
	}
}

func TestSAMIntrinsicsAndAuthorizer(t *testing.T) {
	src := `AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Parameters:
  Stage:
    Type: String
    Default: test
  Secret:
    Type: String
Globals:
  Function:
    Runtime: python3.12
    Timeout: 10
Resources:
  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: !Ref Stage
      Auth:
        Authorizers:
          Tenant:
            FunctionArn: !GetAtt AuthFn.Arn
            FunctionPayloadType: REQUEST
            Identity:
              Headers: [X-Tenant]
              ReauthorizeEvery: 0
          Users:
            UserPoolArn: arn:aws:cognito-idp:us-east-1:1:userpool/x
  AuthFn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: auth/
      Handler: app.handler
  Orders:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: orders/
      Handler: app.handler
      Environment:
        Variables:
          STAGE: !Sub "orders-${Stage}"
          REGION: !Ref AWS::Region
          TABLE: !GetAtt Table.Arn
      Events:
        ByTenant:
          Type: Api
          Properties:
            RestApiId: !Ref Api
            Path: /orders
            Method: get
            Auth:
              Authorizer: Tenant
        ByUser:
          Type: Api
          Properties:
            RestApiId: !Ref Api
            Path: /orders
            Method: post
            Auth:
              Authorizer: Users
        Keyed:
          Type: Api
          Properties:
            RestApiId: !Ref Api
            Path: /orders/{id}
            Method: get
            Auth:
              ApiKeyRequired: true
              Authorizer: Tenant
        Queue:
          Type: SQS
          Properties:
            Queue: !GetAtt Q.Arn
  Table:
    Type: AWS::DynamoDB::Table
`
	got := importSource(t, "template.yaml", src, nil)
	fn := got.cfg.Function("Orders")
	if diff := cmp.Diff([]string{"python3", "-m", "awslambdaric", "orders/app.handler"}, fn.Command); diff != "" {
		t.Errorf("command (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{"STAGE": "orders-test"}, fn.Env); diff != "" {
		t.Errorf("env (-want +got):\n%s", diff)
	}
	if fn.Timeout.String() != "10s" {
		t.Errorf("timeout %s, want Globals' 10s", fn.Timeout)
	}
	a := got.cfg.Authorizer("Tenant")
	if a == nil || a.Function != "AuthFn" || a.Type != "request" || a.TTL != 0 || len(a.IdentitySources) != 1 || a.IdentitySources[0].String() != "header.X-Tenant" {
		t.Errorf("authorizer Tenant = %+v", a)
	}
	// The authorizer alone guards a route that asks for no key; with
	// ApiKeyRequired both do; a Cognito one is dropped and a key guards
	// its route instead, never less.
	if r := route(got.cfg, "GET", "/orders"); r == nil || r.Auth != config.AuthAuthorizer || r.Authorizer != "Tenant" {
		t.Errorf("GET /orders = %+v, want auth = authorizer, Tenant", r)
	}
	if r := route(got.cfg, "GET", "/orders/{id}"); r == nil || r.Auth != config.AuthAPIKey || r.Group != "Api" || r.Authorizer != "Tenant" {
		t.Errorf("GET /orders/{id} = %+v, want the key and Tenant", r)
	}
	if r := route(got.cfg, "POST", "/orders"); r == nil || r.Auth != config.AuthAPIKey || r.Group != "Api" || r.Authorizer != "" {
		t.Errorf("POST /orders = %+v, want a key check in place of the Cognito authorizer", r)
	}
	if k := got.cfg.Key("Api-key"); k == nil {
		t.Errorf("no key made for API Api's keyed routes: %v", got.cfg.Keys)
	}
	for _, expr := range []string{
		`^26 dropped Resources.Api.Properties.Auth.Authorizers.Users authorizer Users: a COGNITO_USER_POOLS authorizer`,
		`^41 dropped Resources.Orders.Properties.Environment.Variables.REGION AWS::Region \(known once deployed\) is not static`,
		`^42 dropped Resources.Orders.Properties.Environment.Variables.TABLE !GetAtt is not static`,
		`^69 dropped Resources.Orders.Properties.Events.Queue a SQS event: inquir serves HTTP events only`,
		`^73 note Resources.Table AWS::DynamoDB::Table: not read`,
	} {
		if !hasFinding(got.p, expr) {
			t.Errorf("no finding matches %s in:\n%s", expr, strings.Join(findings(got.p), "\n"))
		}
	}
}

func TestOpenAPIFromAWS(t *testing.T) {
	src := `openapi: 3.0.1
info: { title: shop, version: "1" }
x-amazon-apigateway-api-key-source: HEADER
components:
  securitySchemes:
    api_key: { type: apiKey, name: x-api-key, in: header }
    sigv4: { type: apiKey, name: Authorization, in: header, x-amazon-apigateway-authtype: awsSigv4 }
paths:
  /orders/{id}:
    get:
      security: [ { api_key: [] } ]
      x-amazon-apigateway-integration:
        type: aws_proxy
        httpMethod: POST
        uri: !Sub "arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${OrdersFunction.Arn}/invocations"
    delete:
      security: [ { sigv4: [] } ]
      x-amazon-apigateway-integration:
        type: aws_proxy
        uri: arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:1:function:orders-admin/invocations
  /health:
    get:
      x-amazon-apigateway-integration: { type: mock }
  /ping:
    get:
      security: []
      x-amazon-apigateway-integration:
        type: aws_proxy
        uri: arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:1:function:ping:live/invocations
`
	got := importSource(t, "openapi.yaml", src, map[string]string{
		"functions/OrdersFunction/index.js": handler, "functions/orders-admin/index.js": handler, "functions/ping/index.js": handler})
	if r := route(got.cfg, "GET", "/orders/{id}"); r == nil || r.Function != "OrdersFunction" || r.Group != "api" {
		t.Errorf("GET /orders/{id} = %+v", r)
	}
	if r := route(got.cfg, "DELETE", "/orders/{id}"); r == nil || r.Function != "orders-admin" || r.Public() {
		t.Errorf("DELETE /orders/{id} = %+v, want a key check in place of IAM", r)
	}
	if r := route(got.cfg, "GET", "/ping"); r == nil || r.Function != "ping" || !r.Public() {
		t.Errorf("GET /ping = %+v, want open", r)
	}
	if route(got.cfg, "GET", "/health") != nil {
		t.Errorf("a mock integration became a route")
	}
	for _, expr := range []string{
		`^7 dropped components.securitySchemes.sigv4 authorizer sigv4: AWS_IAM authorization`,
		`^23 dropped paths./health.get.x-amazon-apigateway-integration integration type mock`,
		`dropped paths./ping.get.x-amazon-apigateway-integration function ping is named by its ARN only`,
	} {
		if !hasFinding(got.p, expr) {
			t.Errorf("no finding matches %s in:\n%s", expr, strings.Join(findings(got.p), "\n"))
		}
	}
}

// TestWriteQuotesAndIsStable: names and reasons TOML must quote are
// quoted, and two imports of one file write the same bytes (the secrets
// made for keys go to the export lines, never to the file).
func TestWriteQuotesAndIsStable(t *testing.T) {
	src := `service: "odd \"name\""
provider: { name: aws, runtime: nodejs20.x }
functions:
  a.b:
    handler: index.handler
    events:
      - http: { path: "/x", method: get, private: true }
      - http: { path: "/y", method: get }
`
	files := map[string]string{"index.js": handler}
	one := importSource(t, "serverless.yml", src, files)
	two := importSource(t, "serverless.yml", src, files)
	if one.toml != two.toml {
		t.Errorf("two imports differ:\n%s\n---\n%s", one.toml, two.toml)
	}
	if one.p.Exports[0].Value == two.p.Exports[0].Value {
		t.Errorf("the made key's secret is the same in two imports: it must be new each time")
	}
	if one.cfg.Function("a.b") == nil {
		t.Errorf("function a.b lost: %v", one.cfg.Functions)
	}
	if g := one.cfg.Routes[0].Group; g != "odd-name" {
		t.Errorf("group %q, want the service name made a table name", g)
	}
}

func TestNotAProject(t *testing.T) {
	dir := t.TempDir()
	for name, src := range map[string]string{
		"swagger.yaml": "swagger: '2.0'\npaths: {}\n",
		"other.yaml":   "hello: world\n",
		"broken.yaml":  "a: [\n",
		"azure.yml":    "service: x\nprovider: { name: azure }\nfunctions: {}\n",
	} {
		path := filepath.Join(dir, name)
		writeFile(t, path, src)
		if _, err := importer.Import(path); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: err = %v, want an error naming the file", name, err)
		}
	}
	if _, err := importer.Import(filepath.Join(dir, "missing.yml")); !os.IsNotExist(errUnwrap(err)) {
		t.Errorf("a missing file: %v", err)
	}
}

func errUnwrap(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return err
		}
		err = u.Unwrap()
	}
}

// TestGoAndPythonRuntimes: provided.al2 and go1.x build the Go package the
// handler names; python runs through awslambdaric; a runtime inquir has
// none for drops the function and its routes.
func TestGoAndPythonRuntimes(t *testing.T) {
	src := `service: mixed
provider: { name: aws, runtime: provided.al2 }
functions:
  hello:
    handler: ./functions/hello
    events: [ { http: { path: hello, method: get, private: true } } ]
  legacy:
    runtime: go1.x
    handler: bin/legacy
  py:
    runtime: python3.12
    handler: handlers/app.main
  java:
    runtime: java21
    handler: com.example.Handler
    events: [ { http: { path: java, method: get } } ]
`
	got := importSource(t, "serverless.yml", src, map[string]string{
		"functions/hello/main.go": "package main\n", "cmd/legacy/main.go": "package main\n"})
	for name, want := range map[string]string{"hello": "functions/hello", "legacy": "cmd/legacy"} {
		fn := got.cfg.Function(name)
		if fn == nil || fn.Runtime != config.RuntimeGo || !strings.HasSuffix(filepath.ToSlash(fn.Path), want) {
			t.Errorf("function %s = %+v, want go at %s", name, fn, want)
		}
	}
	if fn := got.cfg.Function("py"); fn == nil || strings.Join(fn.Command, " ") != "python3 -m awslambdaric handlers/app.main" {
		t.Errorf("function py = %+v", fn)
	}
	if got.cfg.Function("java") != nil || route(got.cfg, "GET", "/java") != nil {
		t.Errorf("a java21 function was imported")
	}
	if !hasFinding(got.p, `^13 dropped functions.java runtime java21: inquir runs go, node, python`) {
		t.Errorf("no drop for java21 in:\n%s", strings.Join(findings(got.p), "\n"))
	}
}
