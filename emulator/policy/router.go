package policy

import (
	"net/url"
	"slices"
	"strings"

	"github.com/inquir-dev/inquir/emulator/config"
)

// Match is the route that serves a request, found by Policy.Match.
type Match struct {
	// Route is nil when no route serves the request.
	Route *Route
	// Params are the path parameters, by name, as API Gateway REST APIs
	// hand them over: percent-encoding kept (%2F stays %2F). Nil for a
	// route without parameters.
	Params map[string]string
	// Path is the request path as routed: normalized (see normalizePath)
	// and still percent-encoded, as REST APIs hand it over.
	Path string
	// Allow lists the methods the path does answer when Route is nil
	// because of the method (405); empty for 404.
	Allow []string
	// KeepSlash is set when the request path ended in "/" and the function
	// may be handed it so (the path as sent): no framework reading the
	// slash as a {proxy+} with an empty rest ("/api/admin/" read by
	// Express's or chi's /api/admin/*) takes it for another route than
	// Route. When it is not set, the function is handed the path without
	// its trailing slash, as routed.
	KeepSlash bool
	// Builtin is set for paths under config.BuiltinPrefix: inquir's own
	// endpoints, which no route can shadow, however the path is spelled.
	Builtin bool
	// Refused, when not empty, says why the request must be answered 400
	// before anything runs, Route set or not: its method is not spelled
	// as a method, the path the function would read, decoded as a web
	// framework decodes it, routes to another route than Route, or, read
	// without regard to letter case, to a more protected one (see
	// Policy.Match). It is safe to send to the caller.
	Refused string
}

// router finds the route that serves method on a normalized path (decoded
// is the path percent-decoded), with HEAD routed as GET unless a HEAD route
// answers it: Route, Params and Path, or, when no route serves it, Allow.
// The policy's is a trie (trie.go); the tests hold the gorilla/mux router
// it replaced as the reference it must agree with.
type router interface {
	route(method, norm, decoded string) Match
}

// Match finds the route that serves method and path (the escaped path, as
// url.URL.EscapedPath gives it). Whatever the spelling of the path, the
// route found here is the route whose policy applies and whose function runs:
// the gateway asks once and uses the answer for both.
//
// Three spellings are refused (Match.Refused) rather than routed, since
// the function would read them as another request than the router did:
//
//   - a method that is not upper-case: methods are case-sensitive (RFC 9110
//     section 9.1), but web frameworks upper-case them, so "get" would run
//     the GET code under whatever route answers a method called "get";
//   - a path that, once decoded as a web framework decodes it (one
//     percent-decoding, "\" read as "/", the path cut at "?", "#" or NUL,
//     ";parameters" dropped from segments), routes to another route, or
//     to none: /api/admin%2Fusers routed by ANY /api/{proxy+} reaches the
//     function as /api/admin/users, which ANY /api/admin/{proxy+} guards;
//   - a path that a router ignoring letter case (Express, Koa, ASP.NET)
//     serves with a more protected route: /api/ADMIN/users routed by GET
//     /api/{section}/users runs such a framework's /api/admin/users code,
//     which GET /api/admin/users guards. Only a table where case can
//     make that difference (see trie.caseMatters) pays for the look.
//
// HEAD is routed as GET is, unless a HEAD route answers it: frameworks run
// the GET handler for HEAD, so GET's route, not a weaker ANY beside it,
// must authorise it.
func (p *Policy) Match(method, escapedPath string) Match {
	if p.matchHook != nil {
		p.matchHook()
	}
	norm, ok := normalizePath(escapedPath)
	if !ok {
		return Match{}
	}
	decoded, err := url.PathUnescape(norm)
	if err != nil {
		return Match{}
	}
	if strings.HasPrefix(decoded+"/", config.BuiltinPrefix) {
		return Match{Path: norm, Builtin: true}
	}
	if method != strings.ToUpper(method) {
		return Match{Path: norm, Refused: "the method must be upper-case: methods are case-sensitive (RFC 9110 section 9.1); send " + strings.ToUpper(method)}
	}
	m := p.router.route(method, norm, decoded)
	if m.Route == nil {
		return m
	}
	views, slashed, dotted := frameworkViews(norm, decoded)
	for _, view := range dotted {
		vd, err := url.PathUnescape(view)
		if err != nil || p.router.route(method, view, vd).Route != m.Route {
			// The words of the refusal below (and of HAProxy's export,
			// which refuses every such escape).
			m.Refused = "the path, once percent-decoded as a web framework decodes it, is served by another route than the one that authorised it; send reserved characters (/, \\, ?, #, ;) unencoded or not at all"
			return m
		}
	}
	for _, view := range views {
		if view == norm {
			continue
		}
		vd, err := url.PathUnescape(view)
		if err != nil || strings.HasPrefix(vd+"/", config.BuiltinPrefix) || p.router.route(method, view, vd).Route != m.Route {
			m.Refused = "the path, once percent-decoded as a web framework decodes it, is served by another route than the one that authorised it; send reserved characters (/, \\, ?, #, ;) unencoded or not at all"
			return m
		}
	}
	for _, view := range slashed {
		// A decoded path that ends in "/" ("/api/admin%2F"): a framework
		// may read its empty rest as a {proxy+}, which normalizing hides.
		if !p.restRoutesTo(method, view, m.Route) {
			m.Refused = "the path, once percent-decoded as a web framework decodes it, is served by another route than the one that authorised it; send reserved characters (/, \\, ?, #, ;) unencoded or not at all"
			return m
		}
	}
	if p.folded != nil && p.caseSelectsStricter(method, norm, append(views, dotted...), m.Route) {
		m.Refused = "the path, compared without regard to letter case as many web frameworks compare it, is served by a more protected route than the one that authorised it; spell the path in the letter case of the route you mean"
		return m
	}
	if len(escapedPath) > 1 && escapedPath[len(escapedPath)-1] == '/' {
		m.KeepSlash = p.keepSlash(method, m)
	}
	return m
}

// emptyRest is the segment that stands for the empty rest a framework
// reads after a trailing slash: it matches a {param} or {proxy+} and no
// literal a route can spell.
const emptyRest = "/%00"

// restRoutesTo reports whether view, a normalized path a framework reads
// with a trailing slash, is served by r, or by no route, when the slash
// is read as the start of a {proxy+} with an empty rest: Express's and
// chi's /api/admin/* match "/api/admin/", which inquir routes as
// /api/admin, so ANY /api/admin/{proxy+} must not be another route than
// r there. Compared as spelled and, where letter case can make a
// difference, as a router ignoring it compares.
func (p *Policy) restRoutesTo(method, view string, r *Route) bool {
	n := strings.TrimSuffix(view, "/") + emptyRest
	d, err := url.PathUnescape(n)
	if err != nil {
		return false
	}
	if o := p.router.route(method, n, d).Route; o != nil && o != r {
		return false
	}
	if p.folded != nil {
		folded, _ := foldCase(n)
		fd, err := url.PathUnescape(folded)
		if err != nil {
			return false
		}
		if o := p.folded.routeOf(method, folded, fd); o != nil && o != r && o.stricterThan(r) {
			return false
		}
	}
	return true
}

// keepSlash reports whether m's path may be handed over with the trailing
// slash the request had (Match.KeepSlash): read with it, as spelled and in
// every framework's view, the path is served by m.Route or by no route.
func (p *Policy) keepSlash(method string, m Match) bool {
	if !p.restRoutesTo(method, m.Path, m.Route) {
		return false
	}
	decoded, err := url.PathUnescape(m.Path)
	if err != nil {
		return false
	}
	_, slashed, _ := frameworkViews(m.Path+"/", decoded+"/")
	for _, view := range slashed {
		if !p.restRoutesTo(method, view, m.Route) {
			return false
		}
	}
	return true
}

// caseSelectsStricter reports whether a router that ignores letter case
// serves the routed path norm, or a framework's decoded view of it, with
// a route more protected than r, the route that serves it as spelled.
// Express, Koa and ASP.NET route so: /api/ADMIN/users, which GET
// /api/{section}/users serves here, runs their /api/admin/users code.
func (p *Policy) caseSelectsStricter(method, norm string, views []string, r *Route) bool {
	for i := -1; i < len(views); i++ {
		view := norm
		if i >= 0 {
			view = views[i]
		}
		folded, changed := foldCase(view)
		if !changed && !p.foldsLiterals {
			continue // the folded trie serves an unchanged path as the trie does
		}
		fd, err := url.PathUnescape(folded)
		if err != nil {
			return true
		}
		if o := p.folded.routeOf(method, folded, fd); o != nil && o != r && o.stricterThan(r) {
			return true
		}
	}
	return false
}

// foldCase is path p, escaped, as a router that ignores letter case
// compares it: ASCII letters in lower case, and the two non-ASCII letters
// that Unicode case folding makes ASCII ones (as .NET's OrdinalIgnoreCase
// and JavaScript's /iu compare them) decoded and folded from their
// percent-encoding: U+017F "ſ" (%C5%BF) to "s", U+212A the Kelvin sign
// (%E2%84%AA) to "k". Other escapes stay as they are. It reports whether
// the path changed, and allocates only then.
func foldCase(p string) (string, bool) {
	i := 0
	for ; i < len(p); i++ {
		c := p[i]
		if c >= 'A' && c <= 'Z' {
			break
		}
		if c == '%' {
			if n, _ := foldedEscape(p[i:]); n > 0 {
				break
			}
			i += 2 // an escape's hex digits are no letters
		}
	}
	if i >= len(p) {
		return p, false
	}
	b := make([]byte, i, len(p))
	copy(b, p)
	for ; i < len(p); i++ {
		c := p[i]
		switch {
		case c >= 'A' && c <= 'Z':
			b = append(b, c+'a'-'A')
		case c == '%':
			if n, letter := foldedEscape(p[i:]); n > 0 {
				b = append(b, letter)
				i += n - 1
			} else {
				end := min(i+3, len(p))
				b = append(b, p[i:end]...)
				i = end - 1
			}
		default:
			b = append(b, c)
		}
	}
	return string(b), true
}

// foldedEscape reports the length of the escape p starts with and the
// letter it folds to, if foldCase folds it; 0 otherwise.
func foldedEscape(p string) (n int, letter byte) {
	switch {
	case strings.HasPrefix(p, "%C5%BF"):
		return 6, 's'
	case strings.HasPrefix(p, "%E2%84%AA"):
		return 9, 'k'
	}
	return 0, 0
}

// frameworkViews returns the paths, escaped and normalized, that a function
// may take a request for when it reads the event's path as web frameworks
// do, given the routed path once decoded: "\" as "/" (Windows-minded
// servers, Spring, some Node routers), the path cut at "?" or "#" (a
// framework that rebuilds a URL from it) or at NUL (C string APIs), and
// ";parameters" dropped from each segment (servlet containers' path
// parameters). A decoded path that no view changes is the routed path.
// slashed are those views, normalized, that end in "/" before normalizing
// drops it ("/api/admin%2F" read as "/api/admin/"): see restRoutesTo.
//
// dotted are the views that have a "." or ".." segment before normalizing
// resolves it, one that decoding made ("/api/admin%2F..%2Fx" is
// "/api/admin/../x"), escaped with those segments kept: a router that
// does not resolve them (chi on Go's decoded r.URL.Path, a regular
// expression over the path) serves that one with /api/admin/*, though
// normalized it reads /api/x.
func frameworkViews(norm, decoded string) (views, slashed, dotted []string) {
	if !strings.ContainsAny(norm, "%;\\") {
		return nil, nil, nil // read as routed
	}
	base := strings.ReplaceAll(decoded, "\\", "/")
	raw := []string{base}
	if i := strings.IndexAny(base, "?#\x00"); i >= 0 {
		raw = append(raw, base[:i])
	}
	if strings.Contains(base, ";") {
		segs := strings.Split(base, "/")
		for i, s := range segs {
			segs[i], _, _ = strings.Cut(s, ";")
		}
		raw = append(raw, strings.Join(segs, "/"))
	}
	for _, v := range raw {
		if hasDotSegment(v) {
			dotted = append(dotted, dropEmptySegments(escapePath(v)))
		}
		n, ok := normalizePath(escapePath(v))
		if !ok {
			continue
		}
		if !slices.Contains(views, n) {
			views = append(views, n)
		}
		if len(v) > 1 && strings.HasSuffix(v, "/") && !slices.Contains(slashed, n) {
			slashed = append(slashed, n)
		}
	}
	return views, slashed, dotted
}

// dropEmptySegments is p without empty segments (double slashes, a
// trailing slash), its "." and ".." segments kept.
func dropEmptySegments(p string) string {
	segs := strings.Split(p, "/")
	out := segs[:0]
	for _, seg := range segs {
		if seg != "" {
			out = append(out, seg)
		}
	}
	return "/" + strings.Join(out, "/")
}

// hasDotSegment reports whether the decoded path p has a "." or ".."
// segment.
func hasDotSegment(p string) bool {
	for seg := range strings.SplitSeq(p, "/") {
		if seg == "." || seg == ".." {
			return true
		}
	}
	return false
}

// escapePath percent-encodes a decoded path so that it routes as it reads:
// "/" stays a separator, "%" and every other byte that is not allowed
// bare in a path segment (RFC 3986 section 3.3) are escaped.
func escapePath(decoded string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(decoded); i++ {
		c := decoded[i]
		if c == '/' || isUnreserved(c) || strings.IndexByte("!$&'()*+,;=:@", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

// normalizePath folds the spellings of one path into one (RFC 3986 section
// 6.2.2): percent-encoded unreserved characters are decoded (%73 is "s"),
// other escapes get upper-case hex; empty segments (double slashes, a
// trailing slash) go; "." and ".." segments are resolved, also when
// percent-encoded, since a backend that decodes them would otherwise see
// another path than the router did (section 5.2.4). An encoded slash (%2F)
// stays inside its segment. It reports false for a path that does not start
// with "/" or is not valid percent-encoding.
func normalizePath(p string) (string, bool) {
	if !strings.HasPrefix(p, "/") {
		return "", false
	}
	if !needsNormalizing(p) {
		return p, true
	}
	var out []string
	for _, seg := range strings.Split(p, "/") {
		seg, ok := normalizeEscapes(seg)
		if !ok {
			return "", false
		}
		switch seg {
		case "", ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, seg)
		}
	}
	return "/" + strings.Join(out, "/"), true
}

// normalizeEscapes decodes escaped unreserved characters and upper-cases the
// hex digits of the escapes that stay.
func normalizeEscapes(seg string) (string, bool) {
	if !strings.Contains(seg, "%") {
		return seg, true
	}
	var b strings.Builder
	for i := 0; i < len(seg); i++ {
		if seg[i] != '%' {
			b.WriteByte(seg[i])
			continue
		}
		if i+2 >= len(seg) || !isHex(seg[i+1]) || !isHex(seg[i+2]) {
			return "", false
		}
		c := unhex(seg[i+1])<<4 | unhex(seg[i+2])
		if isUnreserved(c) {
			b.WriteByte(c)
		} else {
			b.WriteString(strings.ToUpper(seg[i : i+3]))
		}
		i += 2
	}
	return b.String(), true
}

// needsNormalizing spares the common, clean path the work.
func needsNormalizing(p string) bool {
	return (len(p) > 1 && strings.HasSuffix(p, "/")) ||
		strings.Contains(p, "//") || strings.Contains(p, "/.") || strings.Contains(p, "%")
}

func isUnreserved(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

// moreSpecific orders routes as API gateways match them: segment by
// segment, a literal beats a {param}, which beats a {greedy+}; a route for
// one method beats ANY on the same path; otherwise file order stands.
func moreSpecific(a, b config.Route) bool {
	as, bs := strings.Split(a.Path, "/"), strings.Split(b.Path, "/")
	for i := 0; i < len(as) && i < len(bs); i++ {
		if ra, rb := segmentRank(as[i]), segmentRank(bs[i]); ra != rb {
			return ra < rb
		}
	}
	if len(as) != len(bs) {
		return len(as) > len(bs)
	}
	return a.Method != config.MethodAny && b.Method == config.MethodAny
}

func segmentRank(s string) int {
	switch {
	case strings.HasSuffix(s, "+}"):
		return 2
	case strings.HasPrefix(s, "{"):
		return 1
	}
	return 0
}
