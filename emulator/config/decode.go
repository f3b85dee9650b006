package config

import (
	"errors"
	"fmt"
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
}

type rawGateway struct {
	Listen    string  `toml:"listen"`
	KeyHeader string  `toml:"key_header"`
	Compat    string  `toml:"compat"`
	Region    *string `toml:"region"`
}

type rawKey struct {
	Secret    stringOrList      `toml:"secret"`
	Groups    []string          `toml:"groups"`
	NotBefore *time.Time        `toml:"not_before"`
	Expires   *time.Time        `toml:"expires"`
	Disabled  bool              `toml:"disabled"`
	Metadata  map[string]string `toml:"metadata"`
}

type rawGroup struct {
	Internal bool `toml:"internal"`
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
	var raw rawFile
	md, err := toml.Decode(string(data), &raw)
	if err != nil {
		return nil, nil, typeError(path, data, positions, err)
	}
	var errs []error
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
	return &raw, positions, nil
}

// suggest names the fields a table does have, so a typo is easy to fix.
func suggest(key []string) string {
	fields := map[string]string{
		"gateway":   "listen, key_header, compat",
		"keys":      "secret, groups, not_before, expires, disabled, metadata",
		"groups":    "internal",
		"functions": "runtime, path, export, command, timeout, concurrency, env",
		"routes":    "method, path, function, group, keys, auth, reason",
	}
	if len(key) == 1 {
		return " (tables are gateway, keys, groups, functions, routes)"
	}
	if f, ok := fields[key[0]]; ok {
		return " (" + key[0] + " fields are " + f + ")"
	}
	return ""
}
