package policy

import (
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"slices"
	"strings"
)

// Fingerprints are short digests of the secrets key id is accepted with
// ("sha256:1a2b3c4d5e6f", the first 12 hex digits of each secret's SHA-256,
// the only form the policy keeps), sorted: enough to tell two secrets apart
// on the live page, never a secret. Empty for a key with no secret in force.
func (p *Policy) Fingerprints(id string) []string {
	var out []string
	for d, k := range p.byDigest {
		if k.ID == id {
			out = append(out, fingerprint(d))
		}
	}
	slices.Sort(out)
	return out
}

func fingerprint(d [sha256.Size]byte) string { return "sha256:" + hex.EncodeToString(d[:6]) }

// Changes is what a reload changed: key ids and routes, never a secret.
// Its zero value means nothing a caller would notice changed (a function's
// settings, a comment, the gateway's fields may have).
type Changes struct {
	KeysAdded   []string `json:"keys_added,omitempty"`
	KeysRemoved []string `json:"keys_removed,omitempty"`
	// SecretsRotated are the keys, in both configs, whose set of accepted
	// secrets changed: a secret added, removed or revoked.
	SecretsRotated []string `json:"secrets_rotated,omitempty"`
	// KeysChanged are the keys, in both configs, whose groups, validity
	// (not_before, expires, disabled) or metadata changed.
	KeysChanged []string `json:"keys_changed,omitempty"`
	// Routes added and removed are named "METHOD /path"; a route whose
	// function or callers changed is in RoutesChanged.
	RoutesAdded   []string `json:"routes_added,omitempty"`
	RoutesRemoved []string `json:"routes_removed,omitempty"`
	RoutesChanged []string `json:"routes_changed,omitempty"`
}

// Empty reports whether c names no change.
func (c Changes) Empty() bool {
	return len(c.KeysAdded)+len(c.KeysRemoved)+len(c.SecretsRotated)+len(c.KeysChanged)+
		len(c.RoutesAdded)+len(c.RoutesRemoved)+len(c.RoutesChanged) == 0
}

// ChangesFrom says what p changes from old, the policy it replaces. A nil
// old changes nothing (the first policy is not a reload).
func (p *Policy) ChangesFrom(old *Policy) Changes {
	var c Changes
	if old == nil || p == nil {
		return c
	}
	for _, k := range p.Keys {
		o := old.Key(k.ID)
		switch {
		case o == nil:
			c.KeysAdded = append(c.KeysAdded, k.ID)
			continue
		case !slices.Equal(p.digests(k.ID), old.digests(k.ID)):
			c.SecretsRotated = append(c.SecretsRotated, k.ID)
		}
		if !slices.Equal(k.Groups, o.Groups) || !k.NotBefore.Equal(o.NotBefore) || !k.Expires.Equal(o.Expires) ||
			k.Disabled != o.Disabled || !maps.Equal(k.Metadata, o.Metadata) {
			c.KeysChanged = append(c.KeysChanged, k.ID)
		}
	}
	for _, k := range old.Keys {
		if p.Key(k.ID) == nil {
			c.KeysRemoved = append(c.KeysRemoved, k.ID)
		}
	}
	routes := func(q *Policy) map[string]*Route {
		m := make(map[string]*Route, len(q.Routes))
		for _, r := range q.Routes {
			m[r.String()] = r
		}
		return m
	}
	now, before := routes(p), routes(old)
	for _, r := range p.InFileOrder() {
		o, ok := before[r.String()]
		switch {
		case !ok:
			c.RoutesAdded = append(c.RoutesAdded, r.String())
		case r.Function != o.Function || r.Auth != o.Auth || !slices.Equal(r.Callers, o.Callers) || r.AnyKey != o.AnyKey:
			c.RoutesChanged = append(c.RoutesChanged, r.String())
		}
	}
	for _, r := range old.InFileOrder() {
		if _, ok := now[r.String()]; !ok {
			c.RoutesRemoved = append(c.RoutesRemoved, r.String())
		}
	}
	return c
}

// digests are the accepted secrets of key id, as sorted hex: compared,
// never shown.
func (p *Policy) digests(id string) []string {
	var out []string
	for d, k := range p.byDigest {
		if k.ID == id {
			out = append(out, hex.EncodeToString(d[:]))
		}
	}
	slices.Sort(out)
	return out
}

// String lists the changes in one line, as the live page's timeline and
// the log say them: "keys added: a; secrets rotated: b".
func (c Changes) String() string {
	var parts []string
	add := func(what string, ids []string) {
		if len(ids) > 0 {
			parts = append(parts, what+": "+strings.Join(ids, ", "))
		}
	}
	add("keys added", c.KeysAdded)
	add("keys removed", c.KeysRemoved)
	add("secrets rotated", c.SecretsRotated)
	add("keys changed", c.KeysChanged)
	add("routes added", c.RoutesAdded)
	add("routes removed", c.RoutesRemoved)
	add("routes changed", c.RoutesChanged)
	if len(parts) == 0 {
		return "no key or route changed"
	}
	return strings.Join(parts, "; ")
}
