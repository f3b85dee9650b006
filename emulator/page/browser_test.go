package page_test

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The browser tests drive the page in Debian's chromium with chromedp, as
// a user would, against a real `inquir dev` process serving
// fixtures/page with a real node function, with requests sent by real
// `inquir request` processes. Without a browser they skip, unless CI=true or
// INQUIR_REQUIRE_BROWSER=1, where a missing browser fails them.

var update = flag.Bool("update", false, "write the page's screenshot to docs/page.png")

// Deadlines for a loaded 2-core machine: what waits for a process or the
// browser waits this long before it fails; none of them is a measure.
const (
	startDeadline = 3 * time.Minute // build inquir, start it, start chromium
	stepDeadline  = 60 * time.Second
)

const (
	acmeKey  = "acme-browser-key-0123456789abcdef"
	agentKey = "agent-browser-key-0123456789abcdef"
)

// browserPath finds chromium, or says why the test cannot run.
func browserPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("INQUIR_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "no chromium on PATH (apt-get install -y chromium, or set INQUIR_CHROMIUM): the live page's browser tests need one"
	if os.Getenv("CI") == "true" || os.Getenv("INQUIR_REQUIRE_BROWSER") == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// devProcess is a running `inquir dev`.
type devProcess struct {
	bin, dir, url string
	cmd           *exec.Cmd
	mu            sync.Mutex
	log           strings.Builder
}

// startDev builds inquir, copies fixtures/page to a temporary folder with
// its secrets, and starts `inquir dev` on a free loopback port; it is
// stopped when the test ends.
func startDev(t *testing.T) *devProcess {
	t.Helper()
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "inquir")
	build := exec.Command("go", "build", "-o", bin, "github.com/inquir-dev/inquir/cmd/inquir")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building inquir: %v\n%s", err, out)
	}
	dir := filepath.Join(tmp, "project")
	if err := os.CopyFS(dir, os.DirFS("../../fixtures/page")); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "secrets"), 0o700); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "secrets", "agent.key"), agentKey+"\n")
	d := &devProcess{bin: bin, dir: dir}
	d.cmd = exec.Command(bin, "dev", "--listen", "127.0.0.1:0")
	d.cmd.Dir = dir
	d.cmd.Env = append(os.Environ(), "PAGE_ACME_KEY="+acmeKey)
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stderr, err := d.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	d.cmd.Stdout = d.cmd.Stderr
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	listening := make(chan string, 1)
	go func() {
		defer close(exited)
		sc := bufio.NewScanner(stderr)
		re := regexp.MustCompile(`listening on (http://\S+)`)
		for sc.Scan() {
			d.mu.Lock()
			d.log.WriteString(sc.Text() + "\n")
			d.mu.Unlock()
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				listening <- m[1]
			}
		}
		_ = d.cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = syscall.Kill(-d.cmd.Process.Pid, syscall.SIGINT)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = syscall.Kill(-d.cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
		if t.Failed() {
			t.Logf("inquir dev's log:\n%s", d.logText())
		}
	})
	select {
	case d.url = <-listening:
	case <-exited:
		t.Fatalf("inquir dev exited:\n%s", d.logText())
	case <-time.After(startDeadline):
		t.Fatalf("inquir dev did not say it listens within %v:\n%s", startDeadline, d.logText())
	}
	return d
}

func (d *devProcess) logText() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.log.String()
}

// request runs `inquir request` and returns the status it printed.
func (d *devProcess) request(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command(d.bin, append([]string{"request"}, args...)...).Output()
	if err != nil {
		t.Fatalf("inquir request %v: %v", args, err)
	}
	status, _, _ := strings.Cut(string(out), "\n")
	return status
}

// invocations reads the gateway's count of a function's invocations.
func (d *devProcess) invocations(t *testing.T, function string) int64 {
	t.Helper()
	resp, err := http.Get(d.url + "/_inquir/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st struct {
		Invocations map[string]int64 `json:"invocations"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	return st.Invocations[function]
}

// newBrowser starts chromium headless with a fresh profile; every message
// the page writes to the console is collected.
func newBrowser(t *testing.T, path string) (context.Context, func() []chromedp.ConsoleMessage) {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1600, 1100),
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// Start the browser, with a deadline: a loaded machine takes its time.
	// The first action's context owns the browser (chromedp), so it is ctx
	// itself, and the deadline is kept here.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx, chromedp.Navigate("about:blank")) }()
	select {
	case err := <-started:
		if err != nil {
			t.Fatalf("starting %s: %v", path, err)
		}
	case <-time.After(startDeadline):
		cancel()
		t.Fatalf("%s did not start within %v", path, startDeadline)
	}
	var mu sync.Mutex
	var msgs []chromedp.ConsoleMessage
	console := chromedp.Console(ctx)
	go func() {
		for m, err := range console {
			if err != nil {
				return
			}
			mu.Lock()
			msgs = append(msgs, m)
			mu.Unlock()
		}
	}()
	return ctx, func() []chromedp.ConsoleMessage {
		mu.Lock()
		defer mu.Unlock()
		return append([]chromedp.ConsoleMessage(nil), msgs...)
	}
}

// step runs actions with the step deadline.
func step(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, stepDeadline)
	defer cancel()
	if err := chromedp.Do(sctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, stepDeadline)
	defer cancel()
	v, err := chromedp.Run(sctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}

// TestBrowser walks the page as a user does: it loads with no console
// error; a request made with `inquir request` shows in the live list; a
// 403's why is shown with its config line; a replay with no key gets 401
// and does not run the function; the matrix equals `inquir verify`'s.
func TestBrowser(t *testing.T) {
	path := browserPath(t)
	dev := startDev(t)
	ctx, console := newBrowser(t, path)

	step(t, ctx, "loading the page", chromedp.Navigate(dev.url+"/_inquir/"),
		chromedp.WaitVisible(chromedp.CSS(`#routes tbody tr[data-route="GET /customers/{customerId}"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#keys tbody tr[data-key="old"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#conn.on`)))
	if got := eval[string](t, ctx, `document.querySelector('#keys tr[data-key="old"] td:nth-child(3)').textContent`); !strings.HasPrefix(got, "expired") {
		t.Errorf("key old's state: %q", got)
	}

	// A request, from another process, shows in the live list.
	if s := dev.request(t, "GET", dev.url+"/customers/c-401"); s != "401" {
		t.Fatalf("no key: %s", s)
	}
	step(t, ctx, "waiting for the 401 in the live list",
		chromedp.WaitVisible(chromedp.JSPath(`[...document.querySelectorAll('#live tbody tr')].filter(r => r.textContent.includes('/customers/c-401') && r.dataset.status === '401')`)))

	// A 403: its why names the key's group, the route's, and the line.
	if s := dev.request(t, "GET", dev.url+"/customers/c-403", "-H", "x-api-key: "+agentKey); s != "403" {
		t.Fatalf("the agent's key: %s", s)
	}
	row403 := `[...document.querySelectorAll('#live tbody tr')].filter(r => r.textContent.includes('/customers/c-403'))`
	step(t, ctx, "opening the 403", chromedp.WaitVisible(chromedp.JSPath(row403)), chromedp.Click(chromedp.JSPath(row403)),
		chromedp.WaitVisible(chromedp.JSPath(`[...document.querySelectorAll('#detail-title')].filter(h => h.textContent.includes('/customers/c-403 → 403'))`)),
		chromedp.WaitVisible(chromedp.CSS(`#why-sentence`)))
	why := eval[string](t, ctx, `document.querySelector('#why-sentence').textContent + '\n' + document.querySelector('#why-line').textContent`)
	if !strings.Contains(why, "key search-agent is in group internal; route GET /customers/{customerId} needs group public-api") ||
		!regexp.MustCompile(`inquir\.toml:\d+  routes\[0\]\.group\s+group = "public-api"`).MatchString(why) {
		t.Errorf("the 403's why:\n%s", why)
	}

	// A request that ran the function, replayed with no key: 401, and the
	// function does not run again.
	if s := dev.request(t, "GET", dev.url+"/customers/c-200", "-H", "x-api-key: "+acmeKey); s != "200" {
		t.Fatalf("partner-acme's key: %s", s)
	}
	row200 := `[...document.querySelectorAll('#live tbody tr')].filter(r => r.textContent.includes('/customers/c-200'))`
	step(t, ctx, "opening the 200", chromedp.WaitVisible(chromedp.JSPath(row200)), chromedp.Click(chromedp.JSPath(row200)),
		chromedp.WaitVisible(chromedp.JSPath(`[...document.querySelectorAll('#detail-title')].filter(h => h.textContent.includes('/customers/c-200 → 200'))`)))
	if got := eval[string](t, ctx, row200+`[0].textContent`); !regexp.MustCompile(`customers \(pid \d+\)`).MatchString(got) {
		t.Errorf("the 200's row does not name the worker that ran it: %q", got)
	}
	before := dev.invocations(t, "customers")
	step(t, ctx, "replaying with no key", chromedp.Click(chromedp.CSS(`#replay-nokey`)),
		chromedp.WaitVisible(chromedp.CSS(`#replay-result[data-status]`)))
	res := eval[map[string]string](t, ctx, `({status: document.querySelector('#replay-result').dataset.status, invoked: document.querySelector('#replay-result').dataset.invoked})`)
	if res["status"] != "401" || res["invoked"] != "0" {
		t.Errorf("replay with no key: %v", res)
	}
	if n := dev.invocations(t, "customers") - before; n != 0 {
		t.Errorf("the keyless replay ran the function %d times", n)
	}

	// The matrix, as `inquir verify` gives it.
	step(t, ctx, "running the matrix", chromedp.Click(chromedp.CSS(`#matrix-run`)),
		chromedp.WaitVisible(chromedp.CSS(`#matrix tbody tr[data-credential="no key"]`)))
	cells := eval[[]map[string]string](t, ctx, `[...document.querySelectorAll('#matrix tbody tr')].map(r => ({credential: r.dataset.credential, expect: r.dataset.expect, result: r.dataset.result, got: r.children[3].textContent}))`)
	page := map[string]string{}
	for _, c := range cells {
		if c["result"] == "not probed" {
			page[c["credential"]] = c["expect"] + " | not probed"
		} else {
			page[c["credential"]] = c["expect"] + " | " + c["got"] + " | " + c["result"]
		}
	}
	verify := verifyCells(t, dev, "GET /customers/{customerId}", "GET /customers/inquir-verify")
	want := map[string]string{}
	for cred, c := range verify {
		want[cred] = c.expect + " | " + c.got + " | " + c.result
		if cred == "key old" { // inquir holds only its digest: not probed on the page
			want[cred] = c.expect + " | not probed"
		}
	}
	if fmt.Sprint(page) != fmt.Sprint(want) {
		t.Errorf("the page's matrix:\n%v\ninquir verify's:\n%v", page, want)
	}

	// A rotation: search-agent's secret file gets a new secret; inquir dev
	// sees the file change and reloads, and the timeline says what changed
	// (a request makes the page read its state again).
	write(t, filepath.Join(dev.dir, "secrets", "agent.key"), "agent-browser-key-rotated-0123456789\n")
	deadline := time.Now().Add(stepDeadline)
	for {
		if s := dev.request(t, "GET", dev.url+"/customers/c-rotated", "-H", "x-api-key: agent-browser-key-rotated-0123456789"); s == "403" {
			break // the new secret is search-agent's
		}
		if time.Now().After(deadline) {
			t.Fatalf("the rotated secret was not in force within %v:\n%s", stepDeadline, dev.logText())
		}
		time.Sleep(100 * time.Millisecond) // polling a reload that is under way
	}
	step(t, ctx, "waiting for the rotation in the timeline",
		chromedp.WaitVisible(chromedp.JSPath(`[...document.querySelectorAll('#reloads li')].filter(li => li.textContent.includes('applied') && li.textContent.includes('secrets rotated: search-agent'))`)))

	// Back to the 403, for the screenshot.
	step(t, ctx, "opening the 403 again", chromedp.Click(chromedp.JSPath(row403)),
		chromedp.WaitVisible(chromedp.JSPath(`[...document.querySelectorAll('#detail-title')].filter(h => h.textContent.includes('/customers/c-403 → 403'))`)),
		chromedp.WaitVisible(chromedp.CSS(`#why-sentence`)))
	if *update {
		// The click scrolled the list to the row; the picture shows its top.
		eval[bool](t, ctx, `(document.querySelector('#live-section .scroll').scrollTop = 0) === 0`)
		sctx, cancel := context.WithTimeout(ctx, stepDeadline)
		png, err := chromedp.Run(sctx, chromedp.FullScreenshot(100))
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile("../../docs/page.png", png, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	for _, m := range console() {
		if m.Type == chromedp.ConsoleError || m.IsException() {
			t.Errorf("console: %s", m)
		}
	}
	// Nothing the browser holds names a secret.
	html := eval[string](t, ctx, `document.documentElement.outerHTML`)
	for _, s := range []string{acmeKey, agentKey, "agent-browser-key-rotated-0123456789"} {
		if strings.Contains(html, s) {
			t.Errorf("the page holds a secret (%.6s…)", s)
		}
	}
}

type verifyCell struct{ expect, got, result string }

// verifyCells runs `inquir verify` on the project and returns its cells for
// one route and request, by credential.
func verifyCells(t *testing.T, d *devProcess, route, request string) map[string]verifyCell {
	t.Helper()
	cmd := exec.Command(d.bin, "verify")
	cmd.Dir = d.dir
	cmd.Env = append(os.Environ(), "PAGE_ACME_KEY="+acmeKey)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("inquir verify: %v\n%s", err, out)
	}
	cells := map[string]verifyCell{}
	cols := regexp.MustCompile(`\s{2,}`)
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		f := cols.Split(strings.TrimSpace(sc.Text()), -1)
		// The matrix's cells; a usage plan's ("key partner-acme (plan
		// partner)") are not the matrix's.
		if len(f) != 6 || f[0] != route || f[1] != request || strings.Contains(f[2], " (") {
			continue
		}
		if _, seen := cells[f[2]]; !seen {
			cells[f[2]] = verifyCell{expect: f[3], got: f[4], result: f[5]}
		}
	}
	if len(cells) == 0 {
		t.Fatalf("inquir verify has no cell for %s %s:\n%s", route, request, out)
	}
	return cells
}
