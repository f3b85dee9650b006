// Package inquirscript runs testscript suites against a real `inquir dev`:
// the suites in this repository use it, and so can a project's own CI, to
// prove that no route is open, that a refused request never invokes its
// function, and that rotation needs no restart.
//
// In a project's tests:
//
//	func TestMain(m *testing.M) {
//		testscript.Main(m, map[string]func(){"inquir": inquirscript.Main})
//	}
//
//	func TestScripts(t *testing.T) {
//		testscript.Run(t, inquirscript.Params("testdata/script"))
//	}
//
// Params takes the names of variables to copy from the test's environment
// into the scripts' (the secrets `dev -e NAME` passes on). A script then
// starts the gateway with `dev`, sends requests with `exec inquir request`,
// and checks with `invocations`, `waitlog` and `stopdev`.
//
// # Commands
//
// Besides testscript's own and `exec inquir ...` (any inquir command):
//
//	dev [-e NAME]... [inquir dev flags...]
//	    Start `inquir dev --listen 127.0.0.1:0` in the script's folder and
//	    wait until it listens; set $URL and $DEVPID. -e NAME passes the
//	    script's $NAME to it. Stopped when the script ends; a failing script
//	    shows the last lines of its log.
//	stopdev
//	    Stop it with SIGTERM; check it exits 0 and leaves no worker running.
//	noworkers
//	    After `exec kill -9 $DEVPID`: check no worker outlived it.
//	waitbuilt [FUNCTION]...
//	    Wait (up to BuildTimeout) until the functions' builds are done;
//	    fail with the compiler's output if one failed.
//	waitlog REGEXP
//	    Wait (up to WaitTimeout) for a dev log line matching REGEXP;
//	    negated, check that none matches yet.
//	devlog
//	    Print the dev log so far (after stopdev: all of it), for stdout.
//	invocations FUNCTION N
//	    Check the function ran N times; with 0, that no worker of it started.
//	    It reads once: the gateway counts a request before it hands it to
//	    the function, so once a request's answer is in, its count is too.
//	reloads APPLIED [REFUSED]
//	    Wait for at least that many config reloads applied (and refused);
//	    print the last refusal's error.
//	waitstats PATH OP VALUE
//	    Wait (up to WaitTimeout) until the value at PATH in /_inquir/stats
//	    compares to VALUE by OP, for counts a busy machine settles later (a
//	    killed worker reaped) or that only a wait for the right state pins
//	    (the refusal of this edit, not of the one before).
//	waitstatus STATUS METHOD URL ['Name: value']...
//	    Repeat a request until it answers STATUS (a key's expiry).
//	timestamp NAME DURATION
//	    Set $NAME to the RFC 3339 time DURATION from now.
//	clock [advance DURATION | set TIME]
//	    Move the manual clock of `dev --clock=manual`; set $NOW to it.
//	expand SRC DST
//	    Write SRC to DST in place with $NAME replaced.
//	mkfile NAME SIZE
//	    Write a file of SIZE bytes.
//
// $PROJECT is the folder of the nearest inquir.toml at or above the test's
// folder: `dev --config $PROJECT/inquir.toml` serves the project's own.
package inquirscript

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/inquir-dev/inquir/emulator/cli"
)

// StartTimeout bounds how long `dev` waits for the gateway to listen.
const StartTimeout = 60 * time.Second

// WaitTimeout bounds `waitlog` and `stopdev`.
const WaitTimeout = 2 * time.Minute

// BuildTimeout bounds `waitbuilt`: the first build on a cold, busy machine
// compiles the standard library and every dependency (for a go-plugin
// function, the standard library once more in another mode).
const BuildTimeout = 10 * time.Minute

// logTail is how many lines of the dev log a failing script shows.
const logTail = 60

// Main is the inquir program, for testscript.Main's command map.
func Main() {
	ctx, stop := cli.SignalContext()
	code := cli.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Params returns testscript parameters for the scripts in dir: inquir's
// commands, an environment in which `go` builds offline from the module
// cache, and the strict settings (explicit exec, unique names).
//
// Each name in pass is a variable copied from the test's own environment
// into every script's (scripts otherwise start from a clean one): how CI
// hands a script the secrets that `dev -e NAME` passes on to inquir dev.
// A variable that is not set is an error naming it.
func Params(dir string, pass ...string) testscript.Params {
	return testscript.Params{
		Dir: dir,
		Setup: func(env *testscript.Env) error {
			for _, name := range pass {
				v, ok := os.LookupEnv(name)
				if !ok {
					return fmt.Errorf("inquirscript: $%s is not set; the scripts need it (set it in the CI job's environment)", name)
				}
				env.Setenv(name, v)
			}
			return Setup(env)
		},
		Cmds:                Commands(),
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
	}
}

// Setup passes the Go toolchain's caches into the script's environment, so
// `runtime = "go"` functions build quickly and without the network, and gives
// inquir a build cache inside $WORK. It sets $PROJECT to the folder of the
// nearest inquir.toml at or above the test's own folder (go test runs a test
// in its package's folder), so a script serves the project's own config
// with `dev --config $PROJECT/inquir.toml`; $PROJECT is empty if there is none.
func Setup(env *testscript.Env) error {
	project, err := findProject()
	if err != nil {
		return err
	}
	env.Setenv("PROJECT", project)
	for _, name := range []string{"GOCACHE", "GOMODCACHE", "GOPATH"} {
		out, err := exec.Command("go", "env", name).Output()
		if err != nil {
			return fmt.Errorf("go env %s: %w (is the Go toolchain on PATH?)", name, err)
		}
		env.Setenv(name, strings.TrimSpace(string(out)))
	}
	env.Setenv("GOFLAGS", "-mod=mod")
	env.Setenv("GOPROXY", "off")
	env.Setenv("XDG_CACHE_HOME", filepath.Join(env.WorkDir, ".cache"))
	env.Values[slotKey{}] = &slot{}
	return nil
}

// findProject returns the folder of the nearest inquir.toml at or above the
// working folder, or "" if there is none.
func findProject() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("locating the project's inquir.toml: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "inquir.toml")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", nil
		}
		dir = parent
	}
}

// Commands returns the script commands: dev, stopdev, noworkers, waitbuilt,
// waitlog, devlog, invocations, reloads, waitstats, waitstatus, mkfile,
// timestamp and expand.
func Commands() map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	return map[string]func(ts *testscript.TestScript, neg bool, args []string){
		"dev":         cmdDev,
		"stopdev":     cmdStopDev,
		"noworkers":   cmdNoWorkers,
		"waitbuilt":   cmdWaitBuilt,
		"waitlog":     cmdWaitLog,
		"devlog":      cmdDevLog,
		"invocations": cmdInvocations,
		"mkfile":      cmdMkfile,
		"reloads":     cmdReloads,
		"waitstats":   cmdWaitStats,
		"waitstatus":  cmdWaitStatus,
		"timestamp":   cmdTimestamp,
		"clock":       cmdClock,
		"expand":      cmdExpand,
	}
}

// server is the `inquir dev` a script started.
type server struct {
	cmd  *exec.Cmd
	url  string
	log  *syncBuffer
	done chan struct{} // closed when the process has exited
	err  error         // its exit status, once done
}

// slot holds a script's server; Setup puts one in each script's values.
type slot struct{ server *server }

type slotKey struct{}

func scriptSlot(ts *testscript.TestScript) *slot {
	sl, _ := ts.Value(slotKey{}).(*slot)
	if sl == nil {
		ts.Fatalf("inquirscript: Setup was not run (use inquirscript.Params, or call inquirscript.Setup from yours)")
	}
	return sl
}

func running(ts *testscript.TestScript) *server {
	s := scriptSlot(ts).server
	if s == nil || s.cmd == nil {
		ts.Fatalf("no inquir dev is running; start one with dev")
	}
	return s
}

// cmdDev starts `inquir dev --listen 127.0.0.1:0 [flags...]` in the
// background, waits until it listens, and sets $URL to its base URL and
// $DEVPID to its process id. It is stopped when the script ends. The
// gateway gets the script's PATH, HOME, TMPDIR and Go settings; each
// -e NAME passes the script's $NAME too (for env: secrets).
//
//	usage: dev [-e NAME]... [inquir dev flags...]
func cmdDev(ts *testscript.TestScript, neg bool, args []string) {
	const usage = "usage: dev [-e NAME]... [inquir dev flags...] (to expect a failed start, use ! exec inquir dev)"
	if neg {
		ts.Fatalf(usage)
	}
	sl := scriptSlot(ts)
	if sl.server != nil && sl.server.cmd != nil {
		ts.Fatalf("inquir dev is already running at %s", sl.server.url)
	}
	var pass []string
	for len(args) > 0 && args[0] == "-e" {
		if len(args) < 2 {
			ts.Fatalf(usage)
		}
		pass, args = append(pass, args[1]), args[2:]
	}
	bin, err := exec.LookPath("inquir")
	ts.Check(err)
	cmd := exec.Command(bin, append([]string{"dev", "--listen", "127.0.0.1:0"}, args...)...)
	cmd.Dir = ts.MkAbs(".")
	cmd.Env = scriptEnv(ts, pass)
	stderr, err := cmd.StderrPipe()
	ts.Check(err)
	cmd.Stdout = io.Discard
	ts.Check(cmd.Start())
	s := &server{cmd: cmd, log: &syncBuffer{}, done: make(chan struct{})}
	sl.server = s
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			line := sc.Text()
			s.log.WriteLine(line)
			if m := listeningLine.FindStringSubmatch(line); m != nil {
				select {
				case urls <- m[1]:
				default:
				}
			}
		}
		s.err = cmd.Wait()
		close(s.done)
	}()
	ts.Defer(func() {
		s.stop()
		// testscript shows its log only when the script fails (or with -v):
		// then the dev log's tail says what the gateway saw.
		ts.Logf("the last lines of the inquir dev log:\n%s", s.log.Tail(logTail))
	})

	select {
	case s.url = <-urls:
	case <-s.done:
		ts.Fatalf("inquir dev exited before listening (%v); its output:\n%s", s.err, s.log)
	case <-time.After(StartTimeout):
		ts.Fatalf("inquir dev did not listen within %s; its output:\n%s", StartTimeout, s.log)
	}
	ts.Setenv("URL", s.url)
	ts.Setenv("DEVPID", strconv.Itoa(cmd.Process.Pid))
}

var listeningLine = regexp.MustCompile(`^inquir dev: listening on (http://\S+)`)

// scriptEnv is the environment the gateway gets: what a program needs to
// run and build, and the variables the script passed by name.
func scriptEnv(ts *testscript.TestScript, pass []string) []string {
	var env []string
	names := append([]string{"WORK", "PATH", "HOME", "TMPDIR", "GOCACHE", "GOMODCACHE", "GOPATH", "GOFLAGS", "GOPROXY", "XDG_CACHE_HOME"}, pass...)
	for _, name := range names {
		env = append(env, name+"="+ts.Getenv(name))
	}
	return env
}

// stop ends the server: SIGTERM, then SIGKILL if it lingers.
func (s *server) stop() error {
	if s.cmd == nil {
		return nil
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(WaitTimeout):
		_ = s.cmd.Process.Kill()
		<-s.done
		return fmt.Errorf("inquir dev did not stop within %s of SIGTERM", WaitTimeout)
	}
	return s.err
}

// cmdStopDev stops the running inquir dev with SIGTERM and checks that it
// exits 0 and leaves none of its function workers behind.
//
//	usage: stopdev
func cmdStopDev(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: stopdev")
	}
	s := running(ts)
	if err := s.stop(); err != nil {
		ts.Fatalf("inquir dev: %v; its output:\n%s", err, s.log)
	}
	waitNoWorkers(ts, s, "stopped")
	s.cmd = nil // stopped: the deferred stop has nothing left to do
	ts.Logf("inquir dev stopped; no workers left")
}

// cmdNoWorkers waits until the inquir dev the script started has exited
// without being asked to stop (as after `exec kill -9 $DEVPID`), then checks
// that none of its function workers outlived it: the kernel stops them
// (Pdeathsig) when inquir had no chance to.
//
//	usage: noworkers
func cmdNoWorkers(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: noworkers")
	}
	s := running(ts)
	select {
	case <-s.done:
	case <-time.After(WaitTimeout):
		ts.Fatalf("inquir dev (pid %d) is still running after %s; noworkers checks a dev that was killed", s.cmd.Process.Pid, WaitTimeout)
	}
	waitNoWorkers(ts, s, fmt.Sprintf("died (%v)", s.err))
	s.cmd = nil // gone: the deferred stop has nothing left to do
	ts.Logf("inquir dev died (%v); no workers left", s.err)
}

// waitNoWorkers waits, within WaitTimeout, until no worker of s is left.
// Every worker carries the gateway's URL in its environment; any process
// that still does is a worker left behind.
func waitNoWorkers(ts *testscript.TestScript, s *server, how string) {
	deadline := time.Now().Add(WaitTimeout)
	for {
		left := processesWithEnv("INQUIR_GATEWAY_URL=" + s.url)
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("workers left running after inquir dev %s: pids %v", how, left)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// processesWithEnv lists the pids whose environment holds kv (Linux /proc).
func processesWithEnv(kv string) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err != nil {
			continue
		}
		for _, v := range bytes.Split(b, []byte{0}) {
			if string(v) == kv {
				pids = append(pids, pid)
				break
			}
		}
	}
	return pids
}

// cmdWaitBuilt waits until every named function (every function, with no
// name) has a build in force, for up to BuildTimeout, and fails at once if
// one's build failed, with the compiler's output. Requests sent after it do
// not wait on a build, so their own timeouts never race one.
//
//	usage: waitbuilt [FUNCTION]...
func cmdWaitBuilt(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("usage: waitbuilt [FUNCTION]...")
	}
	s := running(ts)
	deadline := time.Now().Add(BuildTimeout)
	for {
		st := stats(ts, s)
		names := args
		if len(names) == 0 {
			for name := range st.Functions {
				names = append(names, name)
			}
		}
		var waiting []string
		for _, name := range names {
			f, ok := st.Functions[name]
			switch {
			case !ok:
				ts.Fatalf("no function %q in /_inquir/stats", name)
			case f.Build == "failed":
				ts.Fatalf("function %s failed to build:\n%s", name, f.LastBuildError)
			case f.Build == "building" || f.Build == "pending":
				waiting = append(waiting, name)
			}
		}
		if len(waiting) == 0 {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("functions %s still not built after %s", strings.Join(waiting, ", "), BuildTimeout)
		}
		time.Sleep(250 * time.Millisecond) // each poll is a line in the dev log
	}
}

// cmdWaitLog waits until the dev log has a line matching the regular
// expression (or, negated, checks that none does yet).
//
//	usage: waitlog REGEXP
func cmdWaitLog(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: waitlog REGEXP")
	}
	re, err := regexp.Compile(args[0])
	ts.Check(err)
	s := running(ts)
	if neg {
		if re.MatchString(s.log.String()) {
			ts.Fatalf("the dev log matches %q", args[0])
		}
		return
	}
	deadline := time.Now().Add(WaitTimeout)
	for !re.MatchString(s.log.String()) {
		if time.Now().After(deadline) {
			ts.Fatalf("no line of the dev log matched %q within %s; the log:\n%s", args[0], WaitTimeout, s.log)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// cmdDevLog writes the dev log so far to stdout, for stdout and cmp: of
// the running inquir dev, or, after stopdev, of the last one, whole.
//
//	usage: devlog
func cmdDevLog(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: devlog")
	}
	s := scriptSlot(ts).server
	if s == nil {
		ts.Fatalf("no inquir dev was started; start one with dev")
	}
	fmt.Fprint(ts.Stdout(), s.log.String())
}

// cmdInvocations checks the gateway's count of invocations of a function
// (from /_inquir/stats). With 0, it also checks that no worker of the
// function was ever started.
//
// It reads the count once, and needs no wait: the gateway counts an
// invocation before it hands the request to the function, and a refused
// request is never counted, so once the answers of the requests sent so far
// are in, nothing can move the count. (A request still under way in the
// background, `exec ... &`, is not settled: `wait` for it first.)
//
//	usage: invocations FUNCTION N
func cmdInvocations(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: invocations FUNCTION N")
	}
	want, err := strconv.ParseInt(args[1], 10, 64)
	ts.Check(err)
	s := running(ts)
	st := stats(ts, s)
	got, ok := st.Invocations[args[0]]
	if !ok {
		ts.Fatalf("no function %q in /_inquir/stats", args[0])
	}
	if got != want {
		ts.Fatalf("function %s was invoked %s, want %s", args[0], times(got), times(want))
	}
	if want == 0 {
		if n := st.Functions[args[0]].WorkersStarted; n != 0 {
			ts.Fatalf("function %s was never invoked, yet %d of its workers started", args[0], n)
		}
	}
}

// times says how many times: "once", "2 times".
func times(n int64) string {
	if n == 1 {
		return "once"
	}
	return fmt.Sprintf("%d times", n)
}

// devStats is the part of /_inquir/stats the commands read.
type devStats struct {
	Invocations map[string]int64 `json:"invocations"`
	Functions   map[string]struct {
		WorkersStarted int64  `json:"workers_started"`
		Build          string `json:"build"`
		LastBuildError string `json:"last_build_error"`
	} `json:"functions"`
	Reloads struct {
		Applied   int64  `json:"applied"`
		Refused   int64  `json:"refused"`
		LastError string `json:"last_error"`
	} `json:"reloads"`
}

func stats(ts *testscript.TestScript, s *server) devStats {
	var st devStats
	ts.Check(json.Unmarshal(statsBody(ts, s), &st))
	return st
}

// statsBody returns the body of the running gateway's /_inquir/stats.
func statsBody(ts *testscript.TestScript, s *server) []byte {
	status, body := get(ts, "GET", s.url+"/_inquir/stats", nil)
	if status != http.StatusOK {
		ts.Fatalf("/_inquir/stats answered %d", status)
	}
	return body
}

// get sends one request, bounded by WaitTimeout.
func get(ts *testscript.TestScript, method, url string, header http.Header) (int, []byte) {
	ctx, cancel := context.WithTimeout(context.Background(), WaitTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	ts.Check(err)
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	ts.Check(err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	ts.Check(err)
	return resp.StatusCode, body
}

// cmdReloads waits until the running inquir dev has applied at least
// APPLIED config reloads and refused at least REFUSED (default 0), then
// prints the last refusal's error, if any, to stdout.
//
//	usage: reloads APPLIED [REFUSED]
func cmdReloads(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 || len(args) > 2 {
		ts.Fatalf("usage: reloads APPLIED [REFUSED]")
	}
	applied, err := strconv.ParseInt(args[0], 10, 64)
	ts.Check(err)
	var refused int64
	if len(args) == 2 {
		refused, err = strconv.ParseInt(args[1], 10, 64)
		ts.Check(err)
	}
	s := running(ts)
	deadline := time.Now().Add(WaitTimeout)
	for {
		st := stats(ts, s)
		if st.Reloads.Applied >= applied && st.Reloads.Refused >= refused {
			fmt.Fprintln(ts.Stdout(), st.Reloads.LastError)
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("after %s: %d reloads applied and %d refused, want %d and %d; the log:\n%s",
				WaitTimeout, st.Reloads.Applied, st.Reloads.Refused, applied, refused, s.log)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// cmdWaitStats waits, up to WaitTimeout, until the value at PATH in
// /_inquir/stats compares to VALUE by OP, and fails with the stats as they
// last were if it never does. PATH is the value's JSON keys joined by dots:
// reloads.applied, reloads.last_error, invocations.orders,
// functions.gofn.workers_running. OP is one of == != < <= > >= (numbers;
// == and != compare any other value as text) or ~, for a value whose text
// VALUE, a regular expression, matches. An absent value (an error that is
// not there yet) satisfies nothing.
//
// Counts a busy machine settles late (a killed worker is reaped a moment
// after its request was answered) are waited for with it, not read once;
// so are counts only the right state pins (the refusal of the last edit,
// rather than a second refusal of the one before).
//
//	usage: waitstats PATH OP VALUE
func cmdWaitStats(ts *testscript.TestScript, neg bool, args []string) {
	const usage = "usage: waitstats PATH OP VALUE (OP: == != < <= > >= ~)"
	if neg || len(args) != 3 {
		ts.Fatalf(usage)
	}
	path, op, want := args[0], args[1], args[2]
	check, err := statsPredicate(op, want)
	if err != nil {
		ts.Fatalf("%v; %s", err, usage)
	}
	s := running(ts)
	deadline := time.Now().Add(WaitTimeout)
	pause := 5 * time.Millisecond
	for {
		body := statsBody(ts, s)
		got, ok, err := statsValue(body, path)
		if err != nil {
			ts.Fatalf("waitstats: %v", err)
		}
		if ok && check(got) {
			return
		}
		if time.Now().After(deadline) {
			if !ok {
				got = "absent"
			}
			ts.Fatalf("after %s, %s is %s, want %s %s; /_inquir/stats:\n%s", WaitTimeout, path, got, op, want, body)
		}
		// Each poll is a line in the dev log: poll fast at first, for what
		// settles in a moment, then back off.
		time.Sleep(pause)
		pause = min(2*pause, 100*time.Millisecond)
	}
}

// statsPredicate returns the test OP makes of a value's text against want.
func statsPredicate(op, want string) (func(got string) bool, error) {
	if op == "~" {
		re, err := regexp.Compile(want)
		if err != nil {
			return nil, err
		}
		return re.MatchString, nil
	}
	cmp := map[string]func(int) bool{
		"==": func(c int) bool { return c == 0 },
		"!=": func(c int) bool { return c != 0 },
		"<":  func(c int) bool { return c < 0 },
		"<=": func(c int) bool { return c <= 0 },
		">":  func(c int) bool { return c > 0 },
		">=": func(c int) bool { return c >= 0 },
	}[op]
	if cmp == nil {
		return nil, fmt.Errorf("unknown OP %q", op)
	}
	wantN, numeric := new(big.Float), true
	if _, ok := wantN.SetString(want); !ok {
		if op != "==" && op != "!=" {
			return nil, fmt.Errorf("%s compares numbers, and %q is not one", op, want)
		}
		numeric = false
	}
	return func(got string) bool {
		if numeric {
			gotN, ok := new(big.Float).SetString(got)
			return ok && cmp(gotN.Cmp(wantN))
		}
		return cmp(strings.Compare(got, want))
	}, nil
}

// statsValue returns the text of the value at path (keys joined by dots)
// in the JSON body: a string as it is, anything else as JSON. ok is false
// if the value is absent; err is set if path leads into a value that is
// not an object, which no wait will change.
func statsValue(body []byte, path string) (text string, ok bool, err error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "", false, fmt.Errorf("/_inquir/stats is not JSON: %v", err)
	}
	for _, key := range strings.Split(path, ".") {
		obj, isObj := v.(map[string]any)
		if !isObj {
			return "", false, fmt.Errorf("%s: %q is inside a value that is not an object", path, key)
		}
		if v, ok = obj[key]; !ok {
			return "", false, nil
		}
	}
	if s, isString := v.(string); isString {
		return s, true, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", false, err
	}
	return string(b), true, nil
}

// cmdWaitStatus sends a request again and again until it gets STATUS, for
// changes that take effect at a moment rather than on a reload (a key's
// expiry). Headers are given as 'Name: value'.
//
//	usage: waitstatus STATUS METHOD URL ['Name: value']...
func cmdWaitStatus(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 3 {
		ts.Fatalf("usage: waitstatus STATUS METHOD URL ['Name: value']...")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	header := http.Header{}
	for _, h := range args[3:] {
		name, value, ok := strings.Cut(h, ":")
		if !ok {
			ts.Fatalf("usage: header %q is not 'Name: value'", h)
		}
		header.Add(strings.TrimSpace(name), strings.TrimSpace(value))
	}
	deadline := time.Now().Add(WaitTimeout)
	for {
		status, _ := get(ts, args[1], args[2], header)
		if status == want {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("%s %s still answers %d after %s, want %d", args[1], args[2], status, WaitTimeout, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// cmdTimestamp sets $NAME to the RFC 3339 time DURATION from now (which
// may be negative), for a key's expires or not_before.
//
//	usage: timestamp NAME DURATION
func cmdTimestamp(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: timestamp NAME DURATION")
	}
	d, err := time.ParseDuration(args[1])
	ts.Check(err)
	ts.Setenv(args[0], time.Now().Add(d).UTC().Format(time.RFC3339Nano))
}

// cmdClock moves the manual clock of the running inquir dev (started with
// `dev --clock=manual`), by which keys' expiry and usage plans are judged,
// and sets $NOW to its instant (RFC 3339). With no arguments it only sets
// $NOW.
//
//	usage: clock [advance DURATION | set TIME]
func cmdClock(ts *testscript.TestScript, neg bool, args []string) {
	const usage = "usage: clock [advance DURATION | set TIME] (with dev --clock=manual)"
	var body string
	switch {
	case neg:
		ts.Fatalf("%s", usage)
	case len(args) == 0:
	case len(args) == 2 && args[0] == "advance":
		body = `{"advance":` + strconv.Quote(args[1]) + `}`
	case len(args) == 2 && args[0] == "set":
		body = `{"set":` + strconv.Quote(args[1]) + `}`
	default:
		ts.Fatalf("%s", usage)
	}
	s := running(ts)
	ctx, cancel := context.WithTimeout(context.Background(), WaitTimeout)
	defer cancel()
	method := http.MethodGet
	if body != "" {
		method = http.MethodPost
	}
	req, err := http.NewRequestWithContext(ctx, method, s.url+"/_inquir/clock", strings.NewReader(body))
	ts.Check(err)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	ts.Check(err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	ts.Check(err)
	var out struct {
		Now string `json:"now"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &out) != nil {
		ts.Fatalf("clock: %s answered %d %s", s.url+"/_inquir/clock", resp.StatusCode, b)
	}
	ts.Setenv("NOW", out.Now)
}

// cmdExpand writes SRC to DST with $NAME and ${NAME} replaced by the
// script's variables, in place (as an editor saving in place would).
//
//	usage: expand SRC DST
func cmdExpand(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: expand SRC DST")
	}
	b, err := os.ReadFile(ts.MkAbs(args[0]))
	ts.Check(err)
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), []byte(os.Expand(string(b), ts.Getenv)), 0o644))
}

// cmdMkfile writes a file of SIZE bytes ("a" repeated), for bodies too big
// to write into a script, such as one over the 6 MB limit.
//
//	usage: mkfile NAME SIZE
func cmdMkfile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: mkfile NAME SIZE")
	}
	n, err := strconv.Atoi(args[1])
	ts.Check(err)
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), bytes.Repeat([]byte("a"), n), 0o644))
}

// syncBuffer collects the dev log as it is written.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) WriteLine(s string) {
	b.mu.Lock()
	b.buf.WriteString(s)
	b.buf.WriteByte('\n')
	b.mu.Unlock()
}

// Tail returns the last n lines written.
func (b *syncBuffer) Tail(n int) string {
	lines := strings.SplitAfter(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "")
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
