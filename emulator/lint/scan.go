package lint

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/inquir-dev/inquir/emulator/config"
)

// keyRead is a place where handler source reads an API key header itself.
type keyRead struct {
	File   string // absolute
	Line   int
	Header string // as the source spells it, lower-cased
}

// maxSourceSize skips files too big to be handwritten: bundles, generated code.
const maxSourceSize = 1 << 20

// handlerSources lists the files INQ011 reads for a function: a Go
// function's package folder (*.go, tests aside); a Node module and the
// .js, .mjs, .cjs and .ts files beside it. Other runtimes are not read:
// a process command can be written in anything.
func handlerSources(fn config.Function) []string {
	var dir string
	var exts []string
	switch fn.Runtime {
	case config.RuntimeGo, config.RuntimeGoPlugin:
		dir, exts = fn.Path, []string{".go"}
	case config.RuntimeNode:
		dir, exts = filepath.Dir(fn.Path), []string{".js", ".mjs", ".cjs", ".ts"}
	default:
		return nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var files []string
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || strings.HasSuffix(name, "_test.go") || !slices.Contains(exts, filepath.Ext(name)) {
			continue
		}
		files = append(files, filepath.Join(dir, name))
	}
	slices.Sort(files)
	// The module itself first: it is the one the config names.
	if i := slices.Index(files, fn.Path); i > 0 {
		files = append([]string{fn.Path}, slices.Delete(files, i, i+1)...)
	}
	return files
}

// keyReadPatterns match code that reads one of the headers, case-insensitively:
//
//	headers["x-api-key"]  Headers['X-Api-Key']  event.headers?.["x-api-key"]
//	.Get("X-Api-Key")  .get("x-api-key")  .Values(...)  .has(...)  .hasOwnProperty(...)
//	const { "x-api-key": key } = event.headers
//	k === "x-api-key"   strings.EqualFold(k, "X-Api-Key")   case "x-api-key":   "x-api-key" in headers
//
// Writes are not reads: headers["x-api-key"] = key, .Set(...), and object
// literals such as { "x-api-key": key } (a function calling another route
// through the gateway sends a key; that is not checking one).
func keyReadPatterns(headers []string) []*regexp.Regexp {
	quoted := make([]string, len(headers))
	for i, h := range headers {
		quoted[i] = regexp.QuoteMeta(h)
	}
	h := "[\"'`](" + strings.Join(quoted, "|") + ")[\"'`]"
	return []*regexp.Regexp{
		regexp.MustCompile(`(?i)headers?\s*(?:\?\.)?\s*\[\s*` + h + `\s*\]`),
		regexp.MustCompile(`(?i)\.\s*(?:get|getall|values|has|hasownproperty)\s*\(\s*` + h + `\s*\)`),
		regexp.MustCompile(`(?i)\{[^{}]*` + h + `\s*:\s*[A-Za-z_$][\w$]*[^{}]*\}\s*=`),
		regexp.MustCompile(`(?i)(?:[=!]==?\s*` + h + `|` + h + `\s*[=!]==?|EqualFold\s*\([^()]*` + h + `|\bcase\s+` + h + `|` + h + `\s+in\s)`),
	}
}

// findKeyReads scans files for reads of a header, as keyReadPatterns
// match them, comments aside.
func findKeyReads(files []string, patterns []*regexp.Regexp) []keyRead {
	var out []keyRead
	for _, file := range files {
		st, err := os.Stat(file)
		if err != nil || st.Size() > maxSourceSize {
			continue
		}
		b, err := os.ReadFile(file)
		if err != nil {
			continue
		}
		src := stripComments(string(b), filepath.Ext(file) != ".go")
		var reads []keyRead
		for _, re := range patterns {
			for _, m := range re.FindAllStringSubmatchIndex(src, -1) {
				if isAssignment(src[m[1]:]) {
					continue
				}
				reads = append(reads, keyRead{File: file, Line: 1 + strings.Count(src[:m[0]], "\n"), Header: strings.ToLower(header(src, m))})
			}
		}
		slices.SortStableFunc(reads, func(a, b keyRead) int { return a.Line - b.Line })
		out = append(out, compactReads(reads)...)
	}
	return out
}

// header is the header name a match captured: the first group that took
// part (a pattern with alternatives has a group in each).
func header(src string, m []int) string {
	for i := 2; i+1 < len(m); i += 2 {
		if m[i] >= 0 {
			return src[m[i]:m[i+1]]
		}
	}
	return ""
}

// isAssignment reports whether rest (what follows a match) begins with a
// plain "=": the match was written to, not read. A destructuring match ends
// at its "=", so rest then begins with what is assigned; "==" and "=>" are
// not assignments.
func isAssignment(rest string) bool {
	rest = strings.TrimLeft(rest, " \t")
	return strings.HasPrefix(rest, "=") && !strings.HasPrefix(rest, "==") && !strings.HasPrefix(rest, "=>")
}

// compactReads keeps one read per line of reads sorted by line.
func compactReads(reads []keyRead) []keyRead {
	var out []keyRead
	for _, r := range reads {
		if len(out) == 0 || out[len(out)-1].Line != r.Line {
			out = append(out, r)
		}
	}
	return out
}

// stripComments blanks out // and /* */ comments (keeping newlines, so
// lines still count), leaving strings, which may hold "//", as they are.
// jsTemplates says a backquoted string may hold backslash escapes, as a
// JavaScript template does and a Go raw string does not. It does not know
// JavaScript's regular expression literals: one holding a quote can hide
// the code after it until the next line's quote.
func stripComments(src string, jsTemplates bool) string {
	b := []byte(src)
	var quote byte
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case quote != 0:
			if c == '\\' && (quote != '`' || jsTemplates) {
				i++
			} else if c == quote || (c == '\n' && quote != '`') {
				quote = 0
			}
		case c == '"' || c == '\'' || c == '`':
			quote = c
		case c == '/' && i+1 < len(b) && b[i+1] == '/':
			for ; i < len(b) && b[i] != '\n'; i++ {
				b[i] = ' '
			}
		case c == '/' && i+1 < len(b) && b[i+1] == '*':
			b[i], b[i+1] = ' ', ' '
			for i += 2; i < len(b) && !(b[i] == '*' && i+1 < len(b) && b[i+1] == '/'); i++ {
				if b[i] != '\n' {
					b[i] = ' '
				}
			}
			if i < len(b) {
				b[i], b[i+1] = ' ', ' '
				i++
			}
		}
	}
	return string(b)
}

// base64Patterns match a handler that answers with isBase64Encoded set to
// true: a JavaScript object literal ({ isBase64Encoded: true },
// "isBase64Encoded": true), a Go composite literal (IsBase64Encoded:
// true) and an assignment (resp.isBase64Encoded = true,
// resp.IsBase64Encoded = true). Reading the event's isBase64Encoded
// (event.isBase64Encoded === true, if ev.IsBase64Encoded) is not
// answering with it.
var base64Patterns = []*regexp.Regexp{
	regexp.MustCompile(`(?:\b|["'])[iI]sBase64Encoded["']?\s*:\s*true\b`),
	regexp.MustCompile(`\.\s*[iI]sBase64Encoded\s*=\s*true\b`),
}

// sourcePlace is a place in a handler's source.
type sourcePlace struct {
	File string // absolute
	Line int
}

// findBase64Answers scans files for a response marked isBase64Encoded, as
// base64Patterns match it, comments aside: one place per line.
func findBase64Answers(files []string) []sourcePlace {
	var out []sourcePlace
	for _, file := range files {
		st, err := os.Stat(file)
		if err != nil || st.Size() > maxSourceSize {
			continue
		}
		b, err := os.ReadFile(file)
		if err != nil {
			continue
		}
		src := stripComments(string(b), filepath.Ext(file) != ".go")
		var lines []int
		for _, re := range base64Patterns {
			for _, m := range re.FindAllStringIndex(src, -1) {
				lines = append(lines, 1+strings.Count(src[:m[0]], "\n"))
			}
		}
		slices.Sort(lines)
		for _, l := range slices.Compact(lines) {
			out = append(out, sourcePlace{File: file, Line: l})
		}
	}
	return out
}
