package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/inquir-dev/inquir/emulator"
	"github.com/inquir-dev/inquir/emulator/config"
	"github.com/inquir-dev/inquir/emulator/page"
	"github.com/inquir-dev/inquir/emulator/policy"
	"github.com/inquir-dev/inquir/emulator/redact"
)

// shutdownGrace is how long requests under way may take once inquir dev is
// asked to stop.
const shutdownGrace = 10 * time.Second

func runDev(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	// First, before a secret is resolved or a worker started: no other
	// process of this user may read inquir's environment or memory, which
	// hold every key secret.
	inspectErr := forbidInspection()
	fs := newFlags("dev", stderr)
	cfgPath := fs.String("config", "inquir.toml", "the config `file`")
	listen := fs.String("listen", "", "the `address` to listen on (default: gateway.listen, else "+config.DefaultListen+")")
	noWatch := fs.Bool("no-watch", false, "do not reload the config or rebuild functions when files change (SIGHUP still reloads the config)")
	clock := fs.String("clock", "system", "the clock keys' expiry and usage plans are judged by: `system`, or manual (stands still until POST /_inquir/clock {\"advance\":\"24h\"} moves it; loopback only)")
	if code, ok := parseFlags(fs, args, stdout); !ok {
		return code
	}

	var clk policy.Clock
	switch *clock {
	case "system":
	case "manual":
		clk = policy.NewManualClock(time.Now().UTC().Truncate(time.Second))
	default:
		fmt.Fprintf(stderr, "inquir dev: --clock must be system or manual, not %q\n", *clock)
		return exitUsage
	}

	out := &lockedWriter{w: stderr}
	// Every log line passes the redactor, the last defence against a
	// secret in an error's text; the emulator routes the functions' output
	// through it too.
	redactor := redact.New()
	logOut := redactor.Writer(out)
	defer logOut.Flush()
	log := slog.New(slog.NewTextHandler(logOut, nil))
	if inspectErr != nil {
		log.Warn("other processes of your user, functions included, can read inquir's environment and memory, where its key secrets are", "error", inspectErr)
	}
	// The live page at /_inquir/, judged by the gateway's clock.
	pageNow := time.Now
	if clk != nil {
		pageNow = clk.Now
	}
	pg := page.New(page.Options{Now: pageNow, Redactor: redactor})
	e, err := emulator.Start(emulator.Options{ConfigPath: *cfgPath, Listen: *listen, Log: log, RequestLog: logOut, Output: out, Redactor: redactor,
		HideSecretEnv: true, Clock: clk, Page: pg})
	if isConfigError(err) {
		return configFailed(stderr, "dev", err)
	}
	if err != nil {
		if msg, ok := inUse(err); ok {
			err = errors.New(msg)
		}
		fmt.Fprintf(stderr, "inquir dev: %v\n", err)
		return exitFail
	}
	pg.Attach(e)
	if host, _, err := net.SplitHostPort(e.URL()[len("http://"):]); err == nil && !isLoopback(host) {
		log.Warn("listening beyond loopback: other machines can reach the gateway and, through it, your functions", "address", e.URL())
	}
	// Watching and SIGHUP start before "listening" is said: whoever waits
	// for that line (a script, a test harness) may edit the config or send
	// SIGHUP at once, and neither may be missed, nor SIGHUP kill the
	// process.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	stopWatch := func() {}
	if !*noWatch {
		if stopWatch, err = e.Watch(); err != nil {
			log.Error("config changes will not reload; SIGHUP still does", "error", err)
			stopWatch = func() {}
		}
	}
	p := e.Policy()
	fmt.Fprintln(out, listening(e.URL(), p.ID(), len(p.Routes), len(p.Config.Functions)))
	fmt.Fprintln(out, "inquir dev: the live page is at "+e.URL()+"/_inquir/")

	// A function whose env names a variable or file that is not there
	// fails every start; say so now rather than on its first request.
	for _, f := range p.Config.Functions {
		for _, u := range f.UnresolvedEnv() {
			log.Warn("function env cannot be resolved; its workers will not start until it can",
				"function", f.Name, "env", u.Name, "ref", u.Ref, "why", u.Why)
		}
	}

	// Build in the background so compile errors show at once; requests do
	// not wait for it.
	prepCtx, stopPrep := context.WithCancel(ctx)
	prepared := make(chan struct{})
	go func() { defer close(prepared); e.Prepare(prepCtx) }()
	for done := false; !done; {
		select {
		case <-hup:
			_ = e.Reload() // a refused reload is logged and counted; the old config stays
		case <-ctx.Done():
			done = true
		}
	}
	stopWatch()
	stopPrep()
	<-prepared
	fmt.Fprintln(out, "inquir dev: stopping")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := e.Close(shutdownCtx); err != nil {
		fmt.Fprintf(out, "inquir dev: stopping: %v\n", err)
		return exitFail
	}
	return exitOK
}

// listening is the line inquir dev starts with (inquirscript reads its URL).
func listening(url, config string, routes, functions int) string {
	return fmt.Sprintf("inquir dev: listening on %s (config %s, %s, %s)", url, config, plural(routes, "route"), plural(functions, "function"))
}

// inUse says, if err is a listener's "address already in use", which
// address it is and how to get past it: the likely cause is another
// inquir dev on the default port.
func inUse(err error) (string, bool) {
	var op *net.OpError
	if !errors.Is(err, syscall.EADDRINUSE) || !errors.As(err, &op) || op.Addr == nil {
		return "", false
	}
	addr := op.Addr.String()
	msg := addr + " is already in use (is another inquir dev running?); stop it, or choose another address with --listen "
	host, port, splitErr := net.SplitHostPort(addr)
	n, atoiErr := strconv.Atoi(port)
	if splitErr != nil || atoiErr != nil || n <= 0 || n >= 65535 {
		return msg + "HOST:PORT", true
	}
	return msg + net.JoinHostPort(host, strconv.Itoa(n+1)), true
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// lockedWriter serializes writes from the log and the workers' output, so
// lines never interleave.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
