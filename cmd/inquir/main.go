// Command inquir runs serverless functions locally behind an API-key
// gateway. See the README, and `inquir help`.
package main

import (
	"os"

	"github.com/inquir-dev/inquir/emulator/cli"
)

func main() {
	ctx, stop := cli.SignalContext()
	code := cli.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
