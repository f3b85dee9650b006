//go:build unix

package runtimes

import (
	"bufio"
	"encoding/binary"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestNodeChannel checks that a node worker takes its invocations over the
// invocation channel, and that the channel holds the worker's poll as
// GET /next does: a second poller on its address, or a second channel, is
// refused and takes nothing; the worker serves on, in the same process,
// and ran only the invocations it was handed.
func TestNodeChannel(t *testing.T) {
	fn := nodeFunction(t, "fn", "esm.mjs")
	fn.Concurrency = 1
	h := newManager(t, fn)
	h.anyCaller = true // the second poller is this process
	pid := h.pid(t, "fn")
	w := liveWorker(t, h, "fn")
	w.mu.Lock()
	open := w.conn != nil
	w.mu.Unlock()
	if !open {
		t.Fatal("the node worker waits without an invocation channel open")
	}

	status, body := apiCall(t, w.addr, "GET", "/2018-06-01/runtime/invocation/next", "")
	if status != http.StatusForbidden || !strings.Contains(body, "InvalidStateTransition") {
		t.Errorf("a second poller got %d %s, want 403 InvalidStateTransition", status, body)
	}
	req, err := http.NewRequestWithContext(t.Context(), "GET", "http://"+w.addr+"/2018-06-01/runtime/invocation/next", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", channelProtocol)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("a second channel got %d, want 403", res.StatusCode)
	}

	if got, want := h.mustCall(t, "fn", "/hello", nil).Body, "hello from node esm /hello"; got != want {
		t.Errorf("body %q, want %q", got, want)
	}
	if again := h.pid(t, "fn"); again != pid {
		t.Errorf("the function now runs in pid %d, want the worker %d", again, pid)
	}
	if got := h.Stats()["fn"]; got.Invocations != 3 || got.WorkersStarted != 1 || got.Crashes != 0 {
		t.Errorf("Stats = %+v, want 3 invocations by 1 worker", got)
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
	m := &Manager{log: slog.New(slog.DiscardHandler)}
	// read reads the frame made for the invocation in progress.
	read := func(t *testing.T, frame func(id string) []byte) (*invocation, error) {
		t.Helper()
		w := &worker{name: "fn"}
		inv := newInvocation([]byte(`{}`), time.Minute)
		w.current = inv
		br := bufio.NewReader(strings.NewReader(string(frame(inv.id))))
		err := m.readOutcome(br, w)
		if err == nil && w.current != nil {
			t.Errorf("the invocation is still in progress after its outcome")
		}
		return inv, err
	}

	t.Run("response", func(t *testing.T) {
		inv, err := read(t, func(id string) []byte { return outcomeFrame('R', id, `{"statusCode":200}`) })
		if err != nil {
			t.Fatal(err)
		}
		if res := <-inv.result; res.err != nil || string(res.body) != `{"statusCode":200}` {
			t.Errorf("result %q, %v", res.body, res.err)
		}
	})
	t.Run("error", func(t *testing.T) {
		inv, err := read(t, func(id string) []byte {
			return outcomeFrame('E', id, `{"errorType":"TypeError","errorMessage":"boom"}`)
		})
		if err != nil {
			t.Fatal(err)
		}
		if res := <-inv.result; res.err == nil || !strings.Contains(res.err.Error(), "handler error TypeError: boom") {
			t.Errorf("result %q, %v; want the handler error", res.body, res.err)
		}
	})
	t.Run("foreign id", func(t *testing.T) {
		inv, err := read(t, func(string) []byte { return outcomeFrame('R', "some-id", `{"statusCode":200}`) })
		if err == nil {
			t.Error("an outcome for another id was accepted")
		}
		select {
		case res := <-inv.result:
			t.Errorf("the invocation got %q, %v from an outcome for another id", res.body, res.err)
		default:
		}
	})
	t.Run("too large", func(t *testing.T) {
		big := strings.Repeat("x", maxResponseBytes+300)
		inv, err := read(t, func(id string) []byte { return outcomeFrame('R', id, big) })
		if err != nil {
			t.Fatal(err)
		}
		if res := <-inv.result; res.err == nil || !strings.Contains(res.err.Error(), "exceeds Lambda's") {
			t.Errorf("result of %d bytes, %v; want the limit's error", len(res.body), res.err)
		}
	})
}
