package importer_test

import (
	"strings"
	"testing"
)

// x-amazon-apigateway-auth: AWS_IAM on an operation keeps the route
// guarded (a key instead of the signature) and is listed; NONE leaves it
// open.
func TestOpenAPIAuthExtension(t *testing.T) {
	src := `openapi: 3.0.1
paths:
  /iam:
    get:
      x-amazon-apigateway-auth: { type: AWS_IAM }
      x-amazon-apigateway-integration: &integ
        type: aws_proxy
        httpMethod: POST
        uri: arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123:function:orders/invocations
  /open:
    get:
      x-amazon-apigateway-auth: { type: none }
      x-amazon-apigateway-integration: *integ
`
	got := importSource(t, "openapi.yaml", src, map[string]string{"functions/orders/index.js": handler})
	keyed(t, got, "GET", "/iam")
	if r := route(got.cfg, "GET", "/open"); r == nil || !r.Public() {
		t.Errorf("GET /open = %+v, want it open", r)
	}
	if !hasFinding(got.p, `^5 dropped paths./iam.get.x-amazon-apigateway-auth authorization type AWS_IAM`) {
		t.Errorf("not listed:\n%s", strings.Join(findings(got.p), "\n"))
	}
}
