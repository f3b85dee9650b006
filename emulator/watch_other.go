//go:build !linux

package emulator

// newWriteTracker has nothing to offer where inotify's IN_CLOSE_WRITE is
// missing: the watcher relies on its settle window alone.
func newWriteTracker() (writeTracker, error) { return nil, nil }
