package config

import (
	"errors"
	"testing"
)

// FuzzParse checks that decoding any bytes as inquir.toml never panics and
// that every error it reports names a line of the file (issue 9,
// "Differential fuzzing"): a user must always be told where to look.
func FuzzParse(f *testing.F) {
	seeds := []string{
		"",
		"[gateway]\nlisten = \"127.0.0.1:8080\"\n",
		"[keys.a]\nsecret = \"env:A\"\ngroups = [\"g\"]\n[functions.f]\nruntime = \"node\"\npath = \"fn.mjs\"\n[[routes]]\nmethod = \"GET\"\npath = \"/x/{id}\"\nfunction = \"f\"\ngroup = \"g\"\n",
		"[[routes]]\nmethod = \"ANY\"\npath = \"/{proxy+}\"\nfunction = \"f\"\nauth = \"none\"\n",
		"[keys.a]\nsecret = [\"sha256:00\", 3]\nexpires = 2026-01-01T00:00:00Z\n",
		"[functions.f]\nruntime = \"go\"\ntimeout = \"-1s\"\nenv = { A = \"file:/x\" }\n",
		"[[routes]]\n[[routes]]\nbogus = 1\n",
		"a = \"unterminated\n",
		"[keys.\"x.y\"]\nsecret = \"literal-secret-value\"\n",
		"[[routes]]\npath = \"/a/{b+}/c\"\nmethod = \"get\"\n",
		"[groups.g]\ninternal = \"yes\"\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("/inquir-fuzz/project/inquir.toml", data)
		if err == nil {
			if c == nil {
				t.Fatal("Parse returned neither a config nor an error")
			}
			return
		}
		for _, e := range Errors(err) {
			var ce *Error
			if !errors.As(e, &ce) {
				t.Fatalf("error without a position: %T %v", e, e)
			}
			if ce.Pos.Line < 1 {
				t.Fatalf("error without a line: %v", e)
			}
		}
	})
}
