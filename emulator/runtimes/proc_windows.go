package runtimes

import (
	"context"
	"os"
	"syscall"
)

// sysProcAttr starts a child in a new process group.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{CreationFlags: syscall.CREATE_NEW_PROCESS_GROUP}
}

// terminate kills the process: Windows has no SIGTERM to ask politely
// with, and no group signal, so a handler's own children may survive.
func terminate(p *os.Process, force bool) error {
	return p.Kill()
}

// lockFile does nothing on Windows, where plugins, the only builds that
// take it, do not exist.
func lockFile(context.Context, string, func()) (unlock func(), err error) { return func() {}, nil }
