package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// requestBody is what every request sends and every server echoes.
var requestBody = []byte(`{"id":"c-1001","name":"Ada Lovelace","tags":["a","b"],"n":42}`)

// loadResult is one target's measured phase.
type loadResult struct {
	requests int           // answered with the wanted status
	errors   int           // other statuses and transport errors
	elapsed  time.Duration // of the measured phase
	lat      []time.Duration
	rssKiB   int64 // the serving process's most, during the measured phase
	workKiB  int64 // its descendants' most, summed
	// CPU time used during the measured phase: by the serving process,
	// by its descendants (workers), and by this load generator.
	serverCPU, workCPU, clientCPU time.Duration
	// With the live page open (401-page): the records its stream sent, and
	// those it skipped (a reader slower than the gateway).
	pageRecords, pageDropped int64
}

// perRequest is d shared over the answered requests, in µs.
func (r loadResult) perRequest(d time.Duration) string {
	if r.requests == 0 || d == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f", float64(d)/float64(time.Microsecond)/float64(r.requests))
}

func (r loadResult) rate() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.requests) / r.elapsed.Seconds()
}

// percentile of the successful requests' latencies; lat must be sorted.
func (r loadResult) percentile(p float64) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(r.lat)))) - 1
	return r.lat[max(i, 0)]
}

// loadSpec says how to drive one target.
type loadSpec struct {
	url         string
	key         string // x-api-key, or ""
	want        int
	connections int
	warmup      time.Duration
	duration    time.Duration
	maxRequests int64 // over the measured phase
}

// drive sends spec.connections streams of requests, one after another on
// each keep-alive connection: first for spec.warmup (not counted), then for
// spec.duration or spec.maxRequests, whichever ends first. Every target gets
// a new client with the same settings.
func drive(ctx context.Context, spec loadSpec, sample *sampler) loadResult {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
		MaxIdleConns:        spec.connections,
		MaxIdleConnsPerHost: spec.connections,
		MaxConnsPerHost:     spec.connections,
		DisableCompression:  true,
		IdleConnTimeout:     time.Minute,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: time.Minute}
	if spec.warmup > 0 {
		phase(ctx, client, spec, spec.warmup, math.MaxInt64)
	}
	sample.start()
	start := time.Now()
	res := phase(ctx, client, spec, spec.duration, spec.maxRequests)
	res.elapsed = time.Since(start)
	res.rssKiB, res.workKiB = sample.stop()
	res.serverCPU, res.workCPU, res.clientCPU = sample.cpu()
	slices.Sort(res.lat)
	return res
}

// phase runs the connections' loops for d or n requests.
func phase(ctx context.Context, client *http.Client, spec loadSpec, d time.Duration, n int64) loadResult {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var (
		issued atomic.Int64
		mu     sync.Mutex
		total  loadResult
		wg     sync.WaitGroup
	)
	for range spec.connections {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine loadResult
			mine.lat = make([]time.Duration, 0, 4096)
			for ctx.Err() == nil && issued.Add(1) <= n {
				t := time.Now()
				status, err := send(ctx, client, spec)
				el := time.Since(t)
				switch {
				case ctx.Err() != nil:
					// Cut short by the end of the phase: not counted.
				case err == nil && status == spec.want:
					mine.requests++
					mine.lat = append(mine.lat, el)
				default:
					mine.errors++
				}
			}
			mu.Lock()
			total.requests += mine.requests
			total.errors += mine.errors
			total.lat = append(total.lat, mine.lat...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return total
}

// send makes one request and reads its whole answer, so the connection is
// reused.
func send(ctx context.Context, client *http.Client, spec loadSpec) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, spec.url, bytes.NewReader(requestBody))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if spec.key != "" {
		req.Header.Set("x-api-key", spec.key)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, err
}

// sampler reads a process's VmRSS, and its descendants', while a phase runs,
// and remembers every descendant it saw (to check at the end that none is
// left).
type sampler struct {
	pid  int
	seen map[int]bool

	stopc chan struct{}
	done  chan struct{}
	rss   int64
	work  int64

	// CPU times at start: the process's, each descendant's, this program's.
	cpu0      time.Duration
	workCPU0  map[int]time.Duration
	selfCPU0  time.Duration
	cpuAtStop [3]time.Duration
}

func newSampler(pid int) *sampler { return &sampler{pid: pid, seen: map[int]bool{}} }

// every is the sampling period.
const every = 20 * time.Millisecond

func (s *sampler) start() {
	s.stopc, s.done = make(chan struct{}), make(chan struct{})
	s.rss, s.work = 0, 0
	s.cpu0, s.selfCPU0, s.workCPU0 = cpuTime(s.pid), selfCPU(), map[int]time.Duration{}
	for _, d := range descendants(s.pid) {
		s.workCPU0[d] = cpuTime(d)
	}
	go func() {
		defer close(s.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			s.once()
			select {
			case <-s.stopc:
				return
			case <-t.C:
			}
		}
	}()
}

func (s *sampler) once() {
	s.rss = max(s.rss, rssKiB(s.pid))
	var sum int64
	for _, d := range descendants(s.pid) {
		s.seen[d] = true
		sum += rssKiB(d)
	}
	s.work = max(s.work, sum)
}

// stop ends sampling and returns the most RSS seen, of the process and of
// its descendants together.
func (s *sampler) stop() (rss, work int64) {
	close(s.stopc)
	<-s.done
	s.once()
	self := selfCPU() - s.selfCPU0
	var workers time.Duration
	for _, d := range descendants(s.pid) {
		workers += cpuTime(d) - s.workCPU0[d] // a worker started since counts whole
	}
	s.cpuAtStop = [3]time.Duration{cpuTime(s.pid) - s.cpu0, workers, self}
	return s.rss, s.work
}

// cpu is the CPU time the server, its workers and this program used
// between start and stop. A worker that exited in between is not counted.
func (s *sampler) cpu() (server, workers, client time.Duration) {
	return s.cpuAtStop[0], s.cpuAtStop[1], s.cpuAtStop[2]
}

// selfCPU is this program's CPU time so far (user and system).
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
