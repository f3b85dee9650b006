package importer_test

import (
	"strings"
	"testing"

	"github.com/inquir-dev/inquir/emulator/config"
)

// TestHTTPAPIPayload checks that an HTTP API route is imported with the
// payload format version its API sends: 2.0 by default, 1.0 where SAM's
// PayloadFormatVersion or the Serverless Framework's
// provider.httpApi.payload says so (with a note), and a version that is
// neither refused as a finding.
func TestHTTPAPIPayload(t *testing.T) {
	const handler = "exports.handler = async () => ({ statusCode: 200 });\n"
	sam := func(version string) string {
		props := "            Path: /orders\n            Method: get\n"
		if version != "" {
			props += "            PayloadFormatVersion: '" + version + "'\n"
		}
		return `AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Resources:
  Orders:
    Type: AWS::Serverless::Function
    Properties:
      Handler: src/orders.handler
      Runtime: nodejs20.x
      Events:
        List:
          Type: HttpApi
          Properties:
` + props
	}
	sls := func(version string) string {
		provider := "provider:\n  name: aws\n  runtime: nodejs20.x\n"
		if version != "" {
			provider += "  httpApi:\n    payload: '" + version + "'\n"
		}
		return "service: shop\n" + provider + "functions:\n  orders:\n    handler: src/orders.handler\n    events:\n      - httpApi: 'GET /orders'\n"
	}
	tests := []struct {
		name, file, src string
		payload         string
		finding         string
	}{
		{"sam default", "template.yaml", sam(""), config.Payload2, ""},
		{"sam 2.0", "template.yaml", sam("2.0"), config.Payload2, ""},
		{"sam 1.0", "template.yaml", sam("1.0"), config.Payload1, `note Resources.Orders.Properties.Events.List an HTTP API route with payload 1.0`},
		{"sam 3.0", "template.yaml", sam("3.0"), config.Payload2, `dropped Resources.Orders.Properties.Events.List.Properties.PayloadFormatVersion "3.0" is not a payload format version`},
		{"serverless default", "serverless.yml", sls(""), config.Payload2, ""},
		{"serverless 1.0", "serverless.yml", sls("1.0"), config.Payload1, `note functions.orders.events\[0\].httpApi an HTTP API route with payload 1.0`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := importSource(t, tt.file, tt.src, map[string]string{"src/orders.js": handler})
			r := route(got.cfg, "GET", "/orders")
			if r == nil || r.Payload != tt.payload {
				t.Fatalf("GET /orders = %+v, want payload %s\n%s", r, tt.payload, got.toml)
			}
			if tt.payload == config.Payload2 && !strings.Contains(got.toml, "payload = \"2.0\"") {
				t.Errorf("inquir.toml does not say payload = \"2.0\":\n%s", got.toml)
			}
			if tt.finding != "" && !hasFinding(got.p, tt.finding) {
				t.Errorf("no finding matches %s in:\n%s", tt.finding, strings.Join(findings(got.p), "\n"))
			}
		})
	}
}

// TestOpenAPIPayloadFormatVersion checks that an HTTP API's OpenAPI
// document (x-amazon-apigateway-integration's payloadFormatVersion) is
// imported with that payload.
func TestOpenAPIPayloadFormatVersion(t *testing.T) {
	doc := `openapi: 3.0.1
info: { title: shop, version: "1" }
paths:
  /orders:
    get:
      x-amazon-apigateway-integration:
        type: aws_proxy
        httpMethod: POST
        uri: arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:orders/invocations
        payloadFormatVersion: "2.0"
  /legacy:
    get:
      x-amazon-apigateway-integration:
        type: aws_proxy
        httpMethod: POST
        uri: arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:orders/invocations
        payloadFormatVersion: "1.0"
`
	got := importSource(t, "openapi.yaml", doc, map[string]string{"functions/orders/index.js": "exports.handler = async () => ({});\n"})
	if r := route(got.cfg, "GET", "/orders"); r == nil || r.Payload != config.Payload2 {
		t.Errorf("GET /orders = %+v, want payload 2.0\n%s", r, got.toml)
	}
	if r := route(got.cfg, "GET", "/legacy"); r == nil || r.Payload != config.Payload1 {
		t.Errorf("GET /legacy = %+v, want payload 1.0\n%s", r, got.toml)
	}
}
