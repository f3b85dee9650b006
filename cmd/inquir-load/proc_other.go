//go:build unix && !linux

package main

import (
	"syscall"
	"time"
)

// Outside Linux there is no /proc: memory and workers are not reported, and
// a child outlives this program if it is killed outright.
func childAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

func killGroup(pid int) {
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	_ = syscall.Kill(pid, syscall.SIGKILL)
}

func alive(pid int) bool { return syscall.Kill(pid, 0) == nil }

func rssKiB(int) int64 { return 0 }

func descendants(int) []int { return nil }

func cpuTime(int) time.Duration { return 0 }

const procSupported = false
