package verify

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/inquir-dev/inquir/emulator/config"
	"github.com/inquir-dev/inquir/emulator/policy"
)

// maxTraversals bounds the traversal probes sent from one echo route: one
// per other route, at most this many.
const maxTraversals = 8

// prober sends the matrix of one policy to one gateway.
type prober struct {
	ctx    context.Context
	client *http.Client
	p      *policy.Policy
	url    string
	now    time.Time
	rec    *recorder                // local emulator only
	echo   func(*policy.Route) bool // routes whose function echoes
	// invoked, if set and rec is nil, counts a function's invocations
	// so far on the gateway probed (RouteCells: the live page's).
	invoked func(function string) int
}

// count counts function's invocations so far, if the prober can.
func (pr *prober) count(function string) (int, bool) {
	switch {
	case pr.rec != nil:
		return pr.rec.count(function), true
	case pr.invoked != nil:
		return pr.invoked(function), true
	}
	return 0, false
}

// plainCredentials are the credentials every route is probed with: no key,
// a bogus key, then keys.
func plainCredentials(keys []Credential) []Credential {
	return append([]Credential{{Label: "no key"}, {Label: "bogus key", Secret: "bogus-" + randomString()}}, keys...)
}

// run sends every cell of the matrix: each route, with every method it
// answers, with no key, a bogus key and each key in creds; each route's
// path spelled otherwise; the spellings a weaker route could take; and,
// from an echo route, paths that climb out of it. Keys in unprobed get a
// cell each, listed as not probed.
func (pr *prober) run(r *Report, keyCreds []Credential, unprobed []*policy.Key) {
	creds := plainCredentials(keyCreds)
	for _, rt := range pr.p.InFileOrder() { // file order reads best
		reqs := samples(pr.p, rt)
		if len(reqs) == 0 {
			r.Problems = append(r.Problems, fmt.Sprintf("%s: no sample request reaches this route (a more specific route takes them all)", rt))
			continue
		}
		for i, s := range reqs {
			for _, cr := range creds {
				r.Cells = append(r.Cells, pr.send(rt, s.method, s.path, cr, pr.want(rt, cr)))
			}
			if i == 0 && rt.Authorizer != "" && !alwaysRuns(pr.p.Config.Authorizer(rt.Authorizer)) {
				r.Cells = append(r.Cells, pr.tokenCell(rt, s.method, s.path, creds, unprobed))
			}
			for _, k := range unprobed {
				r.Cells = append(r.Cells, Cell{Route: rt.String(), Function: rt.Function, Method: s.method, Path: s.path,
					Credential: "key " + k.ID, Want: pr.wantKey(rt, k), Got: "not probed (no --key secret)", Invoked: -1, NotProbed: true})
			}
		}
		// The spellings are of the first sample: how a path is spelled
		// does not depend on the method that carries it.
		method, path := reqs[0].method, reqs[0].path
		r.Cells = append(r.Cells, pr.respellings(rt, method, path, creds)...)
		if !rt.Public() {
			r.Cells = append(r.Cells, pr.spellings(rt, method, path, creds)...)
		}
		if pr.echo(rt) {
			r.Cells = append(r.Cells, pr.traversals(rt, method, path, creds)...)
		}
	}
}

// anyMethods are the methods an ANY route is probed with: those a user of
// API Gateway expects ANY to mean, OPTIONS included (a gateway that lets
// CORS preflights through without a key opens every ANY route to it).
var anyMethods = [...]string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions}

// sampled is one method and path.
type sampled struct{ method, path string }

// samples are the requests rt is probed with: one per method it answers
// (for ANY, each of anyMethods that it, and not a method route beside it,
// serves), the one sample picks first.
func samples(p *policy.Policy, rt *policy.Route) []sampled {
	method, path, ok := sample(p, rt)
	if !ok {
		return nil
	}
	out := []sampled{{method, path}}
	if rt.Method != config.MethodAny {
		return out
	}
	for _, m := range anyMethods {
		if m == method {
			continue
		}
		if path, ok := samplePath(p, rt, m); ok {
			out = append(out, sampled{m, path})
		}
	}
	return out
}

// sample picks a request that the router sends to rt: an ANY route is
// probed with the first method that it, and not a method route beside it,
// serves.
func sample(p *policy.Policy, rt *policy.Route) (method, path string, ok bool) {
	for _, m := range []string{rt.Method, http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch} {
		if m == config.MethodAny {
			continue
		}
		if path, ok = samplePath(p, rt, m); ok {
			return m, path, true
		}
	}
	return "", "", false
}

// want is what the gateway answers cr on rt: the policy's verdict on the
// key, then, on a route with an authorizer, the authorizer's 401 for a
// request without its identity sources, which no cell sends.
func (pr *prober) want(rt *policy.Route, cr Credential) Expect {
	return pr.behindAuthorizer(rt, expectFor(pr.p.Authorize(rt, cr.Secret, pr.now)))
}

// expectFor is what a cell expects of the policy's decision.
func expectFor(d policy.Decision) Expect {
	switch d.Outcome {
	case policy.MissingKey, policy.InvalidKey:
		return Unauthorized
	case policy.Forbidden:
		return Forbidden
	}
	return Reach
}

// wantKey is what the gateway answers key k on rt, secret unknown.
func (pr *prober) wantKey(rt *policy.Route, k *policy.Key) Expect {
	return pr.behindAuthorizer(rt, expectFor(pr.p.AuthorizeKey(rt, k, pr.now)))
}

// respellings probes rt's sample path spelled otherwise, as RFC 3986
// section 6.2.2 folds it and inquir's router does: doubled slashes and a
// trailing one, "." and ".." segments, plain and percent-encoded, and a
// letter percent-encoded. Each spelling the policy routes to rt is sent
// with no key (on a protected route it must be refused as the plain path
// is) and with the first credential that reaches rt (it must reach it,
// and on an echo route, as the path authorised).
func (pr *prober) respellings(rt *policy.Route, method, path string, creds []Credential) []Cell {
	last := strings.LastIndex(path, "/")
	spelled := []string{
		"/" + strings.ReplaceAll(path, "/", "//") + "/",
		path[:last] + "/." + path[last:],
		path[:last] + "/inquir-verify/.." + path[last:],
		path[:last] + "/%2e" + path[last:],
		path[:last] + "/inquir-verify/%2E%2e" + path[last:],
	}
	if i := strings.IndexFunc(path, func(c rune) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }); i >= 0 {
		spelled = append(spelled, fmt.Sprintf("%s%%%02x%s", path[:i], path[i], path[i+1:]))
	}
	var reach *Credential
	for i, cr := range creds {
		if cr.Secret != "" && !rt.Public() && pr.want(rt, cr) == Reach {
			reach = &creds[i]
			break
		}
	}
	var cells []Cell
	for _, sp := range spelled {
		m := pr.p.Match(method, sp)
		if m.Route != rt {
			continue
		}
		for _, cr := range []*Credential{&creds[0], reach} {
			if cr == nil {
				continue
			}
			want := pr.want(rt, *cr)
			if m.Refused != "" {
				want = Refused
			}
			cells = append(cells, pr.send(rt, method, sp, *cr, want))
		}
	}
	return cells
}

// reserved are the characters verify sends percent-encoded in a protected
// route's path: RFC 3986's gen-delims and sub-delims (section 2.2), and
// "%", "\" and ".", which web frameworks decode, read as "/" or resolve.
const reserved = ":/?#[]@!$&'()*+,;=%\\."

// spellings probes rt's sample request spelled so that a weaker route may
// take it while a function reading it as a web framework does runs rt's
// code (issues 9 and 22):
//
//   - each reserved character percent-encoded: where rt's path holds it,
//     one at a time and all at once ("\" in place of "/", which frameworks
//     read as "/"), and after each segment, followed by a word (frameworks
//     cut a path at "?" or "#" and drop ";parameters");
//   - "/" encoded in a walk up with "..": /api/inquir-verify%2F..%2Fadmin;
//   - each segment, and the whole path, in upper and in lower case, which
//     routers that ignore case (Express, Koa, ASP.NET) route as rt's path;
//   - the method in lower case, and HEAD for GET.
//
// A path spelling is sent when the policy routes it to a weaker route and
// refuses it (read as a function would read it, it is rt's); each
// spelling goes with a credential that the route the router would
// otherwise pick lets in and rt does not. The gateway must refuse every
// one and run nothing of rt's function.
func (pr *prober) spellings(rt *policy.Route, method, path string, creds []Credential) []Cell {
	p := pr.p
	var paths []string
	add := func(sp string) {
		if sp != path && !slices.Contains(paths, sp) {
			paths = append(paths, sp)
		}
	}
	segs := strings.Split(path[1:], "/")
	for i := 0; i < len(reserved); i++ {
		c := reserved[i]
		esc := fmt.Sprintf("%%%02X", c)
		at, from := c, 0
		if c == '/' || c == '\\' {
			at, from = '/', 1 // the leading "/" is no separator to encode
		}
		var where []int
		for j := from; j < len(path); j++ {
			if path[j] == at {
				where = append(where, j)
			}
		}
		for _, j := range where {
			add(path[:j] + esc + path[j+1:])
		}
		if len(where) > 1 {
			add(path[:from] + strings.ReplaceAll(path[from:], string(at), esc))
		}
		if at == '/' {
			for _, j := range where {
				add(path[:j] + "/inquir-verify" + esc + ".." + esc + path[j+1:])
			}
		}
		for k := range segs {
			add(withSegment(segs, k, segs[k]+esc+"inquir-verify"))
		}
	}
	for _, fold := range []func(string) string{strings.ToUpper, strings.ToLower} {
		for k, seg := range segs {
			add(withSegment(segs, k, fold(seg)))
		}
		add(fold(path))
	}

	var cells []Cell
	for _, sp := range paths {
		if m := p.Match(method, sp); m.Route != nil && m.Route != rt && m.Refused != "" {
			cells = append(cells, pr.gainer(rt, m.Route, method, sp, creds)...)
		}
	}
	// The method spelled otherwise: lower case, which only an ANY route
	// answers if the gateway reads it as its router does, and HEAD for
	// GET, which an ANY route beside GET takes unless HEAD is routed as GET.
	var methods []string
	if lower := strings.ToLower(method); lower != method {
		methods = append(methods, lower)
	}
	if method == http.MethodGet {
		methods = append(methods, http.MethodHead)
	}
	for _, m := range methods {
		for _, other := range []string{http.MethodPost, http.MethodDelete, http.MethodOptions} {
			if w := p.Match(other, path).Route; w != nil && w != rt && w.Method == config.MethodAny {
				cells = append(cells, pr.gainer(rt, w, m, path, creds)...)
				break
			}
		}
	}
	return cells
}

// gainer sends method and path, which the gateway must refuse, with the
// first credential that weak lets in and rt does not: one caller who
// would gain is enough to show the door shut. It sends nothing when no
// credential would gain.
func (pr *prober) gainer(rt, weak *policy.Route, method, path string, creds []Credential) []Cell {
	for _, cr := range creds {
		if lets(pr.p, weak, cr.Secret, pr.now) && !lets(pr.p, rt, cr.Secret, pr.now) {
			return []Cell{pr.send(rt, method, path, cr, Refused)}
		}
	}
	return nil
}

// withSegment is the path of segs with segment k replaced by seg.
func withSegment(segs []string, k int, seg string) string {
	out := slices.Clone(segs)
	out[k] = seg
	return "/" + strings.Join(out, "/")
}

// traversals probes, from echo route rt, a path that rt's router takes
// (the climb is percent-encoded, so inside one {param}) but that, decoded
// as a function would, climbs out of it to another route's path:
// /public/..%2Fadmin. The policy refuses each (400); a gateway that
// authorised it as rt and forwarded the decoded path would hand the
// function another route's path, which the echo shows.
func (pr *prober) traversals(rt *policy.Route, method, path string, creds []Credential) []Cell {
	segs := strings.Split(path[1:], "/")
	var cells []Cell
	for _, other := range pr.p.InFileOrder() {
		if len(cells) == maxTraversals {
			break
		}
		_, target, ok := sample(pr.p, other)
		if other == rt || !ok {
			continue
		}
		climb := strings.ReplaceAll(target[1:], "/", "%2F")
		for k := 1; k <= len(segs); k++ {
			probe := "/" + strings.Join(segs[:k], "/") + "/" + strings.Repeat("..%2F", k) + climb
			if m := pr.p.Match(method, probe); m.Route != rt || m.Refused == "" {
				continue
			}
			// The caller who would gain: one rt lets in and other does not.
			cr, found := creds[0], false
			for _, c := range creds {
				if lets(pr.p, rt, c.Secret, pr.now) && !lets(pr.p, other, c.Secret, pr.now) {
					cr, found = c, true
					break
				}
			}
			if !found {
				for _, c := range creds {
					if lets(pr.p, rt, c.Secret, pr.now) {
						cr = c
						break
					}
				}
			}
			cells = append(cells, pr.send(rt, method, probe, cr, Refused))
			break
		}
	}
	return cells
}

// lets reports whether the policy lets the caller with secret through route.
func lets(p *policy.Policy, route *policy.Route, secret string, now time.Time) bool {
	o := p.Authorize(route, secret, now).Outcome
	return o == policy.Allowed || o == policy.Public
}

// replaceNth replaces the n-th (1-based) occurrence of old in s.
func replaceNth(s, old, repl string, n int) string {
	i := -1
	for ; n > 0; n-- {
		j := strings.Index(s[i+1:], old)
		if j < 0 {
			return s
		}
		i += j + 1
	}
	return s[:i] + repl + s[i+len(old):]
}

// send sends one cell and judges the answer against want.
func (pr *prober) send(rt *policy.Route, method, path string, cr Credential, want Expect) Cell {
	if want == AuthorizerDecides {
		return pr.decidedCell(rt, method, path, cr)
	}
	cell := Cell{Route: rt.String(), Function: rt.Function, Method: method, Path: path, Credential: cr.Label, Want: want, Invoked: -1}
	aws := pr.p.Config.Gateway.Compat == config.CompatAWS
	header := http.Header{}
	if cr.Secret != "" {
		header.Set(pr.p.Config.Gateway.KeyHeader, cr.Secret)
	}
	echo := pr.echo(rt)
	if echo {
		for name, v := range forged {
			header.Set(name, v)
		}
	}
	before, counted := pr.invocations(rt)
	a := request(pr.ctx, pr.client, method, pr.url+path, header, aws)
	if counted {
		after, _ := pr.invocations(rt)
		cell.Invoked = after - before
	}
	if rt.Authorizer != "" && a.kind == reached && a.status == http.StatusUnauthorized && authorizerRefusal(a.body, aws) {
		a.kind = refusal
	}
	cell.Status = a.status
	cell.Got = a.got()
	fault := ""
	if echo && a.kind == reached && method != http.MethodHead {
		if fault = checkEcho(pr.p, rt, method, a.body, cr.Secret, cr.ID); fault != "" {
			cell.Got += "; " + fault
		}
	}
	refusedAs := func(status int) bool { return a.kind == refusal && a.status == status && cell.Invoked <= 0 }
	switch want {
	case Reach:
		cell.OK = a.kind == reached && cell.Invoked != 0 && fault == ""
		if a.kind == throttled && cell.Invoked <= 0 {
			// The key's usage plan refused it, after the key check: the
			// cell shows nothing either way about who may call the
			// route. (Plans are probed on their own; see plans.go.)
			cell.NotProbed = true
			cell.Got += " (the key's usage plan refused it; not probed)"
		}
	case Unauthorized:
		switch {
		case aws && rt.Payload == config.Payload2 && cr.Secret == "":
			// An HTTP API's Lambda authorizer without its identity source
			// (the key header): 401 {"message":"Unauthorized"}.
			cell.OK = refusedAs(http.StatusUnauthorized)
		case aws:
			cell.OK = refusedAs(http.StatusForbidden) // AWS API Gateway refuses everything with 403
		default:
			cell.OK = refusedAs(http.StatusUnauthorized)
		}
	case Forbidden:
		cell.OK = refusedAs(http.StatusForbidden)
	case Refused:
		cell.OK = a.kind == refusal && cell.Invoked <= 0
	case NoIdentity:
		cell.OK = refusedAs(http.StatusUnauthorized) // 401 under compat = "aws" too, as API Gateway's UNAUTHORIZED
	}
	return cell
}

// samplePath fills a route's parameters so that the router sends the
// request to that route.
func samplePath(p *policy.Policy, rt *policy.Route, method string) (string, bool) {
	for _, sample := range []string{"inquir-verify", "x0", "0"} {
		segs := strings.Split(rt.Path, "/")
		for i, s := range segs {
			switch {
			case strings.HasSuffix(s, "+}"):
				segs[i] = sample + "/" + sample
			case strings.HasPrefix(s, "{"):
				segs[i] = sample
			}
		}
		path := strings.Join(segs, "/")
		if p.Match(method, path).Route == rt {
			return path, true
		}
	}
	return "", false
}

// recorder stands in for the functions of the local emulator: it counts
// invocations, so a refused request that invoked anything shows, and
// answers 200 with an echo of the event it was handed (see echoed), so
// every route is checked as an echo route.
type recorder struct {
	mu    sync.Mutex
	calls map[string]int
}

// Invoke counts the call and echoes the event: a REST API's (payload
// 1.0) or an HTTP API's (payload 2.0, whose key id and metadata are a
// Lambda authorizer's context).
func (r *recorder) Invoke(ctx context.Context, function string, event []byte) ([]byte, error) {
	r.mu.Lock()
	r.calls[function]++
	r.mu.Unlock()
	var ev struct {
		Version           string              `json:"version"`
		Path              string              `json:"path"`
		RawPath           string              `json:"rawPath"`
		Headers           map[string]string   `json:"headers"`
		MultiValueHeaders map[string][]string `json:"multiValueHeaders"`
		RequestContext    struct {
			Identity struct {
				APIKeyID *string `json:"apiKeyId"`
			} `json:"identity"`
			Authorizer json.RawMessage `json:"authorizer"`
		} `json:"requestContext"`
	}
	if err := json.Unmarshal(event, &ev); err != nil {
		return nil, fmt.Errorf("verify recorder: reading the event for %s: %w", function, err)
	}
	echo := map[string]any{
		"path":        ev.Path,
		"headers":     ev.MultiValueHeaders,
		"keyId":       ev.RequestContext.Identity.APIKeyID,
		"keyMetadata": ev.RequestContext.Authorizer,
	}
	if ev.MultiValueHeaders == nil {
		echo["headers"] = map[string][]string{}
	}
	if ev.Version == "2.0" {
		var authorizer struct {
			Lambda map[string]any `json:"lambda"`
		}
		if len(ev.RequestContext.Authorizer) > 0 {
			if err := json.Unmarshal(ev.RequestContext.Authorizer, &authorizer); err != nil {
				return nil, fmt.Errorf("verify recorder: reading the authorizer of the event for %s: %w", function, err)
			}
		}
		echo["path"], echo["headers"], echo["keyId"], echo["keyMetadata"] = ev.RawPath, ev.Headers, authorizer.Lambda["apiKeyId"], authorizer.Lambda
		if ev.Headers == nil {
			echo["headers"] = map[string]string{}
		}
	}
	body, err := json.Marshal(echo)
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{"statusCode": 200, "headers": map[string]string{"Content-Type": "application/json"}, "body": string(body)})
}

func (r *recorder) count(function string) int {
	if r == nil {
		return 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls[function]
}
