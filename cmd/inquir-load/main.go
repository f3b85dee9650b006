// Command inquir-load measures inquir dev against a bare net/http server on
// the same machine, in one run, so that the ratios between them are the
// figures (absolute times depend on the machine and on what else it runs).
//
// From the repository's root:
//
//	go run ./cmd/inquir-load                                 # every target, 5s each
//	go run ./cmd/inquir-load -duration 2s -targets bare,401,plugin
//
// One run:
//
//   - starts a bare net/http server that echoes the request's JSON body, as
//     the functions do. It runs in a child process of its own (this program,
//     started again with INQUIR_LOAD_ROLE=bare), as inquir dev does, so the
//     load generator never shares a Go runtime with the server it measures;
//   - starts node's own http echo (node-http, node-cluster): a node:http
//     server in one process, and the same under node:cluster in
//     -concurrency processes, as many as a node function's workers; the
//     node row is to be read against these as much as against bare Go;
//   - builds inquir (go build ./cmd/inquir; -inquir uses a binary instead)
//     and starts `inquir dev --listen 127.0.0.1:0` on a generated project in
//     a temporary folder: a protected route called without a key (the 401
//     path), and the same JSON echo as a go-plugin, a go (aws-lambda-go
//     lambda.Start), a node and a process (python3 speaking the Lambda
//     Runtime API) function, each with -concurrency workers (default 8);
//   - waits for the functions' builds (functions.NAME.build in
//     /_inquir/stats);
//   - drives each target with the same load generator: -connections
//     keep-alive connections (default 16), each sending POST requests one
//     after another, for -warmup (2s; not counted: it starts the workers), then
//     -duration or -requests, whichever ends first; the table gives req/s,
//     p50, p99, the ratio to the bare server, and the most memory (VmRSS) the
//     serving process had during the target's load, and its workers, and
//     the CPU time per request of the serving process, of its workers and
//     of the load generator itself (from /proc and getrusage): where a
//     target's time goes, and why a slow one costs even the client more
//     (its goroutines park and wake for every answer);
//   - measures the 401 path with the live page open (401-page: a stream of
//     /_inquir/events read in this process) alternately with the 401 row,
//     -page-rounds rounds of a share of -duration each, so that a shared
//     machine's drift falls on both, and says their ratio;
//   - rotates a key -rotations times (a new literal secret written into
//     inquir.toml, renamed over it as editors do) and times each until the
//     new secret gets 200;
//   - stops inquir dev and starts it again on the same project with the same
//     build cache (XDG_CACHE_HOME, kept for the run): the time from start to
//     /_inquir/health answering 200, and to the first 200 of each runtime
//     (one request per runtime, sent at once, once healthy);
//   - stops every process it started, on error and on Ctrl-C too, then
//     checks that none of them (workers included) is left and that nothing
//     listens where they listened.
//
// Everything is on 127.0.0.1. Every phase is bounded in time, and each
// target's load in time and count.
//
// The load generator is ours, a net/http client whose Transport keeps
// exactly -connections connections per host, rather than wrk: it runs
// wherever Go does, and every target (the bare server included) gets the
// same client, so its own cost is the same in every ratio. It runs on the
// same cores as the servers, as wrk would on one machine; that makes the
// ratios smaller than on a separate client machine, never unfair.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// roleEnv, set to "bare", makes this program the bare server instead.
const roleEnv = "INQUIR_LOAD_ROLE"

func main() {
	if os.Getenv(roleEnv) == "bare" {
		os.Exit(serveBare(os.Stdout, os.Stderr))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}
