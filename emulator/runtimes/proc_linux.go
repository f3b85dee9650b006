package runtimes

import "syscall"

// sysProcAttr puts a child in its own process group, so it can be stopped
// with everything it started, and has the kernel kill it if inquir dies
// without stopping it (Pdeathsig), so no worker outlives the emulator.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
