package export

import (
	"net/http"
	"strings"

	"github.com/inquir-dev/inquir/emulator/config"
	"github.com/inquir-dev/inquir/emulator/policy"
)

// Letter case. Express, Koa and ASP.NET compare a path with their routes
// without regard to letter case, so /customers/ME, which GET
// /customers/{id} serves, runs their /customers/me code. inquir dev
// (policy.Match) routes the path again with the path and the route
// templates in lower case, and refuses the request (400) when the route so
// found turns away a caller the route that serves it lets in. HAProxy does
// the same: haproxy.cfg routes the path again in lower case against the
// routes' lowered regular expressions (foldedRegex), and callers.map lists
// the pairs of routes where the second turns away a caller the first lets
// in (casePairs). The pairs depend on the keys, so they live in
// callers.map, which a rotation through the runtime API replaces at once
// with the callers they are computed from.

// caseMatters reports whether a router that ignores letter case could
// serve some path with another route than inquir's router does: as
// policy's trie.caseMatters, on the route templates. The two part ways
// only at a segment that matches a literal in one letter case and not in
// another, when something else could take that segment instead: a {param}
// or {greedy+} at that node or above it, or a sibling literal that
// differs only in case. It depends on the routes alone, never on the
// keys, so that haproxy.cfg holds the second routing whenever a rotation
// of the maps could make it matter.
func caseMatters(routes []*policy.Route) bool {
	type node struct {
		literal map[string]*node
		param   *node
		greedy  bool
	}
	root := &node{}
	for _, r := range routes {
		n := root
		for _, s := range segments(r.Path) {
			switch {
			case strings.HasSuffix(s, "+}"):
				n.greedy = true
			case strings.HasPrefix(s, "{"):
				if n.param == nil {
					n.param = &node{}
				}
				n = n.param
			default:
				if n.literal == nil {
					n.literal = map[string]*node{}
				}
				if n.literal[s] == nil {
					n.literal[s] = &node{}
				}
				n = n.literal[s]
			}
		}
	}
	var walk func(n *node, alt bool) bool
	walk = func(n *node, alt bool) bool {
		alt = alt || n.param != nil || n.greedy
		folded := map[string]bool{}
		for k, c := range n.literal {
			f := foldLiteral(k)
			if folded[f] || alt && f != strings.ToUpper(k) { // a letter in k
				return true
			}
			folded[f] = true
			if walk(c, alt) {
				return true
			}
		}
		return n.param != nil && walk(n.param, alt)
	}
	return walk(root, false)
}

// segments are a route template's segments; none for "/".
func segments(path string) []string {
	if path == "/" {
		return nil
	}
	return strings.Split(path[1:], "/")
}

// foldLiteral is a literal segment as policy's foldCase folds it: the
// export only takes literals of ASCII path characters (pathRegex), whose
// letters fold to lower case.
func foldLiteral(s string) string { return strings.ToLower(s) }

// foldedTemplate is a route template with its literal segments folded.
func foldedTemplate(path string) string {
	segs := segments(path)
	for i, s := range segs {
		if !strings.HasPrefix(s, "{") {
			segs[i] = foldLiteral(s)
		}
	}
	return "/" + strings.Join(segs, "/")
}

// foldedRegex is the regular expression HAProxy matches a lowered path
// with against route r, as policy's folded trie matches it.
func foldedRegex(path string) (string, error) { return pathRegex(foldedTemplate(path)) }

// casePairs are the callers.map entries "rA>rB" for each pair of routes
// where a path A serves may be served by B once compared without regard
// to letter case, and B turns away a caller A lets in (policy's
// Route.stricterThan: B is protected and A is public, or A allows a key B
// does not). Pairs no one request can meet are left out: two methods that
// never route one request, lowered templates no path matches both.
func casePairs(p *policy.Policy) []string {
	if !caseMatters(p.Routes) {
		return nil
	}
	var out []string
	for _, a := range p.InFileOrder() {
		for _, b := range p.InFileOrder() {
			if a != b && stricter(b, a) && methodsMeet(a.Method, b.Method) && templatesOverlap(segments(foldedTemplate(a.Path)), segments(foldedTemplate(b.Path))) {
				out = append(out, routeName(a)+">"+routeName(b))
			}
		}
	}
	return out
}

// stricter reports whether r turns away a caller other lets in, as
// policy's Route.stricterThan.
func stricter(r, other *policy.Route) bool {
	switch {
	case r.Public():
		return false
	case other.Public():
		return true
	}
	allowed := map[string]bool{}
	for _, id := range r.Callers {
		allowed[id] = true
	}
	for _, id := range other.Callers {
		if !allowed[id] {
			return true
		}
	}
	return false
}

// methodsMeet reports whether one request may be routed to a route for
// method a and, its path in lower case, to one for method b: the same
// method, ANY, or HEAD and GET (HEAD is routed as GET unless a HEAD route
// takes it, in each routing on its own).
func methodsMeet(a, b string) bool {
	head := func(m string) bool { return m == http.MethodHead || m == http.MethodGet }
	return a == b || a == config.MethodAny || b == config.MethodAny || head(a) && head(b)
}

// templatesOverlap reports whether some path matches both templates (as
// segments). It may say yes where none does (a {greedy+} is taken to match
// whatever follows), never the reverse.
func templatesOverlap(a, b []string) bool {
	for i := 0; ; i++ {
		if i == len(a) || i == len(b) {
			return len(a) == len(b)
		}
		sa, sb := a[i], b[i]
		if strings.HasSuffix(sa, "+}") || strings.HasSuffix(sb, "+}") {
			return true
		}
		if !strings.HasPrefix(sa, "{") && !strings.HasPrefix(sb, "{") && sa != sb {
			return false
		}
	}
}
