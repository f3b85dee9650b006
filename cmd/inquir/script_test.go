package main

import (
	"flag"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/inquir-dev/inquir/emulator/inquirscript"
)

var update = flag.Bool("update", false, "rewrite the scripts' golden files from what the commands print")

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){"inquir": inquirscript.Main})
}

// TestScripts runs the suites in testdata/script against a real inquir dev.
func TestScripts(t *testing.T) {
	p := inquirscript.Params("../../testdata/script")
	p.UpdateScripts = *update
	testscript.Run(t, p)
}
