package verify

import (
	"context"
	"net/http"
	"time"

	"github.com/inquir-dev/inquir/emulator/policy"
)

// RouteOptions say which route RouteCells probes, where, and with what.
type RouteOptions struct {
	// Policy is the policy the gateway at URL enforces, and Route one of
	// its routes.
	Policy *policy.Policy
	Route  *policy.Route
	// URL is the gateway's base URL.
	URL string
	// Keys are the credentials to probe with besides no key and a bogus
	// key: each a key's real secret.
	Keys []Credential
	// Unprobed are the keys of the policy with no secret to send: each
	// gets a cell of what the policy expects, listed as not probed, as
	// Run lists a key given no --key.
	Unprobed []*policy.Key
	// Client sends the probes; Run's rules hold (a redirect is never
	// followed). If nil, a client with a 30 s timeout.
	Client *http.Client
	// Now is the time keys are judged at, as the gateway's clock says.
	Now time.Time
	// Invoked, if set, counts a function's invocations so far on that
	// gateway (its /_inquir/stats), so that each cell shows what it
	// invoked and a refusal that invoked the function fails. Requests
	// others send meanwhile count too.
	Invoked func(function string) int
}

// RouteCells probes one route as Run's matrix probes every route, without
// the respellings: each request its samples send (one per method an ANY
// route answers), with no key, a bogus key and each of opts.Keys; a route
// with a Lambda authorizer gets Run's not-probed cell for a token its
// authorizer decides, and each of opts.Unprobed a not-probed cell. The live
// page's "matrix" is these cells, against the gateway it shows.
func RouteCells(ctx context.Context, opts RouteOptions) []Cell {
	client := opts.Client
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	pr := &prober{ctx: ctx, client: noRedirects(client), p: opts.Policy, url: opts.URL, now: opts.Now,
		echo: func(*policy.Route) bool { return false }, invoked: opts.Invoked}
	var cells []Cell
	creds := plainCredentials(opts.Keys)
	rt := opts.Route
	for i, s := range samples(opts.Policy, rt) {
		for _, cr := range creds {
			cells = append(cells, pr.send(rt, s.method, s.path, cr, pr.want(rt, cr)))
		}
		if i == 0 && rt.Authorizer != "" {
			cells = append(cells, pr.tokenCell(rt, s.method, s.path, creds, opts.Unprobed))
		}
		for _, k := range opts.Unprobed {
			cells = append(cells, Cell{Route: rt.String(), Function: rt.Function, Method: s.method, Path: s.path,
				Credential: "key " + k.ID, Want: pr.wantKey(rt, k), Got: "not probed (no --key secret)", Invoked: -1, NotProbed: true})
		}
	}
	return cells
}
