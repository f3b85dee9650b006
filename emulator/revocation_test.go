package emulator

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/inquir-dev/inquir/emulator/policy"
)

// syncBuffer is a log sink that tests read while the emulator writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// decision is one reload the watcher tried.
type decision struct{ outcome, config string }

// contentID is the config id of content, as config.Load computes it.
func contentID(content string) string {
	sum := sha256.Sum256([]byte(content))
	return hex.EncodeToString(sum[:6])
}

// startProject writes files into a new folder and starts a watched
// emulator on its inquir.toml. Every reload the watcher tries is sent on the
// returned channel, with the id of the config on disk when it did not read
// one (a deferred reload).
func startProject(t *testing.T, inv *okInvoker, files map[string]string) (e *Emulator, dir string, log *syncBuffer, decisions chan decision) {
	t.Helper()
	dir = t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	log = &syncBuffer{}
	path := filepath.Join(dir, "inquir.toml")
	e, err := Start(Options{ConfigPath: path, Listen: "127.0.0.1:0", Invoker: inv,
		Log: slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	decisions = make(chan decision, 10000)
	e.watchHook = func(outcome, config string) {
		if config == "" {
			// The writer is paused until the test hears this: what is on
			// disk now is what the watcher declined to read.
			b, _ := os.ReadFile(path)
			config = contentID(string(b))
		}
		decisions <- decision{outcome, config}
	}
	stop, err := e.Watch()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stop()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := e.Close(ctx); err != nil {
			t.Error(err)
		}
	})
	return e, dir, log, decisions
}

// awaitDecision waits for the watcher to try a reload of the config with
// id, and returns what it did. Every decision heard is appended to seen.
func awaitDecision(t testing.TB, decisions <-chan decision, id string, seen *[]decision) decision {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case d := <-decisions:
			*seen = append(*seen, d)
			if d.config == id {
				return d
			}
		case <-deadline:
			t.Fatalf("the watcher never looked at config %s; it saw %v", id, *seen)
		}
	}
}

const (
	onSecret  = "on-secret-0123456789abcdef"
	offSecret = "off-secret-0123456789abcdef"
)

// toggleConfig allows keys "on" and "off" on GET /x; "off" is disabled by
// the file's last line, so a copy cut before that line enables it.
func toggleConfig(version string) string {
	return "# " + version + `
[functions.f]
runtime = "node"
path = "fn.mjs"
[[routes]]
method = "GET"
path = "/x"
function = "f"
keys = ["on", "off"]
[keys.on]
secret = "sha256:` + digest(onSecret) + `"
[keys.off]
secret = "sha256:` + digest(offSecret) + `"
disabled = true
`
}

// halfOf is content cut just before its "disabled = true" line: a file
// caught mid-save that parses and enables the key "off".
func halfOf(t testing.TB, content string) string {
	t.Helper()
	half := content[:strings.Index(content, "disabled = true")]
	dir := t.TempDir()
	f := filepath.Join(dir, "inquir.toml")
	os.WriteFile(filepath.Join(dir, "fn.mjs"), nil, 0o600)
	os.WriteFile(f, []byte(half), 0o600)
	p, err := policy.Load(f)
	if err != nil || p.Key("off").Disabled || len(p.Routes) != 1 {
		t.Fatalf("the half-written config should parse and enable key off: %v", err)
	}
	return half
}

// prober sends requests with the secret of the moment ("" for none yet)
// until stopped, counting the answers that are not want.
type prober struct {
	sent, wrong atomic.Int64
	halt, done  chan struct{}
	once        sync.Once
}

// stop ends the probing and waits for the last request; safe twice.
func (p *prober) stop() {
	p.once.Do(func() { close(p.halt) })
	<-p.done
}

func probe(t testing.TB, url string, secret func() string, want int) *prober {
	p := &prober{halt: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		bound := time.After(60 * time.Second)
		for i := 0; i < 200000; i++ {
			select {
			case <-p.halt:
				return
			case <-bound:
				return
			default:
			}
			s := secret()
			if s == "" {
				time.Sleep(time.Millisecond)
				continue
			}
			p.sent.Add(1)
			if got := status(t, url, s); got != want {
				p.wrong.Add(1)
			}
		}
	}()
	return p
}

// TestInPlaceSaveAppliedWhole saves inquir.toml in place as a slow writer
// does (truncate, write part, pause, write the rest) while a disabled key
// knocks without pause: the watcher looks at the file while it is cut short,
// and never puts the cut copy (which enables the key) or the empty file in
// force. An inquir.toml saved empty on purpose is refused.
func TestInPlaceSaveAppliedWhole(t *testing.T) {
	full := toggleConfig("v2")
	half := halfOf(t, full)
	inv := &okInvoker{}
	e, dir, log, decisions := startProject(t, inv, map[string]string{
		"fn.mjs":      "export async function handler() {}\n",
		"inquir.toml": toggleConfig("v1"),
	})
	path := filepath.Join(dir, "inquir.toml")
	off := probe(t, e.URL(), func() string { return offSecret }, http.StatusUnauthorized)
	defer off.stop()
	var seen []decision

	// A save in two writes, with the watcher deciding in the pause.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(half); err != nil {
		t.Fatal(err)
	}
	if d := awaitDecision(t, decisions, contentID(half), &seen); d.outcome != reloadDeferred {
		t.Errorf("the watcher %s the half-written config; want it deferred until the file is closed", d.outcome)
	}
	if _, err := f.WriteString(full[len(half):]); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if d := awaitDecision(t, decisions, contentID(full), &seen); d.outcome != reloadApplied {
		t.Fatalf("the whole config was %s", d.outcome)
	}

	// Truncated, with nothing written for a while.
	full = toggleConfig("v3")
	f, err = os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if d := awaitDecision(t, decisions, contentID(""), &seen); d.outcome != reloadDeferred {
		t.Errorf("the watcher %s the truncated config; want it deferred until the file is closed", d.outcome)
	}
	f.WriteString(full)
	f.Close()
	if d := awaitDecision(t, decisions, contentID(full), &seen); d.outcome != reloadApplied {
		t.Fatalf("the whole config was %s", d.outcome)
	}

	// Saved empty and closed: refused, the last good config stays.
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if d := awaitDecision(t, decisions, contentID(""), &seen); d.outcome != reloadRefused {
		t.Errorf("the empty config was %s; want it refused", d.outcome)
	}
	if got := status(t, e.URL(), onSecret); got != http.StatusOK {
		t.Errorf("after an empty save the key in force got %d, want 200", got)
	}
	if !strings.Contains(log.String(), "declares no keys, functions or routes") {
		t.Errorf("the log does not say why the empty config was refused:\n%s", log)
	}
	var applied []string
	for _, d := range seen {
		if d.outcome == reloadApplied {
			applied = append(applied, d.config)
		}
	}
	want := []string{contentID(toggleConfig("v2")), contentID(toggleConfig("v3"))}
	if strings.Join(applied, " ") != strings.Join(want, " ") {
		t.Errorf("configs applied: %v, want only the two whole ones %v (all: %v)", applied, want, seen)
	}
	// Applied is exact: a re-read of a whole config in force is unchanged.
	// Refused is not: a save's last write event may reach the watcher after
	// the reload that read it (see TestRereadIsNoReload), and a re-read of
	// a refused file is refused again; the v3 save's late event can even
	// arrive once the empty file is written.
	if st := e.Gateway().Stats(); st.Reloads.Applied != 2 || st.Reloads.Refused < 1 {
		t.Errorf("stats count %d reloads applied and %d refused, want 2 and at least 1", st.Reloads.Applied, st.Reloads.Refused)
	}
	off.stop()
	t.Logf("the disabled key knocked %d times", off.sent.Load())
	if n := off.wrong.Load(); n != 0 {
		t.Errorf("%d requests with the disabled key were not refused", n)
	}
}

const (
	stableKeySecret = "stable-key-0123456789abcdef"
	agentSecret     = "agent-one-0123456789abcdef"
	pairA, pairB    = "pair-a-0123456789abcdef", "pair-b-0123456789abcdef"
)

// revocationConfig has a sha256 key, a key with one file: secret and a key
// with two, all allowed on GET /x.
const revocationConfig = `
[keys.stable]
secret = "sha256:` + "%s" + `"
[keys.agent]
secret = "file:agent.key"
[keys.pair]
secret = ["file:a.key", "file:b.key"]
[functions.f]
runtime = "node"
path = "fn.mjs"
[[routes]]
method = "GET"
path = "/x"
function = "f"
`

func revocationFiles() map[string]string {
	return map[string]string{
		"fn.mjs":      "export async function handler() {}\n",
		"inquir.toml": strings.Replace(revocationConfig, "%s", digest(stableKeySecret), 1),
		"agent.key":   agentSecret + "\n",
		"a.key":       pairA + "\n",
		"b.key":       pairB + "\n",
	}
}

// awaitPolicy waits until the policy in force satisfies ok.
func awaitPolicy(t testing.TB, e *Emulator, what string, ok func(*policy.Policy) bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok(e.Policy()) {
		if time.Now().After(deadline) {
			t.Fatalf("the reload that %s was never applied", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestRevokeBySecretFile empties, then deletes, a key's file: secret: once
// the reload is in force the old secret is refused without invoking the
// function, the other keys keep working, and the log says which key and
// file, never the secret. A key with two secrets loses only the one whose
// file is gone.
func TestRevokeBySecretFile(t *testing.T) {
	inv := &okInvoker{}
	e, dir, log, _ := startProject(t, inv, revocationFiles())
	url := e.URL()
	expect := func(secret string, want int) {
		t.Helper()
		before := inv.calls.Load()
		if got := status(t, url, secret); got != want {
			t.Fatalf("a request with %s got %d, want %d", secret[:6], got, want)
		}
		if calls := inv.calls.Load() - before; want != http.StatusOK && calls != 0 {
			t.Fatalf("a refused request invoked the function %d times", calls)
		}
	}
	for _, s := range []string{stableKeySecret, agentSecret, pairA, pairB} {
		expect(s, http.StatusOK)
	}

	// Emptied in place.
	applied := e.Gateway().Stats().Reloads.Applied
	if err := os.WriteFile(filepath.Join(dir, "agent.key"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	awaitPolicy(t, e, "empties agent.key", func(p *policy.Policy) bool { return p.Key("agent").Disabled })
	expect(agentSecret, http.StatusUnauthorized)
	expect(stableKeySecret, http.StatusOK)
	expect(pairA, http.StatusOK)
	if !strings.Contains(log.String(), `reason=revoked_secret`) {
		t.Errorf("the refusal of a revoked secret is not logged as revoked_secret:\n%s", log)
	}
	if st := e.Gateway().Stats().Reloads; st.Applied != applied+1 || st.Refused != 0 {
		t.Errorf("reloads: %d applied, %d refused; want the revoking reload applied", st.Applied-applied, st.Refused)
	}

	// Back with a new secret, then deleted.
	const agentTwo = "agent-two-0123456789abcdef"
	if err := os.WriteFile(filepath.Join(dir, "agent.key"), []byte(agentTwo), 0o600); err != nil {
		t.Fatal(err)
	}
	awaitPolicy(t, e, "restores agent.key", func(p *policy.Policy) bool { return !p.Key("agent").Disabled })
	expect(agentTwo, http.StatusOK)
	expect(agentSecret, http.StatusUnauthorized)
	if err := os.Remove(filepath.Join(dir, "agent.key")); err != nil {
		t.Fatal(err)
	}
	awaitPolicy(t, e, "deletes agent.key", func(p *policy.Policy) bool { return p.Key("agent").Disabled })
	expect(agentTwo, http.StatusUnauthorized)
	expect(stableKeySecret, http.StatusOK)

	// One of two secrets deleted: that one alone is refused.
	if err := os.Remove(filepath.Join(dir, "a.key")); err != nil {
		t.Fatal(err)
	}
	awaitPolicy(t, e, "deletes a.key", func(p *policy.Policy) bool { return len(p.Revoked) == 2 })
	expect(pairA, http.StatusUnauthorized)
	expect(pairB, http.StatusOK)
	if e.Policy().Key("pair").Disabled {
		t.Error("the key with one secret left was disabled")
	}

	logged := log.String()
	for _, want := range []string{
		`level=WARN msg="key disabled: its secret file is missing or empty; requests with its old secret are refused until the file holds a secret again" key=agent file=` + filepath.Join(dir, "agent.key"),
		`level=WARN msg="secret revoked: its secret file is missing or empty; the key's other secrets still work" key=pair file=` + filepath.Join(dir, "a.key"),
	} {
		if !strings.Contains(logged, want) {
			t.Errorf("the log lacks %q:\n%s", want, logged)
		}
	}
	for _, s := range []string{agentSecret, agentTwo, pairA, pairB, stableKeySecret} {
		if strings.Contains(logged, s) {
			t.Errorf("the log shows a secret: %s...", s[:6])
		}
	}
}

// TestStartRefusesMissingSecretFile: at start nothing is in force yet, so a
// file: secret that cannot be read is a config error, as it always was,
// naming the file and field.
func TestStartRefusesMissingSecretFile(t *testing.T) {
	dir := t.TempDir()
	files := revocationFiles()
	delete(files, "agent.key")
	for name, content := range files {
		os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600)
	}
	e, err := Start(Options{ConfigPath: filepath.Join(dir, "inquir.toml"), Listen: "127.0.0.1:0", Invoker: &okInvoker{}})
	if err == nil {
		e.Close(context.Background())
		t.Fatal("started with a missing secret file")
	}
	if want := "keys.agent.secret: reading secret file"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not contain %q", err, want)
	}
}

// writeInChunks saves content in place as a slow writer does: truncate,
// write the first part, pause, write the rest, close.
func writeInChunks(t testing.TB, path, content string, cut int, pause func()) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(content[:cut]); err != nil {
		t.Fatal(err)
	}
	pause()
	if _, err := f.WriteString(content[cut:]); err != nil {
		t.Fatal(err)
	}
}

// TestRevocationUnderLoad saves inquir.toml and a key's secret file in place
// in chunks, and deletes the secret file, while callers knock without
// pause: the unchanged key is never refused, the disabled key, a secret
// caught half-written and a revoked secret are never accepted once the
// change that revoked them is in force.
func TestRevocationUnderLoad(t *testing.T) {
	const rounds = 12
	files := revocationFiles()
	withAgent := func(version string) string {
		return strings.Replace(toggleConfig(version), `keys = ["on", "off"]`, `keys = ["on", "off", "agent"]`, 1) +
			"[keys.agent]\nsecret = \"file:agent.key\"\n"
	}
	files["inquir.toml"] = withAgent("v0")
	inv := &okInvoker{}
	e, dir, _, decisions := startProject(t, inv, files)
	url, path, keyFile := e.URL(), filepath.Join(dir, "inquir.toml"), filepath.Join(dir, "agent.key")
	go func() { // the decisions are not looked at here
		for range decisions {
		}
	}()
	defer close(decisions)

	var revoked, partial atomic.Pointer[string]
	load := func(p *atomic.Pointer[string]) func() string {
		return func() string {
			if s := p.Load(); s != nil {
				return *s
			}
			return ""
		}
	}
	probers := map[string]*prober{
		"unchanged key":     probe(t, url, func() string { return onSecret }, http.StatusOK),
		"disabled key":      probe(t, url, func() string { return offSecret }, http.StatusUnauthorized),
		"revoked secret":    probe(t, url, load(&revoked), http.StatusUnauthorized),
		"half-saved secret": probe(t, url, load(&partial), http.StatusUnauthorized),
	}
	defer func() {
		for _, p := range probers {
			p.stop()
		}
	}()
	pause := func() { time.Sleep(20 * time.Millisecond) } // long against the 15 ms settle window
	current := agentSecret
	for i := 1; i <= rounds; i++ {
		switch i % 3 {
		case 0: // inquir.toml saved in place; cut short it would enable "off"
			full := withAgent(fmt.Sprint("v", i))
			writeInChunks(t, path, full, strings.Index(full, "disabled = true"), pause)
			awaitPolicy(t, e, "saves inquir.toml", func(p *policy.Policy) bool { return p.ID() == contentID(full) })
		case 1: // the secret file saved in place with a new secret
			next := fmt.Sprintf("agent-%04d-0123456789abcdef", i)
			half := next[:len(next)/2]
			partial.Store(&half)
			writeInChunks(t, keyFile, next, len(half), pause)
			waitAccepted(t, url, next, time.Now())
			old := current
			revoked.Store(&old)
			current = next
		case 2: // the secret file deleted, then written anew
			if err := os.Remove(keyFile); err != nil {
				t.Fatal(err)
			}
			awaitPolicy(t, e, "deletes agent.key", func(p *policy.Policy) bool { return p.Key("agent").Disabled })
			old := current
			revoked.Store(&old)
			current = fmt.Sprintf("agent-%04d-0123456789abcdef", i)
			writeConfig(t, keyFile, current, false)
			waitAccepted(t, url, current, time.Now())
		}
	}
	for name, p := range probers {
		p.stop()
		t.Logf("%s: %d requests", name, p.sent.Load())
		if p.sent.Load() == 0 {
			t.Errorf("%s: no requests were sent", name)
		}
		if n := p.wrong.Load(); n != 0 {
			t.Errorf("%s: %d of %d requests got the wrong answer", name, n, p.sent.Load())
		}
	}
}
