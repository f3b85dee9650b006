package gateway

import (
	"fmt"
	"net/http"
	"testing"
)

// TestAWSNotFoundV2: under compat = "aws", an HTTP API ([gateway] payload
// = "2.0") answers a request no route serves, whatever its method,
// 404 {"message":"Not Found"}, where a REST API answers 403 "Missing
// Authentication Token" (aws/aws-lambda-dotnet#1909, AWS's Lambda test
// tool: "a 'Not Found' for HTTP API Gateway mode and 'Missing
// Authentication Token' for Rest"). The function does not run.
func TestAWSNotFoundV2(t *testing.T) {
	f := newFixtureConfig(t, fmt.Sprintf(v2Config, "aws", sha(partnerSecret)))
	rec := f.do("DELETE", "/", "", "x-api-key", partnerSecret)
	if rec.Code != http.StatusNotFound || rec.Body.String() != `{"message":"Not Found"}`+"\n" {
		t.Errorf("DELETE / on an HTTP API: %d %q, want 404 {\"message\":\"Not Found\"}", rec.Code, rec.Body)
	}
	if rec.Header().Get("Allow") != "" {
		t.Errorf("Allow %q: an HTTP API sends none", rec.Header().Get("Allow"))
	}
	if n := len(f.spy.called()); n != 0 {
		t.Errorf("the function ran %d times", n)
	}
}
