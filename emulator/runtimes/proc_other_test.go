//go:build unix && !linux

package runtimes

import (
	"errors"
	"syscall"
)

// groupAlive reports whether the process group pgid has a member left.
func groupAlive(pgid int) bool {
	return !errors.Is(syscall.Kill(-pgid, 0), syscall.ESRCH)
}
