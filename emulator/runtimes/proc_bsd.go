//go:build unix && !linux

package runtimes

import "syscall"

// sysProcAttr puts a child in its own process group, so it can be stopped
// with everything it started. Only Linux has Pdeathsig.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
