// Package verify proves a gateway enforces a config: it derives the auth
// matrix (every route × no key, a bogus key, each known key) from the
// compiled policy, sends each cell as a real HTTP request, and checks the
// answer is the one the policy gives: 401, 403, or the function. An ANY
// route is probed with each method API Gateway's ANY stands for (GET,
// HEAD, POST, PUT, PATCH, DELETE, OPTIONS) that no method route beside it
// takes. Each route is also probed with its path spelled otherwise
// (doubled and trailing slashes, dot segments, percent-encoded letters and
// dots), and with the spellings a weaker route could take: every reserved
// character percent-encoded, letter case, the method's spelling (issues 9
// and 22).
//
// Against the local emulator (Run with no URL) it also proves that no
// refused request invoked a function, and it needs no real secret: it serves
// the config with secrets it makes itself, so every key id is probed. Its
// functions are stood in for by a recorder that echoes what it received, so
// every route is also checked as an echo route is (see Options.Echo).
//
// Against a URL, an answer proves the function was reached only if it is
// not a refusal, a redirect, a 404, a 405, a 429 or a 5xx (classify); a key
// with no secret given is listed as not probed, never passed.
//
// A route with a Lambda authorizer is probed without its identity
// sources: every credential the key check lets through must then get the
// authorizer's 401, with neither the authorizer's function nor the route's
// run (authorizer.go). A request the authorizer would let through needs a
// token verify does not hold: that cell is listed as not probed.
//
// After the matrix, each usage plan is probed (plans.go): a burst beyond
// its bucket must get the gateway's 429 and run nothing, its quota must
// run out and start again in the next window, and a key with no plan must
// never be limited. Locally the matrix runs with the plans out of force
// and the emulator on a clock verify controls; against a URL the plans are
// probed only when Options.Plans asks, since a burst spends the real
// keys' quotas, and a quota never.
package verify

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
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
	// Refused is for a spelling of a request (an encoded reserved
	// character, the path in other letter case, a lower-case method, HEAD
	// for GET) from a caller that a weaker route lets in: the gateway must
	// refuse it (400, 401 or 403) and run nothing of the more protected
	// route's function.
	Refused
	// Limited is a usage plan's bucket refusing a burst beyond it: 429
	// rate_limited (Too Many Requests under compat = "aws"), and the
	// function not run.
	Limited
	// QuotaSpent is a usage plan's quota refusing a request past it: 429
	// quota_exceeded (Limit Exceeded under compat = "aws"), and the
	// function not run.
	QuotaSpent
	// NoIdentity is a route's Lambda authorizer refusing a request that
	// lacks one of its identity sources: 401 under both compat modes
	// (inquir's "unauthorized", API Gateway's {"message":"Unauthorized"}),
	// and neither the authorizer's function nor the route's run.
	NoIdentity
	// AuthorizerDecides is a route whose Lambda authorizer runs for every
	// request verify can send (its identity sources are $context
	// variables every request carries, or it has none): the user's
	// authorizer decides, so the cell is listed as not probed, and not
	// sent.
	AuthorizerDecides
)

func (e Expect) String() string {
	return [...]string{"function", "401", "403", "refused", "429 " + rateLimited, "429 " + quotaExceeded, "401 authorizer", "authorizer decides"}[e]
}

// Credential is one column of the matrix.
type Credential struct {
	Label  string // "no key", "bogus key", "key partner-acme"
	Secret string // "" for no key
	ID     string // the key id, "" for no key and the bogus key
}

// Cell is one probe and its outcome.
type Cell struct {
	Route      string // "GET /customers/{customerId}"
	Function   string
	Method     string
	Path       string // the path sent
	Credential string
	Want       Expect
	// NotProbed is set for a cell verify could not send: a key given no
	// --key secret against a URL. Its OK is false, but Report.OK does not
	// count it: it is listed, neither passed nor failed.
	NotProbed bool
	Status    int    // 0 if the request failed
	Got       string // what came back: "function (200)", "401", "403", or an error
	Invoked   int    // local emulator only: invocations the request caused; -1 if unknown
	OK        bool
	// Sent is how many requests the cell sent, when it sent more than one:
	// a usage plan's cells send a burst. Zero means one.
	Sent int
	// Expected says what the cell expects when Want alone does not (a
	// burst's "3 × function, then 429 rate_limited"); "" means Want says it.
	Expected string
}

// Expectation is what the cell expects, as the EXPECT column says it.
func (c Cell) Expectation() string {
	if c.Expected != "" {
		return c.Expected
	}
	return c.Want.String()
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
	// Echo, if set, names an echo route of the config ("GET /echo"): one
	// whose function answers what it received (README.md, "Prove that no
	// route is open"). Every probe of it then carries a forged
	// X-Inquir-Key-Id and X-Inquir-Key-Metadata, and each answer that
	// reached it must show the key header and secret never reached the
	// function, the key id is the real one, and the path handed over
	// routes to the echo route itself. Against the local emulator every
	// route is checked so (its recorder echoes), Echo or not.
	Echo string
	// Plans has verify probe the config's usage plans against URL (see
	// plans.go): a burst beyond each bucket, which spends the quota of the
	// keys it sends, so it is off unless asked for; a quota is never spent
	// against a URL. The local emulator's plans are always probed. If
	// false, the plan cells against a URL are listed as not probed.
	Plans bool
}

// Report is the whole matrix.
type Report struct {
	Cells []Cell
	// Problems are findings outside the matrix, e.g. a --key whose secret
	// the config does not know.
	Problems []string
	// NotChecked lists the checks that were not done, e.g. the echo
	// checks against a URL given no echo route.
	NotChecked []string
}

// NotProbed counts the cells verify could not send.
func (r *Report) NotProbed() int {
	n := 0
	for _, c := range r.Cells {
		if c.NotProbed {
			n++
		}
	}
	return n
}

// Mismatches counts the cells that did not answer as the policy says.
func (r *Report) Mismatches() int {
	n := 0
	for _, c := range r.Cells {
		if !c.OK && !c.NotProbed {
			n++
		}
	}
	return n
}

// OK reports whether every probed cell answered as the policy says and
// there is no problem. Cells not probed do not fail it; they are listed.
func (r *Report) OK() bool {
	for _, c := range r.Cells {
		if !c.OK && !c.NotProbed {
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
		echo, err := echoRoute(p, opts.Echo)
		if err != nil {
			return nil, err
		}
		creds := rep.knownKeys(p, opts.Keys)
		if echo == nil {
			rep.NotChecked = append(rep.NotChecked, "that no key header or secret reaches a function, that a client's X-Inquir-Key-Id and X-Inquir-Key-Metadata are replaced, and that the path a function is handed is the one authorised (give --echo ROUTE)")
		}
		pr := &prober{ctx: ctx, client: opts.Client, p: p, url: opts.URL, now: opts.Now(), echo: func(rt *policy.Route) bool { return rt == echo }}
		pr.run(rep, creds, unprobed(p, opts.Keys))
		pp := &planProber{ctx: ctx, client: opts.Client, p: p, url: opts.URL, now: opts.Now(), creds: byKeyID(creds), probe: opts.Plans}
		pp.run(rep)
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
	made, creds := withMadeSecrets(cfg)
	// The matrix is probed with the plans out of force: its hundreds of
	// requests would otherwise spend the planned keys' buckets and quotas
	// and be refused 429 by the plan, not by the policy the matrix is
	// about. The plans are probed after it, on their own (plans.go).
	local, err := policy.Compile(withoutPlans(made))
	if err != nil {
		return nil, err
	}
	if _, err := echoRoute(local, opts.Echo); err != nil {
		return nil, err
	}
	// A manual clock: the matrix is judged at one instant, and the plans'
	// buckets do not refill between the requests of a burst.
	clock := policy.NewManualClock(opts.Now())
	rec := &recorder{calls: map[string]int{}}
	e, err := emulator.Start(emulator.Options{ConfigPath: opts.ConfigPath, Listen: "127.0.0.1:0", Invoker: rec, Policy: local, Clock: clock})
	if err != nil {
		return nil, err
	}
	defer func() {
		shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = e.Close(shutdown)
	}()
	pr := &prober{ctx: ctx, client: opts.Client, p: local, url: e.URL(), now: opts.Now(), rec: rec, echo: func(*policy.Route) bool { return true }}
	pr.run(rep, creds, nil)
	if len(made.Plans) > 0 {
		planned, err := policy.Compile(alwaysValid(made))
		if err != nil {
			return nil, err
		}
		pp := &planProber{ctx: ctx, client: opts.Client, p: planned, url: e.URL(), now: opts.Now(), creds: byKeyID(creds), probe: true,
			rec: rec, clock: clock, reset: func() {
				// A key that loses its plan loses its buckets and quota;
				// given it again, it starts afresh (plans.Limiter.SetPlans).
				e.Gateway().SetPolicy(local)
				e.Gateway().SetPolicy(planned)
			}}
		pp.run(rep)
	}
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
		creds = append(creds, Credential{Label: "key " + k.ID, Secret: secret, ID: k.ID})
	}
	for id := range keys {
		if p.Key(id) == nil {
			r.Problems = append(r.Problems, fmt.Sprintf("--key %s: no key %q in %s", id, id, p.Config.File))
		}
	}
	return creds
}

// withMadeSecrets returns cfg with a fresh secret for every key.
func withMadeSecrets(cfg *config.Config) (*config.Config, []Credential) {
	var creds []Credential
	made := cfg.WithSecrets(func(k config.Key) []config.SecretRef {
		secret := "verify-" + randomString()
		creds = append(creds, Credential{Label: "key " + k.ID, Secret: secret, ID: k.ID})
		return []config.SecretRef{{Kind: config.SecretLiteral, Value: secret}}
	})
	return made, creds
}

// withoutPlans returns cfg with no usage plan, and no key on one.
func withoutPlans(cfg *config.Config) *config.Config {
	out := *cfg
	out.Plans = nil
	out.Keys = slices.Clone(cfg.Keys)
	for i := range out.Keys {
		out.Keys[i].Plan = ""
	}
	return &out
}

// alwaysValid returns cfg with every key valid at every instant: no
// not_before, no expires, none disabled. The plans are probed on a clock
// verify moves across quota windows, days or a month ahead; whether a key
// is valid then is the matrix's question, asked at one instant, not theirs.
func alwaysValid(cfg *config.Config) *config.Config {
	out := *cfg
	out.Keys = slices.Clone(cfg.Keys)
	for i := range out.Keys {
		k := &out.Keys[i]
		k.NotBefore, k.Expires, k.Disabled = time.Time{}, time.Time{}, false
	}
	return &out
}

// byKeyID indexes credentials by key id.
func byKeyID(creds []Credential) map[string]Credential {
	out := make(map[string]Credential, len(creds))
	for _, c := range creds {
		out[c.ID] = c
	}
	return out
}

func randomString() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// ErrUsage marks an error in how verify was asked (an --echo that names no
// route): the command line is wrong, not the gateway.
var ErrUsage = errors.New("usage")

// echoRoute finds the route --echo names ("GET /echo", as inquir routes
// prints it), or nil if name is empty.
func echoRoute(p *policy.Policy, name string) (*policy.Route, error) {
	if name == "" {
		return nil, nil
	}
	fields := strings.Fields(name)
	var names []string
	for _, rt := range p.InFileOrder() {
		if len(fields) == 2 && rt.Method == strings.ToUpper(fields[0]) && rt.Path == fields[1] {
			return rt, nil
		}
		names = append(names, rt.String())
	}
	return nil, fmt.Errorf("--echo %q: %w: want a route of %s as METHOD PATH, one of: %s", name, ErrUsage, p.Config.File, strings.Join(names, ", "))
}

// unprobed returns the keys of p that keys gives no secret for.
func unprobed(p *policy.Policy, keys map[string]string) []*policy.Key {
	var out []*policy.Key
	for _, k := range p.Keys {
		if _, ok := keys[k.ID]; !ok {
			out = append(out, k)
		}
	}
	return out
}

// noRedirects returns a copy of c that answers a redirect with the 3xx
// itself instead of following it.
func noRedirects(c *http.Client) *http.Client {
	out := *c
	out.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &out
}
