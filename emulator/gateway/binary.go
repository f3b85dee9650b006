package gateway

import (
	"encoding/base64"
	"net/http"
	"strings"
)

// Binary media types, as API Gateway REST APIs apply the API's
// binaryMediaTypes to a Lambda proxy integration ("Return binary media
// from a Lambda proxy integration" and "Content type conversions" in the
// API Gateway developer guide): a request body whose Content-Type matches
// one reaches the function base64-encoded, with isBase64Encoded true; a
// response the function marks isBase64Encoded is decoded only when the
// first media type of the request's Accept header matches one, and sent as
// its base64 text otherwise. With none configured (AWS's default) every
// body is text.

// mediaMatches reports whether the media type mt (parameters allowed, any
// case) matches one of ranges, config.Gateway.BinaryMediaTypes: lower-case
// "type/subtype", "type/*" or "*/*".
func mediaMatches(ranges []string, mt string) bool {
	if len(ranges) == 0 {
		return false
	}
	mt, _, _ = strings.Cut(mt, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	typ, sub, ok := strings.Cut(mt, "/")
	if !ok || typ == "" || sub == "" {
		return false
	}
	for _, r := range ranges {
		rt, rs, _ := strings.Cut(r, "/")
		if (rt == "*" || rt == typ) && (rs == "*" || rs == sub) {
			return true
		}
	}
	return false
}

// binaryRequest reports whether r's body is binary to the API: its
// Content-Type matches a binary media type.
func binaryRequest(ranges []string, r *http.Request) bool {
	return mediaMatches(ranges, r.Header.Get("Content-Type"))
}

// binaryAccepted reports whether a response marked isBase64Encoded is to
// be decoded for r: the first media type of r's first Accept header
// matches a binary media type, as API Gateway reads it.
func binaryAccepted(ranges []string, r *http.Request) bool {
	first, _, _ := strings.Cut(r.Header.Get("Accept"), ",")
	return mediaMatches(ranges, first)
}

// setBody sets the event's body: null when there is none; base64 with
// isBase64Encoded when binary (the Content-Type is a binary media type)
// or when the bytes are not UTF-8, which JSON cannot carry as text; the
// text as sent otherwise.
func (ev *proxyEvent) setBody(body []byte, binary bool) {
	ev.Body, ev.IsBase64Encoded = nil, false
	switch {
	case len(body) == 0:
	case !binary && utf8Valid(body):
		s := string(body)
		ev.Body = &s
	default:
		s := base64.StdEncoding.EncodeToString(body)
		ev.Body, ev.IsBase64Encoded = &s, true
	}
}
