package config

import (
	"errors"
	"io/fs"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// loadError loads toml as inquir.toml and returns its error message, with
// the file named relative to its folder.
func loadError(t *testing.T, toml string) string {
	t.Helper()
	path := project(t, toml)
	t.Chdir(filepath.Dir(path))
	_, err := Load(path)
	if err == nil {
		t.Fatalf("Load succeeded; want an error")
	}
	return err.Error()
}

// A syntax error reads as the TOML parser wrote it, with its line and
// column; only a token quoted from the file (which may be a secret) is left
// out.
func TestSyntaxErrorsInTheParsersWords(t *testing.T) {
	tests := []struct {
		name, toml, want string
	}{
		{"unclosed table name", "[keys.a\nsecret = \"x\"\n",
			`inquir.toml:1:8: expected '.' or ']' to end table name, but got '\n' instead`},
		{"bare word after a key", "[keys.a]\nabcdef123\n",
			`inquir.toml:2:10: keys.a: expected '.' or '=', but got '\n' instead`},
		{"array without a comma", "[functions.f]\ncommand = [\"a\" \"b\"]\n",
			`inquir.toml:2:16: functions.f.command: expected a comma (',') or array terminator (']'), but got '"'`},
		{"unterminated string", "[keys.a]\nsecret = \"abc\n",
			`inquir.toml:2:14: keys.a.secret: strings cannot contain newlines`},
		{"duplicate key", "[keys.a]\nsecret = \"env:A\"\nsecret = \"env:B\"\n",
			`inquir.toml:3:1: keys.a.secret: Key 'keys.a.secret' has already been defined.`},
		{"unquoted secret", "[keys.a]\nsecret = sUp3r-s3cret\n",
			`inquir.toml:2:10: keys.a.secret: expected value but found "…" instead`},
		{"unquoted number too big", "[keys.a]\nsecret = 99999999999999999999\n",
			`inquir.toml:2:10: keys.a.secret: the number is out of range for int64`},
		{"unclosed multi-line string", "[keys.a]\nsecret = \"\"\"abc\n",
			`inquir.toml:2:16: keys.a.secret: unexpected EOF; expected '"""'`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := loadError(t, tt.toml); got != tt.want {
				t.Errorf("error:\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestParserMessageKeepsNoSecret(t *testing.T) {
	tests := []struct{ msg, lastKey, want string }{
		{`expected value but found "hunter2hunter2" instead`, "", `expected value but found "…" instead`},
		{`invalid float: 'sk_live_abc'`, "", `invalid float: '…'`},
		{`Invalid integer "0123": cannot have leading zeroes`, "", `Invalid integer "…": cannot have leading zeroes`},
		{"expected a comma (',') or array terminator (']'), but got '\n'", "", `expected a comma (',') or array terminator (']'), but got '\n'`},
		{"but got ''' instead", "", `but got ''' instead`},
		{`Key 'keys.a.x' has already been defined.`, "keys.a.x", `Key 'keys.a.x' has already been defined.`},
		{`Key 'token123' has already been defined.`, "keys.a", `Key '…' has already been defined.`},
		{`123456789012345678901234 is out of the safe float64 range`, "", `the number is out of the safe float64 range`},
	}
	for _, tt := range tests {
		if got := parserMessage(tt.msg, tt.lastKey); got != tt.want {
			t.Errorf("parserMessage(%q)\n got %s\nwant %s", tt.msg, got, tt.want)
		}
	}
}

// A value of the wrong type says what the field takes, with an example, at
// the value's line and column.
func TestTypeErrorsInTheUsersWords(t *testing.T) {
	const fn = "[functions.f]\nruntime = \"node\"\npath = \"fn/index.mjs\"\n"
	const route = "[[routes]]\nmethod = \"GET\"\npath = \"/a\"\nfunction = \"f\"\n"
	tests := []struct {
		name, toml, want string
	}{
		{"groups as a string", "[keys.partner]\nsecret = \"env:K\"\ngroups = \"public-api\"\n",
			`inquir.toml:3:10: keys.partner.groups: expected an array of strings, like ["public-api"]`},
		{"groups of numbers", "[keys.partner]\nsecret = \"env:K\"\ngroups = [1]\n",
			`inquir.toml:3:10: keys.partner.groups: expected an array of strings, like ["public-api"]`},
		{"secret as a number", "[keys.partner]\nsecret = 12345678\n",
			`inquir.toml:2:10: keys.partner.secret: expected a string or an array of strings, like "env:PARTNER_KEY" or ["env:NEW_KEY", "env:OLD_KEY"]`},
		{"expires in quotes", "[keys.partner]\nsecret = \"env:K\"\nexpires = \"tomorrow\"\n",
			`inquir.toml:3:11: keys.partner.expires: expected a date and time, without quotes, like 2026-12-31T00:00:00Z`},
		{"metadata value a number", "[keys.partner]\nsecret = \"env:K\"\nmetadata = { tier = 2 }\n",
			`inquir.toml:3:21: keys.partner.metadata.tier: expected a string, like "acme" (quote numbers too: "42")`},
		{"disabled as a string", "[keys.partner]\nsecret = \"env:K\"\ndisabled = \"yes\"\n",
			`inquir.toml:3:12: keys.partner.disabled: expected true or false`},
		{"concurrency in quotes", fn + "concurrency = \"4\"\n",
			`inquir.toml:4:15: functions.f.concurrency: expected a whole number, like 4`},
		{"timeout as a number", fn + "timeout = 10\n",
			`inquir.toml:4:11: functions.f.timeout: expected a duration in quotes, like "10s"`},
		{"env value a number", fn + "env = { PORT = 8080 }\n",
			`inquir.toml:4:16: functions.f.env.PORT: expected a string, like "customers" or "env:NAME" (quote numbers too: "8080")`},
		{"command as a string", "[functions.f]\nruntime = \"process\"\ncommand = \"./fn\"\n",
			`inquir.toml:3:11: functions.f.command: expected an array of strings, like ["./bin/fn", "--verbose"]`},
		{"gateway as a value", "gateway = 5\n",
			`inquir.toml:1:11: gateway: expected a table, like [gateway]`},
		{"second route's keys", fn + route + route + "keys = \"ops\"\n",
			`inquir.toml:12:8: routes[1].keys: expected an array of key ids, like ["orchestrator"]`},
		{"internal as a string", "[groups.ops]\ninternal = \"true\"\n",
			`inquir.toml:2:12: groups.ops.internal: expected true or false`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := loadError(t, tt.toml); got != tt.want {
				t.Errorf("error:\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

// Every field inquir.toml defines has its own sentence for a value of the
// wrong type: a field added to the schema without one fails here.
func TestEveryFieldHasAnExpectation(t *testing.T) {
	var paths []string
	var walk func(rt reflect.Type, prefix string)
	walk = func(rt reflect.Type, prefix string) {
		for i := 0; i < rt.NumField(); i++ {
			name := rt.Field(i).Tag.Get("toml")
			if name == "" {
				continue
			}
			p := prefix + name
			paths = append(paths, p)
			ft := rt.Field(i).Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			switch ft.Kind() {
			case reflect.Struct:
				walk(ft, p+".")
			case reflect.Map, reflect.Slice:
				if ft.Elem().Kind() == reflect.Struct {
					paths = append(paths, p+".*")
					walk(ft.Elem(), p+".*.")
				} else if ft.Kind() == reflect.Map {
					paths = append(paths, p+".*")
				}
			}
		}
	}
	walk(reflect.TypeOf(rawFile{}), "")
	if len(paths) < 30 {
		t.Fatalf("found only %d fields: %v", len(paths), paths)
	}
	for _, p := range paths {
		if _, ok := expectations[p]; !ok {
			t.Errorf("no expectation for %s", p)
		}
	}
	for p := range expectations {
		if !containsString(paths, p) {
			t.Errorf("expectation for %s, which is not a field", p)
		}
	}
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// A config that cannot be read is a *Error like any other, naming the file.
func TestMissingFileIsAConfigError(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	_, err := Load("inquir.toml")
	var cerr *Error
	if !errors.As(err, &cerr) || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Load of a missing file: %v (%T); want a *config.Error wrapping fs.ErrNotExist", err, err)
	}
	if got, want := err.Error(), "inquir.toml: no such file or directory"; got != want {
		t.Errorf("error = %q; want %q", got, want)
	}
	if strings.Contains(err.Error(), "reading config") {
		t.Errorf("error %q repeats itself", err)
	}
}
