//go:build linux

package config

import (
	"bytes"
	"os"
	"strconv"
	"strings"
)

// scrubInitialEnviron blanks the values of the named variables in the
// environment block the process was started with. os.Unsetenv changes the
// environment that getenv reads, not that block, which the kernel still
// shows as /proc/self/environ: a go-plugin function, running in this
// process, could read a hidden secret there. Best effort: where the block
// cannot be read or written (an unusual kernel), it is left as it is, and
// a non-dumpable process keeps other processes out of it all the same.
func scrubInitialEnviron(names []string) {
	if len(names) == 0 {
		return
	}
	stat, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return
	}
	// The fields after the command name, which may hold spaces and ")",
	// start at field 3; env_start and env_end are fields 50 and 51 (proc(5)).
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return
	}
	fields := strings.Fields(string(stat[i+1:]))
	if len(fields) < 49 {
		return
	}
	start, err1 := strconv.ParseInt(fields[47], 10, 64)
	end, err2 := strconv.ParseInt(fields[48], 10, 64)
	if err1 != nil || err2 != nil || end <= start || end-start > 64<<20 {
		return
	}
	mem, err := os.OpenFile("/proc/self/mem", os.O_RDWR, 0)
	if err != nil {
		return
	}
	defer mem.Close()
	block := make([]byte, end-start)
	if _, err := mem.ReadAt(block, start); err != nil {
		return
	}
	off := 0
	for _, kv := range bytes.Split(block, []byte{0}) {
		name, _, ok := bytes.Cut(kv, []byte{'='})
		if ok {
			for _, n := range names {
				if string(name) == n {
					value := len(name) + 1
					_, _ = mem.WriteAt(make([]byte, len(kv)-value), start+int64(off+value))
				}
			}
		}
		off += len(kv) + 1
	}
}
