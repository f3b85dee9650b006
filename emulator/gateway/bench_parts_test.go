package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/inquir-dev/inquir/emulator/config"
)

// benchBody is the JSON a benchmarked request sends and its function echoes.
const benchBody = `{"id":"c-1001","name":"Ada Lovelace","tags":["a","b"],"n":42}`

// benchRequest is an allowed request with the headers a client sends.
func benchRequest() *http.Request {
	r := httptest.NewRequest("PUT", "/customers/c-1?view=full&x=1", strings.NewReader(benchBody))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("User-Agent", "bench/1.0")
	r.Header.Set("Accept", "*/*")
	r.Header.Set("x-api-key", partnerSecret)
	return r
}

// BenchmarkBuildEvent is the proxy event of one allowed request, alone.
//
//	go test -run '^$' -bench BuildEvent -benchmem ./emulator/gateway
func BenchmarkBuildEvent(b *testing.B) {
	f := newFixture(b, config.CompatInquir)
	p := f.gw.Policy()
	r := benchRequest()
	m := p.Match(r.Method, r.URL.EscapedPath())
	d := p.Authorize(m.Route, partnerSecret, testNow)
	body := []byte(benchBody)
	b.ReportAllocs()
	for b.Loop() {
		ev := newEvent(r, m, d, body, "c0ffee00-0000-4000-8000-000000000000", "x-api-key", "", testNow)
		_ = marshalEvent(&ev)
	}
}

// BenchmarkResponse maps a function's answer to the HTTP response: parse,
// then write, against writing the same body with no mapping.
//
//	go test -run '^$' -bench Response -benchmem ./emulator/gateway
func BenchmarkResponse(b *testing.B) {
	out := []byte(`{"statusCode":200,"headers":{"Content-Type":"application/json"},"body":` + quote(benchBody) + `}`)
	b.Run("baseline", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			w := httptest.NewRecorder()
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(benchBody))
		}
	})
	b.Run("parse+write", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			resp, err := parseResponse(out)
			if err != nil {
				b.Fatal(err)
			}
			writeResponse(httptest.NewRecorder(), resp)
		}
	})
	// A go-plugin handler's answer: encoded as aws-lambda-go encodes it
	// then parsed, as the gateway once took it, against mapped as a value.
	value := &events.APIGatewayProxyResponse{StatusCode: 200, Headers: map[string]string{"Content-Type": "application/json"}, Body: benchBody}
	b.Run("encode+parse+write", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(value); err != nil {
				b.Fatal(err)
			}
			resp, err := parseResponse(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
			if err != nil {
				b.Fatal(err)
			}
			writeResponse(httptest.NewRecorder(), resp)
		}
	})
	b.Run("value+write", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			resp, err := responseOf(value)
			if err != nil {
				b.Fatal(err)
			}
			writeResponse(httptest.NewRecorder(), resp)
		}
	})
}

func quote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"` }

// echoInvoker answers with the event's body, as the load script's functions
// do, without decoding the event (the constant answer is the function's
// cost, not the gateway's).
type echoInvoker struct{}

func (echoInvoker) Invoke(context.Context, string, []byte) ([]byte, error) {
	return []byte(`{"statusCode":200,"headers":{"Content-Type":"application/json"},"body":` + quote(benchBody) + `}`), nil
}

// echoValueInvoker answers with the event's body as a value, as the load
// script's go-plugin function does.
type echoValueInvoker struct{ echoInvoker }

var echoHeaders = map[string]string{"Content-Type": "application/json"}

func (echoValueInvoker) TakesEvent(string) bool { return true }

func (echoValueInvoker) InvokeEvent(_ context.Context, _ string, ev *events.APIGatewayProxyRequest) (Response, error) {
	return Response{Value: &events.APIGatewayProxyResponse{StatusCode: 200, Headers: echoHeaders, Body: ev.Body}}, nil
}

// BenchmarkOverHTTP sends requests over a real loopback connection, one
// keep-alive client, to a bare echo handler and to the gateway served as
// inquir dev serves it (header-case noting listener, a log line per
// request, formatted, queued and discarded), in the same benchmark: the ratios are
// the figures. BenchmarkServeHTTP measures the same without the network.
//
//	go test -run '^$' -bench OverHTTP -benchmem ./emulator/gateway
func BenchmarkOverHTTP(b *testing.B) {
	f := newFixture(b, config.CompatInquir)
	gw := New(Options{Invoker: echoInvoker{}, RequestLog: io.Discard, Now: func() time.Time { return testNow }})
	b.Cleanup(gw.Close)
	gw.SetPolicy(f.gw.Policy())
	bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})
	serve := func(h http.Handler, noteCase bool) string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
		if noteCase {
			srv.ConnContext = ConnContext
			ln = PreserveHeaderCase(ln)
		}
		go func() { _ = srv.Serve(ln) }()
		b.Cleanup(func() { _ = srv.Close() })
		return "http://" + ln.Addr().String()
	}
	plugin := New(Options{Invoker: echoValueInvoker{}, RequestLog: io.Discard, Now: func() time.Time { return testNow }})
	b.Cleanup(plugin.Close)
	plugin.SetPolicy(f.gw.Policy())
	bareURL, gwURL, pluginURL := serve(bare, false), serve(gw, true), serve(plugin, true)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}, Timeout: 10 * time.Second}
	b.Cleanup(client.CloseIdleConnections)
	for _, c := range []struct {
		name, url, key string
		want           int
	}{
		{"bare", bareURL, "", 200},
		{"missing-key", gwURL, "", 401},
		{"allowed", gwURL, partnerSecret, 200},
		{"allowed-value", pluginURL, partnerSecret, 200},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req, _ := http.NewRequest("PUT", c.url+"/customers/c-1", strings.NewReader(benchBody))
				req.Header.Set("Content-Type", "application/json")
				if c.key != "" {
					req.Header.Set("x-api-key", c.key)
				}
				resp, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != c.want {
					b.Fatalf("status %d, want %d", resp.StatusCode, c.want)
				}
			}
		})
	}
}
