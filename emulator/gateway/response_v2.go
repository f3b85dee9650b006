package gateway

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
)

// responseV2 is a function's answer as an HTTP API reads it (payload 2.0):
// a proxy response and the cookies that become Set-Cookie headers.
type responseV2 struct {
	proxyResponse
	Cookies []string
	// Ignored names the multiValueHeaders the answer had, which an HTTP
	// API does not send (see parseResponseV2), for the log.
	Ignored []string
}

// parseResponseV2 reads a function's answer as an HTTP API reads a payload
// 2.0 response ("Lambda function response format" in the developer guide's
// "Create AWS Lambda proxy integrations for HTTP APIs"):
//
//   - A JSON object with a statusCode is a response: statusCode (a number,
//     or a string holding one), headers (values strings, numbers or
//     booleans), cookies (strings, each sent as a Set-Cookie header), body
//     (a string) and isBase64Encoded. Other keys are not part of the
//     format and are left unread, multiValueHeaders too, which
//     aws-lambda-go's APIGatewayV2HTTPResponse always writes: an HTTP API
//     sends none of them (the API Gateway team's answer in
//     aws/serverless-java-container#377, "Headers written to the header
//     field were exposed, multiheaders not"; Kludex/mangum#215, whose
//     cookies were lost so). Their names are kept in Ignored, for the log.
//   - Any other valid JSON, an object without statusCode included, is the
//     body of a 200 application/json answer, as the guide says API Gateway
//     infers it: a JSON string's text, anything else as the function wrote
//     it. So {"body": "hi"} without statusCode answers its own JSON, as on
//     AWS.
//
// A statusCode that is not an HTTP status, a field of the wrong type or a
// body that isBase64Encoded says is base64 but is not, is malformed: an
// HTTP API answers 500.
func parseResponseV2(out []byte) (*responseV2, error) {
	out = bytes.Trim(out, " \t\r\n") // JSON's whitespace
	// json.Valid, not the decoder's More: after a value at the top level
	// More does not see a stray "]" or "}".
	if !json.Valid(out) {
		return nil, fmt.Errorf("%w: the function's result is not JSON", errMalformed)
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("%w: the function's result is not JSON", errMalformed)
	}
	var fields map[string]json.RawMessage
	if _, object := v.(map[string]any); object {
		_ = json.Unmarshal(out, &fields) // decoded once already
	}
	if code, ok := fields["statusCode"]; !ok || string(code) == "null" {
		resp := &responseV2{proxyResponse: proxyResponse{
			StatusCode: http.StatusOK,
			Headers:    map[string]string{"Content-Type": "application/json"},
			Body:       string(out),
		}}
		if s, ok := v.(string); ok {
			resp.Body = s
		}
		return resp, nil
	}

	resp := &responseV2{proxyResponse: proxyResponse{StatusCode: http.StatusOK}}
	for key, raw := range fields {
		var err error
		switch key {
		case "statusCode":
			resp.StatusCode, err = statusCode(raw)
		case "headers":
			resp.Headers, err = headerMap(raw)
		case "multiValueHeaders":
			var m map[string]json.RawMessage
			if json.Unmarshal(raw, &m) == nil {
				for name := range m {
					resp.Ignored = append(resp.Ignored, name)
				}
				slices.Sort(resp.Ignored)
			}
		case "cookies":
			if string(raw) != "null" {
				err = json.Unmarshal(raw, &resp.Cookies)
			}
		case "body":
			if string(raw) != "null" {
				resp.Body, err = jsonString(raw)
			}
		case "isBase64Encoded":
			if string(raw) != "null" {
				err = json.Unmarshal(raw, &resp.IsBase64Encoded)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", errMalformed, key, err)
		}
	}
	if resp.IsBase64Encoded {
		if _, err := base64.StdEncoding.DecodeString(resp.Body); err != nil {
			return nil, fmt.Errorf("%w: isBase64Encoded is true but body is not base64", errMalformed)
		}
	}
	return resp, nil
}

// headerMap reads a response's headers: values strings, numbers or
// booleans. null is no headers.
func headerMap(raw json.RawMessage) (map[string]string, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	out := make(map[string]string, len(m))
	for name, v := range m {
		s, err := headerValue(v)
		if err != nil {
			return nil, fmt.Errorf("header %q: %w", name, err)
		}
		out[name] = s
	}
	return out, nil
}

// writeResponseV2 writes a parsed payload 2.0 response: each cookie as a
// Set-Cookie header of its own, then the response as payload 1.0 writes
// one.
func writeResponseV2(w http.ResponseWriter, resp *responseV2) int {
	for _, c := range resp.Cookies {
		w.Header().Add("Set-Cookie", c)
	}
	return writeResponse(w, &resp.proxyResponse)
}
