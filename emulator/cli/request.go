package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"time"
)

// requestTimeout bounds `inquir request`, so a script never hangs on it.
const requestTimeout = 60 * time.Second

// runRequest is a small HTTP client for scripts: the status code on the
// first line, then the body. With -i the response headers come between,
// one "Name: value" a line, then an empty line. -d @FILE sends a file's
// content. Any status exits 0; only a request that could not be made exits 1.
func runRequest(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	const usage = "usage: inquir request METHOD URL [-i] [-H 'Name: value']... [-d BODY|@FILE]\n"
	var positional []string
	header := http.Header{}
	var body io.Reader
	includeHeaders := false
	for i := 0; i < len(args); i++ {
		switch a := args[i]; a {
		case "-i", "--include":
			includeHeaders = true
		case "-H", "--header", "-d", "--data":
			if i+1 == len(args) {
				fmt.Fprintf(stderr, "inquir request: %s needs a value\n%s", a, usage)
				return exitUsage
			}
			i++
			if a == "-d" || a == "--data" {
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
				continue
			}
			name, value, ok := strings.Cut(args[i], ":")
			if !ok || strings.TrimSpace(name) == "" {
				fmt.Fprintf(stderr, "inquir request: header %q is not 'Name: value'\n", args[i])
				return exitUsage
			}
			// As typed, as curl sends it: a gateway that keeps the client's
			// spelling (as API Gateway does) must be testable with it.
			name = strings.TrimSpace(name)
			header[name] = append(header[name], strings.TrimSpace(value))
		default:
			positional = append(positional, a)
		}
	}
	if len(positional) != 2 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, strings.ToUpper(positional[0]), positional[1], body)
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
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
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
	if _, err := io.Copy(stdout, resp.Body); err != nil {
		fmt.Fprintf(stderr, "inquir request: reading the body: %v\n", err)
		return exitFail
	}
	return exitOK
}
