// Package authorizers runs what API Gateway does around a Lambda
// authorizer: the event the authorizer function is handed, the answer it
// gives (an IAM policy, or a payload 2.0 simple response), the evaluation
// of that policy against a request's method ARN, and the cache that keeps
// an answer for the authorizer's TTL.
//
// It runs no function itself: the gateway invokes the authorizer's
// function with the event this package builds and hands the bytes back to
// Parse. The shapes follow the API Gateway developer guide ("Input to an
// API Gateway Lambda authorizer", "Output from an API Gateway Lambda
// authorizer") and aws-lambda-go's events/testdata captures
// (apigw-custom-auth-request*.json, apigw-custom-auth-response.json);
// testdata/aws holds copies of those, which the tests read.
package authorizers

import (
	"strings"
)

// MethodARN is the ARN API Gateway names a request by in an authorizer's
// event (methodArn) and matches a policy's Resource against:
// arn:aws:execute-api:REGION:ACCOUNT:API/STAGE/METHOD/PATH, the path as
// requested (not the route's template), without its leading slash.
func MethodARN(region, account, api, stage, method, path string) string {
	return "arn:aws:execute-api:" + region + ":" + account + ":" + api + "/" + stage + "/" + method + "/" + strings.TrimPrefix(path, "/")
}
