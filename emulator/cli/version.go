package cli

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

func runVersion(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if code, ok := parseFlags(newFlags("version", stderr), args, stdout); !ok {
		return code
	}
	version := "(devel)"
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" {
		version = info.Main.Version
	}
	fmt.Fprintf(stdout, "inquir %s %s\n", version, runtime.Version())
	return exitOK
}
