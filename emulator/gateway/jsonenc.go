package gateway

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"unicode/utf8"
)

// This file writes the JSON the gateway sends on every request by hand:
// an error body and the proxy event. Each function writes the bytes
// json.Marshal writes for the same value (HTML-escaping, U+FFFD for bad
// UTF-8, U+2028/U+2029 escaped, map keys sorted), as TestJSONMatchesMarshal
// checks, without reflection or a map built only to be encoded.

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string, escaped as json.Marshal
// escapes it (its default, HTML-safe form).
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		// U+2028 and U+2029 break JSONP; json.Marshal escapes them always.
		if c == '\u2028' || c == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendErrorBody appends inquir's error body and its newline: the bytes
// json.Marshal(map[string]string{"error": errCode, "message": message})
// writes, "message" left out when empty.
func appendErrorBody(dst []byte, errCode, message string) []byte {
	dst = append(dst, `{"error":`...)
	dst = appendJSONString(dst, errCode)
	if message != "" {
		dst = append(dst, `,"message":`...)
		dst = appendJSONString(dst, message)
	}
	return append(dst, '}', '\n')
}

// The bodies of compat = "aws" refusals: constant, so written once.
var (
	awsForbiddenBody    = []byte(`{"message":"Forbidden"}` + "\n")
	awsMissingTokenBody = []byte(`{"message":"Missing Authentication Token"}` + "\n")
)

// jsonContentType is the Content-Type of every JSON answer the gateway
// writes itself. http.Header values are never appended to in place by
// net/http, so the one slice can be shared.
var jsonContentType = []string{"application/json"}

// writeJSONBody writes body, JSON ending in a newline, in one Write.
func writeJSONBody(w http.ResponseWriter, code int, body []byte) {
	h := w.Header()
	h["Content-Type"] = jsonContentType
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(code)
	_, _ = w.Write(body)
}

// marshalEvent returns json.Marshal(ev), written by hand.
func marshalEvent(ev *proxyEvent) []byte {
	b := make([]byte, 0, 2048+len(valueOr(ev.Body))*9/8) // escaping grows a body a little
	b = append(b, `{"resource":`...)
	b = appendJSONString(b, ev.Resource)
	b = append(b, `,"path":`...)
	b = appendJSONString(b, ev.Path)
	b = append(b, `,"httpMethod":`...)
	b = appendJSONString(b, ev.HTTPMethod)
	b = append(b, `,"headers":`...)
	b = appendStringMap(b, ev.Headers)
	b = append(b, `,"multiValueHeaders":`...)
	b = appendStringsMap(b, ev.MultiValueHeaders)
	b = append(b, `,"queryStringParameters":`...)
	b = appendStringMap(b, ev.QueryStringParameters)
	b = append(b, `,"multiValueQueryStringParameters":`...)
	b = appendStringsMap(b, ev.MultiValueQueryStringParameters)
	b = append(b, `,"pathParameters":`...)
	b = appendStringMap(b, ev.PathParameters)
	b = append(b, `,"stageVariables":`...)
	b = appendStringMap(b, ev.StageVariables)
	b = append(b, `,"requestContext":`...)
	b = appendRequestContext(b, &ev.RequestContext)
	b = append(b, `,"body":`...)
	b = appendStringPtr(b, ev.Body)
	b = append(b, `,"isBase64Encoded":`...)
	b = strconv.AppendBool(b, ev.IsBase64Encoded)
	return append(b, '}')
}

func appendRequestContext(b []byte, rc *requestContext) []byte {
	b = append(b, `{"resourceId":`...)
	b = appendJSONString(b, rc.ResourceID)
	b = append(b, `,"resourcePath":`...)
	b = appendJSONString(b, rc.ResourcePath)
	b = append(b, `,"httpMethod":`...)
	b = appendJSONString(b, rc.HTTPMethod)
	b = append(b, `,"extendedRequestId":`...)
	b = appendJSONString(b, rc.ExtendedRequestID)
	b = append(b, `,"requestTime":`...)
	b = appendJSONString(b, rc.RequestTime)
	b = append(b, `,"path":`...)
	b = appendJSONString(b, rc.Path)
	b = append(b, `,"accountId":`...)
	b = appendJSONString(b, rc.AccountID)
	b = append(b, `,"protocol":`...)
	b = appendJSONString(b, rc.Protocol)
	b = append(b, `,"stage":`...)
	b = appendJSONString(b, rc.Stage)
	b = append(b, `,"domainPrefix":`...)
	b = appendJSONString(b, rc.DomainPrefix)
	b = append(b, `,"requestTimeEpoch":`...)
	b = strconv.AppendInt(b, rc.RequestTimeEpoch, 10)
	b = append(b, `,"requestId":`...)
	b = appendJSONString(b, rc.RequestID)
	b = append(b, `,"identity":`...)
	b = appendIdentity(b, &rc.Identity)
	b = append(b, `,"domainName":`...)
	b = appendJSONString(b, rc.DomainName)
	b = append(b, `,"apiId":`...)
	b = appendJSONString(b, rc.APIID)
	if len(rc.Authorizer) > 0 {
		b = append(b, `,"authorizer":`...)
		b = appendAuthorizer(b, rc.Authorizer)
	}
	return append(b, '}')
}

func appendIdentity(b []byte, id *identity) []byte {
	b = append(b, `{"cognitoIdentityPoolId":`...)
	b = appendStringPtr(b, id.CognitoIdentityPoolID)
	b = append(b, `,"accountId":`...)
	b = appendStringPtr(b, id.AccountID)
	b = append(b, `,"cognitoIdentityId":`...)
	b = appendStringPtr(b, id.CognitoIdentityID)
	b = append(b, `,"caller":`...)
	b = appendStringPtr(b, id.Caller)
	b = append(b, `,"apiKey":`...)
	b = appendStringPtr(b, id.APIKey)
	b = append(b, `,"apiKeyId":`...)
	b = appendStringPtr(b, id.APIKeyID)
	b = append(b, `,"accessKey":`...)
	b = appendStringPtr(b, id.AccessKey)
	b = append(b, `,"sourceIp":`...)
	b = appendJSONString(b, id.SourceIP)
	b = append(b, `,"principalOrgId":`...)
	b = appendStringPtr(b, id.PrincipalOrgID)
	b = append(b, `,"cognitoAuthenticationType":`...)
	b = appendStringPtr(b, id.CognitoAuthenticationType)
	b = append(b, `,"cognitoAuthenticationProvider":`...)
	b = appendStringPtr(b, id.CognitoAuthenticationProvider)
	b = append(b, `,"userArn":`...)
	b = appendStringPtr(b, id.UserArn)
	b = append(b, `,"userAgent":`...)
	b = appendJSONString(b, id.UserAgent)
	b = append(b, `,"user":`...)
	b = appendStringPtr(b, id.User)
	return append(b, '}')
}

func valueOr(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func appendStringPtr(b []byte, s *string) []byte {
	if s == nil {
		return append(b, "null"...)
	}
	return appendJSONString(b, *s)
}

// sortedKeys returns m's keys in the order json.Marshal writes them.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func appendStringMap(b []byte, m map[string]string) []byte {
	if m == nil {
		return append(b, "null"...)
	}
	b = append(b, '{')
	for i, k := range sortedKeys(m) {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
		b = append(b, ':')
		b = appendJSONString(b, m[k])
	}
	return append(b, '}')
}

// appendAuthorizer writes requestContext.authorizer: string values, the
// integer integrationLatency, and a simple response's context (lambda),
// as JSON.
func appendAuthorizer(b []byte, m map[string]any) []byte {
	b = append(b, '{')
	for i, k := range sortedKeys(m) {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
		b = append(b, ':')
		switch v := m[k].(type) {
		case string:
			b = appendJSONString(b, v)
		case int64:
			b = strconv.AppendInt(b, v, 10)
		default:
			if j, err := json.Marshal(v); err == nil {
				b = append(b, j...)
			} else {
				b = append(b, "null"...)
			}
		}
	}
	return append(b, '}')
}

func appendStringsMap(b []byte, m map[string][]string) []byte {
	if m == nil {
		return append(b, "null"...)
	}
	b = append(b, '{')
	for i, k := range sortedKeys(m) {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
		b = append(b, ':')
		vs := m[k]
		if vs == nil {
			b = append(b, "null"...)
			continue
		}
		b = append(b, '[')
		for j, v := range vs {
			if j > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, v)
		}
		b = append(b, ']')
	}
	return append(b, '}')
}
