package runtimes

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// groupAlive reports whether the process group pgid has a live member.
//
// kill(-pgid, 0) alone would count zombies: a handler's child killed with
// its group is reparented to init, and an init that does not reap (as in
// many containers) leaves it a zombie for good. So the leader is checked
// with kill(pid, 0), which is ESRCH once the Manager has reaped it, and the
// rest of the group by reading /proc, ignoring zombies.
func groupAlive(pgid int) bool {
	if err := syscall.Kill(pgid, 0); !errors.Is(err, syscall.ESRCH) && !zombie(pgid) {
		return true
	}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, path := range stats {
		state, group, ok := readStat(path)
		if ok && group == pgid && state != "Z" && state != "X" {
			return true
		}
	}
	return false
}

func zombie(pid int) bool {
	state, _, ok := readStat("/proc/" + strconv.Itoa(pid) + "/stat")
	return ok && (state == "Z" || state == "X")
}

// readStat returns a process's state and process group from /proc/PID/stat.
func readStat(path string) (state string, pgrp int, ok bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", 0, false
	}
	// The command name may hold spaces and parentheses; the fields after
	// the last ')' are "state ppid pgrp ...".
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return "", 0, false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 3 {
		return "", 0, false
	}
	pgrp, err = strconv.Atoi(f[2])
	return f[0], pgrp, err == nil
}
