package config

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// SecretKind says where a secret comes from.
type SecretKind uint8

// Kinds of secret reference, as written in inquir.toml.
const (
	SecretLiteral SecretKind = iota // the secret itself (lint INQ006 warns)
	SecretEnv                       // "env:NAME": an environment variable
	SecretFile                      // "file:path": a file's content, trimmed
	SecretSHA256                    // "sha256:<64 hex>": only the digest is known
)

// SecretRef is one entry of a key's secret field. Its String form never
// shows a literal secret.
type SecretRef struct {
	Kind SecretKind
	// Value is the variable name, the absolute file path, the hex digest, or
	// (for SecretLiteral) the secret itself.
	Value string
}

// String describes the reference without revealing a secret.
func (s SecretRef) String() string {
	switch s.Kind {
	case SecretEnv:
		return "env:" + s.Value
	case SecretFile:
		return "file:" + s.Value
	case SecretSHA256:
		return "sha256:" + s.Value
	default:
		return "literal secret"
	}
}

// GoString keeps %#v from printing a literal secret too.
func (s SecretRef) GoString() string { return s.String() }

// Digest resolves the reference and returns the SHA-256 of the secret: the
// only form in which the gateway keeps it.
func (s SecretRef) Digest() ([32]byte, error) {
	var d [32]byte
	switch s.Kind {
	case SecretSHA256:
		_, err := hex.Decode(d[:], []byte(s.Value))
		return d, err
	default:
		secret, err := s.resolve()
		if err != nil {
			return d, err
		}
		return sha256.Sum256([]byte(secret)), nil
	}
}

// Plaintext resolves the reference to the secret itself: for the live
// page's replay and matrix, which send a key's secret to the gateway from
// inquir's own process and never show it. A sha256: reference has none.
func (s SecretRef) Plaintext() (string, error) { return s.resolve() }

func (s SecretRef) resolve() (string, error) {
	switch s.Kind {
	case SecretEnv:
		v, ok := LookupEnv(s.Value)
		if !ok || v == "" {
			return "", fmt.Errorf("environment variable %s is not set", s.Value)
		}
		return v, nil
	case SecretFile:
		b, err := os.ReadFile(s.Value)
		if err != nil {
			// The error names the file, never its content.
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return "", fmt.Errorf("reading secret file %s: %w", displayPath(s.Value), err)
		}
		v := strings.TrimSpace(string(b))
		if v == "" {
			return "", fmt.Errorf("secret file %s is empty", displayPath(s.Value))
		}
		return v, nil
	case SecretLiteral:
		return s.Value, nil
	}
	return "", fmt.Errorf("a %s reference has no plaintext", s)
}

// parseSecretRef reads one secret entry; dir resolves relative file: paths.
func parseSecretRef(dir, s string) (SecretRef, error) {
	switch {
	case strings.HasPrefix(s, "env:"):
		name := strings.TrimPrefix(s, "env:")
		if !validEnvName(name) {
			return SecretRef{}, fmt.Errorf("env: needs a variable name, as in env:ACME_KEY")
		}
		return SecretRef{Kind: SecretEnv, Value: name}, nil
	case strings.HasPrefix(s, "file:"):
		p := strings.TrimPrefix(s, "file:")
		if p == "" {
			return SecretRef{}, fmt.Errorf("file: needs a path, as in file:secrets/acme.key")
		}
		return SecretRef{Kind: SecretFile, Value: resolvePath(dir, p)}, nil
	case strings.HasPrefix(s, "sha256:"):
		h := strings.ToLower(strings.TrimPrefix(s, "sha256:"))
		if _, err := hex.DecodeString(h); err != nil || len(h) != 64 {
			return SecretRef{}, fmt.Errorf("sha256: needs 64 hex digits (inquir keys hash prints them)")
		}
		return SecretRef{Kind: SecretSHA256, Value: h}, nil
	case s == "":
		return SecretRef{}, fmt.Errorf("a secret must not be empty")
	}
	return SecretRef{Kind: SecretLiteral, Value: s}, nil
}

// ResolveValue resolves a function env value: "env:NAME" reads the
// emulator's environment, "file:path" a file (relative to dir, trimmed);
// any other value is returned as written.
func ResolveValue(dir, v string) (string, error) {
	switch {
	case strings.HasPrefix(v, "env:"):
		return SecretRef{Kind: SecretEnv, Value: strings.TrimPrefix(v, "env:")}.resolve()
	case strings.HasPrefix(v, "file:"):
		return SecretRef{Kind: SecretFile, Value: resolvePath(dir, strings.TrimPrefix(v, "file:"))}.resolve()
	}
	return v, nil
}

func resolvePath(dir, p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(dir, p)
}

func validEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_', r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// EnvProblem is a function env value, an env: or file: reference, that
// cannot be resolved where inquir runs: the function's workers would fail
// to start. It names the variable and the reference, never a value.
type EnvProblem struct {
	// Name is the variable the function would see: SEARCH_KEY.
	Name string
	// Ref is the reference as inquir.toml writes it: "env:AGENT_KEY",
	// "file:secrets/agent.key".
	Ref string
	// Why says what is wrong: "AGENT_KEY is not set".
	Why string
}

// UnresolvedEnv lists, sorted by name, the env: and file: values of f's
// env that cannot be resolved here: a variable unset or empty, a file
// missing, unreadable or empty (blank counts as empty, as when a worker
// resolves it). A file's content is read to judge that, and kept nowhere:
// a tool that reports on a config, such as inquir lint, never shows it.
func (f Function) UnresolvedEnv() []EnvProblem {
	var out []EnvProblem
	for _, name := range slices.Sorted(maps.Keys(f.Env)) {
		v := f.Env[name]
		switch {
		case strings.HasPrefix(v, "env:"):
			variable := strings.TrimPrefix(v, "env:")
			if value, _ := LookupEnv(variable); value == "" {
				out = append(out, EnvProblem{Name: name, Ref: v, Why: variable + " is not set"})
			}
		case strings.HasPrefix(v, "file:"):
			written := strings.TrimPrefix(v, "file:")
			if why := unreadable(resolvePath(f.Dir, written)); why != "" {
				out = append(out, EnvProblem{Name: name, Ref: v, Why: written + " " + why})
			}
		}
	}
	return out
}

// unreadable says why the file at path cannot give a value, or "".
func unreadable(path string) string {
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "does not exist"
	case err != nil:
		return "cannot be read: " + errorCause(err)
	case st.IsDir():
		return "is a folder"
	}
	b, err := os.ReadFile(path)
	switch {
	case err != nil:
		return "cannot be read: " + errorCause(err)
	case strings.TrimSpace(string(b)) == "":
		return "is empty"
	}
	return ""
}

// errorCause is err without the path a *fs.PathError repeats.
func errorCause(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
