//go:build unix

package runtimes

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/inquir-dev/inquir/emulator/gateway"
)

// TestGoPluginFromVendoredModule is issue 21's item 8: a go-plugin
// function whose module vendors aws-lambda-go (fixtures/vendoredplugin,
// vendored here with "go mod vendor") loads and answers. Built from
// vendor/, its events package would be compiled from other files than
// inquir's, and plugin.Open would refuse it ("plugin was built with a
// different version of package .../events").
func TestGoPluginFromVendoredModule(t *testing.T) {
	requireCommand(t, "go")
	mod := t.TempDir()
	if err := os.CopyFS(mod, os.DirFS(filepath.Join("..", "..", "fixtures", "vendoredplugin"))); err != nil {
		t.Fatal(err)
	}
	// From the module cache only (inquir's own dependencies are in it):
	// no network.
	vendor := exec.Command("go", "mod", "vendor")
	vendor.Dir = mod
	vendor.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOWORK=off")
	if out, err := vendor.CombinedOutput(); err != nil {
		t.Skipf("go mod vendor (offline) failed, the module cache lacks aws-lambda-go: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(mod, "vendor", "github.com", "aws", "aws-lambda-go", "events")); err != nil {
		t.Fatalf("go mod vendor wrote no events package: %v", err)
	}

	h := newManager(t, pluginFunction(t, "vendored", filepath.Join(mod, "handler")))
	res := h.mustCall(t, "vendored", "/v", nil)
	if res.StatusCode != 200 || res.Body != "vendored /v" {
		t.Fatalf("answered %d %q, want 200 %q; log:\n%s", res.StatusCode, res.Body, "vendored /v", h.log)
	}
	if log := h.log.String(); !strings.Contains(log, "its module vendors its dependencies") || !strings.Contains(log, "-mod=readonly") {
		t.Errorf("the log does not say the plugin was built from the module cache rather than vendor/:\n%s", log)
	}
}

// TestGoPluginTraceID: a go-plugin Handler finds the request's trace
// header in its context under "x-amzn-trace-id", as lambda.Start puts it
// there, with the gateway's trace id as its Root.
func TestGoPluginTraceID(t *testing.T) {
	dir := pluginModule(t, map[string]string{"fn/main.go": `package main

import (
	"context"

	"github.com/aws/aws-lambda-go/events"
)

func Handler(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	trace, _ := ctx.Value("x-amzn-trace-id").(string)
	return events.APIGatewayProxyResponse{StatusCode: 200, Body: trace}, nil
}

func main() {}
`})
	const root = "1-5f2330a4-6a0de1cd0e17c0508d386a64"
	h := newManager(t, pluginFunction(t, "traced", filepath.Join(dir, "fn")))
	res, err := h.call(gateway.WithTraceID(t.Context(), root), "traced", "/", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(res.Body, "Root="+root+";Parent=") {
		t.Errorf("x-amzn-trace-id = %q, want Root=%s;Parent=...", res.Body, root)
	}
}
