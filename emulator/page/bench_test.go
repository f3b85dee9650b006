package page_test

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/inquir-dev/inquir/emulator/config"
	"github.com/inquir-dev/inquir/emulator/gateway"
	"github.com/inquir-dev/inquir/emulator/page"
	"github.com/inquir-dev/inquir/emulator/policy"
)

// BenchmarkRefusal measures a refused request (401: no key) through the
// gateway with no page, with the page and nobody watching, and with the
// page and a stream open that reads every record it is sent: the ratios to
// "no-page" in the same run are the figures (the load script's 401-page
// row is the same question over real HTTP).
//
//	go test -run '^$' -bench Refusal -benchmem ./emulator/page
func BenchmarkRefusal(b *testing.B) {
	dir := b.TempDir()
	for name, content := range map[string]string{"inquir.toml": testConfig(), "fn.mjs": "export async function handler() {}\n", "agent.key": agentSecret} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			b.Fatal(err)
		}
	}
	b.Setenv("PAGE_TEST_ACME_KEY", acmeSecret)
	cfg, err := config.Load(filepath.Join(dir, "inquir.toml"))
	if err != nil {
		b.Fatal(err)
	}
	p, err := policy.Compile(cfg)
	if err != nil {
		b.Fatal(err)
	}
	newGateway := func(pg gateway.Page) *gateway.Gateway {
		gw := gateway.New(gateway.Options{Invoker: &counter{calls: map[string]int{}}, RequestLog: io.Discard, Page: pg})
		gw.SetPolicy(p)
		b.Cleanup(gw.Close)
		return gw
	}
	source := func(gw *gateway.Gateway, url string) page.Source { return src{gw, url} }

	quiet := page.New(page.Options{})
	quietGW := newGateway(quiet)
	quiet.Attach(source(quietGW, ""))

	watched := page.New(page.Options{})
	watchedGW := newGateway(watched)
	srv := httptest.NewServer(watchedGW)
	b.Cleanup(srv.Close)
	watched.Attach(source(watchedGW, srv.URL))
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/_inquir/events", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	read := make(chan int, 1)
	go func() {
		n := 0
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "event: request") {
				n++
			}
		}
		read <- n
	}()

	for _, c := range []struct {
		name string
		gw   *gateway.Gateway
	}{
		{"no-page", newGateway(nil)},
		{"page-unwatched", quietGW},
		{"page-watched", watchedGW},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				r := httptest.NewRequest("GET", "/hello/ada", nil)
				for pb.Next() {
					w := httptest.NewRecorder()
					c.gw.ServeHTTP(w, r)
					if w.Code != http.StatusUnauthorized {
						b.Fatalf("status %d", w.Code)
					}
				}
			})
		})
	}
	cancel()
	select {
	case n := <-read:
		b.Logf("the stream read %d records; the page counts %d skipped", n, watched.Dropped())
	case <-time.After(30 * time.Second):
		b.Fatal("the stream did not end")
	}
}

type src struct {
	gw  *gateway.Gateway
	url string
}

func (s src) Policy() *policy.Policy    { return s.gw.Policy() }
func (s src) Gateway() *gateway.Gateway { return s.gw }
func (s src) URL() string               { return s.url }
