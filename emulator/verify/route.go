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
// route answers), with no key, a bogus key and each of opts.Keys. The live
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
	for _, s := range samples(opts.Policy, opts.Route) {
		for _, cr := range creds {
			cells = append(cells, pr.send(opts.Route, s.method, s.path, cr, pr.want(opts.Route, cr)))
		}
	}
	return cells
}
