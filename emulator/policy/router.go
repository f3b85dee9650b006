package policy

import (
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/gorilla/mux"

	"github.com/inquir-dev/inquir/emulator/config"
)

// Match is the route that serves a request, found by Policy.Match.
type Match struct {
	// Route is nil when no route serves the request.
	Route *Route
	// Params are the decoded path parameters, by name.
	Params map[string]string
	// Path is the request path as routed: normalized and decoded.
	Path string
	// Allow lists the methods the path does answer when Route is nil
	// because of the method (405); empty for 404.
	Allow []string
	// Builtin is set for paths under config.BuiltinPrefix: inquir's own
	// endpoints, which no route can shadow, however the path is spelled.
	Builtin bool
}

// router is built once per policy: a gorilla/mux router with the routes
// registered most specific first, and one path-only matcher per route to
// work out 405's Allow header.
type router struct {
	mux      *mux.Router
	pathOnly []*mux.Route // by index in Policy.Routes
}

func newRouter(routes []*Route) *router {
	rt := &router{mux: mux.NewRouter().UseEncodedPath()}
	paths := mux.NewRouter().UseEncodedPath()
	for _, r := range routes {
		m := rt.mux.NewRoute().Path(muxTemplate(r.Path)).Handler(routeHandler{r})
		if r.Method != config.MethodAny {
			m.Methods(r.Method)
		}
		rt.pathOnly = append(rt.pathOnly, paths.NewRoute().Path(muxTemplate(r.Path)))
	}
	return rt
}

// routeHandler only carries the *Route through mux's match.
type routeHandler struct{ route *Route }

func (routeHandler) ServeHTTP(http.ResponseWriter, *http.Request) {}

// Match finds the route that serves method and path (the escaped path, as
// url.URL.EscapedPath gives it). Whatever the spelling of the path, the
// route found here is the route whose policy applies and whose function runs:
// the gateway asks once and uses the answer for both.
func (p *Policy) Match(method, escapedPath string) Match {
	norm, ok := normalizePath(escapedPath)
	if !ok {
		return Match{}
	}
	decoded, err := url.PathUnescape(norm)
	if err != nil {
		return Match{}
	}
	if strings.HasPrefix(decoded+"/", config.BuiltinPrefix) {
		return Match{Path: decoded, Builtin: true}
	}
	req := &http.Request{Method: method, URL: &url.URL{Path: decoded, RawPath: norm}}
	var m mux.RouteMatch
	if p.router.mux.Match(req, &m) && m.MatchErr == nil {
		r := m.Handler.(routeHandler).route
		params := make(map[string]string, len(m.Vars))
		for k, v := range m.Vars {
			if params[k], err = url.PathUnescape(v); err != nil {
				return Match{Path: decoded}
			}
		}
		return Match{Route: r, Params: params, Path: decoded}
	}
	var allow []string
	for i, pr := range p.router.pathOnly {
		if pr.Match(req, &mux.RouteMatch{}) {
			allow = append(allow, p.Routes[i].Method)
		}
	}
	sort.Strings(allow)
	return Match{Path: decoded, Allow: slices.Compact(allow)}
}

// muxTemplate turns {name+} (the rest of the path) into mux's {name:.+}.
func muxTemplate(path string) string {
	segs := strings.Split(path, "/")
	for i, s := range segs {
		if strings.HasSuffix(s, "+}") {
			segs[i] = strings.TrimSuffix(s, "+}") + ":.+}"
		}
	}
	return strings.Join(segs, "/")
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
