package emulator

import (
	"context"
	"errors"
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
// A file saved in place is read only once it is whole. On Linux the watcher
// waits until the program writing it closes it (inotify's IN_CLOSE_WRITE),
// however long it pauses between writes, and drops a read during which the
// file changed: a half-written inquir.toml that happens to parse, or a
// secret file caught empty mid-write, is never put in force. Elsewhere it
// relies on the settle window alone. SIGHUP (Reload) reads the files as
// they are.
//
// Changes made after Watch returns are seen. Call stop to end the watching;
// it returns once the watchers are gone.
func (e *Emulator) Watch() (stop func(), err error) {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watching the config: %w", err)
	}

	tracker, err := newWriteTracker()
	if err != nil {
		// Reloads still happen, after the settle window alone.
		e.log.Warn("files saved in place may be read before they are whole", "error", err)
		tracker = nil
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
			if tracker != nil {
				if err := tracker.add(dir); err != nil {
					e.log.Warn("files saved in place may be read before they are whole", "dir", dir, "error", err)
				}
			}
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
		if tracker != nil {
			defer tracker.close()
		}
		e.watchLoop(ctx, w, tracker, watched, rewatch)
	}()
	return func() { cancel(); <-done; stopSources() }, nil
}

// writeTracker knows which files a program is still writing: opened for
// writing, written to, and not yet closed. Its methods first take in every
// event the kernel has queued, so a write that happened before the call is
// seen by it.
type writeTracker interface {
	// add tracks the files of dir.
	add(dir string) error
	// openAmong returns one of files that is being written, if any.
	openAmong(files map[string]bool) (string, bool)
	// stamp changes whenever one of files does.
	stamp(files map[string]bool) int64
	// closed receives when a file that was being written is closed.
	closed() <-chan struct{}
	close()
}

// Outcomes of a watched reload, for watchHook.
const (
	reloadApplied    = "applied"
	reloadRefused    = "refused"
	reloadDeferred   = "deferred"   // a watched file is still being written
	reloadSuperseded = "superseded" // a watched file changed while it was read
	reloadUnchanged  = "unchanged"  // the files hold what is in force
)

// watchLoop reloads a moment after the last change to a watched file, once
// no watched file is being written.
func (e *Emulator) watchLoop(ctx context.Context, w *fsnotify.Watcher, tracker writeTracker, watched map[string]bool, rewatch func()) {
	var timer <-chan time.Time
	var closed <-chan struct{}
	if tracker != nil {
		closed = tracker.closed()
	}
	waiting := false // a reload waits for a file to be closed
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
		case <-closed:
			if waiting {
				timer = time.After(settle)
			}
		case <-timer:
			timer = nil
			var unchanged func() bool
			if tracker != nil {
				if f, open := tracker.openAmong(watched); open {
					if !waiting {
						e.log.Info("waiting for a file to be closed by the program writing it before reloading; SIGHUP reloads it as it is", "file", f)
					}
					waiting = true
					e.observe(reloadDeferred, "")
					continue
				}
				before := tracker.stamp(watched)
				unchanged = func() bool {
					_, open := tracker.openAmong(watched)
					return !open && tracker.stamp(watched) == before
				}
			}
			waiting = false
			id, err := e.reload(unchanged)
			switch {
			case errors.Is(err, errUnchanged):
				e.observe(reloadUnchanged, id)
			case errors.Is(err, errSuperseded):
				// The change that superseded it is read after the settle
				// window, like any other.
				timer = time.After(settle)
				e.observe(reloadSuperseded, id)
			case err != nil:
				e.observe(reloadRefused, id) // logged and counted; the last good config stays
			default:
				e.observe(reloadApplied, id)
			}
			rewatch()
		}
	}
}

// observe tells a test's watchHook what a watched reload did.
func (e *Emulator) observe(outcome, config string) {
	if e.watchHook != nil {
		e.watchHook(outcome, config)
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
