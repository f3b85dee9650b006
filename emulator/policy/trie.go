package policy

import (
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/inquir-dev/inquir/emulator/config"
)

// trie routes a path in time that does not grow with the number of routes:
// a tree of path segments, each node with its literal children by text, one
// child for {param} and the routes ending in {greedy+} below it. A route
// ends at the node its template's last segment leads to.
//
// The route found is the one gorilla/mux found when the routes were
// registered in matching order (the reference in router_mux_test.go): the
// first route, in Policy.Routes, whose template matches the path and that
// answers the method. The walk keeps the best route seen and skips every
// subtree whose routes all come later, so a path with one candidate visits
// one branch per segment.
type trie struct {
	root trieNode
}

type trieNode struct {
	literal map[string]*trieNode
	param   *trieNode
	// routes end at this node; greedy end in {name+} below it. Both are
	// in matching order.
	routes, greedy []*trieRoute
	// first is the smallest matching-order index of a route at or below
	// this node (math.MaxInt when none is).
	first int
}

// trieRoute is a route as the trie holds it.
type trieRoute struct {
	order int // index in Policy.Routes
	route *Route
	any   bool // the route answers every method
	// names are the template's parameters and at the index of the path
	// segment each takes; a greedy parameter is last and takes the rest.
	names  []string
	at     []int
	greedy bool
}

// newTrie builds the trie of routes, in matching order. With fold, each
// literal segment is entered as foldCase folds a path: the trie a router
// that ignores letter case would walk.
func newTrie(routes []*Route, fold bool) *trie {
	t := &trie{root: trieNode{first: math.MaxInt}}
	for i, r := range routes {
		tr := &trieRoute{order: i, route: r, any: r.Method == config.MethodAny}
		n := &t.root
		n.first = min(n.first, i)
		if r.Path == "/" {
			n.routes = append(n.routes, tr)
			continue
		}
		for seg, s := range strings.Split(r.Path[1:], "/") {
			if fold && !strings.HasPrefix(s, "{") {
				s, _ = foldCase(s)
			}
			switch {
			case strings.HasSuffix(s, "+}"):
				tr.names, tr.at, tr.greedy = append(tr.names, s[1:len(s)-2]), append(tr.at, seg), true
				n.greedy = append(n.greedy, tr)
				continue
			case strings.HasPrefix(s, "{"):
				tr.names, tr.at = append(tr.names, s[1:len(s)-1]), append(tr.at, seg)
				if n.param == nil {
					n.param = &trieNode{first: math.MaxInt}
				}
				n = n.param
			default:
				if n.literal == nil {
					n.literal = map[string]*trieNode{}
				}
				c := n.literal[s]
				if c == nil {
					c = &trieNode{first: math.MaxInt}
					n.literal[s] = c
				}
				n = c
			}
			n.first = min(n.first, i)
		}
		if !tr.greedy {
			n.routes = append(n.routes, tr)
		}
	}
	return t
}

// route finds the route that serves method on the normalized path norm
// (decoded is norm percent-decoded), HEAD as GET unless a HEAD route
// answers it. Params are set only for a route with parameters; Allow only
// when routes match the path but none answers the method.
func (t *trie) route(method, norm, decoded string) Match {
	path := routingPath(norm, decoded)
	w := t.walkFor(method, path)
	switch {
	case w.found != nil:
		return Match{Route: w.found.route, Params: w.found.params(path), Path: norm}
	case w.pathMatched:
		return Match{Path: norm, Allow: t.allow(path)}
	}
	return Match{Path: norm}
}

// routeOf is the route that serves method on norm, as route finds it,
// without working out its parameters; nil for none.
func (t *trie) routeOf(method, norm, decoded string) *Route {
	if w := t.walkFor(method, routingPath(norm, decoded)); w.found != nil {
		return w.found.route
	}
	return nil
}

// walkFor searches for the route that serves method on path: HEAD as GET
// unless a HEAD route answers it.
func (t *trie) walkFor(method, path string) trieWalk {
	w := t.find(method, path)
	if method == http.MethodHead && (w.found == nil || w.found.route.Method != http.MethodHead) {
		w = t.find(http.MethodGet, path)
	}
	return w
}

// find searches for the first route, in matching order, that matches path
// and answers method.
func (t *trie) find(method, path string) trieWalk {
	w := trieWalk{method: method, best: math.MaxInt}
	w.search(&t.root, path)
	return w
}

// trieWalk is one search of the trie.
type trieWalk struct {
	method      string
	best        int // order of found, math.MaxInt while none is
	found       *trieRoute
	pathMatched bool // a route matched the path, whatever its method
	// collect makes the walk list the methods of every route that
	// matches the path in methods (the search for Allow).
	collect bool
	methods []string
}

// search walks the trie from root for path, which starts with "/": the
// route "/" matches the path "/" alone, every other route is below root.
// The branches are tried literal first, then {param}, then {greedy+}, as
// the matching order ranks them, so the first route found is mostly the
// best and the others are skipped.
func (w *trieWalk) search(root *trieNode, path string) {
	if path == "/" {
		w.offer(root.routes)
	}
	w.walk(root, path[1:])
}

// walk matches rest, the path after the slash that leads to n.
func (w *trieWalk) walk(n *trieNode, rest string) {
	seg, tail, more := strings.Cut(rest, "/")
	if c := n.literal[seg]; c != nil && c.first < w.best {
		if more {
			w.walk(c, tail)
		} else {
			w.offer(c.routes)
		}
	}
	if c := n.param; c != nil && seg != "" && c.first < w.best {
		if more {
			w.walk(c, tail)
		} else {
			w.offer(c.routes)
		}
	}
	if rest != "" {
		w.offer(n.greedy)
	}
}

// offer considers routes whose template matches the path.
func (w *trieWalk) offer(routes []*trieRoute) {
	if len(routes) > 0 {
		w.pathMatched = true
	}
	for _, r := range routes {
		if w.collect {
			w.methods = append(w.methods, r.route.Method)
			continue
		}
		if r.order >= w.best {
			return
		}
		if r.any || r.route.Method == w.method {
			w.best, w.found = r.order, r
			return
		}
	}
}

// allow lists, sorted and once each, the methods of the routes that match
// path: the Allow header of a 405.
func (t *trie) allow(path string) []string {
	w := trieWalk{best: math.MaxInt, collect: true, methods: make([]string, 0, 4)}
	w.search(&t.root, path)
	slices.Sort(w.methods)
	return slices.Compact(w.methods)
}

// params are the route's parameters in path, nil when it has none.
func (r *trieRoute) params(path string) map[string]string {
	if len(r.names) == 0 {
		return nil
	}
	params := make(map[string]string, len(r.names))
	rest, k := path[1:], 0
	for seg := 0; k < len(r.names); seg++ {
		if r.greedy && k == len(r.names)-1 && seg == r.at[k] {
			params[r.names[k]] = rest
			break
		}
		s, tail, _ := strings.Cut(rest, "/")
		if seg == r.at[k] {
			params[r.names[k]] = s
			k++
		}
		rest = tail
	}
	return params
}

// routingPath is the path routes are matched against, as gorilla/mux,
// which this router replaced, matched it (url.URL.EscapedPath): the
// normalized path itself, unless it holds a byte that a path may not hold
// bare (a space, a quote, a byte of UTF-8), in which case the decoded path
// escaped again. Paths from an HTTP request are always the former.
func routingPath(norm, decoded string) string {
	for i := 0; i < len(norm); i++ {
		if c := norm[i]; !isUnreserved(c) && strings.IndexByte("/%!$&'()*+,;=:@[]", c) < 0 {
			return (&url.URL{Path: decoded, RawPath: norm}).EscapedPath()
		}
	}
	return norm
}

// caseMatters reports whether a router that ignores letter case could
// serve some path with another route than t does. Walking a path, the two
// part ways only at a segment that matches a literal in one letter case
// and not in another, when something else could take that segment
// instead: a {param} or {greedy+} at that node or above it (the exact
// spelling falls through to it), or a sibling literal that differs only
// in case. A table with neither, the common one, never needs the
// second lookup.
func (t *trie) caseMatters() bool {
	var walk func(n *trieNode, alt bool) bool
	walk = func(n *trieNode, alt bool) bool {
		alt = alt || n.param != nil || len(n.greedy) > 0
		folded := make(map[string]bool, len(n.literal))
		for k, c := range n.literal {
			f, _ := foldCase(k)
			if folded[f] || (alt && hasLetter(k)) {
				return true
			}
			folded[f] = true
			if walk(c, alt) {
				return true
			}
		}
		return n.param != nil && walk(n.param, alt)
	}
	return walk(&t.root, false)
}

// hasLetter reports whether s holds an ASCII letter, or a byte of UTF-8
// (which may be a letter).
func hasLetter(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i] | 0x20; c >= 'a' && c <= 'z' || s[i] >= 0x80 {
			return true
		}
	}
	return false
}
