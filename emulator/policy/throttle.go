package policy

import (
	"net/http"

	"github.com/inquir-dev/inquir/emulator/config"
)

// anyMethods are the methods an ANY route serves.
var anyMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions}

// ServedMethods lists the request methods r may serve: its own, HEAD too
// for a GET route (authorised as the GET unless a HEAD route takes it),
// every method for an ANY route.
func (r *Route) ServedMethods() []string {
	switch r.Method {
	case config.MethodAny:
		return anyMethods
	case http.MethodGet:
		return []string{http.MethodGet, http.MethodHead}
	}
	return []string{r.Method}
}

// ThrottleRequests lists, by throttle index, the request methods on r that
// take each of a plan's per-route throttles. A request takes the throttle
// that names the method r was chosen for (r's own, so a HEAD a GET route
// serves takes the GET throttle; on an ANY route, the request's own) on
// r's path, else one naming ANY on r's path, else none (the plan's
// bucket). The gateway decides the same way (it asks the limiter for the
// chosen method, which falls back to ANY); lint, verify and export ask
// this.
func (r *Route) ThrottleRequests(throttles []config.PlanRoute) map[int][]string {
	out := map[int][]string{}
	for _, m := range r.ServedMethods() {
		want := r.Method
		if want == config.MethodAny {
			want = m
		}
		idx, anyIdx := -1, -1
		for _, t := range throttles {
			switch {
			case t.Path != r.Path:
			case t.Method == want:
				idx = t.Index
			case t.Method == config.MethodAny:
				anyIdx = t.Index
			}
		}
		if idx < 0 {
			idx = anyIdx
		}
		if idx >= 0 {
			out[idx] = append(out[idx], m)
		}
	}
	return out
}
