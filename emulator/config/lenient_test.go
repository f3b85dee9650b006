package config

import (
	"errors"
	"strings"
	"testing"
)

func TestLoadLenient(t *testing.T) {
	const toml = `
[functions.f]
runtime = "node"
path = "fn/index.mjs"

[[routes]]
method = "GET"
path = "/a"
function = "f"

[[routes]]
method = "GET"
path = "/b"
function = "missing"
`
	path := project(t, toml)
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), `function "missing" is not defined`) {
		t.Fatalf("Load: got %v, want the undefined function refused", err)
	}
	c, err := LoadLenient(path)
	if err != nil {
		t.Fatalf("LoadLenient: %v", err)
	}
	if len(c.Routes) != 2 || c.Routes[1].Function != "missing" || c.Function("missing") != nil {
		t.Errorf("routes = %+v, want the second naming the undefined function", c.Routes)
	}

	// Any other problem still fails the load, with its position.
	bad := project(t, toml+"\n[[routes]]\nmethod = \"GET\"\npath = \"b\"\nfunction = \"missing\"\n")
	_, err = LoadLenient(bad)
	var e *Error
	if !errors.As(err, &e) || e.Field != "routes[2].path" || e.Pos.Line != 18 {
		t.Fatalf("LoadLenient: got %v, want routes[2].path at line 18", err)
	}
	if strings.Contains(err.Error(), "not defined") {
		t.Errorf("LoadLenient reported an undefined function: %v", err)
	}
}
