package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// pageReader is the live page open during a target's load (401-page): a
// Server-Sent Events client of /_inquir/events, as a browser's EventSource
// is, that reads every record the stream sends and the count of those it
// skipped. It runs in this process, so what it costs to read shows in the
// client column, and what the stream costs inquir in the server column.
type pageReader struct {
	cancel  context.CancelFunc
	done    chan struct{}
	records atomic.Int64 // "event: request" read
	dropped atomic.Int64 // the last "event: dropped" count
	err     error
}

// openPage connects to url's stream and returns once inquir has answered
// it (the subscriber is in place), or an error within timeout.
func openPage(ctx context.Context, url string, timeout time.Duration) (*pageReader, error) {
	ctx, cancel := context.WithCancel(ctx)
	req, err := http.NewRequestWithContext(ctx, "GET", url+"/_inquir/events", nil)
	if err != nil {
		cancel()
		return nil, err
	}
	type answer struct {
		resp *http.Response
		err  error
	}
	got := make(chan answer, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		got <- answer{resp, err}
	}()
	var resp *http.Response
	select {
	case a := <-got:
		if a.err != nil {
			cancel()
			return nil, fmt.Errorf("opening the live page's stream: %w", a.err)
		}
		resp = a.resp
	case <-time.After(timeout):
		cancel()
		return nil, fmt.Errorf("the live page's stream did not answer within %s", timeout)
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		resp.Body.Close()
		cancel()
		return nil, fmt.Errorf("the live page's stream answered %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	p := &pageReader{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		event := ""
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				event = line[len("event: "):]
				if event == "request" {
					p.records.Add(1)
				}
			case strings.HasPrefix(line, "data: ") && event == "dropped":
				if n, err := strconv.ParseInt(line[len("data: "):], 10, 64); err == nil {
					p.dropped.Store(n)
				}
			}
		}
		if err := sc.Err(); err != nil && ctx.Err() == nil {
			p.err = err
		}
	}()
	return p, nil
}

// close ends the stream and waits for the reader.
func (p *pageReader) close() {
	p.cancel()
	<-p.done
}

// pagePair measures 401 and 401-page in rounds, one after the other: each
// is loaded for -warmup, then measured -page-rounds times for a share of
// -duration, alternately, with the page opened for each 401-page round. On
// a machine others share, its load drifts over seconds; alternating gives
// both rows the same drift, so their ratio is the stream's cost and not
// the neighbours'. It returns both rows, and the ratio of each round.
func (r *runner) pagePair(ctx context.Context, url string, pid int) (plain, paged loadResult, ratios []float64, err error) {
	spec := loadSpec{url: url + "/guarded", want: http.StatusUnauthorized, connections: r.connections, maxRequests: r.maxRequests}
	slice := r.duration / time.Duration(r.pageRounds)
	for round := range r.pageRounds {
		var pair [2]loadResult
		for i, open := range []bool{false, true} {
			s := spec
			s.duration = slice
			if round == 0 {
				s.warmup = r.warmup
			}
			var pg *pageReader
			if open {
				if pg, err = openPage(ctx, url, r.listenTimeout); err != nil {
					return plain, paged, nil, err
				}
			}
			smp := newSampler(pid)
			res := drive(ctx, s, smp)
			for p := range smp.seen {
				r.seen[p] = true
			}
			if pg != nil {
				pg.close()
				if pg.err != nil {
					return plain, paged, nil, fmt.Errorf("reading the live page's stream: %w", pg.err)
				}
				res.pageRecords, res.pageDropped = pg.records.Load(), pg.dropped.Load()
			}
			if err := ctx.Err(); err != nil {
				return plain, paged, nil, fmt.Errorf("interrupted while measuring the live page's cost")
			}
			pair[i] = res
		}
		if pair[0].rate() > 0 {
			ratios = append(ratios, pair[1].rate()/pair[0].rate())
		}
		plain, paged = merge(plain, pair[0]), merge(paged, pair[1])
	}
	slices.Sort(plain.lat)
	slices.Sort(paged.lat)
	return plain, paged, ratios, nil
}

// merge adds b's measured phase to a's.
func merge(a, b loadResult) loadResult {
	a.requests += b.requests
	a.errors += b.errors
	a.elapsed += b.elapsed
	a.lat = append(a.lat, b.lat...)
	a.rssKiB, a.workKiB = max(a.rssKiB, b.rssKiB), max(a.workKiB, b.workKiB)
	a.serverCPU += b.serverCPU
	a.workCPU += b.workCPU
	a.clientCPU += b.clientCPU
	a.pageRecords += b.pageRecords
	a.pageDropped += b.pageDropped
	return a
}
