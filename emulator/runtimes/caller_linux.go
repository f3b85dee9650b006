//go:build linux

package runtimes

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
)

// callerCheckSupported says whether connOwnedBy can tell who opened a
// connection on this system.
const callerCheckSupported = true

// maxTreeProcs bounds the processes walked below a worker: a function that
// forks without end must not make each of its API connections cost more.
const maxTreeProcs = 256

// connOwnedBy reports whether the client end of c, a TCP connection
// accepted on 127.0.0.1, is a socket that the process pid or one of its
// descendants holds open.
//
// TCP has no SO_PEERCRED, so the kernel's own tables answer it: the client
// socket is the /proc/net/tcp entry whose local address is c's remote one
// and whose remote address is c's local one; its inode is named by the
// fd link ("socket:[INODE]") of every process that holds it. A process
// that merely knows the port (a scan, another function's worker reading a
// worker's environ) holds no such fd.
func connOwnedBy(c net.Conn, pid int) (bool, error) {
	if pid <= 0 {
		return false, nil
	}
	local, ok1 := c.LocalAddr().(*net.TCPAddr)
	remote, ok2 := c.RemoteAddr().(*net.TCPAddr)
	if !ok1 || !ok2 {
		return false, fmt.Errorf("not a TCP connection: %s", c.RemoteAddr())
	}
	inode, err := socketInode(remote, local)
	if err != nil || inode == "" {
		return false, err
	}
	link := "socket:[" + inode + "]"
	seen := 0
	queue := []int{pid}
	for len(queue) > 0 && seen < maxTreeProcs {
		p := queue[0]
		queue = queue[1:]
		seen++
		if holdsFD(p, link) {
			return true, nil
		}
		queue = append(queue, children(p)...)
	}
	return false, nil
}

// socketInode finds the inode of the IPv4 TCP socket bound to local and
// connected to remote, or "" when there is none (the client already went).
func socketInode(local, remote *net.TCPAddr) (string, error) {
	want1, ok1 := procAddr(local)
	want2, ok2 := procAddr(remote)
	if !ok1 || !ok2 {
		return "", fmt.Errorf("not an IPv4 address: %s -> %s", local, remote)
	}
	f, err := os.Open("/proc/net/tcp")
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan() // the header
	for sc.Scan() {
		// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ...
		fields := bytes.Fields(sc.Bytes())
		if len(fields) < 10 {
			continue
		}
		if string(fields[1]) == want1 && string(fields[2]) == want2 {
			if inode := string(fields[9]); inode != "0" {
				return inode, nil
			}
		}
	}
	return "", sc.Err()
}

// procAddr spells a as /proc/net/tcp does: the address as the kernel's
// 32-bit word in this machine's byte order, then the port, both in hex.
func procAddr(a *net.TCPAddr) (string, bool) {
	ip := a.IP.To4()
	if ip == nil {
		return "", false
	}
	return fmt.Sprintf("%08X:%04X", binary.NativeEndian.Uint32(ip), a.Port), true
}

// holdsFD reports whether process pid has an fd whose link reads link.
func holdsFD(pid int, link string) bool {
	dir := "/proc/" + strconv.Itoa(pid) + "/fd/"
	f, err := os.Open(dir)
	if err != nil {
		return false
	}
	defer f.Close()
	for {
		names, err := f.Readdirnames(64)
		for _, name := range names {
			if target, err := os.Readlink(dir + name); err == nil && target == link {
				return true
			}
		}
		if err != nil {
			return false
		}
	}
}

// children lists the child processes of every thread of pid.
func children(pid int) []int {
	base := "/proc/" + strconv.Itoa(pid) + "/task/"
	tids, err := os.ReadDir(base)
	if err != nil {
		return nil
	}
	var out []int
	for _, tid := range tids {
		b, err := os.ReadFile(base + tid.Name() + "/children")
		if err != nil {
			continue // the thread ended
		}
		for _, s := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(s); err == nil {
				out = append(out, n)
			}
		}
	}
	return out
}
