package runtimeapi

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// openChannel opens an invocation channel on addr, as inquir's node
// bootstrap does, and returns its connection once the server switched
// protocols.
func openChannel(t *testing.T, addr string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(waitTimeout))
	if _, err := io.WriteString(c, "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: "+addr+
		"\r\nConnection: Upgrade\r\nUpgrade: "+ChannelProtocol+"\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusSwitchingProtocols || res.Header.Get("Upgrade") != ChannelProtocol {
		t.Fatalf("opening a channel: %s, Upgrade %q; want 101 %s", res.Status, res.Header.Get("Upgrade"), ChannelProtocol)
	}
	return c, br
}

// readInvocationFrame reads one invocation frame: its headers and event.
func readInvocationFrame(t *testing.T, br *bufio.Reader) (map[string]string, []byte) {
	t.Helper()
	var head [8]byte
	if _, err := io.ReadFull(br, head[:]); err != nil {
		t.Fatal(err)
	}
	headers := make([]byte, binary.BigEndian.Uint32(head[:4]))
	event := make([]byte, binary.BigEndian.Uint32(head[4:]))
	if _, err := io.ReadFull(br, headers); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(br, event); err != nil {
		t.Fatal(err)
	}
	var h map[string]string
	if err := json.Unmarshal(headers, &h); err != nil {
		t.Fatalf("the frame's headers %q: %v", headers, err)
	}
	return h, event
}

// TestChannel runs a fake worker over the invocation channel: it is the
// worker's poll, so a second poller or a second channel is refused; an
// invocation goes out as one frame with GET /next's headers, and the
// outcome frame the worker sends back is the invocation's result. Close
// closes the channel's connection.
func TestChannel(t *testing.T) {
	s := newServer(Options{})
	addr := serve(t, s)
	w := fakeWorker{addr}
	c, br := openChannel(t, addr)
	waitUntil(t, "the channel to wait for an invocation", s.Waiting)
	if !s.Channel() {
		t.Error("Channel() is false with a channel open")
	}
	select {
	case <-s.Ready():
	default:
		t.Error("a worker whose channel is open is not ready")
	}

	if a := w.do("GET", "/2018-06-01/runtime/invocation/next", ""); a.status != http.StatusForbidden || !strings.Contains(a.body, "InvalidStateTransition") {
		t.Errorf("a second poller got %d %s (%v), want 403 InvalidStateTransition", a.status, a.body, a.err)
	}
	if a := w.do("GET", "/2018-06-01/runtime/invocation/next", "", "Connection", "Upgrade", "Upgrade", ChannelProtocol); a.status != http.StatusForbidden {
		t.Errorf("a second channel got %d (%v), want 403", a.status, a.err)
	}

	for i := range 2 {
		event := `{"n":` + strconv.Itoa(i) + `}`
		inv := NewInvocation([]byte(event), time.Minute)
		hand(t, s, inv)
		h, ev := readInvocationFrame(t, br)
		want := map[string]string{
			"lambda-runtime-aws-request-id":       inv.ID,
			"lambda-runtime-deadline-ms":          strconv.FormatInt(inv.Deadline.UnixMilli(), 10),
			"lambda-runtime-invoked-function-arn": arn,
			"lambda-runtime-trace-id":             inv.TraceID,
		}
		if len(h) != len(want) {
			t.Errorf("frame headers %v, want %v", h, want)
		}
		for k, v := range want {
			if h[k] != v {
				t.Errorf("frame header %s = %q, want %q", k, h[k], v)
			}
		}
		if string(ev) != event {
			t.Errorf("frame event %q, want %q", ev, event)
		}
		if _, err := c.Write(outcomeFrame('R', inv.ID, `{"statusCode":200}`)); err != nil {
			t.Fatal(err)
		}
		if res := outcome(t, inv); res.Err != nil || string(res.Body) != `{"statusCode":200}` {
			t.Errorf("result %q, %v; want the response sent", res.Body, res.Err)
		}
	}

	s.Close()
	if _, err := br.ReadByte(); err == nil {
		t.Error("the channel's connection is still open after Close")
	}
}

// outcomeFrame is a worker's frame: kind, id, body.
func outcomeFrame(kind byte, id, body string) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(2+len(id)+len(body)))
	b = append(b, kind, byte(len(id)))
	return append(append(b, id...), body...)
}

// TestChannelOutcomes checks what readOutcome makes of a worker's frames:
// a response and an error reach the invocation they name; an outcome for
// an id not in progress is refused and delivers nothing; an outcome past
// Lambda's limit fails the invocation and the channel reads on.
func TestChannelOutcomes(t *testing.T) {
	// read reads the frame made for the invocation in progress.
	read := func(t *testing.T, frame func(id string) []byte) (*Invocation, error) {
		t.Helper()
		s := newServer(Options{})
		inv := NewInvocation([]byte(`{}`), time.Minute)
		s.current = inv
		br := bufio.NewReader(strings.NewReader(string(frame(inv.ID))))
		err := s.readOutcome(br)
		if err == nil && s.current != nil {
			t.Errorf("the invocation is still in progress after its outcome")
		}
		return inv, err
	}

	t.Run("response", func(t *testing.T) {
		inv, err := read(t, func(id string) []byte { return outcomeFrame('R', id, `{"statusCode":200}`) })
		if err != nil {
			t.Fatal(err)
		}
		if res := <-inv.Result(); res.Err != nil || string(res.Body) != `{"statusCode":200}` {
			t.Errorf("result %q, %v", res.Body, res.Err)
		}
	})
	t.Run("error", func(t *testing.T) {
		inv, err := read(t, func(id string) []byte {
			return outcomeFrame('E', id, `{"errorType":"TypeError","errorMessage":"boom"}`)
		})
		if err != nil {
			t.Fatal(err)
		}
		if res := <-inv.Result(); res.Err == nil || !strings.Contains(res.Err.Error(), "handler error TypeError: boom") {
			t.Errorf("result %q, %v; want the handler error", res.Body, res.Err)
		}
	})
	t.Run("foreign id", func(t *testing.T) {
		inv, err := read(t, func(string) []byte { return outcomeFrame('R', "some-id", `{"statusCode":200}`) })
		if err == nil {
			t.Error("an outcome for another id was accepted")
		}
		select {
		case res := <-inv.Result():
			t.Errorf("the invocation got %q, %v from an outcome for another id", res.Body, res.Err)
		default:
		}
	})
	t.Run("too large", func(t *testing.T) {
		big := strings.Repeat("x", maxResponseBytes+300)
		inv, err := read(t, func(id string) []byte { return outcomeFrame('R', id, big) })
		if err != nil {
			t.Fatal(err)
		}
		if res := <-inv.Result(); res.Err == nil || !strings.Contains(res.Err.Error(), "exceeds Lambda's") {
			t.Errorf("result of %d bytes, %v; want the limit's error", len(res.Body), res.Err)
		}
	})
}
