package runtimes

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/inquir-dev/inquir/emulator/config"
)

const (
	// settleSources is how long the watcher waits after the last change to
	// a function's sources before it rebuilds: an editor's save, a
	// formatter or a git checkout touching several files makes one build.
	settleSources = 75 * time.Millisecond
	// maxNodeDirs bounds how many folders of a node function are watched:
	// a module at the root of a big tree must not exhaust inotify watches.
	maxNodeDirs = 500
)

// nodeExts are the files whose change rebuilds a node function.
var nodeExts = []string{".js", ".mjs", ".cjs", ".json"}

// Watch rebuilds each function when its sources change (see Rebuild: the
// workers are swapped only once the new version is good) and restarts its
// workers when a file its env references (file:) changes, following the
// function set as SetFunctions changes it. Changes made after Watch
// returns are seen. The sources are:
//
//   - go, go-plugin: the package folder's .go files (tests aside), go.mod
//     and go.sum, and the go.mod and go.sum of the module that encloses it;
//   - node: the .js, .mjs, .cjs and .json files in the module's folder and
//     the folders below it (node_modules and hidden folders aside);
//   - process: the command's program and arguments that name files.
//
// Call stop to end the watching; it returns once the watcher is gone.
func (m *Manager) Watch() (stop func(), err error) {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watching function sources: %w", err)
	}
	kick := make(chan struct{}, 1)
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		w.Close()
		return nil, errClosed
	}
	m.watchers[kick] = true
	m.mu.Unlock()

	sw := &sourceWatcher{m: m, w: w, dirs: map[string]bool{}}
	sw.rewatch()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer w.Close()
		sw.loop(ctx, kick)
	}()
	return func() {
		cancel()
		<-done
		m.mu.Lock()
		delete(m.watchers, kick)
		m.mu.Unlock()
	}, nil
}

// notifyWatchers tells every Watch that the function set changed. m.mu is
// held.
func (m *Manager) notifyWatchers() {
	for kick := range m.watchers {
		select {
		case kick <- struct{}{}:
		default: // one is pending already
		}
	}
}

// sourceWatcher is the state of one Watch, owned by its goroutine.
type sourceWatcher struct {
	m       *Manager
	w       *fsnotify.Watcher
	targets []*watchTarget
	dirs    map[string]bool // folders watched
}

// watchTarget is what is watched for one function.
type watchTarget struct {
	function string
	// dirs are folders whose files with one of these names or extensions
	// are sources.
	dirs map[string][]string
	// files are single source files.
	files map[string]bool
	// envFiles are the files its env references.
	envFiles map[string]bool
	// tree is a folder whose new subfolders are watched too (node).
	tree string
}

// change is a change to a function waiting to be acted on.
type change struct {
	rebuild bool   // sources changed; otherwise only an env file did
	file    string // the first file changed, for the log
}

// loop acts on changes until ctx ends or the Manager closes.
func (sw *sourceWatcher) loop(ctx context.Context, kick <-chan struct{}) {
	pending := map[string]*change{}
	running := map[string]bool{}
	finished := make(chan string)
	var timer <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-sw.m.closing:
			return
		case <-kick:
			sw.rewatch()
		case ev, ok := <-sw.w.Events:
			if !ok {
				return
			}
			if ev.Op == fsnotify.Chmod {
				continue
			}
			path := filepath.Clean(ev.Name)
			if ev.Has(fsnotify.Create) && sw.inTree(path) {
				if st, err := os.Stat(path); err == nil && st.IsDir() {
					sw.rewatch()
				}
			}
			for _, t := range sw.targets {
				rebuild, restart := t.classify(path)
				if !rebuild && !restart {
					continue
				}
				c := pending[t.function]
				if c == nil {
					c = &change{file: path}
					pending[t.function] = c
				}
				c.rebuild = c.rebuild || rebuild
				timer = time.After(settleSources)
			}
		case err, ok := <-sw.w.Errors:
			if !ok {
				return
			}
			sw.m.log.Warn("watching function sources", "error", err)
		case <-timer:
			timer = nil
			for name, c := range pending {
				if running[name] {
					continue // acted on once the run under way ends
				}
				delete(pending, name)
				running[name] = true
				sw.act(ctx, name, c, finished)
			}
		case name := <-finished:
			delete(running, name)
			if pending[name] != nil && timer == nil {
				timer = time.After(settleSources)
			}
		}
	}
}

// act rebuilds or restarts the function in the background and reports on
// finished when done.
func (sw *sourceWatcher) act(ctx context.Context, name string, c *change, finished chan<- string) {
	m := sw.m
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return
	}
	m.bg.Add(1)
	m.mu.Unlock()
	if c.rebuild {
		m.log.Info(fmt.Sprintf("sources of function %s changed; rebuilding", name), "function", name, "file", c.file)
	} else {
		m.log.Info(fmt.Sprintf("env file of function %s changed; restarting its workers", name), "function", name, "file", c.file)
	}
	go func() {
		defer m.bg.Done()
		// Errors are logged and counted by replace; the previous version
		// keeps serving.
		if c.rebuild {
			_ = m.replace(m.ctx, name, "its sources changed", true)
		} else {
			_ = m.replace(m.ctx, name, "its env file "+c.file+" changed", false)
		}
		select {
		case finished <- name:
		case <-ctx.Done():
		case <-m.closing:
		}
	}()
}

// inTree reports whether path is inside a folder watched with its subfolders.
func (sw *sourceWatcher) inTree(path string) bool {
	for _, t := range sw.targets {
		if t.tree != "" && strings.HasPrefix(path, t.tree+string(filepath.Separator)) {
			return true
		}
	}
	return false
}

// rewatch computes what to watch for the functions in force and watches
// exactly their folders.
func (sw *sourceWatcher) rewatch() {
	m := sw.m
	m.mu.Lock()
	fns := make([]config.Function, 0, len(m.pools))
	for _, p := range m.pools {
		fns = append(fns, p.fn)
	}
	m.mu.Unlock()
	slices.SortFunc(fns, func(a, b config.Function) int { return strings.Compare(a.Name, b.Name) })

	sw.targets = sw.targets[:0]
	want := map[string]bool{}
	for _, fn := range fns {
		t := m.watchTarget(fn)
		sw.targets = append(sw.targets, t)
		for dir := range t.dirs {
			want[dir] = true
		}
		for f := range t.files {
			want[filepath.Dir(f)] = true
		}
		for f := range t.envFiles {
			want[filepath.Dir(f)] = true
		}
	}
	for dir := range sw.dirs {
		if !want[dir] {
			_ = sw.w.Remove(dir)
			delete(sw.dirs, dir)
		}
	}
	for dir := range want {
		if sw.dirs[dir] {
			continue
		}
		if err := sw.w.Add(dir); err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				m.log.Warn("cannot watch folder; changes in it will not rebuild", "dir", dir, "error", err)
			}
			continue
		}
		sw.dirs[dir] = true
	}
}

// watchTarget computes what is watched for fn.
func (m *Manager) watchTarget(fn config.Function) *watchTarget {
	t := &watchTarget{function: fn.Name, dirs: map[string][]string{}, files: map[string]bool{}, envFiles: map[string]bool{}}
	for _, v := range fn.Env {
		if ref, ok := strings.CutPrefix(v, "file:"); ok && ref != "" {
			if !filepath.IsAbs(ref) {
				ref = filepath.Join(fn.Dir, ref)
			}
			t.envFiles[filepath.Clean(ref)] = true
		}
	}
	switch fn.Runtime {
	case config.RuntimeGo, config.RuntimeGoPlugin:
		dir := filepath.Clean(fn.Path)
		t.dirs[dir] = []string{".go", "go.mod", "go.sum"}
		if root := moduleRoot(dir); root != "" && root != dir {
			t.files[filepath.Join(root, "go.mod")] = true
			t.files[filepath.Join(root, "go.sum")] = true
		}
	case config.RuntimeNode:
		t.tree = filepath.Dir(filepath.Clean(fn.Path))
		n := 0
		_ = filepath.WalkDir(t.tree, func(path string, d fs.DirEntry, err error) error {
			if err != nil || !d.IsDir() {
				return nil
			}
			if path != t.tree && (d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".") || path == m.cacheDir) {
				return filepath.SkipDir
			}
			if n++; n > maxNodeDirs {
				m.log.Warn(fmt.Sprintf("function %s: watching only the first %d folders under %s", fn.Name, maxNodeDirs, t.tree), "function", fn.Name)
				return filepath.SkipAll
			}
			t.dirs[path] = nodeExts
			return nil
		})
	case config.RuntimeProcess:
		for i, arg := range fn.Command {
			if i == 0 && !strings.ContainsRune(arg, '/') && !strings.ContainsRune(arg, filepath.Separator) {
				continue // a program on PATH, not one of the function's files
			}
			path := arg
			if !filepath.IsAbs(path) {
				path = filepath.Join(fn.Dir, path)
			}
			if st, err := os.Stat(path); err == nil && st.Mode().IsRegular() {
				t.files[filepath.Clean(path)] = true
			}
		}
	}
	return t
}

// classify says whether a change to path is one to the function's sources
// (rebuild) or to a file its env references (restart).
func (t *watchTarget) classify(path string) (rebuild, restart bool) {
	if t.files[path] {
		return true, false
	}
	if kinds, ok := t.dirs[filepath.Dir(path)]; ok {
		base := filepath.Base(path)
		for _, k := range kinds {
			if strings.HasPrefix(k, ".") {
				if strings.HasSuffix(base, k) && !strings.HasSuffix(base, "_test.go") && !strings.HasPrefix(base, ".") {
					return true, false
				}
			} else if base == k {
				return true, false
			}
		}
	}
	return false, t.envFiles[path]
}
