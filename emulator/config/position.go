package config

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
)

// Position is a place in inquir.toml: 1-based line and column. The zero
// Position means "unknown".
type Position struct {
	Line, Col int
}

// Error is a problem with the config that names where it is. Its message
// never holds a secret.
type Error struct {
	File  string // absolute path
	Pos   Position
	Field string // dotted: "functions.customers.timeout", "routes[2].path"
	Msg   string

	undefinedFunction bool  // a route names a function with no table
	err               error // the cause, when the file could not be read
}

// Unwrap returns the cause of a read failure (errors.Is(err,
// fs.ErrNotExist) holds for a missing file), or nil.
func (e *Error) Unwrap() error { return e.err }

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(displayPath(e.File))
	if e.Pos.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Pos.Line)
		if e.Pos.Col > 0 {
			fmt.Fprintf(&b, ":%d", e.Pos.Col)
		}
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// displayPath shortens path to be relative to the working folder when it is
// inside it, so messages read "inquir.toml:12:1" as editors expect.
func displayPath(path string) string {
	wd, err := filepath.Abs(".")
	if err != nil {
		return path
	}
	if rel, err := filepath.Rel(wd, path); err == nil && !strings.HasPrefix(rel, "..") {
		return rel
	}
	return path
}

// Pos returns the position of a table or field, named by its TOML key path:
// Pos("functions", "customers", "timeout"), Pos("routes", "0", "path").
// A field that is not written in the file falls back to its table.
func (c *Config) Pos(key ...string) Position {
	for n := len(key); n > 0; n-- {
		k := strings.Join(key[:n], ".")
		if p, ok := c.positions[k]; ok {
			return p
		}
		// An array of tables the decoder names without an index: its first.
		if p, ok := c.positions[k+".0"]; ok {
			return p
		}
		// The TOML decoder matches keys to fields ignoring case, so
		// [Gateway] fills the gateway table: find it as written.
		for written, p := range c.positions {
			if strings.EqualFold(written, k) {
				return p
			}
		}
	}
	return Position{}
}

// ErrorAt makes an Error about the table or field at key path key (as for Pos).
func (c *Config) ErrorAt(key []string, format string, args ...any) *Error {
	return &Error{File: c.File, Pos: c.Pos(key...), Field: fieldName(key), Msg: fmt.Sprintf(format, args...)}
}

// fieldName spells a key path as a user reads it: routes.2.path → routes[2].path.
func fieldName(key []string) string {
	var b strings.Builder
	for i, k := range key {
		if _, err := strconv.Atoi(k); err == nil && i > 0 {
			fmt.Fprintf(&b, "[%s]", k)
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(k)
	}
	return b.String()
}

// locate finds where each table and key starts in a TOML document. The TOML
// decoder keeps positions to itself, so this reads the lines again: table
// headers ([a.b], [[routes]] counted from 0) and "key = value" lines. It is
// only asked about documents the decoder accepted, so it can be simple: it
// skips the inside of multi-line arrays, inline tables and strings.
func locate(data []byte) map[string]Position {
	pos := map[string]Position{}
	arrayCount := map[string]int{}
	var table []string
	depth := 0     // open [ and { in a value spanning lines
	inString := "" // the delimiter of an open multi-line string
	for i, line := range strings.Split(string(data), "\n") {
		lineNo := i + 1
		if inString != "" {
			if strings.Contains(line, inString) {
				inString = ""
			}
			continue
		}
		if depth > 0 {
			depth += bracketBalance(line)
			continue
		}
		trimmed := strings.TrimSpace(line)
		col := len(line) - len(strings.TrimLeft(line, " \t")) + 1
		switch {
		case trimmed == "" || trimmed[0] == '#':
		case strings.HasPrefix(trimmed, "[["):
			name := splitKey(strings.TrimSuffix(strings.TrimSpace(strings.TrimPrefix(trimmed[:strings.Index(trimmed, "]]")], "[[")), ""))
			joined := strings.Join(name, ".")
			n := arrayCount[joined]
			arrayCount[joined] = n + 1
			table = append(name, strconv.Itoa(n))
			pos[strings.Join(table, ".")] = Position{lineNo, col}
		case trimmed[0] == '[':
			end := strings.Index(trimmed, "]")
			table = splitKey(trimmed[1:end])
			pos[strings.Join(table, ".")] = Position{lineNo, col}
		default:
			eq := strings.Index(trimmed, "=")
			if eq < 0 {
				continue
			}
			key := append(append([]string{}, table...), splitKey(trimmed[:eq])...)
			pos[strings.Join(key, ".")] = Position{lineNo, col}
			value := strings.TrimSpace(trimmed[eq+1:])
			for _, delim := range []string{`"""`, `'''`} {
				if strings.HasPrefix(value, delim) && !strings.Contains(value[3:], delim) {
					inString = delim
				}
			}
			if inString == "" {
				depth = bracketBalance(value)
			}
		}
	}
	return pos
}

// splitKey splits a dotted TOML key, honouring quotes: a."b.c" → [a b.c].
func splitKey(s string) []string {
	var parts []string
	var cur strings.Builder
	quote := byte(0)
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case quote != 0 && ch == quote:
			quote = 0
		case quote != 0:
			cur.WriteByte(ch)
		case ch == '"' || ch == '\'':
			quote = ch
		case ch == '.':
			parts = append(parts, cur.String())
			cur.Reset()
		case ch == ' ' || ch == '\t':
			// Space around an unquoted part; inside quotes it is the key's.
		default:
			cur.WriteByte(ch)
		}
	}
	return append(parts, cur.String())
}

// bracketBalance counts [ and { opened minus closed on a line, outside
// strings and comments.
func bracketBalance(s string) int {
	n := 0
	quote := byte(0)
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case quote != 0:
			if ch == '\\' && quote == '"' {
				i++
			} else if ch == quote {
				quote = 0
			}
		case ch == '"' || ch == '\'':
			quote = ch
		case ch == '#':
			return n
		case ch == '[' || ch == '{':
			n++
		case ch == ']' || ch == '}':
			n--
		}
	}
	return n
}
