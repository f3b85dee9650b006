// Command inquir runs serverless functions locally behind an API-key
// gateway. See the README, and `inquir help`.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/inquir-dev/inquir/emulator/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
