package config

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestPayload checks that [gateway] payload is every route's payload format
// version unless the route names its own, and that "1.0" is the default.
func TestPayload(t *testing.T) {
	const fn = "[functions.f]\nruntime = \"node\"\npath = \"fn/index.mjs\"\n"
	const routes = "[[routes]]\nmethod = \"GET\"\npath = \"/a\"\nfunction = \"f\"\n" +
		"[[routes]]\nmethod = \"GET\"\npath = \"/b\"\nfunction = \"f\"\npayload = \"1.0\"\n" +
		"[[routes]]\nmethod = \"GET\"\npath = \"/c\"\nfunction = \"f\"\npayload = \"2.0\"\n"
	tests := []struct {
		name, gateway string
		gw            string
		routes        []string
	}{
		{"default", "", Payload1, []string{Payload1, Payload1, Payload2}},
		{"gateway 2.0", "[gateway]\npayload = \"2.0\"\n", Payload2, []string{Payload2, Payload1, Payload2}},
		{"gateway 1.0", "[gateway]\npayload = \"1.0\"\n", Payload1, []string{Payload1, Payload1, Payload2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(project(t, tt.gateway+fn+routes))
			if err != nil {
				t.Fatal(err)
			}
			if c.Gateway.Payload != tt.gw {
				t.Errorf("gateway payload %q; want %q", c.Gateway.Payload, tt.gw)
			}
			for i, r := range c.Routes {
				if r.Payload != tt.routes[i] {
					t.Errorf("routes[%d] payload %q; want %q", i, r.Payload, tt.routes[i])
				}
			}
		})
	}
}

// TestPayloadErrors checks that a payload inquir cannot serve is refused at
// its file, line and field, saying what to write.
func TestPayloadErrors(t *testing.T) {
	const fn = "[functions.f]\nruntime = \"node\"\npath = \"fn/index.mjs\"\n"
	tests := []struct{ name, toml, want string }{
		{"gateway", "[gateway]\npayload = \"3.0\"\n",
			`inquir.toml:2:1: gateway.payload: must be "1.0" (a REST API's event, the default) or "2.0" (an HTTP API's event), not "3.0"`},
		{"route", fn + "[[routes]]\nmethod = \"GET\"\npath = \"/a\"\nfunction = \"f\"\npayload = \"2\"\n",
			`inquir.toml:8:1: routes[0].payload: "2" is not a payload format version: write "1.0" or "2.0", as API Gateway spells them`},
		{"route number", fn + "[[routes]]\nmethod = \"GET\"\npath = \"/a\"\nfunction = \"f\"\npayload = 2.0\n",
			`inquir.toml:8:11: routes[0].payload: expected a string: "1.0" or "2.0"`},
		{"gateway number", "[gateway]\npayload = 2.0\n",
			`inquir.toml:2:11: gateway.payload: expected a string: "1.0" or "2.0"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := project(t, tt.toml)
			t.Chdir(filepath.Dir(path))
			_, err := Load(path)
			if err == nil {
				t.Fatal("Load succeeded; want an error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error:\n got %s\nwant %s", err, tt.want)
			}
		})
	}
}

// TestGatewayFieldSuggestion checks that a misspelt [gateway] field is
// answered with every field the table has, payload among them.
func TestGatewayFieldSuggestion(t *testing.T) {
	path := project(t, "[gateway]\npayloads = \"2.0\"\n")
	t.Chdir(filepath.Dir(path))
	_, err := Load(path)
	const want = `inquir.toml:2:1: gateway.payloads: unknown field (gateway fields are listen, key_header, compat, region, api_key_source, binary_media_types, payload)`
	if err == nil || err.Error() != want {
		t.Errorf("error:\n got %v\nwant %s", err, want)
	}
}
