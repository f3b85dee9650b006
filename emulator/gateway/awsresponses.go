package gateway

import (
	"net/http"

	"github.com/inquir-dev/inquir/emulator/config"
	"github.com/inquir-dev/inquir/emulator/policy"
)

// Under compat = "aws", every answer the gateway makes itself reads as API
// Gateway REST APIs' default gateway responses ("Gateway response types
// for API Gateway" in the developer guide: each type's default template is
// {"message":$context.error.messageString}), with the messages API Gateway
// sends:
//
//   - a function that fails, throws, crashes or answers a malformed proxy
//     response: 502 {"message": "Internal server error"} (the developer
//     guide's "Handle Lambda errors in API Gateway" and the knowledge
//     center's "malformed Lambda proxy response" article);
//   - past the function's timeout: 504 {"message": "Endpoint request timed
//     out"} (INTEGRATION_TIMEOUT);
//   - a body over the limit: 413 {"message": "Request Too Long"}
//     (REQUEST_TOO_LARGE);
//   - a request it cannot take (an unencoded | { } in the query, and
//     inquir's stricter path and method refusals): 400 {"message": "Bad
//     Request"} (DEFAULT_4XX);
//   - inquir's own states that have no AWS counterpart (no config loaded,
//     every local worker busy, a build under way): their status, with the
//     status's text as the message.
//
// The refusals of a key (401, 403, 404, 405) are reject's; the 429s are
// limit's. Under compat = "inquir" every one is inquir's error body.
var awsMessages = map[int][]byte{
	http.StatusBadRequest:            []byte(`{"message":"Bad Request"}` + "\n"),
	http.StatusRequestEntityTooLarge: []byte(`{"message":"Request Too Long"}` + "\n"),
	http.StatusBadGateway:            []byte(`{"message":"Internal server error"}` + "\n"),
	http.StatusGatewayTimeout:        []byte(`{"message":"Endpoint request timed out"}` + "\n"),
}

// answer writes a response the gateway makes itself: under p's compat =
// "aws", API Gateway's body for code; otherwise inquir's error body.
func (g *Gateway) answer(w http.ResponseWriter, p *policy.Policy, code int, errCode, message string) int {
	if p == nil || p.Config.Gateway.Compat != config.CompatAWS || code == 499 {
		return g.fail(w, code, errCode, message)
	}
	body, ok := awsMessages[code]
	if !ok {
		body = appendAWSMessage(nil, http.StatusText(code))
	}
	writeJSONBody(w, code, body)
	return code
}

// appendAWSMessage appends {"message":text} and a newline.
func appendAWSMessage(dst []byte, text string) []byte {
	dst = append(dst, `{"message":`...)
	dst = appendJSONString(dst, text)
	return append(dst, '}', '\n')
}
