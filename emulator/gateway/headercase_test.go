package gateway

import (
	"bytes"
	"io"
	"math/rand/v2"
	"net"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// readerConn is a net.Conn whose reads come from r, in pieces of at most
// size bytes.
type readerConn struct {
	net.Conn
	r    io.Reader
	size int
}

func (c readerConn) Read(p []byte) (int, error) { return c.r.Read(p[:min(len(p), c.size)]) }

// TestNotesFollowEverySplit: the note-taker follows pipelined requests
// (a sized body, a chunked one with an extension and a trailer, OPTIONS *,
// empty lines before a request) however the bytes are cut into reads, and
// queues each served request's names as sent.
func TestNotesFollowEverySplit(t *testing.T) {
	raw := "POST /one HTTP/1.1\r\nHost: a\r\ngreeter: hello\r\ncontent-length: 13\r\n\r\nGET /\r\nx: y\r\n" +
		"\r\n\r\nOPTIONS * HTTP/1.1\r\nHost: a\r\nX-Odd: 1\r\n\r\n" +
		"POST /two HTTP/1.1\r\nhost: a\r\nX-API-Version: 2\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n1A\r\n" +
		"abcdefghijklmnopqrstuvwxyz\r\n0\r\nTrailer-Name: t\r\n\r\n" +
		"GET /three HTTP/1.1\nHOST: a\ncontent-TYPE: text/plain\n\n" +
		// HTTP/1.0: Go frames the body by Content-Length, Transfer-Encoding
		// or not; read as chunked, "0\r\n" would end it and /five's
		// header lines would pass for trailers.
		"POST /four HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\nX-Four: 4\r\n\r\n0\r\n" +
		"POST /five HTTP/1.1\r\nHost: a\r\nX-Five: 5\r\nContent-Length: 2\r\n\r\nhi" +
		// After a POST Go passes over CRs and LFs before the request line:
		// this is still "OPTIONS *", which Go answers itself.
		"\r\rOPTIONS * HTTP/1.1\r\nHost: a\r\nx-options-name: 1\r\n\r\n" +
		"GET /six HTTP/1.1\r\nHost: a\r\nX-Six: 6\r\n\r\n"
	want := []string{"Host\ngreeter\ncontent-length\n", "host\nX-API-Version\nTransfer-Encoding\n", "HOST\ncontent-TYPE\n",
		"Connection\nTransfer-Encoding\nContent-Length\nX-Four\n", "Host\nX-Five\nContent-Length\n", "Host\nX-Six\n"}
	for size := 1; size <= len(raw); size++ {
		c := &notingConn{Conn: readerConn{r: bytes.NewReader([]byte(raw)), size: size}}
		if _, err := io.ReadAll(c); err != nil {
			t.Fatal(err)
		}
		if c.lost {
			t.Fatalf("reads of %d bytes: the note-taker lost the framing", size)
		}
		var got []string
		for n := c.next(); n != ""; n = c.next() {
			got = append(got, n)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("reads of %d bytes: names (-want +got):\n%s", size, diff)
		}
	}
}

// TestNotesGiveUpOnWhatGoRefuses: framing Go's server refuses stops the
// notes (events fall back to canonical names) rather than guessing.
func TestNotesGiveUpOnWhatGoRefuses(t *testing.T) {
	for _, raw := range []string{
		"POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\n",
		"POST / HTTP/1.1\r\nContent-Length: 5x\r\n\r\n",
		"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
		"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n+3\r\nabc\r\n0\r\n\r\n",
		"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
		"GET / HTTP/1.1\r\nBad Name: 1\r\n\r\n",
		"GET / HTTP/1.1\r\n: empty\r\n\r\n",
	} {
		c := &notingConn{Conn: readerConn{r: bytes.NewReader([]byte(raw)), size: 4096}}
		_, _ = io.ReadAll(c)
		if !c.lost {
			t.Errorf("%q: the note-taker went on", raw)
		}
	}
}

// spellingReference is how the event found a header's spelling before
// spelledAs: a map from each name's canonical form to its first spelling.
func spellingReference(names []string, canonical string) string {
	seen := map[string]string{}
	for _, n := range names {
		if _, ok := seen[textproto.CanonicalMIMEHeaderKey(n)]; !ok {
			seen[textproto.CanonicalMIMEHeaderKey(n)] = n
		}
	}
	if s, ok := seen[canonical]; ok {
		return s
	}
	return canonical
}

// TestSpelledAsMatchesCanonicalKeys: for header names Go's server accepts
// (tokens), spelledAs finds the spelling the canonical-key map found.
func TestSpelledAsMatchesCanonicalKeys(t *testing.T) {
	const tokenBytes = "abcxyzABCXYZ019-_!#$%&'*+.^`|~"
	rng := rand.New(rand.NewPCG(1, 2))
	word := func() string {
		b := make([]byte, 1+rng.IntN(6))
		for i := range b {
			b[i] = tokenBytes[rng.IntN(len(tokenBytes))]
		}
		return string(b)
	}
	for range 20000 {
		names := make([]string, rng.IntN(6))
		for i := range names {
			if i > 0 && rng.IntN(3) == 0 { // the same name, another case
				names[i] = strings.ToUpper(names[rng.IntN(i)])
				continue
			}
			names[i] = word()
		}
		joined := ""
		for _, n := range names {
			joined += n + "\n"
		}
		probes := []string{textproto.CanonicalMIMEHeaderKey(word()), "Host"}
		for _, n := range names {
			probes = append(probes, textproto.CanonicalMIMEHeaderKey(n))
		}
		for _, key := range probes {
			if got, want := spelledAs(joined, key), spellingReference(names, key); got != want {
				t.Fatalf("names %q, header %q: spelledAs %q, the canonical-key map %q", names, key, got, want)
			}
		}
	}
}

// TestRequestTimeMatchesFormat: the hand-written requestTime is what
// time.Format writes, across years, months and the clock.
func TestRequestTimeMatchesFormat(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 20000 {
		tm := time.Unix(rng.Int64N(1<<37)-(1<<35), rng.Int64N(1e9)).In(time.FixedZone("x", (rng.IntN(48)-24)*1800))
		if got, want := string(appendRequestTime(nil, tm)), tm.UTC().Format(requestTimeLayout); got != want {
			t.Fatalf("%v: %q, want %q", tm, got, want)
		}
	}
}
