package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/inquir-dev/inquir/emulator/config"
)

// defaultRequestTimeout bounds `inquir request` unless --timeout says
// otherwise, so a script never hangs on it.
const defaultRequestTimeout = 60 * time.Second

// expectContinueOver is the body size past which a request asks with
// "Expect: 100-continue" before sending the body, as curl does.
const expectContinueOver = 1 << 20

// runRequest is a small HTTP client for scripts: the status code on the
// first line, then the body, ending in a newline. With -i the response
// headers come between, one "Name: value" a line, then an empty line.
// -d @FILE sends a file's content. Any status exits 0; only a request that
// could not be made exits 1.
//
// It sends METHOD as written, as curl does (a gateway must be tested with
// "get" too), and never follows a redirect: the key header must not travel
// to another origin, so a 3xx is printed as it came.
func runRequest(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	usage := synopsis("request")
	var positional []string
	header := http.Header{}
	var body io.Reader
	includeHeaders := false
	timeout := defaultRequestTimeout
	for i := 0; i < len(args); i++ {
		switch a := args[i]; a {
		case "-h", "-help", "--help":
			fmt.Fprint(stdout, commandUsage("request"))
			fmt.Fprint(stdout, requestFlags)
			return exitOK
		case "-i", "--include":
			includeHeaders = true
		case "-H", "--header", "-d", "--data", "--timeout", "-timeout":
			if i+1 == len(args) {
				fmt.Fprintf(stderr, "inquir request: %s needs a value\n%s", a, usage)
				return exitUsage
			}
			i++
			switch a {
			case "--timeout", "-timeout":
				d, err := time.ParseDuration(args[i])
				if err != nil || d <= 0 {
					fmt.Fprintf(stderr, "inquir request: --timeout %q is not a positive duration, as in 60s or 2m\n%s", args[i], usage)
					return exitUsage
				}
				timeout = d
			case "-d", "--data":
				if file, ok := strings.CutPrefix(args[i], "@"); ok {
					b, err := os.ReadFile(file)
					if err != nil {
						fmt.Fprintf(stderr, "inquir request: %v\n", err)
						return exitUsage
					}
					body = bytes.NewReader(b)
					continue
				}
				body = strings.NewReader(args[i])
			default:
				name, value, ok := strings.Cut(args[i], ":")
				if !ok || strings.TrimSpace(name) == "" {
					fmt.Fprintf(stderr, "inquir request: header %q is not 'Name: value'\n", args[i])
					return exitUsage
				}
				// As typed, as curl sends it: a gateway that keeps the
				// client's spelling (as API Gateway does) must be testable.
				name = strings.TrimSpace(name)
				header[name] = append(header[name], strings.TrimSpace(value))
			}
		default:
			positional = append(positional, a)
		}
	}
	if msg := checkRequestArgs(positional); msg != "" {
		fmt.Fprintf(stderr, "inquir request: %s\n%s", msg, usage)
		return exitUsage
	}
	if msg := checkRequestURL(positional[1]); msg != "" {
		fmt.Fprintf(stderr, "inquir request: %s\n", msg)
		return exitUsage
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, positional[0], positional[1], body)
	if err != nil {
		fmt.Fprintf(stderr, "inquir request: %v\n", err)
		return exitUsage
	}
	for name, values := range header {
		if strings.EqualFold(name, "Host") {
			req.Host = values[0] // Go writes Host from here, whatever the spelling
			continue
		}
		req.Header[name] = values
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	if req.ContentLength > expectContinueOver {
		// As curl does for a large body: ask first, so a server that
		// refuses the request (401, 413) says so before the body is sent,
		// rather than closing the connection under a client still writing
		// it, which loses the answer.
		req.Header.Set("Expect", "100-continue")
		transport.ExpectContinueTimeout = time.Second
	}
	client := &http.Client{
		Transport:     transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			fmt.Fprintf(stderr, "inquir request: no complete answer within %s (--timeout raises it): %v\n", timeout, err)
			return exitFail
		}
		if errors.Is(err, syscall.ECONNREFUSED) {
			fmt.Fprintf(stderr, "inquir request: %s\n", refused(req.URL))
			return exitFail
		}
		fmt.Fprintf(stderr, "inquir request: %v\n", err)
		return exitFail
	}
	defer resp.Body.Close()
	fmt.Fprintln(stdout, resp.StatusCode)
	if includeHeaders {
		names := make([]string, 0, len(resp.Header))
		for name := range resp.Header {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			for _, v := range resp.Header[name] {
				fmt.Fprintf(stdout, "%s: %s\n", name, v)
			}
		}
		fmt.Fprintln(stdout)
	}
	last := &lastByte{w: stdout}
	if _, err := io.Copy(last, resp.Body); err != nil {
		fmt.Fprintf(stderr, "inquir request: reading the body: %v\n", err)
		return exitFail
	}
	if last.n > 0 && last.b != '\n' {
		fmt.Fprintln(stdout)
	}
	return exitOK
}

// exampleBase is where the messages' examples send a request: inquir
// dev's default address.
const exampleBase = "http://" + config.DefaultListen

// checkRequestArgs says what is missing from METHOD URL, or "" if nothing is.
func checkRequestArgs(positional []string) string {
	switch len(positional) {
	case 0:
		return "missing METHOD and URL"
	case 1:
		// A URL has a slash, a colon or a dot; a method has none.
		if arg := positional[0]; strings.ContainsAny(arg, "/:.") {
			return "missing METHOD before the URL, as in: inquir request GET " + arg
		}
		return "missing URL after " + positional[0] + ", as in: inquir request " + positional[0] + " " + exampleBase + "/PATH"
	case 2:
		return ""
	}
	return fmt.Sprintf("unexpected argument %q", positional[2])
}

// checkRequestURL says what keeps raw from being a URL inquir request can
// send to, with the URL it likely meant, or "" if nothing does.
func checkRequestURL(raw string) string {
	scheme, rest, hasScheme := strings.Cut(raw, "://")
	hasScheme = hasScheme && isScheme(scheme) // not the "://" of a query
	switch {
	case !hasScheme && strings.HasPrefix(raw, "/"):
		return "URL needs a scheme and a host: " + exampleBase + raw
	case !hasScheme:
		// 127.0.0.1:8787/x, localhost:8787/x: a host without http://
		// (url.Parse reads "localhost" as a scheme).
		return "URL needs a scheme: http://" + raw
	case !strings.EqualFold(scheme, "http") && !strings.EqualFold(scheme, "https"):
		return fmt.Sprintf("URL %q must start with http:// or https://", raw)
	case rest == "" || strings.HasPrefix(rest, "/") || strings.HasPrefix(rest, "?"):
		return fmt.Sprintf("URL %q has no host, as in %s%s", raw, exampleBase, "/"+strings.TrimLeft(rest, "/"))
	}
	return ""
}

// isScheme reports whether s is a URL scheme (RFC 3986, section 3.1).
func isScheme(s string) bool {
	for i, c := range s {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return s != ""
}

// refused says that nothing listens where u points; on loopback, the
// likely cause is that inquir dev is not running, or runs on another port:
//
//	cannot connect to 127.0.0.1:8787: connection refused; is inquir dev running on 127.0.0.1:8787?
func refused(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	addr := net.JoinHostPort(u.Hostname(), port)
	msg := "cannot connect to " + addr + ": connection refused"
	if isLoopback(u.Hostname()) {
		msg += "; is inquir dev running on " + addr + "?"
	}
	return msg
}

// requestFlags is the flags part of inquir request's help; its arguments
// are read by hand, as curl's are, so flag.FlagSet does not print them.
const requestFlags = `
Flags:
  -i, --include            print the response headers between the status and the body
  -H, --header 'Name: v'   send a request header (repeatable)
  -d, --data BODY|@FILE    send BODY, or FILE's content, as the request body
  --timeout DURATION       give up on the whole request after DURATION (default 60s)

METHOD is sent as written. Redirects are never followed: a 3xx answer is
printed as it came, so a key never travels to another origin.
`

// lastByte passes writes through and remembers the last byte written.
type lastByte struct {
	w io.Writer
	n int64
	b byte
}

func (l *lastByte) Write(p []byte) (int, error) {
	n, err := l.w.Write(p)
	if n > 0 {
		l.n += int64(n)
		l.b = p[n-1]
	}
	return n, err
}
