package importer_test

import (
	"strings"
	"testing"
)

// SAM: ApiKeyRequired and the authorizers written with intrinsics are
// resolved where static; where not, the route keeps a key check and the
// value is listed.
func TestSAMAuthIntrinsics(t *testing.T) {
	src := `AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Parameters:
  RequireKey: { Type: String, Default: "true" }
Conditions:
  IsProd: !Equals [!Ref RequireKey, "true"]
Resources:
  ByRef:
    Type: AWS::Serverless::Api
    Properties:
      StageName: prod
      Auth:
        ApiKeyRequired: !Ref RequireKey
  ByIf:
    Type: AWS::Serverless::Api
    Properties:
      StageName: prod
      Auth:
        ApiKeyRequired:
          Fn::If: [IsProd, true, false]
  Orders:
    Type: AWS::Serverless::Function
    Properties:
      Handler: index.handler
      Runtime: nodejs20.x
      Events:
        A:
          Type: Api
          Properties: { Path: /a, Method: get, RestApiId: !Ref ByRef }
        B:
          Type: Api
          Properties: { Path: /b, Method: get, RestApiId: !Ref ByIf }
        C:
          Type: Api
          Properties:
            Path: /c
            Method: get
            Auth:
              ApiKeyRequired: !If [IsProd, true, false]
        D:
          Type: Api
          Properties:
            Path: /d
            Method: get
            Auth:
              Authorizer: !If [IsProd, MyAuth, NONE]
`
	got := importSource(t, "template.yaml", src, map[string]string{"index.js": handler})
	keyed(t, got, "GET", "/a")
	keyed(t, got, "GET", "/b")
	keyed(t, got, "GET", "/c")
	keyed(t, got, "GET", "/d")
	for _, expr := range []string{`^20 dropped .*ByIf.*ApiKeyRequired`, `^39 dropped .*Events.C.*ApiKeyRequired`, `^46 dropped .*Events.D.*Authorizer`} {
		if !hasFinding(got.p, expr) {
			t.Errorf("no finding matches %s in:\n%s", expr, strings.Join(findings(got.p), "\n"))
		}
	}
}

// SAM: an HTTP API's DefaultAuthorizer (on the resource or in
// Globals.HttpApi) guards its routes that do not say NONE.
func TestSAMHttpApiDefaultAuthorizer(t *testing.T) {
	src := `AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Globals:
  HttpApi:
    Auth:
      DefaultAuthorizer: GlobalJwt
      Authorizers:
        GlobalJwt:
          JwtConfiguration: { issuer: "https://example.com", audience: [a] }
          IdentitySource: $request.header.Authorization
Resources:
  MyHttp:
    Type: AWS::Serverless::HttpApi
    Properties:
      Auth:
        DefaultAuthorizer: Jwt
        Authorizers:
          Jwt:
            JwtConfiguration: { issuer: "https://example.com", audience: [a] }
            IdentitySource: $request.header.Authorization
  Orders:
    Type: AWS::Serverless::Function
    Properties:
      Handler: index.handler
      Runtime: nodejs20.x
      Events:
        A:
          Type: HttpApi
          Properties: { Path: /a, Method: get, ApiId: !Ref MyHttp }
        B:
          Type: HttpApi
          Properties: { Path: /b, Method: get }
        C:
          Type: HttpApi
          Properties:
            Path: /c
            Method: get
            ApiId: !Ref MyHttp
            Auth: { Authorizer: NONE }
`
	got := importSource(t, "template.yaml", src, map[string]string{"index.js": handler})
	keyed(t, got, "GET", "/a")
	keyed(t, got, "GET", "/b")
	if r := route(got.cfg, "GET", "/c"); r == nil || !r.Public() {
		t.Errorf("GET /c = %+v, want it open (Authorizer: NONE)", r)
	}
}

// SAM applies an API's ApiKeyRequired and DefaultAuthorizer to every
// method of its DefinitionBody, not only to those its events name
// (samtranslator's _set_default_apikey_required iterates every path).
func TestSAMDefinitionBodyDefaults(t *testing.T) {
	src := `AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Resources:
  Keyed:
    Type: AWS::Serverless::Api
    Properties:
      StageName: prod
      Auth:
        ApiKeyRequired: true
      DefinitionBody:
        openapi: 3.0.1
        paths:
          /a:
            get:
              x-amazon-apigateway-integration:
                type: aws_proxy
                httpMethod: POST
                uri: !Sub arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${Orders.Arn}/invocations
  Guarded:
    Type: AWS::Serverless::Api
    Properties:
      StageName: prod
      Auth:
        DefaultAuthorizer: AWS_IAM
      DefinitionBody:
        openapi: 3.0.1
        paths:
          /b:
            get:
              x-amazon-apigateway-integration:
                type: aws_proxy
                httpMethod: POST
                uri: !Sub arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${Orders.Arn}/invocations
  Orders:
    Type: AWS::Serverless::Function
    Properties:
      Handler: index.handler
      Runtime: nodejs20.x
`
	got := importSource(t, "template.yaml", src, map[string]string{"index.js": handler})
	keyed(t, got, "GET", "/a")
	keyed(t, got, "GET", "/b")
}

// On an API described by its DefinitionBody, an event's Authorizer: NONE
// or ApiKeyRequired: false loosens the API's Auth only with
// OverrideApiAuth: true (sam-property-function-apifunctionauth).
func TestSAMOverrideApiAuth(t *testing.T) {
	src := `AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Resources:
  Keyed:
    Type: AWS::Serverless::Api
    Properties:
      StageName: prod
      Auth:
        ApiKeyRequired: true
      DefinitionBody:
        openapi: 3.0.1
        paths: {}
  Orders:
    Type: AWS::Serverless::Function
    Properties:
      Handler: index.handler
      Runtime: nodejs20.x
      Events:
        X:
          Type: Api
          Properties:
            Path: /x
            Method: get
            RestApiId: !Ref Keyed
            Auth: { ApiKeyRequired: false }
        Y:
          Type: Api
          Properties:
            Path: /y
            Method: get
            RestApiId: !Ref Keyed
            Auth: { ApiKeyRequired: false, OverrideApiAuth: true }
`
	got := importSource(t, "template.yaml", src, map[string]string{"index.js": handler})
	keyed(t, got, "GET", "/x")
	if r := route(got.cfg, "GET", "/y"); r == nil || !r.Public() {
		t.Errorf("GET /y = %+v, want it open (OverrideApiAuth: true)", r)
	}
	if hasFinding(got.p, `OverrideApiAuth`) {
		t.Errorf("OverrideApiAuth is read, not listed:\n%s", strings.Join(findings(got.p), "\n"))
	}
}
