package lint

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/inquir-dev/inquir/emulator/config"
)

// arnUse is a place where an authorizer's source makes its policy's
// Resource the request's methodArn alone (INQ022).
type arnUse struct {
	File string // absolute
	Line int
}

// authorizerSources lists the files INQ022 reads for an authorizer's
// function: what INQ011 reads (handlerSources) and, for a process
// function, the Python files its command names and the .py files beside
// them, since a Python authorizer runs as a process.
func authorizerSources(fn config.Function) []string {
	if fn.Runtime != config.RuntimeProcess {
		return handlerSources(fn)
	}
	var files []string
	for _, arg := range fn.Command {
		if filepath.Ext(arg) != ".py" {
			continue
		}
		path := arg
		if !filepath.IsAbs(path) {
			path = filepath.Join(fn.Dir, path)
		}
		entries, err := os.ReadDir(filepath.Dir(path))
		if err != nil {
			continue
		}
		files = append(files, path)
		for _, e := range entries {
			if p := filepath.Join(filepath.Dir(path), e.Name()); !e.IsDir() && filepath.Ext(p) == ".py" && !slices.Contains(files, p) {
				files = append(files, p)
			}
		}
	}
	return files
}

// methodArnRef matches a reference to the event's methodArn, unchanged:
// event.methodArn, event?.methodArn, a destructured methodArn (Node);
// req.MethodArn (Go, aws-lambda-go's field); event["methodArn"] and
// event.get("methodArn") (Python).
const methodArnRef = `(?:[A-Za-z_$][\w$]*\s*\??\.\s*methodArn|[A-Za-z_]\w*\s*\[\s*["']methodArn["']\s*\]|[A-Za-z_]\w*\.get\(\s*["']methodArn["']\s*\)|\bmethodArn)`

// endOfValue is what follows an expression that is the methodArn alone:
// not .split(...), [i] or + "...", which derive another ARN from it.
const endOfValue = `\s*(?:[,\]})\n;]|$)`

var (
	// resourceIsArn: a policy statement's Resource set to the methodArn,
	// alone or as the one entry of a list:
	//
	//	Resource: event.methodArn   "Resource": [event.methodArn]
	//	Resource: []string{req.MethodArn}   'Resource': event['methodArn']
	resourceIsArn = regexp.MustCompile(`(?i)["']?\bresource["']?\s*[:=]\s*(?:\[\]string\s*\{|\[)?\s*` + methodArnRef + endOfValue)
	// arnArgument: the methodArn handed unchanged to a call, as AWS's own
	// blueprints do: generatePolicy('user', 'Allow', event.methodArn).
	arnArgument = regexp.MustCompile(`(?i)([\w$.]+)\s*\(([^()]*,)?\s*` + methodArnRef + `\s*[,)]`)
	// resourceField: the source sets some policy statement's Resource,
	// so a helper handed the methodArn may put it there.
	resourceField = regexp.MustCompile(`(?i)["']?\bresource["']?\s*[:=]`)
	// notPolicy are calls that print what they are handed, or derive
	// another string from it (strings.Split(req.MethodArn, "/")): none
	// puts the methodArn itself in a policy.
	notPolicy = regexp.MustCompile(`(?i)^(console\.\w+|print|fmt\.\w+|log\.\w+|logger\.\w+|logging\.\w+|json\.dumps|JSON\.stringify|strings\.\w+|\w*split\w*|\w*replace\w*|\w*trim\w*|\w*parse\w*|\w*format\w*)$`)
)

// findArnResources scans files, comments aside, for a policy Resource
// built from the methodArn alone: set to it directly, or the methodArn
// handed to a helper (not a logger or a string function) in a file that sets a Resource.
func findArnResources(files []string) []arnUse {
	var out []arnUse
	for _, file := range files {
		st, err := os.Stat(file)
		if err != nil || st.Size() > maxSourceSize {
			continue
		}
		b, err := os.ReadFile(file)
		if err != nil {
			continue
		}
		src := string(b)
		if filepath.Ext(file) == ".py" {
			src = stripHashComments(src)
		} else {
			src = stripComments(src, filepath.Ext(file) != ".go")
		}
		var uses []arnUse
		line := func(at int) int { return 1 + strings.Count(src[:at], "\n") }
		for _, m := range resourceIsArn.FindAllStringIndex(src, -1) {
			uses = append(uses, arnUse{File: file, Line: line(m[0])})
		}
		if resourceField.MatchString(src) {
			for _, m := range arnArgument.FindAllStringSubmatchIndex(src, -1) {
				if callee := src[m[2]:m[3]]; !notPolicy.MatchString(callee) {
					uses = append(uses, arnUse{File: file, Line: line(m[0])})
				}
			}
		}
		slices.SortStableFunc(uses, func(a, b arnUse) int { return a.Line - b.Line })
		out = append(out, slices.CompactFunc(uses, func(a, b arnUse) bool { return a.Line == b.Line })...)
	}
	return out
}

// stripHashComments blanks out Python's # comments, leaving strings, which
// may hold '#', as they are. Triple-quoted strings are read as a pair of
// empty strings around one, which is enough to find code.
func stripHashComments(src string) string {
	b := []byte(src)
	var quote byte
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case quote != 0:
			if c == '\\' {
				i++
			} else if c == quote || c == '\n' {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '#':
			for ; i < len(b) && b[i] != '\n'; i++ {
				b[i] = ' '
			}
		}
	}
	return string(b)
}
