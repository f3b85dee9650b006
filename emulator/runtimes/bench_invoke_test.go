//go:build unix

package runtimes

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/inquir-dev/inquir/emulator/config"
)

// BenchmarkInvoke invokes a warm worker of each runtime through
// Manager.Invoke from parallel callers (4 per CPU, 4 workers), against a
// baseline in the same benchmark: the same event posted to a bare net/http
// echo over loopback keep-alive connections. The ratio of the two is the
// figure; both include the caller's own cost. go-plugin is invoked with the
// event's JSON (Invoke) and as a value (InvokeEvent, as the gateway does).
//
//	go test -run '^$' -bench Invoke -cpuprofile cpu.out ./emulator/runtimes
func BenchmarkInvoke(b *testing.B) {
	ev := event("/echo", nil)

	b.Run("bare-http", func(b *testing.B) {
		srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			rw.Header().Set("Content-Type", "application/json")
			_, _ = rw.Write(body)
		}))
		defer srv.Close()
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
		defer client.CloseIdleConnections()
		b.SetParallelism(4)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				res, err := client.Post(srv.URL, "application/json", bytes.NewReader(ev))
				if err != nil {
					b.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
			}
		})
	})

	for _, rt := range []struct {
		name string
		fn   func(testing.TB) config.Function
	}{
		{"go", func(t testing.TB) config.Function { return goFunction(t, "bench") }},
		{"node", func(t testing.TB) config.Function { return nodeFunction(t, "bench", "esm.mjs") }},
		{"process", func(t testing.TB) config.Function { return processFunction(t, "bench") }},
		{"go-plugin", func(t testing.TB) config.Function { return pluginFunction(t, "bench", testdata(t, "goplugin")) }},
	} {
		b.Run(rt.name, func(b *testing.B) {
			fn := rt.fn(b)
			fn.Concurrency = 4
			h := newManager(b, fn)
			// Start and warm every worker before timing; a cold plugin
			// build compiles the standard library.
			ctx, cancel := context.WithTimeout(b.Context(), DefaultMaxBuildWait)
			defer cancel()
			if err := h.Prepare(ctx, "bench"); err != nil {
				b.Fatal(err)
			}
			done := make(chan error, fn.Concurrency)
			for range fn.Concurrency {
				go func() {
					var err error
					for range 20 {
						if _, err = h.Invoke(b.Context(), "bench", ev); err != nil {
							break
						}
					}
					done <- err
				}()
			}
			for range fn.Concurrency {
				if err := <-done; err != nil {
					b.Fatal(err)
				}
			}
			b.SetParallelism(4)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := h.Invoke(b.Context(), "bench", ev); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}

	b.Run("go-plugin-event", func(b *testing.B) {
		h := newManager(b, pluginFunction(b, "bench", testdata(b, "goplugin")))
		ctx, cancel := context.WithTimeout(b.Context(), DefaultMaxBuildWait)
		defer cancel()
		if err := h.Prepare(ctx, "bench"); err != nil {
			b.Fatal(err)
		}
		var req events.APIGatewayProxyRequest
		if err := json.Unmarshal(ev, &req); err != nil {
			b.Fatal(err)
		}
		b.SetParallelism(4)
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if !h.TakesEvent("bench") {
					b.Error("TakesEvent is false for a go-plugin function")
					return
				}
				if _, err := h.InvokeEvent(b.Context(), "bench", &req); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}
