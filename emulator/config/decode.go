package config

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// The raw shape of inquir.toml, as the TOML decoder fills it. Pointers tell
// "left out" from "written as the zero value" where that matters.
type rawFile struct {
	Gateway   rawGateway             `toml:"gateway"`
	Keys      map[string]rawKey      `toml:"keys"`
	Groups    map[string]rawGroup    `toml:"groups"`
	Functions map[string]rawFunction `toml:"functions"`
	Routes    []rawRoute             `toml:"routes"`
	Plans     map[string]rawPlan     `toml:"plans"`

	Authorizers map[string]rawAuthorizer `toml:"authorizers"`
}

type rawPlan struct {
	Rate   *float64       `toml:"rate"`
	Burst  *int           `toml:"burst"`
	Quota  *rawQuota      `toml:"quota"`
	Routes []rawPlanRoute `toml:"routes"`
}

type rawQuota struct {
	Limit  *int64 `toml:"limit"`
	Period string `toml:"period"`
	Offset int64  `toml:"offset"`
}

type rawPlanRoute struct {
	Method string   `toml:"method"`
	Path   string   `toml:"path"`
	Rate   *float64 `toml:"rate"`
	Burst  *int     `toml:"burst"`
}

type rawGateway struct {
	Listen           string   `toml:"listen"`
	KeyHeader        string   `toml:"key_header"`
	Compat           string   `toml:"compat"`
	Region           *string  `toml:"region"`
	BinaryMediaTypes []string `toml:"binary_media_types"`

	APIKeySource string `toml:"api_key_source"`
	Payload      string `toml:"payload"`
}

type rawKey struct {
	Secret    stringOrList      `toml:"secret"`
	Groups    []string          `toml:"groups"`
	NotBefore *time.Time        `toml:"not_before"`
	Expires   *time.Time        `toml:"expires"`
	Disabled  bool              `toml:"disabled"`
	Metadata  map[string]string `toml:"metadata"`
	Plan      string            `toml:"plan"`
}

type rawGroup struct {
	Internal   bool   `toml:"internal"`
	Authorizer string `toml:"authorizer"`
}

type rawFunction struct {
	Runtime     string            `toml:"runtime"`
	Path        string            `toml:"path"`
	Export      string            `toml:"export"`
	Command     []string          `toml:"command"`
	Timeout     string            `toml:"timeout"`
	Concurrency *int              `toml:"concurrency"`
	Env         map[string]string `toml:"env"`
}

type rawRoute struct {
	Method   string   `toml:"method"`
	Path     string   `toml:"path"`
	Function string   `toml:"function"`
	Group    string   `toml:"group"`
	Keys     []string `toml:"keys"`
	Auth     string   `toml:"auth"`
	Reason   string   `toml:"reason"`

	Authorizer string `toml:"authorizer"`
	Payload    string `toml:"payload"`
}

// stringOrList accepts `secret = "x"` and `secret = ["x", "y"]`.
type stringOrList struct {
	values []string
	set    bool
}

func (s *stringOrList) UnmarshalTOML(v any) error {
	s.set = true
	switch v := v.(type) {
	case string:
		s.values = []string{v}
		return nil
	case []any:
		for _, e := range v {
			str, ok := e.(string)
			if !ok {
				return fmt.Errorf("must be a string or an array of strings")
			}
			s.values = append(s.values, str)
		}
		return nil
	}
	return fmt.Errorf("must be a string or an array of strings")
}

// decode parses data and rejects keys inquir.toml does not define.
//
// It parses twice: first into a plain map, where every error is the TOML
// parser's own (syntax, duplicate keys), then into rawFile, where every
// error is a value of the wrong type for its field. The two read
// differently (see syntaxError and typeError).
func decode(path string, data []byte) (*rawFile, map[string]Position, error) {
	var doc map[string]any
	if _, err := toml.Decode(string(data), &doc); err != nil {
		return nil, nil, syntaxError(path, data, err)
	}
	positions := locate(data)
	// The decoder quietly skips a table written as a plain value
	// (keys = 3); it is a value of the wrong type like any other.
	for _, name := range []string{"gateway", "keys", "groups", "functions", "routes", "plans", "authorizers"} {
		v, ok := doc[name]
		if !ok {
			continue
		}
		_, table := v.(map[string]any)
		_, tables := v.([]map[string]any)
		if (name == "routes" && !tables) || (name != "routes" && !table) {
			p := (&Config{positions: positions}).Pos(name)
			if p.Line > 0 && p.Col == 1 && !strings.HasPrefix(strings.TrimSpace(lineOf(data, p.Line)), "[") {
				p.Col = valueColumn(data, p.Line, name)
			}
			return nil, nil, &Error{File: path, Pos: p, Field: name, Msg: expectation([]string{name})}
		}
	}
	raw, md, err := decodeTables(data)
	if err != nil {
		return nil, nil, typeError(path, data, positions, err)
	}
	var errs []error
	// Every table that holds a value of the wrong type is reported, in the
	// file's order, not only the first the decoder happened to meet.
	for _, err := range raw.typeErrs {
		errs = append(errs, typeError(path, data, positions, err))
	}
	if len(errs) > 0 {
		sortByPosition(errs)
		return nil, nil, errors.Join(errs...)
	}
	for _, k := range md.Undecoded() {
		key := []string(k)
		p := positions[strings.Join(key, ".")]
		if key[0] == "routes" && len(key) == 2 {
			// The decoder does not say which [[routes]] entry; the first
			// that has the field is the one to fix first.
			for i := 0; p.Line == 0; i++ {
				if _, ok := positions["routes."+strconv.Itoa(i)]; !ok {
					break
				}
				p = positions["routes."+strconv.Itoa(i)+"."+key[1]]
			}
		}
		if p.Line == 0 {
			// An unknown [[table]] is written as its first entry;
			// a key in another case is still the key written.
			p = (&Config{positions: positions}).Pos(append(key[:len(key):len(key)], "0")...)
		}
		errs = append(errs, &Error{File: path, Pos: p, Field: fieldName(key), Msg: "unknown field" + suggest(key)})
	}
	if len(errs) > 0 {
		return nil, nil, errors.Join(errs...)
	}
	return &raw.rawFile, positions, nil
}

// lineOf returns line n (1-based) of data.
func lineOf(data []byte, n int) string {
	lines := strings.Split(string(data), "\n")
	if n < 1 || n > len(lines) {
		return ""
	}
	return lines[n-1]
}

// decodedFile is a rawFile and the type errors of its tables.
type decodedFile struct {
	rawFile
	typeErrs []error
}

// decodeTables decodes data into a rawFile one table at a time: the
// decoder walks maps in no fixed order and stops at the first value of the
// wrong type, so decoding the whole file at once would report a different
// one from run to run. An error is returned only when the file's top level
// itself has the wrong shape (keys = 3).
func decodeTables(data []byte) (decodedFile, toml.MetaData, error) {
	var top struct {
		Gateway   toml.Primitive            `toml:"gateway"`
		Keys      map[string]toml.Primitive `toml:"keys"`
		Groups    map[string]toml.Primitive `toml:"groups"`
		Functions map[string]toml.Primitive `toml:"functions"`
		Routes    []toml.Primitive          `toml:"routes"`
		Plans     map[string]toml.Primitive `toml:"plans"`

		Authorizers map[string]toml.Primitive `toml:"authorizers"`
	}
	var f decodedFile
	md, err := toml.Decode(string(data), &top)
	if err != nil {
		return f, md, err
	}
	note := func(err error) {
		if err != nil {
			f.typeErrs = append(f.typeErrs, err)
		}
	}
	note(md.PrimitiveDecode(top.Gateway, &f.Gateway))
	f.Keys = decodeEach[rawKey](md, top.Keys, note)
	f.Groups = decodeEach[rawGroup](md, top.Groups, note)
	f.Functions = decodeEach[rawFunction](md, top.Functions, note)
	f.Plans = decodeEach[rawPlan](md, top.Plans, note)
	f.Authorizers = decodeEach[rawAuthorizer](md, top.Authorizers, note)
	for _, prim := range top.Routes {
		var r rawRoute
		note(md.PrimitiveDecode(prim, &r))
		f.Routes = append(f.Routes, r)
	}
	return f, md, nil
}

// decodeEach decodes each table of a map, in name order.
func decodeEach[T any](md toml.MetaData, prims map[string]toml.Primitive, note func(error)) map[string]T {
	if prims == nil {
		return nil
	}
	out := make(map[string]T, len(prims))
	for _, name := range slices.Sorted(maps.Keys(prims)) {
		var v T
		note(md.PrimitiveDecode(prims[name], &v))
		out[name] = v
	}
	return out
}

// sortByPosition orders config errors as they stand in the file.
func sortByPosition(errs []error) {
	slices.SortStableFunc(errs, func(a, b error) int {
		var ea, eb *Error
		errors.As(a, &ea)
		errors.As(b, &eb)
		if ea == nil || eb == nil {
			return 0
		}
		if c := cmp.Compare(ea.Pos.Line, eb.Pos.Line); c != 0 {
			return c
		}
		return cmp.Compare(ea.Pos.Col, eb.Pos.Col)
	})
}

// suggest names the fields a table does have, so a typo is easy to fix.
func suggest(key []string) string {
	fields := map[string]string{
		"gateway":     "listen, key_header, compat, region, api_key_source, binary_media_types, payload",
		"keys":        "secret, groups, not_before, expires, disabled, metadata, plan",
		"groups":      "internal, authorizer",
		"functions":   "runtime, path, export, command, timeout, concurrency, env",
		"routes":      "method, path, function, group, keys, auth, reason, authorizer, payload",
		"plans":       "rate, burst, quota, routes",
		"authorizers": "function, type, identity_sources, ttl, token_validation, simple_responses",
	}
	if len(key) == 1 {
		return " (tables are gateway, keys, groups, functions, routes, plans, authorizers)"
	}
	if f, ok := fields[key[0]]; ok {
		return " (" + key[0] + " fields are " + f + ")"
	}
	return ""
}
