package runtimeapi

import (
	"bufio"
	"encoding/binary"
	"strings"
	"testing"
	"time"
)

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
