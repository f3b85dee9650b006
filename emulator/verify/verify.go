// Package verify proves a gateway enforces a config: it derives the auth
// matrix (every route × no key, a bogus key, each known key) from the
// compiled policy, sends each cell as a real HTTP request, and checks the
// answer is the one the policy gives: 401, 403, or the function.
//
// Against the local emulator (Run with no URL) it also proves that no
// refused request invoked a function, and it needs no real secret: it serves
// the config with secrets it makes itself, so every key id is probed.
package verify

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/inquir-dev/inquir/emulator"
	"github.com/inquir-dev/inquir/emulator/config"
	"github.com/inquir-dev/inquir/emulator/policy"
)

// Expect is what a cell should get.
type Expect uint8

// Expectations.
const (
	Reach        Expect = iota // the function answers
	Unauthorized               // the gateway refuses with 401 (403 under compat = "aws")
	Forbidden                  // the gateway refuses with 403
	// Refused is for a spelling of a request (an encoded "/" or "\", a
	// lower-case method, HEAD for GET) from a caller that a weaker route
	// lets in: the gateway must refuse it (400, 401 or 403) and run nothing
	// of the more protected route's function.
	Refused
)

func (e Expect) String() string {
	return [...]string{"function", "401", "403", "refused"}[e]
}

// Credential is one column of the matrix.
type Credential struct {
	Label  string // "no key", "bogus key", "key partner-acme"
	Secret string // "" for no key
}

// Cell is one probe and its outcome.
type Cell struct {
	Route      string // "GET /customers/{customerId}"
	Function   string
	Method     string
	Path       string // the path sent
	Credential string
	Want       Expect
	Status     int    // 0 if the request failed
	Got        string // what came back: "function (200)", "401", "403", or an error
	Invoked    int    // local emulator only: invocations the request caused; -1 if unknown
	OK         bool
}

// Options say what to verify and where.
type Options struct {
	// ConfigPath is the inquir.toml the matrix comes from.
	ConfigPath string
	// URL, if set, is the gateway to probe; if zero, a local emulator is
	// started on loopback and probed.
	URL string
	// Keys are secrets by key id to probe with, as --key ID=SECRET gives them.
	Keys map[string]string
	// Now is the time key validity is judged at. If nil, time.Now.
	Now func() time.Time
	// Client sends the probes. If nil, a client with a 30s timeout. Run
	// never follows a redirect with it, whatever its CheckRedirect says:
	// a probe carries a key, which must not travel to another origin.
	Client *http.Client
}

// Report is the whole matrix.
type Report struct {
	Cells []Cell
	// Problems are findings outside the matrix, e.g. a --key whose secret
	// the config does not know.
	Problems []string
}

// OK reports whether every cell answered as the policy says.
func (r *Report) OK() bool {
	for _, c := range r.Cells {
		if !c.OK {
			return false
		}
	}
	return len(r.Problems) == 0
}

// Run builds the matrix from the config and probes it.
func Run(ctx context.Context, opts Options) (*Report, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Client == nil {
		opts.Client = &http.Client{Timeout: 30 * time.Second}
	}
	opts.Client = noRedirects(opts.Client)
	cfg, err := config.Load(opts.ConfigPath)
	if err != nil {
		return nil, err
	}
	rep := &Report{}
	if opts.URL != "" {
		p, err := policy.Compile(cfg)
		if err != nil {
			return nil, err
		}
		creds := rep.knownKeys(p, opts.Keys)
		rep.probe(ctx, opts, p, opts.URL, creds, nil)
		return rep, nil
	}

	// Locally every key gets a secret made here, so the whole matrix is
	// probed without the real secrets; --key secrets are checked against
	// the config when it can be compiled (its env: and file: secrets resolve).
	if real, err := policy.Compile(cfg); err == nil {
		rep.knownKeys(real, opts.Keys)
	} else if len(opts.Keys) > 0 {
		rep.Problems = append(rep.Problems, fmt.Sprintf("cannot check the --key secrets against the config: %v", err))
	}
	local, creds, err := withMadeSecrets(cfg)
	if err != nil {
		return nil, err
	}
	rec := &recorder{calls: map[string]int{}}
	e, err := emulator.Start(emulator.Options{ConfigPath: opts.ConfigPath, Listen: "127.0.0.1:0", Invoker: rec, Policy: local})
	if err != nil {
		return nil, err
	}
	defer func() {
		shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = e.Close(shutdown)
	}()
	rep.probe(ctx, opts, local, e.URL(), creds, rec)
	return rep, nil
}

// knownKeys turns --key secrets into credentials, noting a secret the
// config does not give to that key id.
func (r *Report) knownKeys(p *policy.Policy, keys map[string]string) []Credential {
	var creds []Credential
	for _, k := range p.Keys {
		secret, ok := keys[k.ID]
		if !ok {
			continue
		}
		if owner := p.Identify(secret); owner == nil || owner.ID != k.ID {
			r.Problems = append(r.Problems, fmt.Sprintf("--key %s: the secret given is not a secret of key %s in %s", k.ID, k.ID, p.Config.File))
		}
		creds = append(creds, Credential{Label: "key " + k.ID, Secret: secret})
	}
	for id := range keys {
		if p.Key(id) == nil {
			r.Problems = append(r.Problems, fmt.Sprintf("--key %s: no key %q in %s", id, id, p.Config.File))
		}
	}
	return creds
}

// withMadeSecrets compiles cfg with a fresh secret for every key.
func withMadeSecrets(cfg *config.Config) (*policy.Policy, []Credential, error) {
	var creds []Credential
	made := cfg.WithSecrets(func(k config.Key) []config.SecretRef {
		secret := "verify-" + randomString()
		creds = append(creds, Credential{Label: "key " + k.ID, Secret: secret})
		return []config.SecretRef{{Kind: config.SecretLiteral, Value: secret}}
	})
	p, err := policy.Compile(made)
	return p, creds, err
}

func randomString() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// probe sends every cell of the matrix to url.
func (r *Report) probe(ctx context.Context, opts Options, p *policy.Policy, url string, keyCreds []Credential, rec *recorder) {
	creds := append([]Credential{{Label: "no key"}, {Label: "bogus key", Secret: "bogus-" + randomString()}}, keyCreds...)
	now := opts.Now()
	aws := p.Config.Gateway.Compat == config.CompatAWS
	for _, rt := range p.InFileOrder() { // file order reads best
		// An ANY route is probed with the first method that it, and not a
		// method route beside it, serves.
		method, path, ok := rt.Method, "", false
		for _, m := range []string{rt.Method, http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch} {
			if m == config.MethodAny {
				continue
			}
			if path, ok = samplePath(p, rt, m); ok {
				method = m
				break
			}
		}
		if !ok {
			r.Problems = append(r.Problems, fmt.Sprintf("%s: no sample request reaches this route (a more specific route takes them all)", rt))
			continue
		}
		for _, cr := range creds {
			r.Cells = append(r.Cells, r.send(ctx, opts.Client, p, rt, url, method, path, cr, now, aws, rec))
		}
		// The same path spelled otherwise must get the same answer.
		if !rt.Public() {
			odd := "/" + strings.ReplaceAll(path, "/", "//") + "/"
			r.Cells = append(r.Cells, r.send(ctx, opts.Client, p, rt, url, method, odd, creds[0], now, aws, rec))
			r.Cells = append(r.Cells, r.spellings(ctx, opts.Client, p, rt, url, method, path, creds, now, rec)...)
		}
	}
}

// spellings probes rt's sample request spelled as issue 9 found a weaker
// route could take it: "/" encoded as %2F or %5C (one at a time, all at
// once, and walking up with ..), the method in lower case, and HEAD for
// GET. Each spelling is sent with the credentials that the route the router
// would otherwise pick lets in and rt does not; the gateway must refuse
// every one and run nothing of rt's function.
func (r *Report) spellings(ctx context.Context, client *http.Client, p *policy.Policy, rt *policy.Route, url, method, path string, creds []Credential, now time.Time, rec *recorder) []Cell {
	type probe struct{ method, path string }
	var probes []probe
	slashes := strings.Count(path, "/")
	for _, esc := range []string{"%2F", "%5C"} {
		for i := 2; i <= slashes; i++ {
			probes = append(probes, probe{method, replaceNth(path, "/", esc, i)})
		}
		if slashes > 1 {
			probes = append(probes, probe{method, "/" + strings.ReplaceAll(path[1:], "/", esc)})
		}
		for i := 2; i <= slashes; i++ {
			walk := replaceNth(path, "/", "/inquir-verify"+esc+".."+esc, i)
			probes = append(probes, probe{method, walk})
		}
	}
	if lower := strings.ToLower(method); lower != method {
		probes = append(probes, probe{lower, path})
	}
	if method == http.MethodGet {
		probes = append(probes, probe{http.MethodHead, path})
	}
	var cells []Cell
	for _, pr := range probes {
		// The route that takes the request if the gateway reads the
		// spelling as its router does: the path as sent; a method of
		// another spelling as one that only an ANY route answers.
		var weak *policy.Route
		if pr.method == method {
			weak = p.Match(method, pr.path).Route
		} else {
			for _, m := range []string{http.MethodPost, http.MethodDelete, http.MethodOptions} {
				if w := p.Match(m, path).Route; w != nil && w != rt && w.Method == config.MethodAny {
					weak = w
					break
				}
			}
		}
		if weak == nil || weak == rt {
			continue
		}
		for _, cr := range creds {
			if !lets(p, weak, cr.Secret, now) || lets(p, rt, cr.Secret, now) {
				continue
			}
			cells = append(cells, r.sendRefused(ctx, client, p, rt, url, pr.method, pr.path, cr, rec))
			break // one caller who would gain is enough to show the door shut
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

// sendRefused sends a spelling that must be refused and checks it was.
func (r *Report) sendRefused(ctx context.Context, client *http.Client, p *policy.Policy, rt *policy.Route, url, method, path string, cr Credential, rec *recorder) Cell {
	cell := Cell{Route: rt.String(), Function: rt.Function, Method: method, Path: path, Credential: cr.Label, Want: Refused, Invoked: -1}
	before := rec.count(rt.Function)
	status, refused, err := request(ctx, client, method, url+path, p.Config.Gateway.KeyHeader, cr.Secret)
	if rec != nil {
		cell.Invoked = rec.count(rt.Function) - before
	}
	cell.Status = status
	switch {
	case err != nil:
		cell.Got = err.Error()
	case refused:
		cell.Got = fmt.Sprint(status)
	default:
		cell.Got = fmt.Sprintf("function (%d)", status)
	}
	cell.OK = err == nil && refused && cell.Invoked <= 0
	return cell
}

func (r *Report) send(ctx context.Context, client *http.Client, p *policy.Policy, rt *policy.Route, url, method, path string, cr Credential, now time.Time, aws bool, rec *recorder) Cell {
	cell := Cell{Route: rt.String(), Function: rt.Function, Method: method, Path: path, Credential: cr.Label, Invoked: -1}
	switch p.Authorize(rt, cr.Secret, now).Outcome {
	case policy.MissingKey, policy.InvalidKey:
		cell.Want = Unauthorized
	case policy.Forbidden:
		cell.Want = Forbidden
	default:
		cell.Want = Reach
	}
	before := rec.count(rt.Function)
	status, refused, err := request(ctx, client, method, url+path, p.Config.Gateway.KeyHeader, cr.Secret)
	if rec != nil {
		cell.Invoked = rec.count(rt.Function) - before
	}
	cell.Status = status
	redirect := status >= 300 && status < 400
	switch {
	case err != nil:
		cell.Got = err.Error()
	case refused:
		cell.Got = fmt.Sprint(status)
	case redirect:
		// A redirect is not the function answering: it may be a proxy or
		// login page in front of it, and it was not followed.
		cell.Got = fmt.Sprintf("redirect (%d), not followed", status)
	default:
		cell.Got = fmt.Sprintf("function (%d)", status)
	}
	want := cell.Want
	if aws && want == Unauthorized {
		want = Forbidden // AWS API Gateway refuses everything with 403
	}
	switch want {
	case Reach:
		cell.OK = err == nil && !refused && !redirect && cell.Invoked != 0
	case Unauthorized:
		cell.OK = err == nil && refused && status == http.StatusUnauthorized && cell.Invoked <= 0
	case Forbidden:
		cell.OK = err == nil && refused && status == http.StatusForbidden && cell.Invoked <= 0
	}
	return cell
}

// noRedirects returns a copy of c that answers a redirect with the 3xx
// itself instead of following it.
func noRedirects(c *http.Client) *http.Client {
	out := *c
	out.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &out
}

// request sends one probe and says whether the gateway refused it: a 401
// or 403 with the gateway's own body (a function may answer 403 itself).
func request(ctx context.Context, client *http.Client, method, url, header, secret string) (status int, refused bool, err error) {
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		return 0, false, err
	}
	if secret != "" {
		req.Header.Set(header, secret)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, false, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	var e struct {
		Error   string `json:"error"`
		Message string `json:"message"`
	}
	_ = json.Unmarshal(body, &e)
	switch {
	case resp.StatusCode == http.StatusUnauthorized && (e.Error == "missing_api_key" || e.Error == "invalid_api_key"):
		refused = true
	case resp.StatusCode == http.StatusForbidden && (e.Error == "forbidden" || e.Message == "Forbidden"):
		refused = true
	case resp.StatusCode == http.StatusBadRequest && e.Error == "bad_request":
		refused = true
	case method == http.MethodHead && len(body) == 0:
		// A HEAD answer has no body to tell the gateway's refusal from a
		// function's; the status says it (and locally, the invocations).
		refused = resp.StatusCode == http.StatusBadRequest || resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden
	}
	return resp.StatusCode, refused, nil
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

// recorder stands in for the functions of the local emulator: it answers
// 200 and counts invocations, so a refused request that invoked anything
// shows.
type recorder struct {
	mu    sync.Mutex
	calls map[string]int
}

func (r *recorder) Invoke(ctx context.Context, function string, event []byte) ([]byte, error) {
	r.mu.Lock()
	r.calls[function]++
	r.mu.Unlock()
	return []byte(`{"statusCode":200,"body":"inquir verify"}`), nil
}

func (r *recorder) count(function string) int {
	if r == nil {
		return 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls[function]
}
