package cli

import "golang.org/x/sys/unix"

// forbidInspection marks this process non-dumpable, so that another process
// of the same user, a function's worker among them, can no longer read its
// /proc/PID/environ (where every env: key secret is), its memory, or attach
// a debugger: the kernel then asks for CAP_SYS_PTRACE (proc(5), "PTRACE
// access mode checking" in ptrace(2)). Children are not affected: execve
// makes a process dumpable again, so workers run and can be debugged as
// before.
func forbidInspection() error {
	return unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)
}
