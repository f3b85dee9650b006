package gateway

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"strings"
	"sync"
)

// API Gateway REST hands a handler its request's header names as the client
// spelled them (`content-type` from fetch, `Content-Type` from curl), and
// handlers read them that way: event.headers['content-type']. Go's server
// canonicalises every name as it parses a request, so the spelling is gone
// by the time ServeHTTP runs. These pieces keep it: a listener whose
// connections note each request's header names as the bytes go by, on their
// way to Go's parser, and ServeHTTP takes the names of its request from its
// connection.
//
// The notes only ever change how a name is spelled in the event, never what
// is routed, authorised or passed: a name is used only where it
// canonicalises to a header Go parsed. A connection whose bytes the
// note-taker cannot follow stops taking notes, and its events fall back to
// the canonical names.

// maxNoteLine bounds one line the note-taker holds; Go's server refuses
// longer headers anyway (MaxHeaderBytes).
const maxNoteLine = 64 << 10

// PreserveHeaderCase wraps ln so that requests served from its connections
// show their header names to handlers as the client spelled them. The
// http.Server serving it must use ConnContext.
func PreserveHeaderCase(ln net.Listener) net.Listener { return caseListener{ln} }

// ConnContext is the http.Server.ConnContext that goes with
// PreserveHeaderCase: it makes a connection's notes reachable from its
// requests.
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	if nc, ok := c.(*notingConn); ok {
		return context.WithValue(ctx, notesKey{}, nc)
	}
	return ctx
}

type notesKey struct{}

type caseListener struct{ net.Listener }

func (l caseListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &notingConn{Conn: c}, nil
}

// notingConn follows the HTTP/1.1 requests read from it (request line,
// header lines, a body by Content-Length or chunks) and queues each
// request's header names. It works on the bytes as they are read, copying
// only the names (and a line split between two reads): a request costs one
// string, its names, whether or not a handler ever spells them.
type notingConn struct {
	net.Conn

	mu     sync.Mutex
	queue  []string // names of requests read and not yet served, in order; each ends every name with "\n"
	lost   bool     // the bytes could not be followed: no more notes
	state  noteState
	line   []byte // a line begun in an earlier read
	names  []byte // the names of the request being read, each ended by "\n"
	length int64  // Content-Length of the request being read
	chunk  bool   // its body is chunked
	http10 bool   // it is an HTTP/1.0 request: Transfer-Encoding means nothing
	skip   bool   // no handler serves it: queue no names
	left   int64  // body or chunk bytes still to skip
}

type noteState uint8

const (
	noteRequestLine noteState = iota
	noteHeader
	noteBody
	noteChunkSize
	noteChunkData
	noteChunkEnd // the CRLF after a chunk's data
	noteTrailer
)

func (c *notingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.mu.Lock()
		if !c.lost {
			c.note(p[:n])
		}
		c.mu.Unlock()
	}
	return n, err
}

// next returns the header names of the oldest request not yet served.
func (c *notingConn) next() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.queue) == 0 {
		return ""
	}
	names := c.queue[0]
	c.queue[0] = ""
	c.queue = c.queue[1:]
	return names
}

// note follows b through the request framing. c.mu is held. Nothing of b
// is kept but copies: it is the reader's buffer.
func (c *notingConn) note(b []byte) {
	for len(b) > 0 && !c.lost {
		switch c.state {
		case noteBody, noteChunkData:
			skip := min(int64(len(b)), c.left)
			b, c.left = b[skip:], c.left-skip
			if c.left == 0 {
				if c.state == noteBody {
					c.state = noteRequestLine
				} else {
					c.state = noteChunkEnd
				}
			}
			continue
		}
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			c.line = append(c.line, b...)
			if len(c.line) > maxNoteLine {
				c.lost = true
			}
			return
		}
		line := b[:i]
		if len(c.line) > 0 {
			c.line = append(c.line, line...)
			line = c.line
		}
		b = b[i+1:]
		c.endLine(bytes.TrimSuffix(line, []byte("\r")))
		c.line = c.line[:0]
	}
}

// endLine takes one whole line. c.mu is held.
func (c *notingConn) endLine(line []byte) {
	switch c.state {
	case noteRequestLine:
		// CR and LF before a request line are passed over, as Go's server
		// passes them over after a POST (any other time it answers 400 and
		// closes the connection, so no later request takes a note).
		line = bytes.TrimLeft(line, "\r\n")
		if len(line) == 0 {
			return
		}
		c.state, c.names, c.length, c.chunk = noteHeader, c.names[:0], 0, false
		// The request line split as Go's server splits it.
		method, rest, _ := bytes.Cut(line, []byte(" "))
		uri, proto, _ := bytes.Cut(rest, []byte(" "))
		// Go's server answers "OPTIONS *" itself, without a handler to
		// take the notes; none are queued for it.
		c.skip = string(method) == "OPTIONS" && string(uri) == "*"
		// Go ignores Transfer-Encoding on an HTTP/1.0 request and frames
		// its body by Content-Length (net/http, golang.org/issue/12785).
		c.http10 = string(proto) == "HTTP/1.0"
	case noteHeader:
		if len(line) > 0 {
			c.header(line)
			return
		}
		if !c.skip {
			c.queue = append(c.queue, string(c.names))
		}
		switch {
		case c.chunk:
			c.state = noteChunkSize
		case c.length > 0:
			c.state, c.left = noteBody, c.length
		default:
			c.state = noteRequestLine
		}
	case noteChunkSize:
		size, _, _ := bytes.Cut(line, []byte(";"))
		n, ok := parseUint(bytes.TrimSpace(size), 16)
		switch {
		case !ok:
			c.lost = true
		case n == 0:
			c.state = noteTrailer
		default:
			c.state, c.left = noteChunkData, n
		}
	case noteChunkEnd:
		c.state = noteChunkSize
	case noteTrailer:
		if len(line) == 0 {
			c.state = noteRequestLine
		}
	}
}

// header notes one header line's name and the framing it sets. c.mu is held.
func (c *notingConn) header(line []byte) {
	name, value, ok := bytes.Cut(line, []byte(":"))
	if !ok || len(name) == 0 || bytes.ContainsAny(name, " \t") {
		// Go's server refuses such a request and closes the connection.
		c.lost = true
		return
	}
	c.names = append(append(c.names, name...), '\n')
	value = bytes.TrimSpace(value)
	switch {
	case bytes.EqualFold(name, []byte("Content-Length")):
		n, ok := parseUint(value, 10)
		if !ok {
			c.lost = true
			return
		}
		c.length = n
	case bytes.EqualFold(name, []byte("Transfer-Encoding")) && !c.http10:
		if bytes.EqualFold(value, []byte("chunked")) {
			c.chunk = true
		} else if len(value) > 0 {
			c.lost = true // Go refuses any other transfer coding
		}
	}
}

// parseUint reads b, digits of base 10 or 16 and nothing else, as a
// non-negative int64: what strconv.ParseInt(string(b), base, 64) accepts
// of a Content-Length or a chunk size, without making the string.
func parseUint(b []byte, base int64) (int64, bool) {
	if len(b) == 0 || len(b) > 15 { // 16^15 and 10^15 both fit in an int64
		return 0, false
	}
	var n int64
	for _, ch := range b {
		var d int64
		switch {
		case '0' <= ch && ch <= '9':
			d = int64(ch - '0')
		case base == 16 && 'a' <= ch && ch <= 'f':
			d = int64(ch-'a') + 10
		case base == 16 && 'A' <= ch && ch <= 'F':
			d = int64(ch-'A') + 10
		default:
			return 0, false
		}
		n = n*base + d
	}
	return n, true
}

// headerNames takes the header names of r as the client spelled them from
// r's connection, each ended by "\n", or "" when r did not come through
// PreserveHeaderCase. ServeHTTP calls it once for every request, served or
// refused, so each request takes its own notes.
func headerNames(r *http.Request) string {
	nc, ok := r.Context().Value(notesKey{}).(*notingConn)
	if !ok {
		return ""
	}
	return nc.next()
}

// spelledAs is the client's spelling of the header whose canonical name is
// canonical, taken from names (headerNames: each name ended by "\n"; the
// first, if it sent one name in several spellings), or canonical itself
// when names has none. A name Go's server accepted is a token, which Go
// canonicalises by changing the case of ASCII letters only, so a name is a
// spelling of canonical exactly when the two are equal but for ASCII case.
func spelledAs(names, canonical string) string {
	for len(names) > 0 {
		i := strings.IndexByte(names, '\n')
		if i < 0 {
			break
		}
		if name := names[:i]; equalFoldASCII(name, canonical) {
			return name
		}
		names = names[i+1:]
	}
	return canonical
}

// equalFoldASCII reports whether a and b are equal but for the case of
// ASCII letters.
func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
