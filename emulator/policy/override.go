package policy

import (
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// A method override is a request that names, besides its method, another
// one that a web framework behind the gateway runs instead: a header, the
// _method query parameter or form field. One that names a method another
// route serves would run that route's code under this route's policy, so
// it is refused (400) before anything of it runs; one the same route
// answers (an ANY route, say) is left alone.

// methodOverrideHeaders are the headers web frameworks read as the
// request's real method (Express's method-override, Symfony, Laravel,
// ASP.NET).
var methodOverrideHeaders = [...]string{"X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override"}

// MethodOverrideHeaders lists the method-override headers MatchRequest
// judges, spelled as its refusals name them: what a gateway enforcing the
// same policy (inquir export) must judge too. Each is judged in any letter
// case and with any of its "-" spelled "_" (X_HTTP_METHOD_OVERRIDE): CGI,
// WSGI and PHP hand a handler both spellings as one variable,
// HTTP_X_HTTP_METHOD_OVERRIDE.
func MethodOverrideHeaders() []string { return slices.Clone(methodOverrideHeaders[:]) }

// MethodOverrideField is the query parameter and form field that web
// frameworks read as the request's real method (Laravel and Symfony from
// the query string and a form, Rails from a form, Express's
// method-override from the query string). MatchRequest judges it in the
// query string, MatchForm in a form body. A name is this field when, once
// percent-decoded ("+" as a space) and with leading spaces dropped (PHP
// drops them), it is "_method" or ".method" (PHP reads "." as "_"), in any
// letter case (ASP.NET Core's form keys ignore it), followed by nothing
// or by "[" (an array: _method[]=GET).
const MethodOverrideField = "_method"

// MatchRequest is Match for an HTTP request, also refusing a method
// override in its headers or query string that names a method another
// route would serve (see MethodOverrideHeaders and MethodOverrideField). A
// form body is judged apart, by MatchForm, once the request is authorised
// and its body read.
func (p *Policy) MatchRequest(r *http.Request) Match {
	m := p.Match(r.Method, r.URL.EscapedPath())
	if m.Route == nil || m.Refused != "" {
		return m
	}
	var j overrideJudge
	// http.Header canonicalizes a dashed name one way and a name with "_"
	// another (X_http_method_override), so every key is compared; the
	// refusal names the first header of the list that overrides, whatever
	// the map's order.
	refused := len(methodOverrideHeaders)
	for key, values := range r.Header {
		i := overrideHeader(key)
		if i >= refused {
			continue
		}
		for _, v := range values {
			if j.overridden(p, m, v) {
				refused = i
				break
			}
		}
	}
	if refused < len(methodOverrideHeaders) {
		m.Refused = "the " + methodOverrideHeaders[refused] + " header names a method another route serves; send the request with that method instead"
		return m
	}
	if q := r.URL.RawQuery; q != "" && overrideField(q, func(v string) bool { return j.overridden(p, m, v) }) {
		m.Refused = "the " + MethodOverrideField + " query parameter names a method another route serves; send the request with that method instead"
	}
	return m
}

// MatchForm refuses, in m (MatchRequest's answer), a form body whose
// _method field (see MethodOverrideField) names a method another route
// would serve. The gateway asks it once the request is authorised and its
// body read: a refused request's body is never read, and a caller the
// route refuses gains nothing from an override. It judges the whole body,
// as the function gets it (the gateway's body limit bounds it): any
// shorter bound would let a padded form put the field past it. A body is
// a form when a Content-Type says application/x-www-form-urlencoded or
// multipart/form-data, or when there is no Content-Type (Rack reads a
// POST body without one as a form). A multipart body that does not parse
// is judged as far as it does.
func (p *Policy) MatchForm(m Match, contentTypes []string, body []byte) Match {
	if m.Route == nil || m.Refused != "" || len(body) == 0 {
		return m
	}
	var j overrideJudge
	overridden := func(v string) bool { return j.overridden(p, m, v) }
	found := false
	if len(contentTypes) == 0 {
		found = overrideField(body, overridden)
	}
	for _, ct := range contentTypes {
		media, boundary := formType(ct)
		switch media {
		case "", "application/x-www-form-urlencoded":
			// An empty Content-Type is read as none, as Rack reads it.
			found = overrideField(body, overridden)
		case "multipart/form-data":
			found = boundary != "" && multipartOverride(body, boundary, overridden)
		}
		if found {
			break
		}
	}
	if found {
		m.Refused = "the " + MethodOverrideField + " form field names a method another route serves; send the request with that method instead"
	}
	return m
}

// maxOverrideMethods bounds the methods one request's overrides may name,
// all its headers, query fields and form fields together: past it the
// request is refused without routing more (a header or a form repeating a
// method thousands of times would otherwise route the path each time).
const maxOverrideMethods = 16

// overrideJudge judges the method overrides of one request: each distinct
// method is routed once, and at most maxOverrideMethods are looked at. The
// zero value is ready.
type overrideJudge struct {
	named   int
	judged  [maxOverrideMethods]string
	verdict [maxOverrideMethods]bool
	n       int
}

// overridden reports whether an override naming v (a method, or several
// joined by commas as repeated headers are) selects another route than
// m's for m's path, or one refused there.
func (j *overrideJudge) overridden(p *Policy, m Match, v string) bool {
	for rest := v; rest != ""; {
		var method string
		method, rest, _ = strings.Cut(rest, ",")
		method = strings.ToUpper(strings.TrimSpace(method))
		if method == "" {
			continue
		}
		if j.named++; j.named > maxOverrideMethods {
			return true
		}
		if over, ok := j.lookup(method); ok {
			if over {
				return true
			}
			continue
		}
		o := p.Match(method, m.Path)
		over := o.Route != m.Route || o.Refused != ""
		j.judged[j.n], j.verdict[j.n] = method, over
		j.n++
		if over {
			return true
		}
	}
	return false
}

func (j *overrideJudge) lookup(method string) (over, ok bool) {
	for i := range j.n {
		if j.judged[i] == method {
			return j.verdict[i], true
		}
	}
	return false, false
}

// formType reads a Content-Type as Rack and PHP do when deciding whether a
// body is a form: the media type cut at ";" or ",", lower-cased, and the
// boundary parameter even where Go's MIME parser refuses the rest (a
// parameter without a value, a list of types).
func formType(ct string) (media, boundary string) {
	if m, params, err := mime.ParseMediaType(ct); err == nil {
		return m, params["boundary"]
	}
	media = ct
	if i := strings.IndexAny(media, ";,"); i >= 0 {
		media = media[:i]
	}
	media = strings.ToLower(strings.TrimSpace(media))
	lower := strings.ToLower(ct)
	if i := strings.Index(lower, "boundary="); i >= 0 {
		boundary = ct[i+len("boundary="):]
		if k := strings.IndexAny(boundary, ";,"); k >= 0 {
			boundary = boundary[:k]
		}
		boundary = strings.Trim(strings.TrimSpace(boundary), `"`)
	}
	return media, boundary
}

// overrideHeader returns the index in methodOverrideHeaders of the header
// that key (as http.Header keys it) names, or len(methodOverrideHeaders).
func overrideHeader(key string) int {
	for i, name := range methodOverrideHeaders {
		if sameOverrideHeader(key, name) {
			return i
		}
	}
	return len(methodOverrideHeaders)
}

// sameOverrideHeader reports whether header key names override header
// name: equal but for letter case, with "-" and "_" read alike.
func sameOverrideHeader(key, name string) bool {
	if len(key) != len(name) {
		return false
	}
	for i := 0; i < len(key); i++ {
		a, b := key[i], name[i]
		switch {
		case a == b:
		case (a == '-' || a == '_') && (b == '-' || b == '_'):
		case a|0x20 == b|0x20 && a|0x20 >= 'a' && a|0x20 <= 'z':
		default:
			return false
		}
	}
	return true
}

// overrideField reports whether some _method field of data, an
// application/x-www-form-urlencoded string (a query string or a form
// body), has a value that overridden reports. Fields are separated by "&"
// or ";" (which older parsers split on too).
func overrideField[T ~string | ~[]byte](data T, overridden func(v string) bool) bool {
	for start := 0; start <= len(data); {
		end := start
		for end < len(data) && data[end] != '&' && data[end] != ';' {
			end++
		}
		field := data[start:end]
		start = end + 1
		eq := 0
		for eq < len(field) && field[eq] != '=' {
			eq++
		}
		if !isOverrideField(field[:eq]) {
			continue
		}
		value := ""
		if eq < len(field) {
			value = string(field[eq+1:])
			if v, err := url.QueryUnescape(value); err == nil {
				value = v
			}
		}
		if overridden(value) {
			return true
		}
	}
	return false
}

// isOverrideField reports whether a field name, as sent, is
// MethodOverrideField as frameworks read names (see there).
func isOverrideField[T ~string | ~[]byte](name T) bool {
	if len(name) < len(MethodOverrideField) {
		return false
	}
	for i := 0; i < len(name); i++ {
		if name[i] == '%' || name[i] == '+' {
			decoded, err := url.QueryUnescape(string(name))
			return err == nil && isOverrideName(decoded)
		}
	}
	return isOverrideName(name)
}

// isOverrideName is isOverrideField for a decoded name.
func isOverrideName[T ~string | ~[]byte](name T) bool {
	i := 0
	for i < len(name) && name[i] == ' ' {
		i++
	}
	name = name[i:]
	for j := 1; j < len(name); j++ {
		if name[j] == '[' {
			name = name[:j]
			break
		}
	}
	if len(name) != len(MethodOverrideField) || name[0] != '_' && name[0] != '.' {
		return false
	}
	for j := 1; j < len(name); j++ {
		if name[j]|0x20 != MethodOverrideField[j] {
			return false
		}
	}
	return true
}

// multipartOverride reports whether a multipart/form-data body has a
// _method part whose value overridden reports. Only the first bytes of
// such a part are read: a method is short.
func multipartOverride(body []byte, boundary string, overridden func(v string) bool) bool {
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	for {
		part, err := mr.NextPart()
		if err != nil {
			return false
		}
		if isOverrideName(part.FormName()) {
			v, _ := io.ReadAll(io.LimitReader(part, 64))
			if overridden(string(v)) {
				return true
			}
		}
	}
}
