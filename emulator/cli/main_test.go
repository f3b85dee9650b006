package cli

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"testing"
)

// testAsEnv, set in a re-executed test binary's environment, makes it act
// as something other than the tests: "inquir" runs Main on its arguments,
// as cmd/inquir does; "reader" reads the file its argument names and exits
// 0 with the bytes on stdout, 13 if refused with EACCES, 1 otherwise.
const testAsEnv = "INQUIR_CLI_TEST_AS"

func TestMain(m *testing.M) {
	switch os.Getenv(testAsEnv) {
	case "inquir":
		ctx, stop := SignalContext()
		code := Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	case "reader":
		b, err := os.ReadFile(os.Args[1])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			if errors.Is(err, syscall.EACCES) {
				os.Exit(13)
			}
			os.Exit(1)
		}
		_, _ = os.Stdout.Write(b)
		os.Exit(0)
	}
	os.Exit(m.Run())
}
