//go:build linux

package emulator

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// inotifyTracker follows, with its own inotify instance, which files of the
// watched folders a program has written to and not yet closed: IN_MODIFY
// (a write, or the truncation of an open with O_TRUNC) or IN_CREATE opens
// that window and IN_CLOSE_WRITE ends it. fsnotify does not expose
// IN_CLOSE_WRITE (fsnotify v1.10 keeps it unexported), and that event is
// the one sign that a file saved in place is whole.
type inotifyTracker struct {
	fd     int
	wake   [2]int // a pipe: a byte on it ends the reader
	done   chan struct{}
	closes chan struct{}

	mu      sync.Mutex
	buf     []byte
	dirs    map[int]string   // watch descriptor → folder
	writing map[string]bool  // files written to and not yet closed
	changes map[string]int64 // events seen per file, for stamp
	lost    int64            // queue overflows: every stamp changes
}

const trackedEvents = unix.IN_MODIFY | unix.IN_CLOSE_WRITE | unix.IN_CREATE | unix.IN_DELETE | unix.IN_MOVED_FROM | unix.IN_MOVED_TO

func newWriteTracker() (writeTracker, error) {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("starting inotify: %w", err)
	}
	t := &inotifyTracker{
		fd: fd, done: make(chan struct{}), closes: make(chan struct{}, 1),
		buf:  make([]byte, 64*(unix.SizeofInotifyEvent+unix.NAME_MAX+1)),
		dirs: map[int]string{}, writing: map[string]bool{}, changes: map[string]int64{},
	}
	if err := unix.Pipe2(t.wake[:], unix.O_CLOEXEC); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("starting inotify: %w", err)
	}
	go t.read()
	return t, nil
}

func (t *inotifyTracker) add(dir string) error {
	wd, err := unix.InotifyAddWatch(t.fd, dir, trackedEvents)
	if err != nil {
		return fmt.Errorf("watching %s for writes: %w", dir, err)
	}
	t.mu.Lock()
	t.dirs[wd] = dir
	t.mu.Unlock()
	return nil
}

// read waits for events and signals closes whenever a file that was being
// written is closed, until close.
func (t *inotifyTracker) read() {
	defer close(t.done)
	for {
		fds := []unix.PollFd{{Fd: int32(t.fd), Events: unix.POLLIN}, {Fd: int32(t.wake[0]), Events: unix.POLLIN}}
		if _, err := unix.Poll(fds, -1); err != nil && !errors.Is(err, unix.EINTR) {
			return
		}
		if fds[1].Revents != 0 {
			return
		}
		if t.drain() {
			select {
			case t.closes <- struct{}{}:
			default:
			}
		}
	}
}

// drain reads every event queued so far. It reports whether a file being
// written was closed.
func (t *inotifyTracker) drain() (closed bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for {
		n, err := unix.Read(t.fd, t.buf)
		if err != nil || n <= 0 {
			return closed // EAGAIN: the queue is empty
		}
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			ev := (*unix.InotifyEvent)(unsafe.Pointer(&t.buf[off]))
			name := t.buf[off+unix.SizeofInotifyEvent : off+unix.SizeofInotifyEvent+int(ev.Len)]
			off += unix.SizeofInotifyEvent + int(ev.Len)
			if ev.Mask&unix.IN_Q_OVERFLOW != 0 {
				// Events were lost: what is open is unknown. Forget it (the
				// settle window still applies) and make every stamp change.
				t.lost++
				clear(t.writing)
				closed = true
				continue
			}
			dir, ok := t.dirs[int(ev.Wd)]
			if !ok || ev.Len == 0 {
				continue
			}
			file := filepath.Join(dir, unix.ByteSliceToString(name))
			t.changes[file]++
			switch {
			case ev.Mask&unix.IN_CLOSE_WRITE != 0:
				closed = closed || t.writing[file]
				delete(t.writing, file)
			case ev.Mask&unix.IN_MODIFY != 0:
				t.writing[file] = true
			case ev.Mask&unix.IN_CREATE != 0:
				// open(O_CREAT) is followed by IN_CLOSE_WRITE; a symlink or
				// a folder is not.
				if fi, err := os.Lstat(file); err == nil && fi.Mode().IsRegular() {
					t.writing[file] = true
				}
			default:
				// Deleted or renamed: whatever writer had it open now
				// writes to a file of another name, or none.
				delete(t.writing, file)
			}
		}
	}
}

func (t *inotifyTracker) openAmong(files map[string]bool) (string, bool) {
	t.drain()
	t.mu.Lock()
	defer t.mu.Unlock()
	for f := range files {
		if t.writing[f] {
			return f, true
		}
	}
	return "", false
}

func (t *inotifyTracker) stamp(files map[string]bool) int64 {
	t.drain()
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.lost
	for f := range files {
		s += t.changes[f]
	}
	return s
}

func (t *inotifyTracker) closed() <-chan struct{} { return t.closes }

func (t *inotifyTracker) close() {
	unix.Write(t.wake[1], []byte{0})
	<-t.done
	unix.Close(t.wake[0])
	unix.Close(t.wake[1])
	unix.Close(t.fd)
}
