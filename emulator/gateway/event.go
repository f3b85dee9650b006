package gateway

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/inquir-dev/inquir/emulator/policy"
)

// Stage is the requestContext.stage of every event.
const Stage = "local"

// The event as API Gateway REST APIs build it for a Lambda proxy
// integration (payload format 1.0). Its shape follows AWS's published
// examples: the "Input format of a Lambda function for proxy integration"
// in the API Gateway developer guide, and aws-lambda-go's
// events/testdata/apigw-request.json. Fields AWS sends as null are null
// here too (identity's Cognito and IAM fields, stageVariables, body without
// a body), and isBase64Encoded is always present. aws-lambda-go's own
// types would drop those nulls (body "" rather than null), which a handler
// written as JSON.parse(event.body ?? '{}') tells apart.
type proxyEvent struct {
	Resource                        string              `json:"resource"`
	Path                            string              `json:"path"`
	HTTPMethod                      string              `json:"httpMethod"`
	Headers                         map[string]string   `json:"headers"`
	MultiValueHeaders               map[string][]string `json:"multiValueHeaders"`
	QueryStringParameters           map[string]string   `json:"queryStringParameters"`
	MultiValueQueryStringParameters map[string][]string `json:"multiValueQueryStringParameters"`
	PathParameters                  map[string]string   `json:"pathParameters"`
	StageVariables                  map[string]string   `json:"stageVariables"`
	RequestContext                  requestContext      `json:"requestContext"`
	Body                            *string             `json:"body"`
	IsBase64Encoded                 bool                `json:"isBase64Encoded"`
}

type requestContext struct {
	ResourceID        string         `json:"resourceId"`
	ResourcePath      string         `json:"resourcePath"`
	HTTPMethod        string         `json:"httpMethod"`
	ExtendedRequestID string         `json:"extendedRequestId"`
	RequestTime       string         `json:"requestTime"`
	Path              string         `json:"path"`
	AccountID         string         `json:"accountId"`
	Protocol          string         `json:"protocol"`
	Stage             string         `json:"stage"`
	DomainPrefix      string         `json:"domainPrefix"`
	RequestTimeEpoch  int64          `json:"requestTimeEpoch"`
	RequestID         string         `json:"requestId"`
	Identity          identity       `json:"identity"`
	DomainName        string         `json:"domainName"`
	APIID             string         `json:"apiId"`
	Authorizer        map[string]any `json:"authorizer,omitempty"`
}

// identity is requestContext.identity. Only sourceIp, userAgent and, with
// a key, apiKeyId have values: the rest come from IAM, Cognito or mutual
// TLS, which inquir does not do, and are null as AWS sends them without.
// apiKey, which on AWS holds the key itself, stays null: a handler never
// holds a secret.
type identity struct {
	CognitoIdentityPoolID         *string `json:"cognitoIdentityPoolId"`
	AccountID                     *string `json:"accountId"`
	CognitoIdentityID             *string `json:"cognitoIdentityId"`
	Caller                        *string `json:"caller"`
	APIKey                        *string `json:"apiKey"`
	APIKeyID                      *string `json:"apiKeyId"`
	AccessKey                     *string `json:"accessKey"`
	SourceIP                      string  `json:"sourceIp"`
	PrincipalOrgID                *string `json:"principalOrgId"`
	CognitoAuthenticationType     *string `json:"cognitoAuthenticationType"`
	CognitoAuthenticationProvider *string `json:"cognitoAuthenticationProvider"`
	UserArn                       *string `json:"userArn"`
	UserAgent                     string  `json:"userAgent"`
	User                          *string `json:"user"`
}

// The account and API id every event names: inquir has neither.
const (
	accountID = "000000000000"
	apiID     = "inquir"
)

// newEvent makes the API Gateway REST (v1.0) proxy event for an
// authorized request. The key header is left out, so no handler ever sees a
// secret; the key's id and metadata come in requestContext instead. names
// are the request's header names as the client spelled them (headerNames),
// or "" to use Go's canonical ones.
func newEvent(r *http.Request, m policy.Match, d policy.Decision, body []byte, requestID, keyHeader, names string, now time.Time) proxyEvent {
	name := func(canonical string) string { return spelledAs(names, canonical) }
	skip := http.CanonicalHeaderKey(keyHeader)
	headers := make(map[string]string, len(r.Header)+1)
	multiHeaders := make(map[string][]string, len(r.Header)+1)
	for key, values := range r.Header {
		if key == skip || len(values) == 0 {
			continue
		}
		n := name(key)
		headers[n] = values[len(values)-1] // API Gateway keeps the last value
		multiHeaders[n] = values
	}
	if r.Host != "" {
		n := name("Host")
		headers[n] = r.Host
		multiHeaders[n] = []string{r.Host}
	}
	query, multiQuery := splitQuery(r.URL.RawQuery)
	path := sentPath(r.URL.EscapedPath(), m)
	var params map[string]string
	if len(m.Params) > 0 {
		params = sentParams(m.Route.Path, path, m.Path, m.Params)
	}

	sourceIP, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		sourceIP = r.RemoteAddr
	}
	domain := r.Host
	if h, _, err := net.SplitHostPort(domain); err == nil {
		domain = h
	}
	prefix, _, _ := strings.Cut(domain, ".")
	rc := requestContext{
		ResourceID:        strconv.Itoa(m.Route.Index),
		ResourcePath:      m.Route.Path,
		HTTPMethod:        r.Method,
		ExtendedRequestID: extendedRequestID(),
		RequestTime:       string(appendRequestTime(make([]byte, 0, len(requestTimeLayout)), now)),
		Path:              path,
		AccountID:         accountID,
		Protocol:          r.Proto,
		Stage:             Stage,
		DomainPrefix:      prefix,
		RequestTimeEpoch:  now.UnixMilli(),
		RequestID:         requestID,
		Identity:          identity{SourceIP: sourceIP, UserAgent: r.UserAgent()},
		DomainName:        domain,
		APIID:             apiID,
	}
	if d.Key != nil {
		rc.Identity.APIKeyID = &d.Key.ID
		rc.Authorizer = make(map[string]any, len(d.Key.Metadata)+1)
		rc.Authorizer["apiKeyId"] = d.Key.ID
		for k, v := range d.Key.Metadata {
			rc.Authorizer[k] = v
		}
	}
	ev := proxyEvent{
		Resource:                        m.Route.Path,
		Path:                            path,
		HTTPMethod:                      r.Method,
		Headers:                         headers,
		MultiValueHeaders:               multiHeaders,
		QueryStringParameters:           query,
		MultiValueQueryStringParameters: multiQuery,
		PathParameters:                  params,
		RequestContext:                  rc,
	}
	// A REST API passes text as it is; bytes that are not UTF-8 would not
	// survive JSON, so they travel base64-encoded. No body is null. A body
	// of a binary media type is base64 too: the gateway sets it again.
	ev.setBody(body, false)
	return ev
}

// utf8Valid reports whether b is valid UTF-8.
func utf8Valid(b []byte) bool { return utf8.Valid(b) }

// typed returns the event as aws-lambda-go decodes its JSON, for a function
// that takes it as a value (EventInvoker): nulls become zero values, as
// json.Unmarshal leaves them. TestTypedEventMatchesDecodedJSON holds the two
// equal.
func (ev *proxyEvent) typed() *events.APIGatewayProxyRequest {
	rc := &ev.RequestContext
	out := &events.APIGatewayProxyRequest{
		Resource:                        ev.Resource,
		Path:                            ev.Path,
		HTTPMethod:                      ev.HTTPMethod,
		Headers:                         ev.Headers,
		MultiValueHeaders:               ev.MultiValueHeaders,
		QueryStringParameters:           ev.QueryStringParameters,
		MultiValueQueryStringParameters: ev.MultiValueQueryStringParameters,
		PathParameters:                  ev.PathParameters,
		StageVariables:                  ev.StageVariables,
		Body:                            valueOr(ev.Body),
		IsBase64Encoded:                 ev.IsBase64Encoded,
		RequestContext: events.APIGatewayProxyRequestContext{
			AccountID:         rc.AccountID,
			ResourceID:        rc.ResourceID,
			Stage:             rc.Stage,
			DomainName:        rc.DomainName,
			DomainPrefix:      rc.DomainPrefix,
			RequestID:         rc.RequestID,
			ExtendedRequestID: rc.ExtendedRequestID,
			Protocol:          rc.Protocol,
			ResourcePath:      rc.ResourcePath,
			Path:              rc.Path,
			HTTPMethod:        rc.HTTPMethod,
			RequestTime:       rc.RequestTime,
			RequestTimeEpoch:  rc.RequestTimeEpoch,
			APIID:             rc.APIID,
			Identity: events.APIGatewayRequestIdentity{
				APIKeyID:  valueOr(rc.Identity.APIKeyID),
				SourceIP:  rc.Identity.SourceIP,
				UserAgent: rc.Identity.UserAgent,
			},
		},
	}
	if rc.Authorizer != nil {
		out.RequestContext.Authorizer = make(map[string]any, len(rc.Authorizer))
		for k, v := range rc.Authorizer {
			switch t := v.(type) {
			case int64:
				v = float64(t) // a JSON number, as json.Unmarshal decodes it
			case string:
			default:
				// A simple response's context (lambda), as json.Unmarshal
				// decodes it: numbers as float64.
				if b, err := json.Marshal(t); err == nil {
					var d any
					if json.Unmarshal(b, &d) == nil {
						v = d
					}
				}
			}
			out.RequestContext.Authorizer[k] = v
		}
	}
	return out
}

// requestTimeLayout is requestContext.requestTime's layout, in UTC.
const requestTimeLayout = "02/Jan/2006:15:04:05 -0700"

// appendRequestTime appends t in UTC as t.UTC().Format(requestTimeLayout)
// writes it (TestRequestTimeMatchesFormat), without the layout's parsing.
func appendRequestTime(b []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(b, requestTimeLayout)
	}
	hour, min, sec := t.Clock()
	two := func(b []byte, n int) []byte { return append(b, byte('0'+n/10), byte('0'+n%10)) }
	b = two(b, day)
	b = append(b, '/')
	b = append(b, month.String()[:3]...)
	b = append(b, '/')
	b = two(two(b, year/100), year%100)
	b = append(b, ':')
	b = two(b, hour)
	b = append(b, ':')
	b = two(b, min)
	b = append(b, ':')
	b = two(b, sec)
	return append(b, " +0000"...)
}

// splitQuery splits a raw query string as API Gateway REST APIs do:
// pairs are separated by "&" and by ";" ("The semicolon character (;) is
// not supported for any request URL query string and results in the data
// being split": "Amazon API Gateway important notes for REST APIs"; Go's
// url.ParseQuery, by contrast, drops a pair holding one), names and values
// are percent-decoded with "+" as a space, and the last value of a
// repeated name is its single value. Both maps are nil when there is no
// query, as AWS sends null.
func splitQuery(raw string) (single map[string]string, multi map[string][]string) {
	for pair := range strings.FieldsFuncSeq(raw, isQuerySeparator) {
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		k, v = queryUnescape(k), queryUnescape(v)
		if single == nil {
			single, multi = map[string]string{}, map[string][]string{}
		}
		single[k] = v
		multi[k] = append(multi[k], v)
	}
	return single, multi
}

// isQuerySeparator reports whether c separates query pairs.
func isQuerySeparator(c rune) bool { return c == '&' || c == ';' }

// queryUnescape decodes s, or keeps it as sent if it is not valid
// percent-encoding.
func queryUnescape(s string) string {
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

// extendedRequestID returns an id shaped like API Gateway's
// extendedRequestId: 12 random bytes, base64.
func extendedRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return base64.StdEncoding.EncodeToString(b[:])
}

// proxyResponse is a function's answer as API Gateway reads a proxy
// response: header values already made strings.
type proxyResponse struct {
	StatusCode        int
	Headers           map[string]string
	MultiValueHeaders map[string][]string
	Body              string
	IsBase64Encoded   bool
}

// errMalformed is what API Gateway calls a response it cannot map: it
// answers the caller 502 and logs "Malformed Lambda proxy response".
var errMalformed = errors.New("malformed Lambda proxy response")

// parseResponse reads a function's answer as API Gateway REST reads a
// Lambda proxy response: a JSON object with only the keys statusCode
// (a number, or a string holding one; 200 when absent), headers (values
// strings, or booleans and numbers, which it sends as their JSON text),
// multiValueHeaders (arrays of the same), body (a string) and
// isBase64Encoded. Anything else, an unknown key included (an HTTP API's
// "cookies", say), is malformed, and API Gateway answers 502: so does
// inquir, or a handler that works here would fail in production.
func parseResponse(out []byte) (*proxyResponse, error) {
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.UseNumber()
	var fields map[string]json.RawMessage
	// Nothing but whitespace may follow the object: the decoder's More
	// does not see a stray "]" or "}" after a top-level value.
	if err := dec.Decode(&fields); err != nil || fields == nil || len(bytes.Trim(out[dec.InputOffset():], " \t\r\n")) > 0 {
		return nil, fmt.Errorf("%w: the function's result is not a JSON object", errMalformed)
	}
	resp := &proxyResponse{StatusCode: http.StatusOK}
	for key, raw := range fields {
		var err error
		switch key {
		case "statusCode":
			resp.StatusCode, err = statusCode(raw)
		case "headers":
			var m map[string]json.RawMessage
			if err = json.Unmarshal(raw, &m); err == nil {
				resp.Headers = make(map[string]string, len(m))
				for name, v := range m {
					var s string
					if s, err = headerValue(v); err != nil {
						err = fmt.Errorf("header %q: %w", name, err)
						break
					}
					resp.Headers[name] = s
				}
			}
		case "multiValueHeaders":
			var m map[string][]json.RawMessage
			if err = json.Unmarshal(raw, &m); err == nil {
				resp.MultiValueHeaders = make(map[string][]string, len(m))
				for name, vs := range m {
					for _, v := range vs {
						var s string
						if s, err = headerValue(v); err != nil {
							err = fmt.Errorf("header %q: %w", name, err)
							break
						}
						resp.MultiValueHeaders[name] = append(resp.MultiValueHeaders[name], s)
					}
				}
			}
		case "body":
			if string(raw) != "null" {
				resp.Body, err = jsonString(raw)
			}
		case "isBase64Encoded":
			switch string(raw) {
			case "null":
			case "true":
				resp.IsBase64Encoded = true
			case "false":
				resp.IsBase64Encoded = false
			default:
				err = json.Unmarshal(raw, &resp.IsBase64Encoded)
			}
		default:
			return nil, fmt.Errorf("%w: unknown key %q", errMalformed, key)
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

// Empty header maps, what parseResponse makes of a null headers or
// multiValueHeaders. Never written to: writeResponse only reads.
var (
	noHeaders      = map[string]string{}
	noMultiHeaders = map[string][]string{}
)

// responseOf maps a response a go-plugin handler returned as a value
// exactly as parseResponse maps its JSON (json.Marshal of it, as
// aws-lambda-go encodes it), without the encoding and the parsing: the
// same response, or the same error. TestResponseOfMatchesJSON and
// FuzzResponseOf hold the two equal. The maps and the body are the
// handler's, not copies: nothing writes to them.
func responseOf(v *events.APIGatewayProxyResponse) (*proxyResponse, error) {
	if !validUTF8(v) {
		// json.Marshal replaces bytes that are not UTF-8 with U+FFFD, and
		// header names so replaced may become one: the JSON way says what
		// that makes of them.
		out, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("%w: the function's result is not a JSON object", errMalformed)
		}
		return parseResponse(out)
	}
	if v.StatusCode < 100 || v.StatusCode > 599 {
		return nil, fmt.Errorf("%w: statusCode: %d is not an HTTP status", errMalformed, v.StatusCode)
	}
	resp := &proxyResponse{
		StatusCode:        v.StatusCode,
		Headers:           v.Headers,
		MultiValueHeaders: v.MultiValueHeaders,
		Body:              v.Body,
		IsBase64Encoded:   v.IsBase64Encoded,
	}
	if resp.Headers == nil {
		resp.Headers = noHeaders
	}
	if resp.MultiValueHeaders == nil {
		resp.MultiValueHeaders = noMultiHeaders
	}
	for _, values := range resp.MultiValueHeaders {
		if len(values) == 0 {
			// A name with no values ([] or null) is left out of the
			// parsed map: so a header of that name in headers is sent.
			resp.MultiValueHeaders = make(map[string][]string, len(v.MultiValueHeaders))
			for name, values := range v.MultiValueHeaders {
				if len(values) > 0 {
					resp.MultiValueHeaders[name] = values
				}
			}
			break
		}
	}
	if resp.IsBase64Encoded {
		if _, err := base64.StdEncoding.DecodeString(resp.Body); err != nil {
			return nil, fmt.Errorf("%w: isBase64Encoded is true but body is not base64", errMalformed)
		}
	}
	return resp, nil
}

// validUTF8 reports whether every string in v is valid UTF-8, which JSON
// carries unchanged.
func validUTF8(v *events.APIGatewayProxyResponse) bool {
	if !utf8.ValidString(v.Body) {
		return false
	}
	for name, value := range v.Headers {
		if !utf8.ValidString(name) || !utf8.ValidString(value) {
			return false
		}
	}
	for name, values := range v.MultiValueHeaders {
		if !utf8.ValidString(name) {
			return false
		}
		for _, value := range values {
			if !utf8.ValidString(value) {
				return false
			}
		}
	}
	return true
}

// statusCode reads a statusCode: a whole number or a string holding one,
// an HTTP status.
func statusCode(raw json.RawMessage) (int, error) {
	if string(raw) == "null" {
		return http.StatusOK, nil
	}
	if len(raw) <= 3 && digits(raw) {
		// The common case, 200 or 404, read without a decoder.
		code, _ := strconv.Atoi(string(raw))
		if code < 100 || code > 599 {
			return 0, fmt.Errorf("%s is not an HTTP status", raw)
		}
		return code, nil
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return 0, errors.New("not a number")
		}
		n = json.Number(strings.TrimSpace(s))
	}
	code, err := strconv.Atoi(n.String())
	if err != nil || code < 100 || code > 599 {
		return 0, fmt.Errorf("%s is not an HTTP status", n)
	}
	return code, nil
}

// headerValue reads one header value: a string, or a boolean or number,
// sent as its JSON text ("true", "3600").
func headerValue(raw json.RawMessage) (string, error) {
	// raw comes from a decoder that has checked it is JSON: its first
	// byte says what it is, and strings, booleans and numbers are read
	// without a decoder of their own.
	if len(raw) > 0 {
		switch c := raw[0]; {
		case c == '"':
			return jsonString(raw)
		case string(raw) == "true" || string(raw) == "false":
			return string(raw), nil
		case (c == '-' || '0' <= c && c <= '9') && json.Valid(raw):
			return string(raw), nil // a json.Number's text is its literal
		}
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return "", err
	}
	switch v := v.(type) {
	case string:
		return v, nil
	case bool, json.Number:
		return fmt.Sprint(v), nil
	}
	return "", errors.New("a value must be a string, a number or a boolean")
}

// digits reports whether b is one or more ASCII digits.
func digits(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// jsonString decodes raw, a JSON string, as json.Unmarshal into a string
// does. One with no escapes and valid UTF-8 is its bytes between the
// quotes; anything else goes through json.Unmarshal.
func jsonString(raw []byte) (string, error) {
	if n := len(raw); n >= 2 && raw[0] == '"' && raw[n-1] == '"' {
		inner := raw[1 : n-1]
		plain := utf8.Valid(inner)
		for _, c := range inner {
			if c == '\\' || c == '"' || c < 0x20 {
				plain = false
				break
			}
		}
		if plain {
			return string(inner), nil
		}
	}
	var s string
	err := json.Unmarshal(raw, &s)
	return s, err
}

// hopHeaders are the function's to suggest but the server's to set.
var hopHeaders = map[string]bool{
	"Connection": true, "Content-Length": true, "Transfer-Encoding": true, "Keep-Alive": true, "Upgrade": true,
}

// writeResponse writes a parsed function response. A name in both
// multiValueHeaders and headers is sent with the multiValueHeaders values
// alone, as API Gateway does.
func writeResponse(w http.ResponseWriter, resp *proxyResponse) int {
	h := w.Header()
	for name, values := range resp.MultiValueHeaders {
		if !hopHeaders[http.CanonicalHeaderKey(name)] {
			for _, v := range values {
				h.Add(name, v)
			}
		}
	}
	for name, v := range resp.Headers {
		if hopHeaders[http.CanonicalHeaderKey(name)] || multiValued(resp.MultiValueHeaders, name) {
			continue
		}
		h.Add(name, v)
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

// multiValued reports whether multi has a header of name, in any case.
func multiValued(multi map[string][]string, name string) bool {
	for n := range multi {
		if strings.EqualFold(n, name) {
			return true
		}
	}
	return false
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(code)
	_, _ = w.Write(append(b, '\n'))
}
