package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"
)

// options are run's flags.
type options struct {
	duration, warmup  time.Duration
	maxRequests       int64
	connections       int
	concurrency       int
	targets           []target
	rotations         int
	pageRounds        int
	inquir, repo      string
	buildTimeout      time.Duration
	verbose           bool
	stdout, stderr    io.Writer
	listenTimeout     time.Duration
	firstCallDeadline time.Duration
}

func parseOptions(args []string, stdout, stderr io.Writer) (*options, error) {
	o := &options{stdout: stdout, stderr: stderr, listenTimeout: time.Minute, firstCallDeadline: 10 * time.Minute}
	fs := flag.NewFlagSet("inquir-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.DurationVar(&o.duration, "duration", 5*time.Second, "how long each target is measured")
	fs.DurationVar(&o.warmup, "warmup", 2*time.Second, "how long each target is loaded before it is measured (starts its workers)")
	fs.Int64Var(&o.maxRequests, "requests", 2_000_000, "the most requests measured per target")
	fs.IntVar(&o.connections, "connections", 16, "keep-alive connections per target")
	fs.IntVar(&o.concurrency, "concurrency", 8, "the functions' concurrency (workers)")
	names := fs.String("targets", "bare,node-http,node-cluster,401,401-page,plugin,go,node,process", "the targets, comma-separated: bare, node-http, node-cluster (node's own http echo, in one process or in -concurrency), 401, 401-page (401 with the live page open), plugin, go, node, process")
	fs.IntVar(&o.rotations, "rotations", 20, "key rotations to time (0: none)")
	fs.IntVar(&o.pageRounds, "page-rounds", 5, "with both 401 and 401-page: measure them alternately, in this many rounds of a share of -duration each")
	fs.StringVar(&o.inquir, "inquir", "", "an inquir binary to run (default: go build ./cmd/inquir)")
	fs.StringVar(&o.repo, "repo", "", "inquir's repository (default: the module of the working folder)")
	fs.DurationVar(&o.buildTimeout, "build-timeout", 15*time.Minute, "how long the functions' first builds may take")
	fs.BoolVar(&o.verbose, "v", false, "copy the children's output to stderr")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q; every setting is a flag", fs.Arg(0))
	}
	if o.duration <= 0 || o.connections < 1 || o.concurrency < 1 || o.maxRequests < 1 || o.rotations < 0 || o.warmup < 0 || o.pageRounds < 1 {
		return nil, errors.New("-duration, -connections, -concurrency, -requests and -page-rounds must be positive, -warmup and -rotations not negative")
	}
	for _, n := range strings.Split(*names, ",") {
		i := slices.IndexFunc(allTargets, func(t target) bool { return t.name == strings.TrimSpace(n) })
		if i < 0 {
			return nil, fmt.Errorf("-targets: unknown target %q; the targets are bare, node-http, node-cluster, 401, 401-page, plugin, go, node, process", n)
		}
		if !slices.ContainsFunc(o.targets, func(t target) bool { return t.name == allTargets[i].name }) {
			o.targets = append(o.targets, allTargets[i])
		}
	}
	// Table order, whatever the flag's.
	slices.SortFunc(o.targets, func(a, b target) int {
		return slices.IndexFunc(allTargets, func(t target) bool { return t.name == a.name }) -
			slices.IndexFunc(allTargets, func(t target) bool { return t.name == b.name })
	})
	return o, nil
}

// run is the whole measurement; see the package comment. It returns the exit
// status: 0, 1 when something failed, 2 for a usage error.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseOptions(args, stdout, stderr)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(stderr, "inquir-load: %v\n", err)
		}
		return 2
	}
	r := &runner{options: o, seen: map[int]bool{}}
	err = r.measure(ctx)
	if cerr := r.cleanup(); cerr != nil {
		err = errors.Join(err, cerr)
	}
	if err != nil {
		fmt.Fprintf(stderr, "inquir-load: %v\n", err)
		return 1
	}
	return 0
}

// runner holds what a run started, so cleanup can stop all of it.
type runner struct {
	*options
	tmp      string
	children []*child
	seen     map[int]bool // every worker process seen
	urls     []string     // every URL a child listened on
}

var (
	inquirListening = regexp.MustCompile(`inquir dev: listening on (http://\S+)`)
	refListening    = regexp.MustCompile(`(?:bare|node-http): listening on (http://\S+)`)
)

func (r *runner) logf(format string, args ...any) {
	fmt.Fprintf(r.stderr, "inquir-load: "+format+"\n", args...)
}

func (r *runner) start(name string, cmd *exec.Cmd, re *regexp.Regexp) (*child, error) {
	var echo io.Writer
	if r.verbose {
		echo = r.stderr
	}
	c, err := startChild(name, cmd, re, r.listenTimeout, echo)
	if err != nil {
		return nil, err
	}
	r.children = append(r.children, c)
	r.urls = append(r.urls, c.url)
	fmt.Fprintf(r.stdout, "started %s: pid %d, listening on %s\n", name, c.cmd.Process.Pid, c.url)
	return c, nil
}

// referenceCommand is the command of a reference server: this program as
// the bare Go server, or node running nodeHTTP in one process (node-http)
// or in -concurrency processes (node-cluster).
func (r *runner) referenceCommand(name string) (*exec.Cmd, error) {
	if name == "bare" {
		self, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("locating this program to start the bare server: %w", err)
		}
		cmd := exec.Command(self)
		cmd.Env = append(os.Environ(), roleEnv+"=bare")
		return cmd, nil
	}
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("target %s needs node on PATH: %w", name, err)
	}
	script := filepath.Join(r.tmp, "node-http.mjs")
	if err := os.WriteFile(script, []byte(nodeHTTP), 0o644); err != nil {
		return nil, fmt.Errorf("writing %s: %w", script, err)
	}
	procs := 1
	if name == "node-cluster" {
		procs = r.concurrency
	}
	cmd := exec.Command(node, script)
	cmd.Env = append(os.Environ(), "PROCS="+strconv.Itoa(procs))
	return cmd, nil
}

func (r *runner) measure(ctx context.Context) error {
	var err error
	if r.tmp, err = os.MkdirTemp("", "inquir-load-"); err != nil {
		return fmt.Errorf("creating a temporary folder: %w", err)
	}
	if r.repo == "" {
		if r.repo, err = moduleRoot(); err != nil {
			return err
		}
	}
	goEnv, err := goEnvs(r.repo, "GOCACHE", "GOMODCACHE", "GOPATH")
	if err != nil {
		return err
	}

	results := map[string]loadResult{}
	// The reference servers, by target name: bare Go, and node's own.
	refs := map[string]*child{}
	for _, t := range r.targets {
		if t.function != "" || t.path == "/guarded" {
			continue
		}
		cmd, err := r.referenceCommand(t.name)
		if err != nil {
			return err
		}
		if refs[t.name], err = r.start(t.name, cmd, refListening); err != nil {
			return err
		}
	}

	bin := r.inquir
	if bin == "" {
		bin = filepath.Join(r.tmp, "inquir")
		r.logf("building inquir (go build ./cmd/inquir in %s)", r.repo)
		cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/inquir")
		cmd.Dir = r.repo
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go build ./cmd/inquir: %w\n%s", err, out)
		}
	}
	proj, err := newProject(filepath.Join(r.tmp, "project"), r.repo, r.targets, r.concurrency)
	if err != nil {
		return err
	}
	// The go functions build with the user's Go caches; inquir's own
	// (plugins, binaries) lives in XDG_CACHE_HOME, shared by both starts.
	env := append(os.Environ(), "XDG_CACHE_HOME="+filepath.Join(r.tmp, "cache"), "GOFLAGS=-mod=mod", "GOPROXY=off")
	for k, v := range goEnv {
		env = append(env, k+"="+v)
	}
	devCmd := func() *exec.Cmd {
		cmd := exec.Command(bin, "dev", "--listen", "127.0.0.1:0", "--config", proj.configPath())
		cmd.Env = env
		cmd.Dir = proj.dir
		return cmd
	}

	// First start: build, load, rotate.
	dev, err := r.start("inquir dev", devCmd(), inquirListening)
	if err != nil {
		return err
	}
	r.logf("waiting for the functions' builds (up to %s)", r.buildTimeout)
	built, err := r.waitBuilt(ctx, dev.url, proj)
	if err != nil {
		return fmt.Errorf("%w\ninquir dev's last lines:\n%s", err, dev.output())
	}
	firstBuild := built.Sub(dev.started)

	pair := slices.ContainsFunc(r.targets, func(t target) bool { return t.name == "401" }) &&
		slices.ContainsFunc(r.targets, func(t target) bool { return t.name == "401-page" })
	var pageRatios []float64
	if pair {
		r.logf("loading 401 and 401-page (the live page open) for %s each, then measuring them alternately, %d rounds of %s each", r.warmup, r.pageRounds, r.duration/time.Duration(r.pageRounds))
		var plain, paged loadResult
		if plain, paged, pageRatios, err = r.pagePair(ctx, dev.url, dev.cmd.Process.Pid); err != nil {
			return err
		}
		results["401"], results["401-page"] = plain, paged
	}
	for _, t := range r.targets {
		if pair && t.path == "/guarded" {
			continue // measured above
		}
		spec := loadSpec{url: dev.url + t.path, want: t.want, connections: r.connections, warmup: r.warmup, duration: r.duration, maxRequests: r.maxRequests}
		pid := dev.cmd.Process.Pid
		if ref := refs[t.name]; ref != nil {
			spec.url, pid = ref.url+t.path, ref.cmd.Process.Pid
		}
		if t.keyed {
			spec.key = benchKey
		}
		var pg *pageReader
		if t.page {
			if pg, err = openPage(ctx, dev.url, r.listenTimeout); err != nil {
				return err
			}
		}
		r.logf("loading %s for %s, then measuring it for %s", t.name, r.warmup, r.duration)
		s := newSampler(pid)
		res := drive(ctx, spec, s)
		if pg != nil {
			pg.close()
			if pg.err != nil {
				return fmt.Errorf("reading the live page's stream: %w", pg.err)
			}
			res.pageRecords, res.pageDropped = pg.records.Load(), pg.dropped.Load()
		}
		for pid := range s.seen {
			r.seen[pid] = true
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("interrupted while measuring %s", t.name)
		}
		results[t.name] = res
	}

	var rotations []time.Duration
	for i := range r.rotations {
		d, err := r.rotate(ctx, dev.url, proj, i)
		if err != nil {
			return fmt.Errorf("%w\ninquir dev's last lines:\n%s", err, dev.output())
		}
		rotations = append(rotations, d)
	}
	for _, pid := range descendants(dev.cmd.Process.Pid) {
		r.seen[pid] = true
	}
	dev.stop()

	// Second start, with the first's build cache: how soon it serves.
	r.logf("starting inquir dev again with its build cache warm")
	dev2, err := r.start("inquir dev (second start)", devCmd(), inquirListening)
	if err != nil {
		return err
	}
	starts, err := r.firstCalls(ctx, dev2, proj)
	for _, pid := range descendants(dev2.cmd.Process.Pid) {
		r.seen[pid] = true
	}
	if err != nil {
		return fmt.Errorf("%w\ninquir dev's last lines:\n%s", err, dev2.output())
	}
	dev2.stop()

	r.report(results, pageRatios, firstBuild, rotations, starts)
	return nil
}

// waitBuilt polls /_inquir/stats until every function's build is "ready"
// (or "none": nothing to build). A stats body without build states (an
// older inquir) falls back to requests: each target until it gets 200.
func (r *runner) waitBuilt(ctx context.Context, url string, proj *project) (time.Time, error) {
	ctx, cancel := context.WithTimeout(ctx, r.buildTimeout)
	defer cancel()
	for {
		var st struct {
			Functions map[string]struct {
				Build          string `json:"build"`
				LastBuildError string `json:"last_build_error"`
			} `json:"functions"`
		}
		status, body, err := request(ctx, "GET", url+"/_inquir/stats", "")
		if err == nil && status == http.StatusOK && json.Unmarshal(body, &st) == nil {
			ready, legacy := true, false
			for name, f := range st.Functions {
				switch f.Build {
				case "ready", "none":
				case "failed":
					return time.Time{}, fmt.Errorf("function %s did not build: %s", name, f.LastBuildError)
				case "":
					legacy = true
				default:
					ready = false
				}
			}
			if legacy {
				return r.waitServed(ctx, url, proj)
			}
			if ready && len(st.Functions) > 0 {
				return time.Now(), nil
			}
		}
		select {
		case <-ctx.Done():
			return time.Time{}, fmt.Errorf("the functions were not built within %s (-build-timeout)", r.buildTimeout)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// waitServed sends each function target one request, again until it
// answers 200.
func (r *runner) waitServed(ctx context.Context, url string, proj *project) (time.Time, error) {
	for _, t := range proj.targets {
		if _, err := firstOK(ctx, url+t.path, benchKey); err != nil {
			return time.Time{}, fmt.Errorf("waiting for %s to answer 200: %w", t.name, err)
		}
	}
	return time.Now(), nil
}

// rotate gives key "rotating" a new secret and times how long until a
// request with it gets 200.
func (r *runner) rotate(ctx context.Context, url string, proj *project, i int) (time.Duration, error) {
	secret := fmt.Sprintf("inq_bench_rotating_%03d_0123456789abcdef", i)
	start := time.Now()
	if err := proj.writeConfig(secret); err != nil {
		return 0, err
	}
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for {
		status, _, err := request(rctx, "POST", url+"/rotate", secret)
		if err == nil && status == http.StatusOK {
			d := time.Since(start)
			// Let the watcher's trailing events for this write pass, so
			// the next rotation is timed from its own write.
			time.Sleep(50 * time.Millisecond)
			return d, nil
		}
		select {
		case <-rctx.Done():
			return 0, fmt.Errorf("rotation %d: the new secret did not get 200 within 10s", i+1)
		case <-time.After(time.Millisecond):
		}
	}
}

// startTimes are the second start's milestones, from just before exec.
type startTimes struct {
	listening, healthy time.Duration
	first              map[string]time.Duration // by target name
}

// firstCalls waits for /_inquir/health, then sends every function target
// one request at once, each again until 200.
func (r *runner) firstCalls(ctx context.Context, dev *child, proj *project) (startTimes, error) {
	st := startTimes{listening: dev.ready.Sub(dev.started), first: map[string]time.Duration{}}
	hctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for {
		status, _, err := request(hctx, "GET", dev.url+"/_inquir/health", "")
		if err == nil && status == http.StatusOK {
			st.healthy = time.Since(dev.started)
			break
		}
		select {
		case <-hctx.Done():
			return st, errors.New("/_inquir/health did not answer 200 within a minute of the second start")
		case <-time.After(2 * time.Millisecond):
		}
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	fctx, cancel := context.WithTimeout(ctx, r.firstCallDeadline)
	defer cancel()
	for _, t := range proj.targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			at, err := firstOK(fctx, dev.url+t.path, benchKey)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, fmt.Errorf("%s after the second start: %w", t.name, err))
				return
			}
			st.first[t.name] = at.Sub(dev.started)
		}()
	}
	wg.Wait()
	return st, errors.Join(errs...)
}

// firstOK sends POST requests to url until one gets 200, and returns when.
func firstOK(ctx context.Context, url, key string) (time.Time, error) {
	last := "no answer"
	for {
		status, _, err := request(ctx, "POST", url, key)
		if err == nil && status == http.StatusOK {
			return time.Now(), nil
		}
		if err == nil {
			last = fmt.Sprintf("last answer %d", status)
		}
		select {
		case <-ctx.Done():
			return time.Time{}, fmt.Errorf("no 200 in time (%s)", last)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// request sends one request, outside the measured load.
func request(ctx context.Context, method, url, key string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(string(requestBody)))
	if err != nil {
		return 0, nil, err
	}
	if key != "" {
		req.Header.Set("x-api-key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, body, err
}

// cleanup stops every child (the last started first), removes the
// temporary folder, then checks that no process it started, and no worker
// seen, is left, and that nothing listens where a child listened.
func (r *runner) cleanup() error {
	var errs []error
	for i := len(r.children) - 1; i >= 0; i-- {
		c := r.children[i]
		for _, pid := range descendants(c.cmd.Process.Pid) {
			r.seen[pid] = true
		}
		c.stop()
		if !c.exitedCleanly() {
			errs = append(errs, fmt.Errorf("%s did not exit cleanly on SIGTERM: %v\n%s", c.name, c.waitErr, c.output()))
		}
	}
	if r.tmp != "" {
		_ = os.RemoveAll(r.tmp)
	}
	var left []int
	for pid := range r.seen {
		if alive(pid) {
			left = append(left, pid)
		}
	}
	if len(left) > 0 {
		slices.Sort(left)
		errs = append(errs, fmt.Errorf("worker processes %v outlived inquir dev; killing them", left))
		for _, pid := range left {
			killGroup(pid)
		}
	}
	for _, u := range r.urls {
		addr := strings.TrimPrefix(u, "http://")
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			errs = append(errs, fmt.Errorf("something still listens on %s", addr))
		}
	}
	if len(r.children) > 0 && len(errs) == 0 {
		fmt.Fprintf(r.stdout, "stopped: %d processes started, %d workers seen; none left, nothing listening\n", len(r.children), len(r.seen))
	}
	return errors.Join(errs...)
}

// report prints the table and the rest.
func (r *runner) report(results map[string]loadResult, pageRatios []float64, firstBuild time.Duration, rotations []time.Duration, st startTimes) {
	w := r.stdout
	fmt.Fprintf(w, "\n%d connections, %s per target after %s of warm-up, concurrency %d, %s\n",
		r.connections, r.duration, r.warmup, r.concurrency, describeMachine())
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "target\troute\trequests\terrors\treq/s\tp50\tp99\t× bare\tRSS MiB\tworkers MiB\tCPU µs/req: server\tworkers\tclient\t")
	bare, haveBare := results["bare"]
	for _, t := range r.targets {
		res := results[t.name]
		ratio := "-"
		if haveBare && bare.rate() > 0 {
			ratio = fmt.Sprintf("%.3f", res.rate()/bare.rate())
		}
		route := "net/http echo"
		switch t.name {
		case "bare":
		case "node-http":
			route = "node:http echo"
		case "node-cluster":
			route = fmt.Sprintf("node:http echo ×%d", r.concurrency)
		default:
			route = "POST " + t.path
			switch {
			case t.page:
				route += " (no key, page open)"
			case !t.keyed:
				route += " (no key)"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%.0f\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", t.name, route, res.requests, res.errors, res.rate(),
			ms(res.percentile(0.50)), ms(res.percentile(0.99)), ratio, mib(res.rssKiB), mib(res.workKiB),
			res.perRequest(res.serverCPU), res.perRequest(res.workCPU), res.perRequest(res.clientCPU))
	}
	tw.Flush()
	if plain, paged := results["401"], results["401-page"]; plain.rate() > 0 && paged.rate() > 0 {
		fmt.Fprintf(w, "\nthe live page open (401-page ÷ 401): %.3f × the req/s, server CPU %s against %s µs/req; the stream sent %d records and skipped %d (warm-up and measure)\n",
			paged.rate()/plain.rate(), paged.perRequest(paged.serverCPU), plain.perRequest(plain.serverCPU), paged.pageRecords, paged.pageDropped)
		if len(pageRatios) > 0 {
			rs := make([]string, len(pageRatios))
			for i, x := range pageRatios {
				rs[i] = fmt.Sprintf("%.3f", x)
			}
			sorted := slices.Sorted(slices.Values(pageRatios))
			fmt.Fprintf(w, "  by round (alternating): %s; median %.3f\n", strings.Join(rs, " "), sorted[len(sorted)/2])
		}
	}
	fmt.Fprintf(w, "\nfirst start: functions built %s after exec (inquir's build cache empty, Go's as it was)\n", st1(firstBuild))
	fmt.Fprintf(w, "second start (build cache warm): listening %s, healthy %s", st1(st.listening), st1(st.healthy))
	for _, t := range r.targets {
		if d, ok := st.first[t.name]; ok {
			fmt.Fprintf(w, ", first 200 %s %s", t.name, st1(d))
		}
	}
	fmt.Fprintln(w)
	if len(rotations) > 0 {
		slices.Sort(rotations)
		fmt.Fprintf(w, "rotation propagation (%d rotations, write to first 200): median %s, max %s\n",
			len(rotations), ms(rotations[len(rotations)/2]), ms(rotations[len(rotations)-1]))
	}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond)) }

func st1(d time.Duration) string { return d.Round(time.Millisecond).String() }

func mib(kib int64) string {
	if !procSupported || kib == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f", float64(kib)/1024)
}

// moduleRoot is the folder of the working folder's go.mod.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	gomod := strings.TrimSpace(string(out))
	if err != nil || gomod == "" || gomod == os.DevNull {
		return "", errors.New("cannot find inquir's repository: run from inside it, or pass -repo")
	}
	return filepath.Dir(gomod), nil
}

// goEnvs reads go env values, so inquir dev's builds use the same caches.
func goEnvs(dir string, names ...string) (map[string]string, error) {
	cmd := exec.Command("go", append([]string{"env"}, names...)...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go env: %w (is the Go toolchain on PATH?)", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	env := map[string]string{}
	for i, n := range names {
		if i < len(lines) {
			env[n] = lines[i]
		}
	}
	return env, nil
}

// describeMachine names the CPU and its count, and the Go toolchain.
func describeMachine() string {
	model := runtime.GOARCH
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "model name"); ok {
				model = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	return fmt.Sprintf("%d × %s, %s/%s, %s", runtime.NumCPU(), model, runtime.GOOS, runtime.GOARCH, runtime.Version())
}
