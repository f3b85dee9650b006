package emulator

import (
	"os"
	"path/filepath"
	"testing"
)

// TestRereadIsNoReload checks that reading files that hold what is already
// in force applies nothing: one save is one applied reload. The watcher
// sees a save through two inotify instances (fsnotify's, for changes, and
// its own, for closes), which the kernel does not order: on a busy machine
// a save's last write event can reach the watch loop after the reload that
// already read the whole file, and the loop reads it again. rotation.txtar
// failed that way ("applied":6 for five saves) under load. The same holds
// for a file: secret, and for SIGHUP with nothing changed.
func TestRereadIsNoReload(t *testing.T) {
	e, path := rotationProject(t, &okInvoker{})
	secretFile := filepath.Join(filepath.Dir(path), "agent.key")
	write := func(name, content string) {
		t.Helper()
		if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	reload := func(wantApplied, wantUnchanged int64) {
		t.Helper()
		if err := e.Reload(); err != nil {
			t.Fatal(err)
		}
		got := e.gateway.Stats().Reloads
		if got.Applied != wantApplied || got.Unchanged != wantUnchanged {
			t.Fatalf("reloads %+v, want %d applied and %d unchanged", got, wantApplied, wantUnchanged)
		}
	}
	write(secretFile, "agent-one-0123456789\n")
	write(path, rotationConfig(rotatingSecret(1))+"[keys.agent]\nsecret = \"file:agent.key\"\n")
	reload(1, 0)
	reload(1, 1) // the same files again
	write(secretFile, "agent-two-0123456789\n")
	reload(2, 1) // a secret file's content is part of what is in force
	reload(2, 2)
	if id := e.Policy().ID(); id == "" {
		t.Fatal("no config in force")
	}

	// A broken save is one refusal, however often it is read.
	write(path, brokenConfig)
	for i := range 3 {
		_ = e.Reload()
		got := e.gateway.Stats().Reloads
		if got.Refused != 1 || got.Applied != 2 || got.Unchanged != int64(2+i) {
			t.Fatalf("read %d of a broken save: reloads %+v, want 1 refused, 2 applied, %d unchanged", i+1, got, 2+i)
		}
	}
	// Fixed, then broken the same way again: a new refusal.
	write(path, rotationConfig(rotatingSecret(2)))
	reload(3, 4)
	write(path, brokenConfig)
	_ = e.Reload()
	if got := e.gateway.Stats().Reloads; got.Refused != 2 {
		t.Errorf("a second broken save after a good one: reloads %+v, want 2 refused", got)
	}
}
