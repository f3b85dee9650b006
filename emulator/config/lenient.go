package config

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// LoadLenient is Load for tools that report on a config rather than serve
// it, such as inquir lint: a route that names an undefined function is kept
// as written (Config.Function returns nil for its name) instead of failing
// the load, so the tool can report it beside its other findings. Every
// other problem fails the load as it does in Load. A Config loaded this way
// must never be served: the gateway refuses such a route, and Load says so.
func LoadLenient(path string) (*Config, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	data, err := os.ReadFile(abs)
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	return ParseLenient(abs, data)
}

// ParseLenient is Parse with LoadLenient's leniency.
func ParseLenient(path string, data []byte) (*Config, error) {
	raw, positions, err := decode(path, data)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	c := &Config{
		File:      path,
		Dir:       filepath.Dir(path),
		ID:        hex.EncodeToString(sum[:6]),
		positions: positions,
	}
	// build reports every problem and still fills c, so the problems other
	// than undefined functions decide.
	var rest []error
	for _, e := range unjoin(c.build(raw)) {
		if !c.isUndefinedFunction(e) {
			rest = append(rest, e)
		}
	}
	if len(rest) > 0 {
		return nil, errors.Join(rest...)
	}
	return c, nil
}

// isUndefinedFunction reports whether err is the error build makes for a
// route whose function has no [functions.NAME] table.
func (c *Config) isUndefinedFunction(err error) bool {
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	for _, r := range c.Routes {
		if r.Function != "" && c.Function(r.Function) == nil &&
			e.Field == fieldName([]string{"routes", strconv.Itoa(r.Index), "function"}) {
			return true
		}
	}
	return false
}

// unjoin lists the errors errors.Join put together; nil gives none.
func unjoin(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
