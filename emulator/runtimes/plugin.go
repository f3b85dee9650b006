package runtimes

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"debug/buildinfo"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	gobuild "go/build"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"plugin"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/inquir-dev/inquir/emulator/gateway"
	"github.com/inquir-dev/inquir/emulator/internal/uuid"
	"github.com/inquir-dev/inquir/emulator/runtimeapi"
)

// pluginHandler is the type a go-plugin function's Handler has for an API
// Gateway REST event (payload format 1.0), and pluginHandlerV2 the type it
// has for an HTTP API event (payload format 2.0). A Handler has one or the
// other.
type (
	pluginHandler   = func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error)
	pluginHandlerV2 = func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)
)

// pluginFunc is a loaded Handler: exactly one of v1 and v2 is set.
type pluginFunc struct {
	v1 pluginHandler
	v2 pluginHandlerV2
}

// handlerSignature spells the two types a Handler may have as a user
// writes them.
const handlerSignature = "func Handler(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error), " +
	"or for payload = \"2.0\" func Handler(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)"

// useGo is the way out of every constraint a plugin has.
const useGo = `or use runtime = "go", which runs the same handler as a child process without these constraints`

// hostBuild is how the running inquir binary was built: a plugin shares
// the runtime and every common package with it, so it must be built by the
// same toolchain with the flags that change compiled code.
type hostBuild struct {
	goVersion string
	flags     []string          // go build flags, e.g. -race=false
	env       map[string]string // variables to set for go build
	unset     []string          // variables to remove for go build
	tags      []string
	deps      map[string]*debug.Module // by module path
	settings  map[string]string
}

// readHostBuild reads the running binary's build information.
func readHostBuild() (*hostBuild, error) {
	if !slices.Contains([]string{"linux", "darwin", "freebsd"}, runtime.GOOS) {
		return nil, fmt.Errorf("plugins only load on Linux, macOS and FreeBSD, not %s; use runtime = \"go\"", runtime.GOOS)
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return nil, errors.New(`this inquir binary carries no build information, so the flags a plugin must match are unknown; use runtime = "go"`)
	}
	h := &hostBuild{
		goVersion: bi.GoVersion,
		env:       map[string]string{"GOOS": runtime.GOOS, "GOARCH": runtime.GOARCH, "CGO_ENABLED": "1"},
		deps:      map[string]*debug.Module{},
		settings:  map[string]string{},
	}
	for _, s := range bi.Settings {
		h.settings[s.Key] = s.Value
	}
	if h.settings["CGO_ENABLED"] != "1" {
		return nil, errors.New(`this inquir binary was built with CGO_ENABLED=0, and loading a plugin needs cgo: build inquir with CGO_ENABLED=1 (and a C compiler), or use runtime = "go"`)
	}
	// Flags that change the code of every package, the runtime's included,
	// are passed explicitly, so a GOFLAGS in the environment cannot make the
	// plugin differ from inquir.
	for _, f := range []string{"-race", "-msan", "-asan", "-trimpath"} {
		h.flags = append(h.flags, f+"="+cmp.Or(h.settings[f], "false"))
	}
	h.flags = append(h.flags,
		"-tags="+h.settings["-tags"],
		"-gcflags="+h.settings["-gcflags"],
		"-pgo="+cmp.Or(h.settings["-pgo"], "off"),
	)
	if tags := h.settings["-tags"]; tags != "" {
		h.tags = strings.Split(tags, ",")
	}
	if h.settings["-race"] == "true" {
		h.tags = append(h.tags, "race")
	}
	for _, k := range []string{"GOAMD64", "GOARM", "GOARM64", "GO386", "GOMIPS", "GOMIPS64", "GOPPC64", "GORISCV64", "GOEXPERIMENT"} {
		h.env[k] = h.settings[k] // empty means the toolchain's default
	}
	for _, k := range []string{"CGO_CFLAGS", "CGO_CPPFLAGS", "CGO_CXXFLAGS", "CGO_LDFLAGS"} {
		if v := h.settings[k]; v != "" {
			h.env[k] = v
		} else {
			h.unset = append(h.unset, k)
		}
	}
	for _, m := range bi.Deps {
		h.deps[m.Path] = m
	}
	return h, nil
}

// buildEnv is the environment go build runs with for a plugin.
func (h *hostBuild) buildEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if _, set := h.env[k]; set || slices.Contains(h.unset, k) {
			continue
		}
		// GOFLAGS stays: it may carry -mod or -modcacherw, which the build
		// needs. Flags in it that would make the plugin's code differ from
		// inquir's are overridden by ours, which come later.
		env = append(env, kv)
	}
	for k, v := range h.env {
		env = append(env, k+"="+v)
	}
	return env
}

// buildPlugin builds the function's package with -buildmode=plugin, loads
// it and returns its Handler.
//
// Go cannot unload a plugin, and refuses to load a second one with the
// same plugin path; so each build gets a path of its own (a nonce in an
// overlaid copy of one source file), and the old plugin stays in memory
// until inquir exits.
//
// If the plugin built but did not load, sources fingerprints what it was
// built from; see build.sources.
func (p *pool) buildPlugin() (h pluginFunc, sources string, err error) {
	name := p.fn.Name
	host, err := readHostBuild()
	if err != nil {
		return pluginFunc{}, "", fmt.Errorf("function %s: %w", name, err)
	}
	// Taken before the build: sources edited while it runs are new ones.
	before := p.fingerprint()
	h, err = p.buildAndOpenPlugin(host)
	if errors.Is(err, errLoad) {
		return pluginFunc{}, before, err
	}
	return h, "", err
}

// errLoad marks an error from loading a plugin that built.
var errLoad = errors.New("loading the plugin failed")

// loadError is a plugin load failure, with its own message.
type loadError struct{ err error }

func (e loadError) Error() string        { return e.err.Error() }
func (e loadError) Is(target error) bool { return target == errLoad }
func (e loadError) Unwrap() error        { return e.err }

// buildAndOpenPlugin builds the plugin and opens it.
func (p *pool) buildAndOpenPlugin(host *hostBuild) (pluginFunc, error) {
	name := p.fn.Name
	goCmd, err := exec.LookPath("go")
	if err != nil {
		return pluginFunc{}, fmt.Errorf("function %s: the go-plugin runtime needs the go command on PATH: install %s from https://go.dev/dl/ (%v)", name, host.goVersion, err)
	}
	env := host.buildEnv()
	goCache, err := p.checkToolchain(goCmd, env, host)
	if err != nil {
		return pluginFunc{}, err
	}
	files, err := pluginFiles(p.fn.Path, host.tags)
	if err != nil {
		return pluginFunc{}, fmt.Errorf("function %s: %w", name, err)
	}

	id := fmt.Sprintf("%s-%d-%s", name, p.m.pluginBuilds.Add(1), rand.Text()[:8])
	dir := filepath.Join(p.m.cacheDir, "plugin", id)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return pluginFunc{}, fmt.Errorf("function %s: creating the build folder: %w", name, err)
	}
	// Once loaded, the file is mapped and no longer needed.
	defer os.RemoveAll(dir)
	overlay, err := writeNonceOverlay(dir, p.fn.Path, files[0], id)
	if err != nil {
		return pluginFunc{}, fmt.Errorf("function %s: %w", name, err)
	}
	out := filepath.Join(dir, name+".so")

	// The first plugin build with a build cache compiles the standard
	// library again (-dynlink), a minute or more on a small machine. Plugin
	// builds that share the cache take turns, so that cost is paid once,
	// not once by each inquir (or test) building at the same time.
	if goCache != "" && goCache != "off" {
		unlock, err := p.waitTurn(filepath.Join(goCache, "inquir-plugin-build.lock"))
		if err != nil {
			return pluginFunc{}, err
		}
		defer unlock()
	}
	p.m.log.Info("building function "+name, "function", name, "dir", p.fn.Path, "mode", "plugin")
	start := time.Now()
	args := append([]string{"build", "-buildmode=plugin", "-overlay", overlay, "-o", out}, host.flags...)
	what := "go build -buildmode=plugin"
	vendor := vendorDir(p.fn.Path)
	if vendor != "" {
		// Go loads a plugin only if every package it shares with inquir
		// (aws-lambda-go's events, lambdacontext) was compiled from the
		// same files as inquir's: a vendored copy is compiled from another
		// folder, and plugin.Open refuses it ("plugin was built with a
		// different version of package"). -mod=readonly builds from the
		// module cache, where inquir's own copies came from.
		args = append(args, "-mod=readonly")
		what += " -mod=readonly"
		p.m.log.Info("function "+name+": its module vendors its dependencies ("+vendor+"), but a plugin must share inquir's compiled packages, so it is built from the module cache (-mod=readonly), not from vendor/; "+useGo,
			"function", name)
	}
	if output, err := p.goBuild(goCmd, env, append(args, files...)...); err != nil {
		// The compiler names the overlaid copy of the file; the user knows
		// it by its own name, as go build spells it.
		output = bytes.ReplaceAll(output, []byte(filepath.Join(dir, files[0])), []byte("./"+files[0]))
		if vendor != "" {
			output = append(output, fmt.Sprintf("\n(inquir: the module vendors its dependencies (%s); a go-plugin function is built from the module cache instead, since it must share inquir's compiled packages: run go mod download in %s so that the cache holds them, or use runtime = \"go\", which builds the module from vendor/ as it is)\n",
				vendor, filepath.Dir(vendor))...)
		}
		return pluginFunc{}, p.buildFailed(what, output, err)
	}
	// Best effort: without it, the next run only warns of a slow first build.
	_ = os.WriteFile(p.builtStamp(), nil, 0o644)

	h, err := p.openPlugin(out, host)
	if err != nil {
		p.m.log.Error("loading function "+name+" failed; the same sources will not be loaded again", "function", name, "err", err)
		return pluginFunc{}, loadError{err}
	}
	elapsed := time.Since(start).Round(100 * time.Millisecond)
	p.m.log.Info(fmt.Sprintf("built function %s in %s", name, elapsed), "function", name, "duration", elapsed, "mode", "plugin")
	return h, nil
}

// fingerprint hashes what a go-plugin function is built from, as far as
// it cheaply can: the files in its package folder and its module's go.mod
// and go.sum.
func (p *pool) fingerprint() string {
	h := sha256.New()
	files, _ := filepath.Glob(filepath.Join(p.fn.Path, "*"))
	if root := moduleRoot(p.fn.Path); root != "" && root != p.fn.Path {
		files = append(files, filepath.Join(root, "go.mod"), filepath.Join(root, "go.sum"))
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // a folder, or a go.sum that does not exist
		}
		fmt.Fprintf(h, "%s %d\n", f, len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// checkToolchain compares the go command's version, as it would run in
// the function's folder (where a go.mod toolchain line may switch it),
// with the toolchain that built inquir.
// It returns the build cache folder the go command uses there.
func (p *pool) checkToolchain(goCmd string, env []string, host *hostBuild) (goCache string, err error) {
	cmd := exec.CommandContext(p.m.ctx, goCmd, "env", "GOVERSION", "GOCACHE")
	cmd.Dir = p.fn.Path
	cmd.Env = env
	cmd.SysProcAttr = sysProcAttr()
	out, err := cmd.Output()
	if err != nil {
		if p.m.ctx.Err() != nil {
			return "", errClosed
		}
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			err = fmt.Errorf("%v: %s", err, bytes.TrimSpace(exit.Stderr))
		}
		return "", fmt.Errorf("function %s: asking the go command for its version in %s: %w", p.fn.Name, p.fn.Path, err)
	}
	v, goCache, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	if v != host.goVersion {
		return "", fmt.Errorf("function %s: the go command in %s is %s but inquir was built with %s, and a plugin only loads into a binary built by the very same toolchain: "+
			"rebuild inquir with %s (go install github.com/inquir-dev/inquir/cmd/inquir@latest), put %s first on PATH, %s",
			p.fn.Name, p.fn.Path, v, host.goVersion, v, host.goVersion, useGo)
	}
	return strings.TrimSpace(goCache), nil
}

// waitTurn takes the machine-wide lock at path for a plugin build, saying
// in the log when it has to wait for another process's build.
func (p *pool) waitTurn(path string) (unlock func(), err error) {
	unlock, err = lockFile(p.m.ctx, path, func() {
		p.m.log.Info("function "+p.fn.Name+" waits for another plugin build sharing the Go build cache to finish",
			"function", p.fn.Name, "lock", path)
	})
	if err != nil {
		if p.m.ctx.Err() != nil {
			return nil, errClosed
		}
		return nil, fmt.Errorf("function %s: taking the plugin build lock %s: %w", p.fn.Name, path, err)
	}
	return unlock, nil
}

// pluginFiles lists the Go files of the package in dir that a build for
// this platform compiles. They are named on the command line (rather than
// building ".") so the plugin path derives from their content: see
// writeNonceOverlay.
func pluginFiles(dir string, tags []string) ([]string, error) {
	ctxt := gobuild.Default
	ctxt.GOOS, ctxt.GOARCH = runtime.GOOS, runtime.GOARCH
	ctxt.CgoEnabled = true
	ctxt.BuildTags = tags
	pkg, err := ctxt.ImportDir(dir, 0)
	if err != nil {
		return nil, fmt.Errorf("reading the package in %s: %w", dir, err)
	}
	if pkg.Name != "main" {
		return nil, fmt.Errorf("%s holds package %s, but a plugin must be package main (with an exported %s)", dir, pkg.Name, handlerSignature)
	}
	if len(pkg.SFiles) > 0 {
		return nil, fmt.Errorf("%s has assembly files (%s), which a plugin built from a file list cannot hold; use runtime = \"go\"", dir, strings.Join(pkg.SFiles, ", "))
	}
	files := slices.Concat(pkg.GoFiles, pkg.CgoFiles)
	slices.Sort(files)
	return files, nil
}

// writeNonceOverlay writes a go build -overlay file that replaces file in
// pkgDir by a copy with a comment naming the build. Built from a file
// list, a plugin's path is a hash of its main package's build id, which
// the copy changes: so every build loads under a new plugin path, even one
// of sources loaded before (Go refuses a plugin path it has loaded).
func writeNonceOverlay(dir, pkgDir, file, id string) (string, error) {
	src, err := os.ReadFile(filepath.Join(pkgDir, file))
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", file, err)
	}
	copyPath := filepath.Join(dir, file)
	if err := os.WriteFile(copyPath, fmt.Appendf(src, "\n// inquir plugin build %s\n", id), 0o644); err != nil {
		return "", err
	}
	overlay, err := json.Marshal(map[string]map[string]string{"Replace": {filepath.Join(pkgDir, file): copyPath}})
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "overlay.json")
	return path, os.WriteFile(path, overlay, 0o644)
}

// openPlugin loads the plugin at path and looks up its Handler.
func (p *pool) openPlugin(path string, host *hostBuild) (h pluginFunc, err error) {
	name := p.fn.Name
	defer func() {
		// The plugin's package init functions run in plugin.Open.
		if v := recover(); v != nil {
			h, err = pluginFunc{}, fmt.Errorf("function %s: the plugin panicked while its packages initialised: %v", name, v)
		}
	}()
	pl, err := plugin.Open(path)
	if err != nil {
		return pluginFunc{}, p.explainOpen(err, path, host)
	}
	sym, err := pl.Lookup("Handler")
	if err != nil {
		return pluginFunc{}, fmt.Errorf("function %s: the plugin built from %s exports no Handler: declare %s in its package main", name, p.fn.Path, handlerSignature)
	}
	switch f := sym.(type) {
	case pluginHandler:
		h.v1 = f
	case *pluginHandler: // var Handler = ...
		h.v1 = *f
	case pluginHandlerV2:
		h.v2 = f
	case *pluginHandlerV2:
		h.v2 = *f
	default:
		return pluginFunc{}, fmt.Errorf("function %s: Handler in %s has type %T; want %s", name, p.fn.Path, sym, handlerSignature)
	}
	if h.v1 == nil && h.v2 == nil {
		return pluginFunc{}, fmt.Errorf("function %s: Handler in %s is a nil function variable", name, p.fn.Path)
	}
	return h, nil
}

// explainOpen turns plugin.Open's error into one that names the cause and
// the fix.
func (p *pool) explainOpen(err error, path string, host *hostBuild) error {
	name := p.fn.Name
	msg := err.Error()
	const differs = "plugin was built with a different version of package "
	i := strings.Index(msg, differs)
	if i < 0 {
		if strings.Contains(msg, "not implemented") {
			return fmt.Errorf("function %s: this inquir binary cannot load plugins (%v); %s", name, err, useGo)
		}
		return fmt.Errorf("function %s: loading the plugin built from %s: %v; %s", name, p.fn.Path, err, useGo)
	}
	pkg := strings.TrimSpace(msg[i+len(differs):])

	// The module the package belongs to, and its versions on both sides as
	// far as the binaries say (a test binary lists no dependencies).
	deps := map[string]*debug.Module{}
	if bi, err := buildinfo.ReadFile(path); err == nil {
		for _, m := range bi.Deps {
			deps[m.Path] = m
		}
	}
	mod := ""
	for _, known := range []map[string]*debug.Module{host.deps, deps} {
		for path := range known {
			if (pkg == path || strings.HasPrefix(pkg, path+"/")) && len(path) > len(mod) {
				mod = path
			}
		}
	}
	ours, theirs := host.deps[mod], deps[mod]
	if theirs != nil && (ours == nil || moduleVersion(ours) != moduleVersion(theirs)) {
		inquirs, want := "another version", "the version inquir was built with (go version -m shows it)"
		if ours != nil {
			inquirs = mod + " " + moduleVersion(ours)
			want = ours.Version
		}
		return fmt.Errorf("function %s: the plugin cannot load: it was built with %s %s, but inquir with %s (package %s differs). "+
			"A plugin shares packages with inquir, so it must use exactly inquir's versions: require %s %s in %s, %s",
			name, mod, moduleVersion(theirs), inquirs, pkg, mod, want, goModFor(p.fn.Path), useGo)
	}
	return fmt.Errorf("function %s: the plugin cannot load: package %s was compiled differently for the plugin and for inquir (%s, built with %s). "+
		"The plugin must be built by the same Go installation as inquir, with the same -race, -trimpath, -tags and -gcflags, from the same module versions: "+
		"rebuild inquir with the go command on PATH (go install github.com/inquir-dev/inquir/cmd/inquir@latest), %s",
		name, pkg, host.goVersion, strings.Join(host.flags, " "), useGo)
}

// moduleVersion is the version a module was built from, replacement
// included.
func moduleVersion(m *debug.Module) string {
	if r := m.Replace; r != nil {
		if r.Version == "" || r.Version == "(devel)" {
			return "=> " + r.Path
		}
		return "=> " + r.Path + " " + r.Version
	}
	return m.Version
}

// goModFor returns the go.mod of the module that holds dir, or dir/go.mod.
func goModFor(dir string) string {
	if root := moduleRoot(dir); root != "" {
		return filepath.Join(root, "go.mod")
	}
	return filepath.Join(dir, "go.mod")
}

// vendorDir returns the vendor folder go build would build dir's package
// from by default (a vendor/modules.txt beside the enclosing go.mod, as
// "go mod vendor" writes it), or "".
func vendorDir(dir string) string {
	root := moduleRoot(dir)
	if root == "" {
		return ""
	}
	vendor := filepath.Join(root, "vendor")
	if st, err := os.Stat(filepath.Join(vendor, "modules.txt")); err != nil || st.IsDir() {
		return ""
	}
	return vendor
}

// moduleRoot returns the folder of the go.mod enclosing dir, or "".
func moduleRoot(dir string) string {
	for d := dir; ; {
		if st, err := os.Stat(filepath.Join(d, "go.mod")); err == nil && !st.IsDir() {
			return d
		}
		parent := filepath.Dir(d)
		if parent == d {
			return ""
		}
		d = parent
	}
}

// pluginCall is one call of a plugin's Handler.
type pluginCall struct {
	id string
	// What runHandler calls the handler with. ctx ends at the call's
	// deadline, or once the handler's outcome is in resp and err.
	ctx     context.Context
	cancel  context.CancelFunc
	handler pluginFunc
	ev      *events.APIGatewayProxyRequest  // for handler.v1; it is given a copy
	evV2    *events.APIGatewayV2HTTPRequest // for handler.v2; it is given a copy
	lc      lambdacontext.LambdaContext
	// resp (handler.v1), respV2 (handler.v2) and err are the handler's
	// outcome, written before state leaves callRunning for callFinished,
	// and read only after.
	resp   events.APIGatewayProxyResponse
	respV2 events.APIGatewayV2HTTPResponse
	err    error
	// state is callRunning until the handler returns (callFinished) or the
	// caller gives up on it at its timeout (callAbandoned), whichever is
	// first.
	state atomic.Int32
}

const (
	callRunning int32 = iota
	callFinished
	callAbandoned
)

// pluginReady is what a go-plugin pool's calls need once its env is
// applied and its build loaded, neither of which changes for the pool's
// life: calls then take no lock to get it.
type pluginReady struct {
	handler pluginFunc
	arn     string
}

// invokePlugin calls the function's Handler in-process with event and
// returns the JSON of its response, encoded as aws-lambda-go encodes it for
// the go runtime, so the gateway sees the same bytes from either runtime.
// The event is decoded into the type the Handler takes, as lambda.Start
// decodes it: a payload 2.0 event handed to a Handler for 1.0 (or the
// other way round) fills what fields the two share, as on AWS.
func (p *pool) invokePlugin(ctx context.Context, event []byte) ([]byte, error) {
	ready, err := p.loadedPlugin(ctx)
	if err != nil {
		return nil, err
	}
	call := &pluginCall{}
	if ready.handler.v2 != nil {
		call.evV2 = new(events.APIGatewayV2HTTPRequest)
		err = json.NewDecoder(bytes.NewReader(event)).Decode(call.evV2)
	} else {
		call.ev = new(events.APIGatewayProxyRequest)
		err = json.NewDecoder(bytes.NewReader(event)).Decode(call.ev)
	}
	if err != nil {
		return nil, fmt.Errorf("function %s: decoding the event: %w", p.fn.Name, err)
	}
	if err := p.callPlugin(ctx, ready, call); err != nil {
		return nil, err
	}
	if call.evV2 != nil {
		return p.encodeResponse(&call.respV2)
	}
	return p.encodeResponse(&call.resp)
}

// encodeResponse is the JSON of resp as aws-lambda-go encodes a response:
// no HTML escaping, and without the encoder's trailing newline.
func (p *pool) encodeResponse(resp any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(resp); err != nil {
		return nil, fmt.Errorf("function %s: encoding the response: %w", p.fn.Name, err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// invokePluginEvent calls the function's Handler with ev, a payload 1.0
// event, and returns the response it returned, as a value; see
// invokePlugin. The handler gets a copy of ev, and the maps in it: they are
// the function's from now on. A Handler for payload 2.0 gets ev's JSON
// decoded into its type, and its answer comes back as JSON.
func (p *pool) invokePluginEvent(ctx context.Context, ev *events.APIGatewayProxyRequest) (Response, error) {
	ready, err := p.loadedPlugin(ctx)
	if err != nil {
		return Response{}, err
	}
	if ready.handler.v1 == nil {
		return p.invokePluginJSON(ctx, ev)
	}
	call := &pluginCall{ev: ev}
	if err := p.callPlugin(ctx, ready, call); err != nil {
		return Response{}, err
	}
	return Response{Value: &call.resp}, nil
}

// invokePluginEventV2 calls the function's Handler with ev, a payload 2.0
// event, and returns the JSON of its response, as invokePlugin does. A
// Handler for payload 2.0 gets a copy of ev without its JSON; a Handler for
// 1.0 gets ev's JSON decoded into its type.
func (p *pool) invokePluginEventV2(ctx context.Context, ev *events.APIGatewayV2HTTPRequest) ([]byte, error) {
	ready, err := p.loadedPlugin(ctx)
	if err != nil {
		return nil, err
	}
	if ready.handler.v2 == nil {
		out, err := p.invokePluginJSON(ctx, ev)
		return out.JSON, err
	}
	call := &pluginCall{evV2: ev}
	if err := p.callPlugin(ctx, ready, call); err != nil {
		return nil, err
	}
	return p.encodeResponse(&call.respV2)
}

// invokePluginJSON hands ev's JSON to invokePlugin, for a Handler that
// takes the other payload format version's type.
func (p *pool) invokePluginJSON(ctx context.Context, ev any) (Response, error) {
	event, err := json.Marshal(ev)
	if err != nil {
		return Response{}, fmt.Errorf("function %s: encoding the event: %w", p.fn.Name, err)
	}
	out, err := p.invokePlugin(ctx, event)
	return Response{JSON: out}, err
}

// loadedPlugin returns what the pool's calls need, waiting for the
// function's env and build the first time.
func (p *pool) loadedPlugin(ctx context.Context) (*pluginReady, error) {
	if ready := p.plugin.Load(); ready != nil {
		return ready, nil
	}
	return p.readyPlugin(ctx)
}

// callPlugin runs call, whose event is set, on one of the pool's slots
// and waits for its outcome until its deadline. When it returns nil,
// call's response is the handler's.
func (p *pool) callPlugin(ctx context.Context, ready *pluginReady, call *pluginCall) error {
	if err := p.acquireSlot(ctx); err != nil {
		return err
	}
	gateway.NoteWorker(ctx, "in-process")
	id := uuid.New()
	call.id, call.handler = id, ready.handler
	call.lc = lambdacontext.LambdaContext{AwsRequestID: id, InvokedFunctionArn: ready.arn}
	// Like a Lambda handler's, the context ends at the deadline, not when
	// the caller goes away. It is also the call's deadline: runHandler
	// cancels it only once the outcome is handed over.
	lctx := lambdacontext.NewContext(context.WithoutCancel(ctx), &call.lc)
	if root := gateway.TraceID(ctx); root != "" {
		// aws-lambda-go's lambda.Start hands a handler its trace header
		// under this key (lambda/invoke_loop.go); a plugin's handler reads
		// it the same way. _X_AMZN_TRACE_ID, one per process, cannot be
		// set per call.
		lctx = context.WithValue(lctx, "x-amzn-trace-id", runtimeapi.TraceHeader(root)) //nolint:staticcheck // aws-lambda-go's own key
	}
	call.ctx, call.cancel = context.WithTimeout(lctx, p.timeout)
	p.c.invocations.Add(1)
	p.dispatch(call)
	return p.awaitCall(ctx, call)
}

// dispatch hands call to an idle runner goroutine of the pool, or starts
// one. A runner runs calls one after another, so a call does not pay for
// a new goroutine and for growing its stack again. A goroutine cannot be
// killed: a runner that is stuck in an abandoned call is, like it, left
// to return.
func (p *pool) dispatch(call *pluginCall) {
	select {
	case p.runners <- call:
	default:
		p.runnerCount.Add(1)
		go p.runCalls(call)
	}
}

// runCalls runs call, then the calls dispatch hands it, until the pool is
// retired (as Close retires every pool), or more runners than Concurrency
// are left (a call that found none idle, as one was about to be, started
// another).
func (p *pool) runCalls(call *pluginCall) {
	defer p.runnerCount.Add(-1) // also if a handler calls runtime.Goexit
	for {
		p.runHandler(call)
		call = nil // not kept alive by an idle runner
		if p.runnerCount.Load() > int64(p.concurrency) {
			return
		}
		select {
		case call = <-p.runners:
		case <-p.gone: // Close retires every pool too
			return
		}
	}
}

// readyPlugin applies the function's env and waits for its build, then
// keeps both for the pool's next calls. Failures are not kept: the next
// call tries again (a failed build is run again, see built).
func (p *pool) readyPlugin(ctx context.Context) (*pluginReady, error) {
	// The environment first: the plugin's packages (lambdacontext among
	// them) read it when the plugin is loaded.
	if err := p.m.applyPluginEnv(p); err != nil {
		return nil, err
	}
	p.noteBuildWait()
	b, err := p.built(ctx)
	if err != nil {
		return nil, err
	}
	// A build that succeeded stays the pool's build, and an applied env
	// stays applied: whichever call stores first, the value is the same.
	ready := &pluginReady{handler: b.handler, arn: p.arn()}
	p.plugin.Store(ready)
	return ready, nil
}

// acquireSlot takes one of the pool's Concurrency slots, waiting at most
// the function's timeout for one to free up.
func (p *pool) acquireSlot(ctx context.Context) error {
	select {
	case p.slots <- struct{}{}:
		return nil
	default:
	}
	t := time.NewTimer(p.timeout)
	defer t.Stop()
	select {
	case p.slots <- struct{}{}:
		return nil
	case <-t.C:
		return fmt.Errorf("function %s: all %d handler calls stayed busy for %s (abandoned ones included): %w", p.fn.Name, p.concurrency, p.timeout, ErrBusy)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// runHandler calls h and hands its outcome to the caller, unless the caller
// abandoned the call at its timeout. The call's slot is held until h
// returns: a goroutine cannot be killed, and Concurrency bounds the calls
// that run, not those still awaited.
func (p *pool) runHandler(call *pluginCall) {
	start := time.Now()
	returned := false
	defer func() {
		if !returned {
			// The handler called runtime.Goexit: its goroutine ends, and
			// the call with it.
			call.err = fmt.Errorf("function %s: handler called runtime.Goexit", p.fn.Name)
			p.settle(call, start)
		}
		call.cancel() // after settle: the caller wakes to the outcome
		<-p.slots
	}()
	if call.evV2 != nil {
		call.respV2, call.err = callHandler(p, call.ctx, call.handler.v2, *call.evV2, call.id)
	} else {
		call.resp, call.err = callHandler(p, call.ctx, call.handler.v1, *call.ev, call.id)
	}
	returned = true
	p.settle(call, start)
}

// settle marks call finished, its outcome written; or, if the caller
// abandoned it at its timeout, says in the log that it returned.
func (p *pool) settle(call *pluginCall, start time.Time) {
	if !call.state.CompareAndSwap(callRunning, callFinished) {
		p.c.abandoned.Add(-1)
		p.m.log.Info("an abandoned handler call returned", "function", p.fn.Name, "request_id", call.id,
			"after", time.Since(start).Round(time.Millisecond))
	}
}

// callHandler calls h, turning a panic into an error: the handler runs in
// inquir's own process, and one bad event must not bring it down. (A panic
// in a goroutine the handler starts, or a call to os.Exit, still does.)
// It is a function of both payload format versions' Handler types.
func callHandler[Req, Resp any](p *pool, ctx context.Context, h func(context.Context, Req) (Resp, error), req Req, id string) (resp Resp, err error) {
	var zero Resp
	defer func() {
		if v := recover(); v != nil {
			p.m.log.Error("function panicked", "function", p.fn.Name, "request_id", id, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			resp, err = zero, fmt.Errorf("function %s: handler panicked: %v", p.fn.Name, v)
		}
	}()
	resp, err = h(ctx, req)
	if err != nil {
		p.m.log.Warn("function returned an error", "function", p.fn.Name, "request_id", id,
			"error_type", fmt.Sprintf("%T", err), "error_message", err.Error())
		return zero, fmt.Errorf("function %s: handler error %T: %v", p.fn.Name, err, err)
	}
	return resp, nil
}

// awaitCall waits for call's outcome until its deadline.
func (p *pool) awaitCall(ctx context.Context, call *pluginCall) error {
	select {
	case <-call.ctx.Done():
		// The handler returned (and runHandler cancelled the context), or
		// the deadline passed: whichever set the state first.
		if !call.state.CompareAndSwap(callRunning, callAbandoned) {
			return call.err
		}
		p.c.timeouts.Add(1)
		p.c.abandoned.Add(1)
		p.m.log.Warn("function timed out; its handler call is abandoned and keeps running, holding one of the function's slots until it returns",
			"function", p.fn.Name, "request_id", call.id, "timeout", p.timeout, "concurrency", p.concurrency)
		return fmt.Errorf("function %s: invocation %s ran past its %s timeout: %w", p.fn.Name, call.id, p.timeout, ErrTimeout)
	case <-ctx.Done():
		// The caller has gone but the handler still runs; settle the call
		// in the background, so a timeout is still counted as one.
		go func() { _ = p.awaitCall(context.WithoutCancel(ctx), call) }()
		return ctx.Err()
	}
}

// pluginEnvVar is one variable go-plugin functions put in inquir's
// environment.
type pluginEnvVar struct {
	value string
	orig  *string // the value inquir started with, if any
}

// perFunctionVars are the Lambda variables that name one function. One
// process has one value for each: they are set while a single go-plugin
// function is in use, and left out (as inquir started) while several are.
var perFunctionVars = []string{
	"AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME", "LAMBDA_TASK_ROOT",
}

// applyPluginEnv gives a go-plugin function, in inquir's own environment,
// what a worker of the function gets in its: its env table, resolved now,
// the variables Lambda defines, and INQUIR_GATEWAY_URL. It runs before the
// plugin is loaded: lambdacontext fills FunctionName and the like from the
// environment when the first plugin that uses it is loaded, and plugins
// loaded later share those values. A plugin runs in inquir's process,
// which has one environment: two go-plugin functions that need different
// values for one variable cannot both be served, except for the names of
// the function itself (perFunctionVars), which are left out while several
// go-plugin functions are in use. The working folder and TZ stay inquir's.
func (m *Manager) applyPluginEnv(p *pool) error {
	p.envMu.Lock()
	defer p.envMu.Unlock()
	if p.envApplied {
		return nil
	}
	vars, err := p.resolveEnv()
	if err != nil {
		return err
	}
	for k, v := range p.lambdaVars() {
		vars[k] = v
	}
	vars["AWS_LAMBDA_LOG_STREAM_NAME"] = newLogStreamName(time.Now())
	vars["AWS_LAMBDA_INITIALIZATION_TYPE"] = "on-demand"
	m.mu.Lock()
	defer m.mu.Unlock()
	for other, have := range m.pluginVars {
		if other == p || other.fn.Name == p.fn.Name {
			continue
		}
		for _, k := range slices.Sorted(maps.Keys(vars)) {
			if v, ok := have[k]; ok && v != vars[k] && !slices.Contains(perFunctionVars, k) {
				// The error names the variable, never a value.
				return fmt.Errorf("function %s: env %s differs from function %s's, and go-plugin functions share inquir's one environment: "+
					"give both the same value, or give one of them runtime = \"go\"", p.fn.Name, k, other.fn.Name)
			}
		}
	}
	m.pluginVars[p] = vars
	m.syncPluginEnv()
	p.envApplied = true
	return nil
}

// forgetPluginEnv drops what go-plugin functions no longer in force (after
// Close: all of them) asked for, and restores inquir's environment as far
// as nothing in force needs it. m.mu is held.
func (m *Manager) forgetPluginEnv() {
	for p := range m.pluginVars {
		if m.closed || m.pools[p.fn.Name] != p {
			delete(m.pluginVars, p)
		}
	}
	m.syncPluginEnv()
}

// syncPluginEnv makes inquir's environment what the go-plugin functions in m.pluginVars ask for, restoring what
// inquir started with where none does. m.mu is held.
func (m *Manager) syncPluginEnv() {
	want := map[string]string{}
	for _, vars := range m.pluginVars {
		for k, v := range vars {
			want[k] = v
		}
	}
	if len(m.pluginVars) > 1 {
		for _, k := range perFunctionVars {
			delete(want, k)
		}
	}
	for k, v := range want {
		e, ok := m.pluginEnv[k]
		if !ok {
			if orig, set := os.LookupEnv(k); set {
				e.orig = &orig
			}
		}
		e.value = v
		m.pluginEnv[k] = e
		os.Setenv(k, v)
	}
	for k, e := range m.pluginEnv {
		if _, ok := want[k]; ok {
			continue
		}
		if e.orig != nil {
			os.Setenv(k, *e.orig)
		} else {
			os.Unsetenv(k)
		}
		delete(m.pluginEnv, k)
	}
}

// baseEnviron is the part of inquir's environment a worker starts from
// (baseEnv), as inquir started with it: what go-plugin functions put
// there is theirs alone.
func (m *Manager) baseEnviron() map[string]string {
	m.mu.Lock()
	defer m.mu.Unlock()
	vars := map[string]string{}
	for _, k := range baseEnv {
		v, ok := os.LookupEnv(k)
		if e, set := m.pluginEnv[k]; set {
			ok = e.orig != nil
			if ok {
				v = *e.orig
			}
		}
		if ok {
			vars[k] = v
		}
	}
	return vars
}
