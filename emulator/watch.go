package emulator

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/inquir-dev/inquir/emulator/config"
)

// settle is how long the watcher waits after the last change to a watched
// file before reloading: long enough for an editor's save (write a temporary
// file, rename it over the old one) to finish, short enough that rotation
// still takes effect well within 100 ms.
const settle = 15 * time.Millisecond

// Watch starts reloading the config whenever inquir.toml or one of its
// file: secrets changes. It watches the files' folders, not the files, so
// every way of saving is seen: a write in place, a temporary file renamed
// over the old one (vim, sed -i, most editors), mv, or delete and recreate.
//
// It also starts watching the functions' sources (runtimes.Manager.Watch):
// a function whose sources change is rebuilt and its workers replaced once
// the build is good, and one whose env file: reference changes gets fresh
// workers. A config reload restarts no function whose settings are
// unchanged, so rotating a key restarts nothing.
//
// Changes made after Watch returns are seen. Call stop to end the watching;
// it returns once the watchers are gone.
func (e *Emulator) Watch() (stop func(), err error) {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watching the config: %w", err)
	}

	watched := map[string]bool{} // the files whose changes reload
	dirs := map[string]bool{}    // the folders watched for them
	rewatch := func() {
		files := e.watchedFiles()
		for f := range watched {
			delete(watched, f)
		}
		for _, f := range files {
			watched[f] = true
			dir := filepath.Dir(f)
			if dirs[dir] {
				continue
			}
			if err := w.Add(dir); err != nil {
				// A secret's folder may not exist yet; the reload that needs it
				// is refused and says so, and the next reload tries again.
				e.log.Warn("cannot watch folder", "dir", dir, "error", err)
				continue
			}
			dirs[dir] = true
		}
	}
	rewatch()

	stopSources := func() {}
	if e.runtimes != nil {
		if stopSources, err = e.runtimes.Watch(); err != nil {
			// Config reloads still matter more than rebuilds: carry on.
			e.log.Warn("function sources will not be watched; restart inquir dev after editing a function", "error", err)
			stopSources = func() {}
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer w.Close()
		e.watchLoop(ctx, w, watched, rewatch)
	}()
	return func() { cancel(); <-done; stopSources() }, nil
}

// watchLoop reloads a moment after the last change to a watched file.
func (e *Emulator) watchLoop(ctx context.Context, w *fsnotify.Watcher, watched map[string]bool, rewatch func()) {
	var timer <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-w.Events:
			if !ok {
				return
			}
			if watched[filepath.Clean(ev.Name)] && !ev.Has(fsnotify.Chmod) {
				timer = time.After(settle)
			}
		case err, ok := <-w.Errors:
			if !ok {
				return
			}
			e.log.Warn("watching the config", "error", err)
		case <-timer:
			timer = nil
			_ = e.Reload() // a refused reload is logged and counted; the last good config stays
			rewatch()
		}
	}
}

// watchedFiles are the config file and every file: secret of the config in
// force, sorted.
func (e *Emulator) watchedFiles() []string {
	cfg := e.Policy().Config
	files := []string{cfg.File}
	for _, k := range cfg.Keys {
		for _, s := range k.Secrets {
			if s.Kind == config.SecretFile {
				files = append(files, s.Value)
			}
		}
	}
	sort.Strings(files)
	return files
}
