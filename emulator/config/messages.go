package config

import (
	"errors"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/BurntSushi/toml"
)

// syntaxError turns the TOML parser's error into an Error with the line and
// column the parser gives, in the parser's own words (see parserMessage).
func syntaxError(path string, data []byte, err error) error {
	var pe toml.ParseError
	if !errors.As(err, &pe) {
		// The parser reports everything as a ParseError; anything else
		// is not about the file's text, so it cannot quote it.
		return &Error{File: path, Msg: err.Error()}
	}
	e := &Error{File: path, Pos: offsetPosition(data, pe.Position), Msg: parserMessage(pe.Message, pe.LastKey)}
	if pe.LastKey != "" {
		e.Field = fieldName(splitKey(pe.LastKey))
	}
	return e
}

// offsetPosition is the line and column of the parser's byte offset. The
// parser's own line is one too far when what it choked on is a line's end
// ("got '\n'"): it has counted that newline already.
func offsetPosition(data []byte, p toml.Position) Position {
	if p.Start < 0 || p.Start > len(data) || (p.Start == 0 && p.Line > 1) {
		return Position{p.Line, p.Col}
	}
	before := data[:p.Start]
	line := 1 + strings.Count(string(before), "\n")
	col := p.Start - (strings.LastIndexByte(string(before), '\n') + 1) + 1
	return Position{line, col}
}

// outOfRange is the parser's "99999999999999999999 is out of range for
// int64": a number from the file, unquoted, at the start of the message.
var outOfRange = regexp.MustCompile(`^\S+ (is out of (?:the safe )?\S+ range|is out of range for)`)

// parserMessage keeps the parser's wording ("expected '.' or ']' to end
// table name, but got '\n' instead") and drops only the text it quotes from
// the file that could be part of a secret: a secret written without quotes
// is a syntax error, and the parser quotes the token it choked on.
//
// A quoted run is kept when it is one character (what the parser expected
// or got: one character gives no secret away), when it holds no letter or
// digit (the parser's own '"""'), or when it is lastKey (a key path, which
// the message names as its field anyway). Any other quoted run reads "…".
// Control characters are escaped so that a message stays on one line.
func parserMessage(msg, lastKey string) string {
	msg = outOfRange.ReplaceAllString(msg, "the number $1")
	var b strings.Builder
	for i := 0; i < len(msg); {
		c := msg[i]
		if c != '\'' && c != '"' {
			r, n := utf8.DecodeRuneInString(msg[i:])
			writeEscaped(&b, r)
			i += n
			continue
		}
		token, content, ok := quotedRun(msg[i:])
		if !ok {
			b.WriteByte(c)
			i++
			continue
		}
		switch {
		case utf8.RuneCountInString(content) == 1, !hasLetterOrDigit(content), content == lastKey:
			b.WriteByte(c)
			for _, r := range content {
				writeEscaped(&b, r)
			}
			b.WriteByte(c)
		default:
			b.WriteByte(c)
			b.WriteString("…")
			b.WriteByte(c)
		}
		i += len(token)
	}
	return b.String()
}

// quotedRun reads the quoted run at the start of s: a Go literal as %q
// writes it ('\n', "abc"), a raw character in single quotes as the parser
// writes what it got ('x'; a quote is three in a row), or else up to the
// next matching quote. It returns the run as written and its content.
func quotedRun(s string) (token, content string, ok bool) {
	q := s[0]
	if lit, err := strconv.QuotedPrefix(s); err == nil {
		if v, err := strconv.Unquote(lit); err == nil {
			return lit, v, true
		}
	}
	if q == '\'' {
		if r, n := utf8.DecodeRuneInString(s[1:]); n > 0 && len(s) > 1+n && s[1+n] == '\'' {
			return s[:2+n], string(r), true
		}
	}
	end := strings.IndexByte(s[1:], q)
	if end < 0 {
		return "", "", false
	}
	return s[:end+2], s[1 : end+1], true
}

func hasLetterOrDigit(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) >= 0
}

// writeEscaped writes r, or its Go escape when it is a control character.
func writeEscaped(b *strings.Builder, r rune) {
	if unicode.IsControl(r) || r == utf8.RuneError {
		q := strconv.QuoteRune(r)
		b.WriteString(q[1 : len(q)-1])
		return
	}
	b.WriteRune(r)
}

// decoderError reads the decoder's type errors, which say the line and key
// in their text only: `toml: line 3 (last key "keys.a.groups"): ...`.
var decoderError = regexp.MustCompile(`^toml: (?:line (\d+) )?\(last key ("(?:[^"\\]|\\.)*")\): `)

// typeError turns the decoder's complaint about a value of the wrong type
// into the user's words: the field, what it takes and an example, at the
// value's line and column. The decoder's own text ("TOML value has type
// string; destination has type slice", "parsing time ... as ...") speaks of
// Go types and may quote the value, which may be a secret; it is not used.
func typeError(path string, data []byte, positions map[string]Position, err error) error {
	var line, col int
	var lastKey string
	var pe toml.ParseError
	if errors.As(err, &pe) {
		// An UnmarshalTOML or UnmarshalText method refused the value. Its
		// column is inside a quoted value; valueColumn gives the quote's.
		line, lastKey = pe.Position.Line, pe.LastKey
	} else if m := decoderError.FindStringSubmatch(err.Error()); m != nil {
		line, _ = strconv.Atoi(m[1])
		lastKey, _ = strconv.Unquote(m[2])
	}
	if lastKey == "" {
		return &Error{File: path, Msg: "a value has the wrong type for its field"}
	}
	key := splitKey(lastKey)
	if key[0] == "routes" && len(key) > 1 && line > 0 {
		// The decoder does not say which [[routes]] entry: the last one
		// that starts above the line.
		index := ""
		for i := 0; ; i++ {
			p, ok := positions["routes."+strconv.Itoa(i)]
			if !ok || p.Line > line {
				break
			}
			index = strconv.Itoa(i)
		}
		if index != "" {
			key = append([]string{"routes", index}, key[1:]...)
		}
	}
	if line == 0 {
		p := positions[strings.Join(key, ".")]
		line, col = p.Line, p.Col
	}
	if col == 0 && line > 0 {
		col = valueColumn(data, line, key[len(key)-1])
	}
	return &Error{File: path, Pos: Position{line, col}, Field: fieldName(key), Msg: expectation(key)}
}

// valueColumn finds the column of the value of key name on a line: after
// `name =`, or the line's first non-blank character if name is not there.
func valueColumn(data []byte, line int, name string) int {
	lines := strings.Split(string(data), "\n")
	if line < 1 || line > len(lines) {
		return 0
	}
	l := lines[line-1]
	for _, spelled := range []string{name, `"` + name + `"`, "'" + name + "'"} {
		for from := 0; ; {
			i := strings.Index(l[from:], spelled)
			if i < 0 {
				break
			}
			rest := l[from+i+len(spelled):]
			after := strings.TrimLeft(rest, " \t")
			if strings.HasPrefix(after, "=") {
				value := after[1:]
				start := len(l) - len(strings.TrimLeft(value, " \t"))
				return start + 1
			}
			from += i + len(spelled)
		}
	}
	return len(l) - len(strings.TrimLeft(l, " \t")) + 1
}

// expectations say, per field, what a field takes, with an example in the
// form inquir.toml writes it. "*" stands for a key id, group or function
// name, route index, metadata or env name.
var expectations = map[string]string{
	"gateway":                    "expected a table, like [gateway]",
	"gateway.listen":             `expected a string, like "127.0.0.1:8787"`,
	"gateway.key_header":         `expected a string, like "x-api-key"`,
	"gateway.compat":             `expected a string: "inquir" or "aws"`,
	"gateway.region":             `expected a string, like "eu-west-1"`,
	"gateway.binary_media_types": `expected an array of strings, like ["image/png", "*/*"]`,
	"gateway.payload":            `expected a string: "1.0" or "2.0"`,

	"keys":              "expected tables, like [keys.partner]",
	"keys.*":            "expected a table, like [keys.partner]",
	"keys.*.secret":     `expected a string or an array of strings, like "env:PARTNER_KEY" or ["env:NEW_KEY", "env:OLD_KEY"]`,
	"keys.*.groups":     `expected an array of strings, like ["public-api"]`,
	"keys.*.not_before": "expected a date and time, without quotes, like 2026-11-01T00:00:00Z",
	"keys.*.expires":    "expected a date and time, without quotes, like 2026-12-31T00:00:00Z",
	"keys.*.disabled":   "expected true or false",
	"keys.*.metadata":   `expected a table of strings, like { tenant = "acme" }`,
	"keys.*.metadata.*": `expected a string, like "acme" (quote numbers too: "42")`,
	"keys.*.plan":       `expected a string naming a plan, like "partner"`,

	"plans":                          "expected tables, like [plans.partner]",
	"plans.*":                        "expected a table, like [plans.partner]",
	"plans.*.rate":                   "expected a number of requests per second, like 50 or 0.5",
	"plans.*.burst":                  "expected a whole number of requests, like 100",
	"plans.*.quota":                  `expected a table, like { limit = 10000, period = "MONTH" }`,
	"plans.*.quota.limit":            "expected a whole number of requests, like 10000",
	"plans.*.quota.period":           `expected a string: "DAY", "WEEK" or "MONTH"`,
	"plans.*.quota.offset":           "expected a whole number of requests, like 0",
	"plans.*.routes":                 "expected an array of tables, like [[plans.partner.routes]]",
	"plans.*.routes.*":               "expected a table, like [[plans.partner.routes]]",
	"plans.*.routes.*.method":        `expected a string, like "POST"`,
	"plans.*.routes.*.path":          `expected a string, like "/internal/search"`,
	"plans.*.routes.*.rate":          "expected a number of requests per second, like 5",
	"plans.*.routes.*.burst":         "expected a whole number of requests, like 5",
	"gateway.api_key_source":         `expected a string: "header" or "authorizer"`,
	"groups.*.authorizer":            `expected a string, the name of an [authorizers] table, like "tenant"`,
	"routes.*.authorizer":            `expected a string, the name of an [authorizers] table, like "tenant"`,
	"authorizers":                    "expected a table, like [authorizers.tenant]",
	"authorizers.*":                  "expected a table, like [authorizers.tenant]",
	"authorizers.*.function":         `expected a string, like "tenant-auth"`,
	"authorizers.*.type":             `expected a string: "token" or "request"`,
	"authorizers.*.identity_sources": `expected an array of strings, like ["header.Authorization"]`,
	"authorizers.*.ttl":              `expected a string, like "300s" ("0" caches nothing)`,
	"authorizers.*.token_validation": `expected a string, a regular expression like "^Bearer .+$"`,
	"authorizers.*.simple_responses": "expected true or false",

	"groups":            "expected tables, like [groups.internal]",
	"groups.*":          "expected a table, like [groups.internal]",
	"groups.*.internal": "expected true or false",

	"functions":               "expected tables, like [functions.customers]",
	"functions.*":             "expected a table, like [functions.customers]",
	"functions.*.runtime":     `expected a string: "go", "go-plugin", "node" or "process"`,
	"functions.*.path":        `expected a string, like "functions/customers"`,
	"functions.*.export":      `expected a string, like "handler"`,
	"functions.*.command":     `expected an array of strings, like ["./bin/fn", "--verbose"]`,
	"functions.*.timeout":     `expected a duration in quotes, like "10s"`,
	"functions.*.concurrency": "expected a whole number, like 4",
	"functions.*.env":         `expected a table of strings, like { TABLE = "customers" }`,
	"functions.*.env.*":       `expected a string, like "customers" or "env:NAME" (quote numbers too: "8080")`,

	"routes":            "expected an array of tables, like [[routes]]",
	"routes.*":          "expected a table, like [[routes]]",
	"routes.*.method":   `expected a string, like "GET" or "ANY"`,
	"routes.*.path":     `expected a string, like "/customers/{customerId}"`,
	"routes.*.function": `expected a string naming a function, like "customers"`,
	"routes.*.group":    `expected a string, like "public-api"`,
	"routes.*.keys":     `expected an array of key ids, like ["orchestrator"]`,
	"routes.*.auth":     `expected a string: "api_key" or "none"`,
	"routes.*.reason":   `expected a string, like "health checks"`,
	"routes.*.payload":  `expected a string: "1.0" or "2.0"`,
}

// expectation says what the field at key takes.
func expectation(key []string) string {
	if msg, ok := expectations[schemaPath(key)]; ok {
		return msg
	}
	return "has the wrong type for this field"
}

// schemaPath spells a key path with its names replaced by "*":
// keys.partner.groups → keys.*.groups, functions.f.env.TABLE → functions.*.env.*.
func schemaPath(key []string) string {
	parts := append([]string{}, key...)
	if len(parts) > 1 && parts[0] != "gateway" {
		parts[1] = "*"
	}
	// The fourth part is a name (an env variable, a metadata key) or an
	// index, except in a plan's quota, whose fields are fixed.
	if len(parts) > 3 && !(parts[0] == "plans" && parts[2] == "quota") {
		parts[3] = "*"
	}
	return strings.Join(parts, ".")
}
