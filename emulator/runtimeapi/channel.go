package runtimeapi

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
)

// The invocation channel: how inquir's own node bootstrap takes
// invocations. HTTP long-polling costs each invocation two requests, each
// parsed on both sides, and on a loaded machine the wake-ups between them;
// the channel is one connection for the worker's life, one frame each way
// per invocation. The bootstrap opens it on its Runtime API address with
// GET /2018-06-01/runtime/invocation/next and the header
// "Upgrade: inquir-frames"; the answer is 101 and the connection then
// carries frames. A channel is the worker's poll for as long as it is open:
// a second one, or a GET /next beside it, is refused as a second poller is.
// go and process workers, and anything else, keep the Runtime API.
//
// inquir → worker, an invocation:
//
//	uint32 big-endian length of HEADERS, uint32 length of EVENT,
//	HEADERS: a JSON object of the Lambda-Runtime-* headers GET /next
//	carries, names in lower case; EVENT: the event, as GET /next's body
//
// worker → inquir, its outcome:
//
//	uint32 length of the rest, then one byte: 'R' a response, 'E' an
//	error; one byte: the length of the request id; the id; the body, as
//	POST /invocation/{id}/response or /error would send it
//
// An error the bootstrap reports outside an invocation's outcome (an
// uncaught exception, an init error) still goes over HTTP: it is posted on
// a connection of its own as the bootstrap exits.

// ChannelProtocol is the Upgrade a GET /next names to open an invocation
// channel.
const ChannelProtocol = "inquir-frames"

// maxFrameBytes bounds a frame from a worker: a response at Lambda's limit
// and its id. Larger frames are read and dropped, failing the invocation.
const maxFrameBytes = maxResponseBytes + 1 + 1 + 255

// wantsChannel says whether r asks to open an invocation channel.
func wantsChannel(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), ChannelProtocol)
}

// channel serves an invocation channel on r's connection, the worker's
// poll having been taken for it, until the connection or the server
// closes.
func (s *Server) channel(rw http.ResponseWriter) {
	conn, brw, err := http.NewResponseController(rw).Hijack()
	if err != nil {
		s.stopPolling()
		apiError(rw, http.StatusInternalServerError, "ServiceException", "cannot open an invocation channel on this connection")
		return
	}
	s.mu.Lock()
	s.conn = conn
	s.mu.Unlock()
	defer func() {
		conn.Close()
		s.mu.Lock()
		s.conn = nil
		s.polling = false
		s.mu.Unlock()
	}()
	// Ready before the worker can read that its channel is open: whoever
	// sees the worker waiting sees it ready.
	s.markReady()
	if _, err := io.WriteString(conn, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: "+ChannelProtocol+"\r\n\r\n"); err != nil {
		return
	}
	// The worker's closed end shows as an error on the next read; while it
	// waits for an invocation, its exit closes the Runtime API.
	br := brw.Reader
	arn := appendJSONString(nil, s.opts.FunctionARN)
	var out []byte
	for {
		var inv *Invocation
		select {
		case inv = <-s.next:
		case <-s.gone:
			return
		}
		s.mu.Lock()
		s.current = inv
		s.mu.Unlock()
		out = appendInvocationFrame(out[:0], inv, arn)
		if _, err := conn.Write(out); err != nil {
			// The worker is gone; its exit fails the invocation.
			return
		}
		if err := s.readOutcome(br); err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				s.log.Warn("closing a worker's invocation channel", s.workerAttrs("err", err)...)
			}
			return
		}
	}
}

// appendInvocationFrame appends inv's frame to b; arn is the function's
// ARN as a JSON string.
func appendInvocationFrame(b []byte, inv *Invocation, arn []byte) []byte {
	start := len(b)
	b = append(b, 0, 0, 0, 0, 0, 0, 0, 0)
	b = append(b, `{"lambda-runtime-aws-request-id":`...)
	b = strconv.AppendQuote(b, inv.ID)
	b = append(b, `,"lambda-runtime-deadline-ms":"`...)
	b = strconv.AppendInt(b, inv.Deadline.UnixMilli(), 10)
	b = append(b, `","lambda-runtime-invoked-function-arn":`...)
	b = append(b, arn...)
	b = append(b, `,"lambda-runtime-trace-id":`...)
	b = strconv.AppendQuote(b, inv.TraceID)
	b = append(b, '}')
	binary.BigEndian.PutUint32(b[start:], uint32(len(b)-start-8))
	binary.BigEndian.PutUint32(b[start+4:], uint32(len(inv.Event)))
	return append(b, inv.Event...)
}

// appendJSONString appends s as a JSON string: a function name may hold
// what strconv.Quote would escape in a way JSON does not read.
func appendJSONString(b []byte, s string) []byte {
	q, _ := json.Marshal(s)
	return append(b, q...)
}

// readOutcome reads one outcome frame from the worker and delivers it to
// the invocation it names, as POST /response or /error would. An error
// means the channel cannot go on.
func (s *Server) readOutcome(br *bufio.Reader) error {
	var head [4]byte
	if _, err := io.ReadFull(br, head[:]); err != nil {
		return err
	}
	n := binary.BigEndian.Uint32(head[:])
	if n > maxFrameBytes {
		inv := s.takeCurrent()
		if inv != nil {
			inv.result <- Result{Err: fmt.Errorf("function %s: response to %s exceeds Lambda's %d-byte limit", s.opts.Function, inv.ID, maxResponseBytes)}
		}
		_, err := br.Discard(int(n))
		return err
	}
	if n < 2 {
		return fmt.Errorf("a frame of %d bytes is too short for an outcome", n)
	}
	frame := make([]byte, n)
	if _, err := io.ReadFull(br, frame); err != nil {
		return err
	}
	kind, idLen := frame[0], int(frame[1])
	if 2+idLen > len(frame) {
		return fmt.Errorf("an outcome frame's id runs past its end")
	}
	id, body := string(frame[2:2+idLen]), frame[2+idLen:]
	inv := s.take(id)
	if inv == nil {
		return fmt.Errorf("an outcome for %q, which is not the invocation in progress on this worker", id)
	}
	switch kind {
	case 'R':
		inv.result <- Result{Body: body}
	case 'E':
		e := parseErrorReport(body, "")
		s.log.Warn("function returned an error", "function", s.opts.Function, "request_id", inv.ID,
			"error_type", e.Type, "error_message", e.Message, "stack", strings.Join(e.Stack, "\n"))
		inv.result <- Result{Err: &HandlerError{Function: s.opts.Function, Type: e.Type, Message: e.Message}}
	default:
		inv.result <- Result{Err: fmt.Errorf("function %s: the worker sent an outcome of unknown kind %q for %s", s.opts.Function, kind, inv.ID)}
		return fmt.Errorf("an outcome frame of unknown kind %q", kind)
	}
	return nil
}

// takeCurrent returns the worker's current invocation, whatever its id,
// and clears it.
func (s *Server) takeCurrent() *Invocation {
	s.mu.Lock()
	defer s.mu.Unlock()
	inv := s.current
	s.current = nil
	return inv
}
