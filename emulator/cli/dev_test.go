package cli

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"testing"
)

// An address already in use: inquir dev says so, names the likely cause
// and the flag that picks another address; exit 1 (neither a usage error
// nor an invalid config: the same command works once the port is free).
func TestDevAddressInUse(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "inquir.toml")
	toml := `[keys.ci]
secret = "sha256:73e3194687e9f0772f023dc0acb15902124b2bf08a4636546dba32f02d32e5df"
groups = ["o"]
[functions.f]
runtime = "node"
path = "f.mjs"
[[routes]]
method = "GET"
path = "/o"
function = "f"
group = "o"
`
	if err := os.WriteFile(cfg, []byte(toml), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "f.mjs"), []byte("export async function handler() {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	addr := ln.Addr().(*net.TCPAddr)
	next := &net.TCPAddr{IP: addr.IP, Port: addr.Port + 1}

	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), []string{"dev", "--config", cfg, "--listen", addr.String()}, &stdout, &stderr)
	want := "inquir dev: " + addr.String() + " is already in use (is another inquir dev running?); stop it, or choose another address with --listen " + next.String() + "\n"
	if code != exitFail || stdout.Len() > 0 || stderr.String() != want {
		t.Errorf("exit %d, stdout %q, stderr %q; want 1, nothing, %q", code, stdout.String(), stderr.String(), want)
	}
}
