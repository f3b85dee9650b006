package gateway

import (
	"encoding/base64"
	"encoding/json"
	"maps"
	"mime"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/inquir-dev/inquir/emulator/policy"
)

// StageV2 is the requestContext.stage of every payload 2.0 event: inquir
// serves routes at the root, as an HTTP API's $default stage does (no
// stage name in the path).
const StageV2 = "$default"

// The event as API Gateway HTTP APIs build it for a Lambda proxy
// integration with payload format version 2.0. Its shape follows AWS's
// published examples: "Payload format structure" in the developer guide's
// "Create AWS Lambda proxy integrations for HTTP APIs", and aws-lambda-go's
// events/testdata/apigw-v2-request-*.json (TestEventV2MatchesAWSCaptures
// holds it to them). Unlike payload 1.0, a field with no value is left out
// (cookies, queryStringParameters, pathParameters, stageVariables, body),
// header names are lower case, and repeated headers and query values are
// joined with commas. requestContext.authentication is mutual TLS's, which
// inquir does not do, and is left out as AWS leaves it out without.
type eventV2 struct {
	Version               string            `json:"version"`
	RouteKey              string            `json:"routeKey"`
	RawPath               string            `json:"rawPath"`
	RawQueryString        string            `json:"rawQueryString"`
	Cookies               []string          `json:"cookies,omitempty"`
	Headers               map[string]string `json:"headers"`
	QueryStringParameters map[string]string `json:"queryStringParameters,omitempty"`
	PathParameters        map[string]string `json:"pathParameters,omitempty"`
	RequestContext        requestContextV2  `json:"requestContext"`
	StageVariables        map[string]string `json:"stageVariables,omitempty"`
	Body                  string            `json:"body,omitempty"`
	IsBase64Encoded       bool              `json:"isBase64Encoded"`
}

type requestContextV2 struct {
	AccountID    string        `json:"accountId"`
	APIID        string        `json:"apiId"`
	Authorizer   *authorizerV2 `json:"authorizer,omitempty"`
	DomainName   string        `json:"domainName"`
	DomainPrefix string        `json:"domainPrefix"`
	HTTP         httpV2        `json:"http"`
	RequestID    string        `json:"requestId"`
	RouteKey     string        `json:"routeKey"`
	Stage        string        `json:"stage"`
	Time         string        `json:"time"`
	TimeEpoch    int64         `json:"timeEpoch"`
}

type httpV2 struct {
	Method    string `json:"method"`
	Path      string `json:"path"`
	Protocol  string `json:"protocol"`
	SourceIP  string `json:"sourceIp"`
	UserAgent string `json:"userAgent"`
}

// authorizerV2 is requestContext.authorizer as a Lambda authorizer fills
// it: the context of its simple response under "lambda".
type authorizerV2 struct {
	Lambda map[string]any `json:"lambda"`
}

// lambdaAuthorizer is requestContext.authorizer for a request a Lambda
// authorizer allowed with context, the "context" of its simple response
// ({"isAuthorized": true, "context": {...}}), which AWS hands the function
// unchanged under "lambda". A nil context gives no authorizer field.
//
// An API key's context (keyContext) comes here, and a route's Lambda
// authorizer's context merged with it (eventV2.setAuthorizer).
func lambdaAuthorizer(context map[string]any) *authorizerV2 {
	if context == nil {
		return nil
	}
	return &authorizerV2{Lambda: context}
}

// keyContext is the context an authorizer that checked inquir's API key
// would return for k: its id as apiKeyId (the name payload 1.0 uses in
// requestContext.identity and requestContext.authorizer) and its metadata
// beside it. config refuses metadata named apiKeyId. The key's secret is
// never in it.
func keyContext(k *policy.Key) map[string]any {
	if k == nil {
		return nil
	}
	ctx := make(map[string]any, len(k.Metadata)+1)
	for name, v := range k.Metadata {
		ctx[name] = v
	}
	ctx["apiKeyId"] = k.ID
	return ctx
}

// newEventV2 makes the HTTP API (payload 2.0) event for an authorized
// request. As for payload 1.0, the key header is left out, so no handler
// ever sees a secret; the key's id and metadata come in
// requestContext.authorizer.lambda instead (keyContext).
func newEventV2(r *http.Request, m policy.Match, d policy.Decision, body []byte, requestID, keyHeader string, now time.Time) eventV2 {
	skip := http.CanonicalHeaderKey(keyHeader)
	headers := make(map[string]string, len(r.Header)+4)
	var cookies []string
	for key, values := range r.Header {
		if key == skip || len(values) == 0 {
			continue
		}
		if key == "Cookie" {
			// HTTP APIs hand cookies apart, one entry per cookie, and leave
			// the Cookie header out of headers (the guide; the captures have
			// cookies and no cookie header).
			for _, v := range values {
				for c := range strings.SplitSeq(v, ";") {
					if c = strings.TrimSpace(c); c != "" {
						cookies = append(cookies, c)
					}
				}
			}
			continue
		}
		headers[strings.ToLower(key)] = strings.Join(values, ",")
	}
	if r.Host != "" {
		headers["host"] = r.Host
	}
	sourceIP, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		sourceIP = r.RemoteAddr
	}
	// The headers API Gateway adds, after the client's own (every capture
	// has them), as payload 1.0's addForwarded sets them: the client's
	// address appended to any X-Forwarded-For it sent, the port and
	// protocol it reached the gateway on. x-amzn-trace-id is setTrace's.
	if xff := headers["x-forwarded-for"]; xff != "" {
		headers["x-forwarded-for"] = xff + ", " + sourceIP
	} else {
		headers["x-forwarded-for"] = sourceIP
	}
	headers["x-forwarded-port"] = forwardedPort(r)
	headers["x-forwarded-proto"] = "http"
	if r.TLS != nil {
		headers["x-forwarded-proto"] = "https"
	}

	rawPath, rawQuery, _ := strings.Cut(r.RequestURI, "?")
	if rawPath == "" || rawPath[0] != '/' {
		// An absolute-form request line (GET http://host/a HTTP/1.1).
		rawPath, rawQuery = r.URL.EscapedPath(), r.URL.RawQuery
	}
	// The path as sent, under the rules payload 1.0's path follows: a
	// path whose dot segments or empty ones the router resolved is handed
	// over as routed, so that no framework reads "/api/admin/../x",
	// authorised as /api/x, as a request for /api/admin.
	rawPath = sentPath(rawPath, m)
	var query map[string]string
	if _, multi := splitQuery(rawQuery); multi != nil {
		query = make(map[string]string, len(multi))
		for k, vs := range multi {
			query[k] = strings.Join(vs, ",")
		}
	}
	domain := r.Host
	if h, _, err := net.SplitHostPort(domain); err == nil {
		domain = h
	}
	prefix, _, _ := strings.Cut(domain, ".")
	routeKey := m.Route.Method + " " + m.Route.Path
	ev := eventV2{
		Version:               "2.0",
		RouteKey:              routeKey,
		RawPath:               rawPath,
		RawQueryString:        rawQuery,
		Cookies:               cookies,
		Headers:               headers,
		QueryStringParameters: query,
		RequestContext: requestContextV2{
			AccountID:    accountID,
			APIID:        apiID,
			DomainName:   domain,
			DomainPrefix: prefix,
			HTTP: httpV2{
				Method:    r.Method,
				Path:      rawPath,
				Protocol:  r.Proto,
				SourceIP:  sourceIP,
				UserAgent: r.UserAgent(),
			},
			RequestID: requestID,
			RouteKey:  routeKey,
			Stage:     StageV2,
			Time:      string(appendRequestTime(make([]byte, 0, len(requestTimeLayout)), now)),
			TimeEpoch: now.UnixMilli(),
		},
	}
	if len(m.Params) > 0 {
		ev.PathParameters = m.Params
	}
	if d.Key != nil {
		ev.RequestContext.Authorizer = lambdaAuthorizer(keyContext(d.Key))
	}
	if len(body) > 0 {
		if textBody(r.Header.Get("Content-Type")) {
			ev.Body = string(body)
		} else {
			ev.Body, ev.IsBase64Encoded = base64.StdEncoding.EncodeToString(body), true
		}
	}
	return ev
}

// setTrace sets the x-amzn-trace-id header to the request's X-Ray trace id
// root (requestTraceRoot), as payload 1.0's addForwarded does: the
// client's own header when its Root is root, else "Root=" + root.
func (ev *eventV2) setTrace(root string) {
	if sent, ok := ev.Headers["x-amzn-trace-id"]; ok {
		if got, ok := traceRootOf(sent); ok && got == root {
			return
		}
	}
	ev.Headers["x-amzn-trace-id"] = "Root=" + root
}

// textBody reports whether an HTTP API hands a body of this Content-Type
// as text. AWS's guide says only that a binary body is base64-encoded;
// observed on AWS, text is text/*, application/json, application/xml and
// application/javascript, and everything else, a form
// (application/x-www-form-urlencoded) and a body without Content-Type
// included, is base64-encoded. Text that is not UTF-8 would not survive
// JSON, so it is base64-encoded too.
func textBody(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	return strings.HasPrefix(mt, "text/") || mt == "application/json" || mt == "application/xml" || mt == "application/javascript"
}

// marshal is the event's JSON, as json.Marshal writes it.
func (ev *eventV2) marshal() []byte {
	b, err := json.Marshal(ev)
	if err != nil {
		// Every field is a string, a map of strings, a bool or a number,
		// and the authorizer context holds what JSON decoded or strings.
		panic("gateway: encoding a payload 2.0 event: " + err.Error())
	}
	return b
}

// typed returns the event as aws-lambda-go decodes its JSON, for a function
// that takes it as a value (EventV2Invoker). TestTypedEventV2MatchesJSON
// holds the two equal.
func (ev *eventV2) typed() *events.APIGatewayV2HTTPRequest {
	rc := &ev.RequestContext
	out := &events.APIGatewayV2HTTPRequest{
		Version:               ev.Version,
		RouteKey:              ev.RouteKey,
		RawPath:               ev.RawPath,
		RawQueryString:        ev.RawQueryString,
		Cookies:               ev.Cookies,
		Headers:               ev.Headers,
		QueryStringParameters: ev.QueryStringParameters,
		PathParameters:        ev.PathParameters,
		StageVariables:        ev.StageVariables,
		Body:                  ev.Body,
		IsBase64Encoded:       ev.IsBase64Encoded,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey:     rc.RouteKey,
			AccountID:    rc.AccountID,
			Stage:        rc.Stage,
			RequestID:    rc.RequestID,
			APIID:        rc.APIID,
			DomainName:   rc.DomainName,
			DomainPrefix: rc.DomainPrefix,
			Time:         rc.Time,
			TimeEpoch:    rc.TimeEpoch,
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method:    rc.HTTP.Method,
				Path:      rc.HTTP.Path,
				Protocol:  rc.HTTP.Protocol,
				SourceIP:  rc.HTTP.SourceIP,
				UserAgent: rc.HTTP.UserAgent,
			},
		},
	}
	if a := rc.Authorizer; a != nil {
		out.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{Lambda: maps.Clone(a.Lambda)}
	}
	return out
}
