package gateway

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/inquir-dev/inquir/emulator/policy"
)

// Stage is the requestContext.stage of every event.
const Stage = "local"

// buildEvent makes the API Gateway REST (v1.0) proxy event for an
// authorized request. The key header is left out, so no handler ever sees a
// secret; the key's id and metadata come in requestContext instead.
func buildEvent(r *http.Request, m policy.Match, d policy.Decision, body []byte, requestID, keyHeader string, now time.Time) ([]byte, error) {
	skip := http.CanonicalHeaderKey(keyHeader)
	headers, multiHeaders := map[string]string{}, map[string][]string{}
	for name, values := range r.Header {
		if name == skip || len(values) == 0 {
			continue
		}
		headers[name] = values[len(values)-1] // API Gateway keeps the last value
		multiHeaders[name] = values
	}
	if r.Host != "" {
		headers["Host"] = r.Host
		multiHeaders["Host"] = []string{r.Host}
	}
	var query map[string]string
	var multiQuery map[string][]string
	if q := r.URL.Query(); len(q) > 0 {
		query, multiQuery = map[string]string{}, map[string][]string{}
		for name, values := range q {
			query[name] = values[len(values)-1]
			multiQuery[name] = values
		}
	}
	var params map[string]string
	if len(m.Params) > 0 {
		params = m.Params
	}

	sourceIP, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		sourceIP = r.RemoteAddr
	}
	rc := events.APIGatewayProxyRequestContext{
		AccountID:        "000000000000",
		ResourceID:       strconv.Itoa(m.Route.Index),
		Stage:            Stage,
		RequestID:        requestID,
		ResourcePath:     m.Route.Path,
		HTTPMethod:       r.Method,
		APIID:            "inquir",
		Path:             m.Path,
		Protocol:         r.Proto,
		RequestTime:      now.UTC().Format("02/Jan/2006:15:04:05 -0700"),
		RequestTimeEpoch: now.UnixMilli(),
		Identity: events.APIGatewayRequestIdentity{
			SourceIP:  sourceIP,
			UserAgent: r.UserAgent(),
		},
	}
	if d.Key != nil {
		// identity.apiKey would hold the secret itself in AWS; it stays empty.
		rc.Identity.APIKeyID = d.Key.ID
		rc.Authorizer = map[string]any{"apiKeyId": d.Key.ID}
		for k, v := range d.Key.Metadata {
			rc.Authorizer[k] = v
		}
	}
	ev := events.APIGatewayProxyRequest{
		Resource:                        m.Route.Path,
		Path:                            m.Path,
		HTTPMethod:                      r.Method,
		Headers:                         headers,
		MultiValueHeaders:               multiHeaders,
		QueryStringParameters:           query,
		MultiValueQueryStringParameters: multiQuery,
		PathParameters:                  params,
		RequestContext:                  rc,
	}
	// A REST API passes text as it is; bytes that are not UTF-8 would not
	// survive JSON, so they travel base64-encoded.
	if utf8.Valid(body) {
		ev.Body = string(body)
	} else {
		ev.Body = base64.StdEncoding.EncodeToString(body)
		ev.IsBase64Encoded = true
	}
	return json.Marshal(ev)
}

// parseResponse reads a function's answer; anything but a proxy response
// with a valid status code is malformed (502), as on AWS.
func parseResponse(out []byte) (*events.APIGatewayProxyResponse, error) {
	var resp events.APIGatewayProxyResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		return nil, fmt.Errorf("malformed function response: %w", err)
	}
	if resp.StatusCode < 100 || resp.StatusCode > 599 {
		return nil, fmt.Errorf("malformed function response: statusCode %d is not an HTTP status", resp.StatusCode)
	}
	if resp.IsBase64Encoded {
		if _, err := base64.StdEncoding.DecodeString(resp.Body); err != nil {
			return nil, errors.New("malformed function response: isBase64Encoded is true but body is not base64")
		}
	}
	return &resp, nil
}

// hopHeaders are the function's to suggest but the server's to set.
var hopHeaders = map[string]bool{
	"Connection": true, "Content-Length": true, "Transfer-Encoding": true, "Keep-Alive": true, "Upgrade": true,
}

// writeResponse writes a parsed function response. multiValueHeaders and
// headers are merged as API Gateway does: a name in both gets the values of
// both.
func writeResponse(w http.ResponseWriter, resp *events.APIGatewayProxyResponse) int {
	h := w.Header()
	for name, values := range resp.MultiValueHeaders {
		if !hopHeaders[http.CanonicalHeaderKey(name)] {
			for _, v := range values {
				h.Add(name, v)
			}
		}
	}
	for name, v := range resp.Headers {
		if !hopHeaders[http.CanonicalHeaderKey(name)] && !slices.Contains(h.Values(name), v) {
			h.Add(name, v)
		}
	}
	if h.Get("Content-Type") == "" {
		h.Set("Content-Type", "application/json") // API Gateway's default
	}
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		body, _ = base64.StdEncoding.DecodeString(resp.Body) // checked in parseResponse
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(body)
	return resp.StatusCode
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(code)
	_, _ = w.Write(append(b, '\n'))
}
