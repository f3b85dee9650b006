//go:build unix

package runtimes

import (
	"context"
	"errors"
	"os"
	"syscall"
	"time"
)

// terminate signals the process group p leads: SIGTERM, or SIGKILL if
// force. The group, not the process, so a handler's own children go too.
func terminate(p *os.Process, force bool) error {
	sig := syscall.SIGTERM
	if force {
		sig = syscall.SIGKILL
	}
	return syscall.Kill(-p.Pid, sig)
}

// lockFile takes an exclusive lock on the file at path (created if need
// be), shared by every process on the machine, and returns its release.
// While another process holds it, it calls waiting once and polls until ctx
// ends.
func lockFile(ctx context.Context, path string, waiting func()) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil // closing the file releases the lock
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, err
		}
		if waiting != nil {
			waiting()
			waiting = nil
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
