//go:build unix

package runtimes

import (
	"os"
	"syscall"
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
