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

// muxRouter is the router the policy had before the trie, kept as the
// reference the trie must agree with: a gorilla/mux router with the routes
// registered in matching order (mux answers with the first route whose
// path and method match), and one path-only matcher per route to work out
// 405's Allow header. A 404 tries every route twice.
type muxRouter struct {
	mux      *mux.Router
	routes   []*Route
	pathOnly []*mux.Route // by index in routes
}

func newMuxRouter(routes []*Route) *muxRouter {
	rt := &muxRouter{mux: mux.NewRouter().UseEncodedPath(), routes: routes}
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

// route routes method, with HEAD routed as GET unless a HEAD route
// answers it.
func (rt *muxRouter) route(method, norm, decoded string) Match {
	if method != http.MethodHead {
		return rt.routeMethod(method, norm, decoded)
	}
	if m := rt.routeMethod(method, norm, decoded); m.Route != nil && m.Route.Method == http.MethodHead {
		return m
	}
	return rt.routeMethod(http.MethodGet, norm, decoded)
}

// routeMethod asks mux which route serves method on the normalized path.
func (rt *muxRouter) routeMethod(method, norm, decoded string) Match {
	req := &http.Request{Method: method, URL: &url.URL{Path: decoded, RawPath: norm}}
	var m mux.RouteMatch
	if rt.mux.Match(req, &m) && m.MatchErr == nil {
		return Match{Route: m.Handler.(routeHandler).route, Params: m.Vars, Path: norm}
	}
	var allow []string
	for i, pr := range rt.pathOnly {
		if pr.Match(req, &mux.RouteMatch{}) {
			allow = append(allow, rt.routes[i].Method)
		}
	}
	sort.Strings(allow)
	return Match{Path: norm, Allow: slices.Compact(allow)}
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

// withMux is p routing through the reference router instead of its trie:
// the same routes, the same *Route values, so matches compare by pointer.
func withMux(p *Policy) *Policy {
	ref := *p
	ref.router = newMuxRouter(p.Routes)
	return &ref
}
