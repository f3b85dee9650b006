package importer

import (
	"crypto/rand"
	"encoding/base64"
	"regexp"
	"strings"
	"unicode"
)

// invalidName matches what inquir.toml's table names may not hold.
var invalidName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// tableName makes s a valid inquir.toml table name (a key id, group, plan
// or function name): letters, digits, '.', '_' and '-', 128 at most.
func tableName(s string) string {
	s = strings.Trim(invalidName.ReplaceAllString(s, "-"), "-._")
	if s == "" {
		s = "unnamed"
	}
	if len(s) > 128 {
		s = s[:128]
	}
	return s
}

// envName makes an environment variable name for key id's secret:
// fooName gives FOO_NAME_API_KEY, lambdaApolloKey LAMBDA_APOLLO_API_KEY.
func envName(id string) string {
	var b strings.Builder
	prev := rune(0)
	for _, r := range id {
		switch {
		case unicode.IsUpper(r) && (unicode.IsLower(prev) || unicode.IsDigit(prev)):
			b.WriteByte('_')
			b.WriteRune(r)
		case r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			b.WriteRune(unicode.ToUpper(r))
		default:
			b.WriteByte('_')
		}
		prev = r
	}
	s := strings.Trim(regexp.MustCompile(`_+`).ReplaceAllString(b.String(), "_"), "_")
	s = strings.TrimSuffix(strings.TrimSuffix(s, "_KEY"), "_API")
	if s == "" || unicode.IsDigit(rune(s[0])) {
		s = "KEY_" + s
	}
	return s + "_API_KEY"
}

// newSecret makes a key secret as AWS would generate one for a key the
// source names without a value (and as inquir keys new does): 32 random
// bytes, URL-safe.
func newSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand's documentation)
	return base64.RawURLEncoding.EncodeToString(b)
}

// addSecret gives key id an env: secret, recording the export line that
// sets it: to value if known, to a new random secret if not.
func (p *Project) addSecret(id, value string, shell bool) string {
	name := envName(id)
	for taken := func() bool {
		for _, e := range p.Exports {
			if e.Name == name {
				return true
			}
		}
		return false
	}; taken(); {
		name = strings.TrimSuffix(name, "_API_KEY") + "_2_API_KEY"
	}
	if value == "" {
		value = newSecret()
	}
	p.Exports = append(p.Exports, Export{Name: name, Value: value, Shell: shell, Key: id})
	return "env:" + name
}

// uniqueName returns name, or name-2, name-3... if taken says it is used.
func uniqueName(name string, taken func(string) bool) string {
	if !taken(name) {
		return name
	}
	for i := 2; ; i++ {
		n := name + "-" + itoa(i)
		if !taken(n) {
			return n
		}
	}
}

func itoa(i int) string {
	const digits = "0123456789"
	if i < 10 {
		return digits[i : i+1]
	}
	return itoa(i/10) + digits[i%10:i%10+1]
}
