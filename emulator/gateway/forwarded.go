package gateway

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The headers API Gateway REST APIs add to every request they hand a
// function, as every published capture shows them (aws-lambda-go's
// events/testdata/apigw-request.json, the developer guide's "Input format
// of a Lambda function for proxy integration"): the client's address
// appended to X-Forwarded-For, the port and scheme it called,
// X-Forwarded-Port and X-Forwarded-Proto, and X-Amzn-Trace-Id, whose Root
// is the trace id Lambda hands the function (Lambda-Runtime-Trace-Id).
const (
	headerForwardedFor   = "X-Forwarded-For"
	headerForwardedPort  = "X-Forwarded-Port"
	headerForwardedProto = "X-Forwarded-Proto"
	headerTraceID        = "X-Amzn-Trace-Id"
)

// addForwarded sets the headers API Gateway adds, in both header maps,
// spelled as AWS spells them. A client's X-Forwarded-For is kept and the
// client's address appended to it ("203.0.113.7, 127.0.0.1"), as a proxy
// appends; a client's X-Forwarded-Port and X-Forwarded-Proto are replaced,
// since API Gateway sets them from the connection; a client's
// X-Amzn-Trace-Id is kept when its Root is well formed (API Gateway
// continues a trace the client started) and replaced otherwise. root is
// the trace id (requestTraceRoot); names are the header names as the
// client spelled them (headerNames).
func (ev *proxyEvent) addForwarded(r *http.Request, names, root string) {
	sourceIP := ev.RequestContext.Identity.SourceIP
	set := func(canonical, value string, multi []string) {
		if n := spelledAs(names, canonical); n != canonical {
			delete(ev.Headers, n)
			delete(ev.MultiValueHeaders, n)
		}
		ev.Headers[canonical] = value
		ev.MultiValueHeaders[canonical] = multi
	}

	xff := sourceIP
	var multi []string
	// What the client sent, read from the event (not r.Header), which
	// leaves out the key header: key_header may name one of these.
	if sent := ev.MultiValueHeaders[spelledAs(names, headerForwardedFor)]; len(sent) > 0 {
		multi = append(multi, sent...)
		xff = sent[len(sent)-1] + ", " + sourceIP
		multi[len(multi)-1] = xff
	} else {
		multi = []string{xff}
	}
	set(headerForwardedFor, xff, multi)

	port, proto := forwardedPort(r), "http"
	if r.TLS != nil {
		proto = "https"
	}
	set(headerForwardedPort, port, []string{port})
	set(headerForwardedProto, proto, []string{proto})

	trace := "Root=" + root
	if sent := ev.Headers[spelledAs(names, headerTraceID)]; sent != "" {
		if got, ok := traceRootOf(sent); ok && got == root {
			trace = sent
		}
	}
	set(headerTraceID, trace, []string{trace})
}

// forwardedPort is the port the client connected to: the listener's.
func forwardedPort(r *http.Request) string {
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		if _, port, err := net.SplitHostPort(a.String()); err == nil {
			return port
		}
	}
	if _, port, err := net.SplitHostPort(r.Host); err == nil && port != "" {
		return port
	}
	if r.TLS != nil {
		return "443"
	}
	return "80"
}

// requestTraceRoot is the X-Ray trace id of r: the Root of the client's
// X-Amzn-Trace-Id when it sent a well-formed one, else a new one.
func requestTraceRoot(r *http.Request, now time.Time) string {
	if root, ok := traceRootOf(r.Header.Get(headerTraceID)); ok {
		return root
	}
	return newTraceRoot(now)
}

// newTraceRoot returns a new X-Ray trace id, as API Gateway makes one:
// "1-", the epoch second in 8 hex digits, "-", 96 random bits in 24 hex
// digits (the X-Ray developer guide, "Tracing header").
func newTraceRoot(now time.Time) string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	var out [35]byte
	buf := append(out[:0], "1-"...)
	sec := strconv.FormatInt(now.Unix()&0xffffffff, 16)
	for range 8 - len(sec) {
		buf = append(buf, '0')
	}
	buf = append(buf, sec...)
	buf = append(buf, '-')
	buf = hex.AppendEncode(buf, b[:])
	return string(buf)
}

// traceRootOf returns the Root of an X-Amzn-Trace-Id value
// ("Root=1-5f2330a4-6a0de1cd0e17c0508d386a64;Parent=...;Sampled=1"), if it
// has one of X-Ray's shape.
func traceRootOf(header string) (string, bool) {
	for field := range strings.SplitSeq(header, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(field), "=")
		if k != "Root" {
			continue
		}
		if len(v) != 35 || !strings.HasPrefix(v, "1-") || v[10] != '-' || !isHexString(v[2:10]) || !isHexString(v[11:]) {
			return "", false
		}
		return v, true
	}
	return "", false
}

func isHexString(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// traceKey is the context key under which the gateway hands an Invoker the
// request's trace id.
type traceKey struct{}

// WithTraceID returns ctx carrying root, the X-Ray trace id of the request
// whose function is invoked with ctx.
func WithTraceID(ctx context.Context, root string) context.Context {
	return context.WithValue(ctx, traceKey{}, root)
}

// TraceID is the X-Ray trace id ("1-5f2330a4-6a0de1cd0e17c0508d386a64")
// the gateway put in the event's X-Amzn-Trace-Id header, for an Invoker to
// hand the function as the Root of Lambda-Runtime-Trace-Id (and go-plugin's
// "x-amzn-trace-id" context value), as Lambda does; "" when ctx has none.
func TraceID(ctx context.Context) string {
	root, _ := ctx.Value(traceKey{}).(string)
	return root
}
