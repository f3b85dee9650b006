// Package policy compiles a config.Config into the one authority on who may
// call what. The gateway asks it on every request, and `inquir routes`,
// `inquir lint` and `inquir verify` ask the same value, so what they report
// and what the gateway enforces cannot drift apart.
//
// A *Policy is immutable once compiled: reloading builds a new one and the
// gateway swaps a pointer.
package policy

import (
	"crypto/sha256"
	"errors"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/inquir-dev/inquir/emulator/config"
)

// Policy is a compiled, immutable config: routes in matching order and keys
// indexed by the SHA-256 of their secrets.
type Policy struct {
	// Config is the validated config the policy was compiled from.
	Config *config.Config
	// Routes are in matching order: the most specific first (see Compile).
	Routes []*Route
	// Keys are the configured keys in file order.
	Keys []*Key

	// Revoked lists the file: secrets that could not be read when Reload
	// compiled this policy (the file is missing, empty or unreadable): each
	// drops out, and a key left with no secret is disabled. Compile, which
	// refuses such a config instead, leaves it empty.
	Revoked []Revocation

	byDigest map[[sha256.Size]byte]*Key
	// revoked holds the digests that revoked file: secrets had in the
	// policy before, so a request with one is logged as revoked_secret
	// under its key rather than as an unknown key. Never accepted.
	revoked map[[sha256.Size]byte]*Key
	// fileDigests are the digests each file: secret stands for, by key id
	// and path: the one it resolved to, or, once revoked, the ones carried
	// over into revoked.
	fileDigests map[fileRef][][sha256.Size]byte
	router      router

	// matchHook, if set, is called by every Match: tests count how often
	// one request routes its path.
	matchHook func()
	// folded is the routes' trie with literal segments case-folded (see
	// foldCase), for Match to ask which route a router that ignores
	// letter case would serve; nil when no path could be served by a
	// more protected route so (trie.caseMatters, or every route has the
	// same protection), which spares the common table the second lookup.
	folded *trie
	// foldsLiterals is set when some literal segment of a route changes
	// when folded (it has an upper-case letter): then even a path in
	// lower case may be served otherwise by the folded trie.
	foldsLiterals bool
}

// Revocation is a file: secret that Reload could not read: it no longer
// authenticates anyone.
type Revocation struct {
	// KeyID is the key the secret belonged to.
	KeyID string
	// File is the secret file's absolute path.
	File string
	// Disabled is set when none of the key's secrets could be read: the
	// key is refused whatever is presented until its file is back.
	Disabled bool
	// Err says why the file could not be read. It names the file, never a
	// secret.
	Err error
}

// fileRef is one key's file: secret.
type fileRef struct{ keyID, file string }

// Route is a config route with its callers worked out.
type Route struct {
	config.Route
	// Callers are the ids of configured keys that this route allows, sorted.
	// Empty for routes that ask for no key (public, or auth = "authorizer").
	// Whether each key is valid right now is
	// decided per request (expiry, not_before, disabled).
	Callers []string
	// AnyKey is set on a protected route with neither group nor keys: any
	// valid key may call it (lint INQ005).
	AnyKey bool

	callers map[string]bool
}

// Key is a configured API key, without its secrets.
type Key struct {
	ID                 string
	Groups             []string
	NotBefore, Expires time.Time
	Disabled           bool
	Metadata           map[string]string
}

// Outcome is the verdict on one request.
type Outcome uint8

// Outcomes, in the order the gateway checks them.
const (
	Allowed    Outcome = iota // a valid key that the route allows
	Public                    // the route has auth = "none"
	MissingKey                // 401: no key, or an empty one
	InvalidKey                // 401: unknown, expired, not yet valid or disabled (see Reason)
	Forbidden                 // 403: a valid key the route does not allow
	// ByAuthorizer: the route has auth = "authorizer", so no key is asked
	// for; its Lambda authorizer alone decides.
	ByAuthorizer
)

// Reason says why a key was refused. It goes to the log and stats, never to
// the caller.
type Reason uint8

// Reasons for InvalidKey.
const (
	ReasonNone Reason = iota
	ReasonUnknown
	ReasonExpired
	ReasonNotYetValid
	ReasonDisabled
	// ReasonRevoked: the secret was read from a file: secret that has since
	// been emptied or deleted.
	ReasonRevoked
)

var reasonNames = [...]string{"", "unknown_key", "expired_key", "key_not_yet_valid", "disabled_key", "revoked_secret"}

func (r Reason) String() string { return reasonNames[r] }

var outcomeNames = [...]string{"allowed", "public", "missing_api_key", "invalid_api_key", "forbidden", "by_authorizer"}

func (o Outcome) String() string { return outcomeNames[o] }

// Decision is the answer for one request.
type Decision struct {
	Outcome Outcome
	Reason  Reason // set with InvalidKey
	// Key is the key the secret belongs to: set with Allowed and Forbidden,
	// and with InvalidKey when a known key is expired, not yet valid or
	// disabled (so the log can name it). Only Allowed authenticates it.
	Key *Key
}

// Authorize decides whether a request carrying secret (the key header's
// value, "" if absent) may call route at time now. It does not allocate.
//
// Every presented secret is hashed and looked up the same way, whether or not
// any key has it, so the time taken does not tell which keys exist; the map
// is keyed by digest, so a lookup reveals nothing about a secret either.
func (p *Policy) Authorize(route *Route, secret string, now time.Time) Decision {
	if route.Public() {
		return Decision{Outcome: Public}
	}
	if route.Auth == config.AuthAuthorizer {
		return Decision{Outcome: ByAuthorizer}
	}
	if secret == "" {
		return Decision{Outcome: MissingKey}
	}
	d := sha256.Sum256([]byte(secret))
	key, revokedFrom := p.byDigest[d], p.revoked[d]
	if key == nil {
		if revokedFrom != nil {
			return Decision{Outcome: InvalidKey, Reason: ReasonRevoked, Key: revokedFrom}
		}
		return Decision{Outcome: InvalidKey, Reason: ReasonUnknown}
	}
	return p.AuthorizeKey(route, key, now)
}

// AuthorizeKey is Authorize once the secret is known to be key's: the
// verdict on key (valid at now, allowed on route), for tools that reason
// about a key without holding its secret (inquir verify).
func (p *Policy) AuthorizeKey(route *Route, key *Key, now time.Time) Decision {
	if route.Public() {
		return Decision{Outcome: Public}
	}
	if route.Auth == config.AuthAuthorizer {
		return Decision{Outcome: ByAuthorizer}
	}
	if r := key.Validity(now); r != ReasonNone {
		return Decision{Outcome: InvalidKey, Reason: r, Key: key}
	}
	if !route.AnyKey && !route.callers[key.ID] {
		return Decision{Outcome: Forbidden, Key: key}
	}
	return Decision{Outcome: Allowed, Key: key}
}

// Identify returns the key that secret belongs to, or nil, whatever the
// key's validity. The secret is hashed and looked up by digest, so the time
// taken does not depend on which keys exist.
func (p *Policy) Identify(secret string) *Key {
	return p.byDigest[sha256.Sum256([]byte(secret))]
}

// Validity says why the key cannot be used at now (ReasonExpired,
// ReasonNotYetValid, ReasonDisabled), or ReasonNone when it can: the
// verdict Authorize gives.
func (k *Key) Validity(now time.Time) Reason {
	switch {
	case k.Disabled:
		return ReasonDisabled
	case !k.NotBefore.IsZero() && now.Before(k.NotBefore):
		return ReasonNotYetValid
	case !k.Expires.IsZero() && !now.Before(k.Expires):
		return ReasonExpired
	}
	return ReasonNone
}

// Compile resolves every key's secrets (env:, file:) and works out each
// route's callers. A secret that cannot be resolved is an error, as is one
// secret shared by two keys. Errors name the file, line and field; never a
// secret.
func Compile(cfg *config.Config) (*Policy, error) { return compileWith(cfg, nil) }

// Load reads, validates and compiles the config at path.
func Load(path string) (*Policy, error) {
	cfg, err := config.Load(path)
	if err != nil {
		return nil, err
	}
	return Compile(cfg)
}

// Reload reads, validates and compiles the config at path to replace prev
// (nil at first). It differs from Load in one way: a file: secret that
// cannot be read (deleted, emptied, unreadable) is revoked, not an error.
// Deleting or emptying a secret file is how a key is revoked in a hurry, so
// refusing the whole reload would keep the compromised secret in force. The
// entry drops out and is listed in Revoked; a key with no secret left is
// disabled. An env: secret that is not set is still an error: inquir's
// environment cannot change while it runs, so it can only be a mistake.
func Reload(path string, prev *Policy) (*Policy, error) {
	cfg, err := config.Load(path)
	if err != nil {
		return nil, err
	}
	if prev == nil {
		prev = &Policy{}
	}
	return compileWith(cfg, prev)
}

// compileWith is Compile, or Reload's compile when prev is set.
func compileWith(cfg *config.Config, prev *Policy) (*Policy, error) {
	p := &Policy{
		Config:      cfg,
		byDigest:    map[[sha256.Size]byte]*Key{},
		revoked:     map[[sha256.Size]byte]*Key{},
		fileDigests: map[fileRef][][sha256.Size]byte{},
	}
	var errs []error
	var revoked []fileRef
	for i := range cfg.Keys {
		ck := &cfg.Keys[i]
		k := &Key{ID: ck.ID, Groups: ck.Groups, NotBefore: ck.NotBefore, Expires: ck.Expires, Disabled: ck.Disabled, Metadata: ck.Metadata}
		p.Keys = append(p.Keys, k)
		resolved, firstRevoked := 0, len(p.Revoked)
		for j, ref := range ck.Secrets {
			field := []string{"keys", ck.ID, "secret"}
			if len(ck.Secrets) > 1 {
				field = append(field, strconv.Itoa(j))
			}
			d, err := ref.Digest()
			if err != nil && prev != nil && ref.Kind == config.SecretFile {
				p.Revoked = append(p.Revoked, Revocation{KeyID: ck.ID, File: ref.Value, Err: err})
				revoked = append(revoked, fileRef{ck.ID, ref.Value})
				continue
			}
			if err != nil {
				errs = append(errs, cfg.ErrorAt(field, "%v", err))
				continue
			}
			// One secret naming two key ids would make the caller's
			// identity depend on map order.
			if other, dup := p.byDigest[d]; dup && other != k {
				errs = append(errs, cfg.ErrorAt(field, "this secret is also a secret of key %q; every key needs its own", other.ID))
				continue
			}
			p.byDigest[d] = k
			resolved++
			if ref.Kind == config.SecretFile {
				p.fileDigests[fileRef{ck.ID, ref.Value}] = [][sha256.Size]byte{d}
			}
		}
		if resolved == 0 && len(p.Revoked) > firstRevoked {
			k.Disabled = true
			for r := firstRevoked; r < len(p.Revoked); r++ {
				p.Revoked[r].Disabled = true
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	// A revoked file's last digests stay known, as revoked, so the log
	// names the key a revoked secret belonged to. A digest that is a live
	// secret again (the same secret moved elsewhere) is that secret's.
	for _, ref := range revoked {
		k := p.Key(ref.keyID)
		for _, d := range prev.fileDigests[ref] {
			if _, live := p.byDigest[d]; !live {
				p.revoked[d] = k
				p.fileDigests[ref] = append(p.fileDigests[ref], d)
			}
		}
	}
	for _, cr := range cfg.Routes {
		r := &Route{Route: cr, callers: map[string]bool{}}
		if cr.NeedsKey() {
			r.AnyKey = cr.Group == "" && len(cr.Keys) == 0
			for _, k := range p.Keys {
				if r.AnyKey || slices.Contains(cr.Keys, k.ID) || (cr.Group != "" && slices.Contains(k.Groups, cr.Group)) {
					r.callers[k.ID] = true
					r.Callers = append(r.Callers, k.ID)
				}
			}
			sort.Strings(r.Callers)
		}
		p.Routes = append(p.Routes, r)
	}
	sort.SliceStable(p.Routes, func(i, j int) bool { return moreSpecific(p.Routes[i].Route, p.Routes[j].Route) })
	t := newTrie(p.Routes, false)
	p.router = t
	if t.caseMatters() && protectionsDiffer(p.Routes) {
		p.folded = newTrie(p.Routes, true)
		for _, r := range p.Routes {
			if _, changed := foldCase(r.Path); changed {
				p.foldsLiterals = true
			}
		}
	}
	return p, nil
}

// stricterThan reports whether r refuses a caller that other lets in: r
// is protected and other is open, other allows a key that r does not, or
// r runs an authorizer that other does not run.
func (r *Route) stricterThan(other *Route) bool {
	switch {
	case r.Public():
		return false
	case other.Public():
		return true
	case r.Authorizer != "" && r.Authorizer != other.Authorizer:
		return true
	case !r.NeedsKey():
		return false
	case !other.NeedsKey():
		// other asks for no key: r, which does, refuses a caller without
		// one that other's authorizer lets in.
		return true
	}
	for id := range other.callers {
		if !r.callers[id] {
			return true
		}
	}
	return false
}

// protectionsDiffer reports whether some route is stricter than another:
// whether two routes differ in who may call them.
func protectionsDiffer(routes []*Route) bool {
	seen := map[string]bool{}
	for _, r := range routes {
		who := "public"
		if !r.Public() {
			who = r.Auth + ":" + strings.Join(r.Callers, ",") + ":" + r.Authorizer
		}
		seen[who] = true
	}
	return len(seen) > 1
}

// InFileOrder returns the routes in the order inquir.toml writes them
// (Routes is in matching order), as a new slice.
func (p *Policy) InFileOrder() []*Route {
	out := make([]*Route, len(p.Routes))
	for _, r := range p.Routes {
		out[r.Index] = r
	}
	return out
}

// ID identifies the config in force: a hash of its file's content.
func (p *Policy) ID() string { return p.Config.ID }

// SameAs reports whether p puts in force exactly what q does: the same
// config file content and the same secrets behind its references (an env:
// or file: secret's value is not in the file), revoked ones included. A
// reload that finds the policy in force again has nothing to apply.
func (p *Policy) SameAs(q *Policy) bool {
	if p == nil || q == nil || p.ID() != q.ID() || len(p.byDigest) != len(q.byDigest) ||
		len(p.revoked) != len(q.revoked) || len(p.Revoked) != len(q.Revoked) {
		return false
	}
	for d, k := range p.byDigest {
		if other, ok := q.byDigest[d]; !ok || other.ID != k.ID {
			return false
		}
	}
	for d, k := range p.revoked {
		if other, ok := q.revoked[d]; !ok || other.ID != k.ID {
			return false
		}
	}
	for i, r := range p.Revoked {
		o := q.Revoked[i]
		if r.KeyID != o.KeyID || r.File != o.File || r.Disabled != o.Disabled {
			return false
		}
	}
	return true
}

// Key returns the key with id, or nil.
func (p *Policy) Key(id string) *Key {
	for _, k := range p.Keys {
		if k.ID == id {
			return k
		}
	}
	return nil
}
