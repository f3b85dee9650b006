package config

import (
	"crypto/sha256"
	"os"
	"testing"
)

// TestHideEnv checks that a hidden variable leaves the process environment
// and still resolves env: references, and that nothing put in the process
// environment under its name afterwards (a go-plugin function's os.Setenv)
// changes what it resolves to.
func TestHideEnv(t *testing.T) {
	const name = "INQUIR_TEST_HIDE_ENV"
	t.Setenv(name, "the-secret")
	if got := HideEnv(name, "INQUIR_TEST_NEVER_SET"); len(got) != 1 || got[0] != name {
		t.Fatalf("HideEnv hid %q, want [%s]", got, name)
	}
	if v, ok := os.LookupEnv(name); ok {
		t.Errorf("os.LookupEnv(%s) = %q after HideEnv, want it unset", name, v)
	}
	os.Setenv(name, "planted-by-a-function")
	ref := SecretRef{Kind: SecretEnv, Value: name}
	d, err := ref.Digest()
	if err != nil || d != sha256.Sum256([]byte("the-secret")) {
		t.Errorf("the env: secret resolves to another digest (err %v): the planted value won", err)
	}
	if v, err := ResolveValue("", "env:"+name); err != nil || v != "the-secret" {
		t.Errorf("ResolveValue = %q, %v; want the hidden value", v, err)
	}
	if got := HideEnv(name); len(got) != 0 {
		t.Errorf("hiding %s again hid %q, want nothing", name, got)
	}
}
