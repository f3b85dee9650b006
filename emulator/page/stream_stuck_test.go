//go:build linux

package page_test

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/inquir-dev/inquir/emulator/page"
)

// stuckStream opens the stream on a connection that never reads, and
// sends requests with long paths (each row on the stream holds its path)
// until far more than a socket's buffers has been offered to it: the
// stream's write is then blocked, as a suspended or frozen browser tab
// leaves it.
func stuckStream(t *testing.T, f *fixture) net.Conn {
	t.Helper()
	// A small receive buffer, so the server's send buffer alone must fill.
	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		return c.Control(func(fd uintptr) { _ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
	}}
	conn, err := d.Dial("tcp", strings.TrimPrefix(f.e.URL(), "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if _, err := io.WriteString(conn, "GET /_inquir/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	// 60 KiB paths (the header limit is 64 KiB): at most 100 rows a
	// batch, 6 MB, and 20 rounds of 50 requests offer it 60 MB.
	long := "/hello/" + strings.Repeat("a", 60<<10)
	for range 20 {
		for range 50 {
			f.do("GET", long, nil, "")
		}
	}
	return conn
}

// TestStreamStuckEndsOnClose: a stream whose browser reads nothing, its
// write blocked, does not hold inquir dev's stop for its grace period.
func TestStreamStuckEndsOnClose(t *testing.T) {
	f := newFixture(t)
	stuckStream(t, f)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := f.e.Close(ctx); err != nil && ctx.Err() == nil {
		t.Errorf("Close: %v", err)
	}
	if ctx.Err() != nil {
		t.Fatal("Close waited for its deadline: a stream blocked in a write held the server")
	}
}

// TestStreamStuckEnds: a stream whose browser reads nothing ends once a
// write has waited StreamWriteTimeout, rather than hold its goroutine and
// one of the server's connections for as long as the tab lives.
func TestStreamStuckEnds(t *testing.T) {
	f := newFixture(t, func(o *page.Options) { o.StreamWriteTimeout = 200 * time.Millisecond })
	conn := stuckStream(t, f)
	// Read what the buffers hold: the stream must end (EOF or a reset),
	// not go on once it is read again.
	_ = conn.SetReadDeadline(time.Now().Add(time.Minute))
	_, err := io.Copy(io.Discard, conn)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("the stuck stream went on: its write never timed out")
	}
}
