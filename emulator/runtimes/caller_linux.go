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
	"syscall"

	"golang.org/x/sys/unix"
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
	inode, err := diagInode(remote, local)
	if err != nil {
		// No sock_diag (a kernel without inet_diag): the slower table.
		inode, err = socketInode(remote, local)
	}
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

// diagInode asks the kernel's sock_diag netlink interface for the inode of
// the IPv4 TCP socket bound to local and connected to remote: one exact
// lookup, where reading /proc/net/tcp walks every socket of the machine
// (tens of milliseconds once a busy machine holds thousands). It returns ""
// when there is no such socket, and an error when it cannot ask.
func diagInode(local, remote *net.TCPAddr) (string, error) {
	src, dst := local.IP.To4(), remote.IP.To4()
	if src == nil || dst == nil {
		return "", fmt.Errorf("not an IPv4 address: %s -> %s", local, remote)
	}
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
	if err != nil {
		return "", err
	}
	defer unix.Close(fd)
	// struct nlmsghdr, then struct inet_diag_req_v2 (linux/inet_diag.h):
	// family, protocol, ext, pad, states, then the socket id: ports and
	// addresses in network order, the interface, and no cookie.
	const reqLen = unix.SizeofNlMsghdr + 56
	req := make([]byte, reqLen)
	ne := binary.NativeEndian
	ne.PutUint32(req[0:], reqLen)
	ne.PutUint16(req[4:], unix.SOCK_DIAG_BY_FAMILY)
	ne.PutUint16(req[6:], unix.NLM_F_REQUEST)
	ne.PutUint32(req[8:], 1) // sequence
	b := req[unix.SizeofNlMsghdr:]
	b[0], b[1] = unix.AF_INET, unix.IPPROTO_TCP
	ne.PutUint32(b[4:], 0xffffffff) // every state
	binary.BigEndian.PutUint16(b[8:], uint16(local.Port))
	binary.BigEndian.PutUint16(b[10:], uint16(remote.Port))
	copy(b[12:], src)
	copy(b[28:], dst)
	ne.PutUint32(b[48:], 0xffffffff) // INET_DIAG_NOCOOKIE
	ne.PutUint32(b[52:], 0xffffffff)
	if err := unix.Sendto(fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return "", err
	}
	buf := make([]byte, 8192)
	n, _, err := unix.Recvfrom(fd, buf, 0)
	if err != nil {
		return "", err
	}
	msgs, err := syscall.ParseNetlinkMessage(buf[:n])
	if err != nil {
		return "", err
	}
	for _, m := range msgs {
		switch m.Header.Type {
		case unix.NLMSG_ERROR:
			if len(m.Data) >= 4 {
				if errno := -int32(ne.Uint32(m.Data)); errno == int32(unix.ENOENT) {
					return "", nil // the client is gone
				} else if errno != 0 {
					return "", unix.Errno(errno)
				}
			}
			return "", fmt.Errorf("sock_diag: a short error message")
		case unix.SOCK_DIAG_BY_FAMILY:
			// struct inet_diag_msg: family, state, timer, retrans, the
			// socket id (48 bytes), expires, rqueue, wqueue, uid, inode.
			if len(m.Data) < 72 {
				return "", fmt.Errorf("sock_diag: a short answer")
			}
			return strconv.FormatUint(uint64(ne.Uint32(m.Data[68:])), 10), nil
		}
	}
	return "", fmt.Errorf("sock_diag: no answer")
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
