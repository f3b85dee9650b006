package gateway

import (
	"strings"

	"github.com/inquir-dev/inquir/emulator/policy"
)

// The path a REST API hands a function is the path the client sent:
// published captures keep a trailing slash ("/thing/" arrives as
// "/thing/", while it routes as "/thing") and the percent-encoding the
// client chose (REST APIs, unlike HTTP APIs, do not decode it). inquir
// routes on the folded path (policy.Match) and hands over the sent one
// whenever the two differ only in ways that read the same to any web
// framework: a trailing slash, and how unreserved characters are escaped
// ("%7E" or "~", "%2f" or "%2F"). A path the folding changed in more than
// that (empty segments, "." or ".." segments in any spelling) is handed
// over folded, so that a framework cannot read "/admin/../public/x",
// routed and authorised as /public/x, as a request for /admin.

// sentPath returns the event's path for m, the request's match: escaped,
// the path as the client sent it (url.URL.EscapedPath, or the request
// line's), when it folds to m.Path by dropping a trailing slash and escapes
// alone; m.Path otherwise. The trailing slash is kept only where
// m.KeepSlash says no framework reads it as another route ("/api/admin/"
// is Express's /api/admin/*, guarded by ANY /api/admin/{proxy+}, though
// routed as /api/admin by ANY /api/{proxy+}): otherwise it is dropped.
func sentPath(escaped string, m policy.Match) string {
	routed := m.Path
	if escaped == routed {
		return routed
	}
	p := escaped
	slash := len(p) > 1 && strings.HasSuffix(p, "/")
	if slash {
		p = p[:len(p)-1]
	}
	if strings.Count(p, "/") != strings.Count(routed, "/") {
		// normalizePath dropped segments: empty ones or dot segments.
		return routed
	}
	if slash && !m.KeepSlash {
		return p
	}
	return escaped
}

// sentParams returns the path parameters of route template tmpl read from
// path, the event's path, when path is spelled otherwise than routed:
// each {name} is its segment as sent, and {name+} the rest of the path
// (without a trailing slash). params are the parameters read from the
// routed path, returned as they are when the spellings agree.
func sentParams(tmpl, path, routed string, params map[string]string) map[string]string {
	if path == routed || len(params) == 0 {
		return params
	}
	if len(path) > 1 && strings.HasSuffix(path, "/") {
		path = path[:len(path)-1]
	}
	segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
	out := make(map[string]string, len(params))
	for i, t := range strings.Split(strings.TrimPrefix(tmpl, "/"), "/") {
		if !strings.HasPrefix(t, "{") || i >= len(segs) {
			continue
		}
		name := strings.TrimSuffix(strings.TrimPrefix(t, "{"), "}")
		if greedy, ok := strings.CutSuffix(name, "+"); ok {
			out[greedy] = strings.Join(segs[i:], "/")
			break
		}
		out[name] = segs[i]
	}
	if len(out) != len(params) {
		return params // the template and the path disagree: keep the router's
	}
	return out
}

// refusedQueryChar reports whether a raw query string holds a character
// API Gateway REST APIs refuse unencoded ("The plain text pipe character
// (|) and the curly brace character ({ or }) are not supported for any
// request URL query string and must be URL-encoded": "Amazon API Gateway
// important notes for REST APIs").
func refusedQueryChar(rawQuery string) bool {
	return strings.ContainsAny(rawQuery, "|{}")
}

// refusedQueryMessage is the 400's message for such a query; the HAProxy
// export answers with the same.
const refusedQueryMessage = "encode |, { and } in the query string (as %7C, %7B and %7D): API Gateway refuses them unencoded"
