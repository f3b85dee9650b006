package runtimes

import (
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/inquir-dev/inquir/emulator/config"
)

// buildOutputLines bounds how much compiler output an error carries.
const buildOutputLines = 40

// bootstrapJS is the node bootstrap: a Runtime API client that imports the
// function's module and calls its exported handler.
//
//go:embed bootstrap.mjs
var bootstrapJS []byte

// channelFlag is the bootstrap's argument that tells it to open an
// invocation channel (runtimeapi.ChannelProtocol) rather than poll: an
// argument, not a variable, so the handler's environment stays as
// documented. Without it the bootstrap speaks the Runtime API, as it does
// against any Runtime API but inquir's.
const channelFlag = "--inquir-channel"

// prepare makes the function ready to start workers and returns the argv
// they run: it builds a Go function, finds node and writes the bootstrap,
// or resolves a process function's command. A go-plugin function has no
// workers: prepare builds and loads the plugin and returns no argv.
func (p *pool) prepare(ctx context.Context) ([]string, error) {
	switch p.fn.Runtime {
	case config.RuntimeGo:
		bin, err := p.goBinary(ctx)
		if err != nil {
			return nil, err
		}
		return []string{bin}, nil
	case config.RuntimeNode:
		node, err := exec.LookPath("node")
		if err != nil {
			return nil, fmt.Errorf("function %s: the node runtime needs node on PATH: install Node.js 20 or later (%v)", p.fn.Name, err)
		}
		bootstrap, err := p.m.bootstrap()
		if err != nil {
			return nil, fmt.Errorf("function %s: %w", p.fn.Name, err)
		}
		return []string{node, bootstrap, channelFlag}, nil
	case config.RuntimeProcess:
		return p.command()
	case config.RuntimeGoPlugin:
		// The environment first: the plugin reads it when it is loaded.
		if err := p.m.applyPluginEnv(p); err != nil {
			return nil, err
		}
		_, err := p.built(ctx)
		return nil, err
	default:
		return nil, fmt.Errorf("function %s: runtime %q cannot run as a worker process (want go, node or process)", p.fn.Name, p.fn.Runtime)
	}
}

// command resolves a process function's argv: a bare name on PATH, a path
// with a slash relative to the function's folder.
func (p *pool) command() ([]string, error) {
	if len(p.fn.Command) == 0 || p.fn.Command[0] == "" {
		return nil, fmt.Errorf("function %s: the process runtime needs a command", p.fn.Name)
	}
	argv := append([]string(nil), p.fn.Command...)
	switch name := argv[0]; {
	case filepath.IsAbs(name):
	case strings.ContainsRune(name, '/') || strings.ContainsRune(name, filepath.Separator):
		argv[0] = filepath.Join(p.fn.Dir, name)
	default:
		path, err := exec.LookPath(name)
		if err != nil {
			return nil, fmt.Errorf("function %s: command %q is not on PATH; give a path relative to %s instead", p.fn.Name, name, p.fn.Dir)
		}
		argv[0] = path
	}
	return argv, nil
}

// build is one build of the function's sources (go build for go and
// go-plugin), shared by everyone waiting for it.
type build struct {
	done    chan struct{} // closed when the build ended
	bin     string        // go: the binary
	handler pluginFunc    // go-plugin: the loaded Handler
	err     error
	// sources, for a go-plugin that built but failed to load, fingerprints
	// the sources it was built from: Go cannot unload even a plugin it
	// refused, so the same sources are not loaded again.
	sources string
}

func (b *build) failed() bool {
	select {
	case <-b.done:
		return b.err != nil
	default:
		return false
	}
}

func (b *build) succeeded() bool {
	select {
	case <-b.done:
		return b.err == nil
	default:
		return false
	}
}

// goBinary builds the function once and returns the binary's path.
func (p *pool) goBinary(ctx context.Context) (string, error) {
	b, err := p.built(ctx)
	if err != nil {
		return "", err
	}
	return b.bin, nil
}

// built builds the function once (single-flight: concurrent callers wait
// on the same build) and returns the build. A failed build is run again by
// the next caller, so fixing the code needs no restart.
func (p *pool) built(ctx context.Context) (*build, error) {
	p.buildMu.Lock()
	b := p.build
	if b != nil && b.failed() && b.sources != "" && b.sources == p.fingerprint() {
		p.buildMu.Unlock()
		return b, b.err
	}
	if b == nil || b.failed() {
		p.m.mu.Lock()
		closed := p.m.closed
		if !closed {
			p.m.bg.Add(1)
		}
		p.m.mu.Unlock()
		if closed {
			p.buildMu.Unlock()
			return nil, errClosed
		}
		b = &build{done: make(chan struct{})}
		p.build = b
		// The build runs under the Manager's context, not ctx: it is shared,
		// and one caller giving up must not fail it for the others.
		go func() {
			defer p.m.bg.Done()
			if p.fn.Runtime == config.RuntimeGoPlugin {
				b.handler, b.sources, b.err = p.buildPlugin()
			} else {
				b.bin, b.err = p.runBuild()
			}
			if !errors.Is(b.err, errClosed) {
				p.c.setBuildError(b.err)
			}
			close(b.done)
		}()
	}
	p.buildMu.Unlock()
	select {
	case <-b.done:
		return b, b.err
	default:
	}
	// Bounded, so a caller is told rather than held without end; the
	// build itself goes on for the next caller.
	wait := time.NewTimer(p.m.maxBuildWait)
	defer wait.Stop()
	select {
	case <-b.done:
		return b, b.err
	case <-wait.C:
		return nil, fmt.Errorf("function %s: still building after %s; the build goes on: %w", p.fn.Name, p.m.maxBuildWait, ErrBuilding)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// buildState says where the function's build stands (FunctionStats.Build).
func (p *pool) buildState() string {
	if p.fn.Runtime != config.RuntimeGo && p.fn.Runtime != config.RuntimeGoPlugin {
		return BuildNone
	}
	p.buildMu.Lock()
	b := p.build
	p.buildMu.Unlock()
	switch {
	case b == nil:
		return BuildPending
	case b.succeeded():
		return BuildReady
	case b.failed():
		return BuildFailed
	}
	return BuildRunning
}

// noteBuildWait says in the log that an invocation waits for the
// function's build, when it has to: a request held for a minute by a first
// build should not look like a hang.
func (p *pool) noteBuildWait() {
	if p.fn.Runtime != config.RuntimeGo && p.fn.Runtime != config.RuntimeGoPlugin {
		return
	}
	if st := p.buildState(); st == BuildReady || st == BuildFailed {
		return
	}
	p.m.log.Info("a request waits for function "+p.fn.Name+" to finish building", "function", p.fn.Name)
}

// runBuild runs go build for the function's package.
func (p *pool) runBuild() (string, error) {
	name := p.fn.Name
	goCmd, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("function %s: the go runtime needs the go command on PATH: install Go from https://go.dev/dl/ (%v)", name, err)
	}
	bin := p.binPath()
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		return "", fmt.Errorf("function %s: creating the build folder: %w", name, err)
	}
	// go build keeps its own output up to date: when nothing changed
	// since the last build (a restart of inquir dev), it does not even
	// link, and the function serves in milliseconds rather than seconds.
	// It writes a staging file that no worker runs; the binary workers run
	// is a copy renamed over the old one, so a worker starting meanwhile
	// runs the old binary or the new one, never half of one, and a failed
	// build leaves the old one in place for the version that still serves.
	staging := bin + ".build"
	p.m.log.Info("building function "+name, "function", name, "dir", p.fn.Path)
	start := time.Now()
	if out, err := p.goBuild(goCmd, nil, "build", "-o", staging, "."); err != nil {
		return "", p.buildFailed("go build", out, err)
	}
	if err := installBinary(staging, bin); err != nil {
		return "", fmt.Errorf("function %s: installing the binary: %w", name, err)
	}
	elapsed := time.Since(start).Round(100 * time.Millisecond)
	p.m.log.Info(fmt.Sprintf("built function %s in %s", name, elapsed), "function", name, "duration", elapsed)
	return bin, nil
}

// binPath is where a go function's binary is built: one per function name
// and package folder, kept from one run of inquir dev to the next.
func (p *pool) binPath() string {
	sum := sha256.Sum256([]byte(p.fn.Path))
	return filepath.Join(p.m.cacheDir, "build", p.fn.Name+"-"+hex.EncodeToString(sum[:4]))
}

// builtStamp is the file a go-plugin function's first good build leaves
// (its .so is removed once loaded), so Built can tell a later run.
func (p *pool) builtStamp() string {
	sum := sha256.Sum256([]byte(p.fn.Path))
	return filepath.Join(p.m.cacheDir, "plugin", p.fn.Name+"-"+hex.EncodeToString(sum[:4])+".built")
}

// installBinary copies the binary at from over to (see replaceFile).
func installBinary(from, to string) error {
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	return replaceFile(to, src, 0o755)
}

// replaceFile writes what r holds to a temporary file beside path and
// renames it over path: a process that starts path meanwhile runs the old
// file or the new one, never half of one.
func replaceFile(path string, r io.Reader, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	_, err = io.Copy(tmp, r)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), mode)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	return err
}

// goBuild runs the go command in the function's folder and counts the
// build. The command gets its own process group, so Close stops the
// compiler and linker go build started, not only go build. env nil means
// inquir's own environment.
//
// While it runs, the log says every Options.BuildProgress that the build
// goes on: the first build on a machine compiles the standard library and
// every dependency, a minute or two, and silence would read as a hang.
func (p *pool) goBuild(goCmd string, env []string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(p.m.ctx, goCmd, args...)
	cmd.Dir = p.fn.Path
	cmd.Env = env
	cmd.SysProcAttr = sysProcAttr()
	cmd.Cancel = func() error { return terminate(cmd.Process, true) }
	cmd.WaitDelay = stopGrace
	stop := p.reportProgress(time.Now())
	out, err := cmd.CombinedOutput()
	stop()
	p.c.builds.Add(1)
	if err != nil && p.m.ctx.Err() != nil {
		return out, errClosed
	}
	return out, err
}

// reportProgress logs "still building" lines for a build that started at
// start, every Options.BuildProgress, until the returned stop is called.
func (p *pool) reportProgress(start time.Time) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(p.m.buildProgress)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-p.m.closing:
				return
			case now := <-tick.C:
				elapsed := now.Sub(start).Round(time.Second)
				p.m.log.Info(fmt.Sprintf("still building function %s (%s)…", p.fn.Name, elapsed),
					"function", p.fn.Name, "elapsed", elapsed)
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}

// buildFailed logs a failed build and returns the error Invoke reports
// (what names the build: "go build"). The tail of the compiler's output
// follows the log line as a block, one line as the compiler wrote it, so
// its file:line:col positions read (and click) as in a terminal; the error
// carries it too, for FunctionStats.LastBuildError.
func (p *pool) buildFailed(what string, out []byte, err error) error {
	if errors.Is(err, errClosed) {
		return errClosed
	}
	name := p.fn.Name
	summary := lastLines(string(out), buildOutputLines)
	p.m.log.Error("building function "+name+" failed; "+what+" says:", "function", name, "dir", p.fn.Path, "err", err)
	p.m.out.writeBlock("  ", summary)
	return &buildError{fmt.Sprintf("function %s: %s in %s failed (%v):\n%s", name, what, p.fn.Path, err, summary)}
}

// buildError is a failed build's error: ErrBuildFailed, with the text
// buildFailed gives it.
type buildError struct{ text string }

func (e *buildError) Error() string        { return e.text }
func (e *buildError) Is(target error) bool { return target == ErrBuildFailed }

// checkNode loads the function's module in a node process of its own, as
// a worker would before its first invocation, and reports whether that
// worked: a rebuild swaps a node function's workers only if it does.
func (p *pool) checkNode(ctx context.Context) error {
	argv, err := p.prepare(ctx)
	if err != nil {
		return err
	}
	env, err := p.env("check")
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(p.m.ctx, minStartTimeout)
	defer cancel()
	start := time.Now()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = p.taskRoot()
	cmd.Env = append(env, "INQUIR_CHECK=1")
	cmd.SysProcAttr = sysProcAttr()
	cmd.Cancel = func() error { return terminate(cmd.Process, true) }
	cmd.WaitDelay = stopGrace
	out, err := cmd.CombinedOutput()
	if err != nil {
		if p.m.ctx.Err() != nil {
			return errClosed
		}
		if ctx.Err() != nil {
			err = fmt.Errorf("still loading after %s", minStartTimeout)
		}
		return fmt.Errorf("function %s: node could not load %s (%v):\n%s", p.fn.Name, p.fn.Path, err, lastLines(string(out), buildOutputLines))
	}
	elapsed := time.Since(start).Round(10 * time.Millisecond)
	p.m.log.Info(fmt.Sprintf("loaded function %s in %s", p.fn.Name, elapsed), "function", p.fn.Name, "duration", elapsed)
	return nil
}

// lastLines returns the last n lines of s, saying how many it left out.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) <= n {
		return strings.Join(lines, "\n")
	}
	left := "(1 earlier line left out)"
	if len(lines)-n > 1 {
		left = fmt.Sprintf("(%d earlier lines left out)", len(lines)-n)
	}
	return left + "\n" + strings.Join(lines[len(lines)-n:], "\n")
}

// bootstrap writes the node bootstrap into the cache folder, once, and
// returns its path. The name carries a hash of the content, so another
// version of inquir sharing the folder never runs this one's bootstrap.
func (m *Manager) bootstrap() (string, error) {
	m.bootstrapMu.Lock()
	defer m.bootstrapMu.Unlock()
	if m.bootstrapPath != "" {
		return m.bootstrapPath, nil
	}
	sum := sha256.Sum256(bootstrapJS)
	path := filepath.Join(m.cacheDir, "node", "bootstrap-"+hex.EncodeToString(sum[:4])+".mjs")
	if have, err := os.ReadFile(path); err != nil || !bytes.Equal(have, bootstrapJS) {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return "", fmt.Errorf("writing the node bootstrap: %w", err)
		}
		// A node started meanwhile by another inquir never reads half a file.
		if err := replaceFile(path, bytes.NewReader(bootstrapJS), 0o644); err != nil {
			return "", fmt.Errorf("writing the node bootstrap: %w", err)
		}
	}
	m.bootstrapPath = path
	return path, nil
}
