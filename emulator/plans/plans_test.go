package plans

import (
	"fmt"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC) // a Tuesday

func limiterWith(t *testing.T, p Plan, keys ...string) *Limiter {
	t.Helper()
	l := New()
	assign := map[string]string{}
	for _, k := range keys {
		assign[k] = p.Name
	}
	l.SetPlans([]Plan{p}, assign, t0)
	return l
}

// take asks for one request and checks the verdict.
func take(t *testing.T, l *Limiter, key string, route Route, at time.Time, wantReason string) Decision {
	t.Helper()
	d, _ := l.Take(key, route, at)
	if d.Allowed != (wantReason == "") || d.Reason != wantReason {
		t.Fatalf("Take(%s, %s) at %s = allowed %v %q, want %q", key, route, at.Format(time.RFC3339Nano), d.Allowed, d.Reason, wantReason)
	}
	return d
}

func TestBucket(t *testing.T) {
	l := limiterWith(t, Plan{Name: "p", Rate: 2, Burst: 3}, "k")
	for i := range 3 {
		d := take(t, l, "k", Route{"GET", "/a"}, t0, "")
		if d.BurstRemaining != int64(2-i) || d.Burst != 3 || d.BurstWindow != 2 {
			t.Errorf("request %d: %+v, want %d left of a burst of 3 over 2 s", i, d, 2-i)
		}
	}
	d := take(t, l, "k", Route{"GET", "/a"}, t0, RateLimited)
	if d.RetryAfter != 500*time.Millisecond {
		t.Errorf("RetryAfter %s, want 500ms (one token at 2/s)", d.RetryAfter)
	}
	take(t, l, "k", Route{"GET", "/a"}, t0.Add(499*time.Millisecond), RateLimited)
	take(t, l, "k", Route{"GET", "/a"}, t0.Add(500*time.Millisecond), "")
	// A refused request took nothing: the bucket refills to full from there.
	d = take(t, l, "k", Route{"GET", "/a"}, t0.Add(2*time.Second), "")
	if d.BurstRemaining != 2 {
		t.Errorf("after 1.5 s: %d left, want 2", d.BurstRemaining)
	}
	// Another key has a bucket of its own; a key with no plan is unlimited.
	take(t, l, "other", Route{"GET", "/a"}, t0, "")
	for range 100 {
		if d, _ := l.Take("nobody", Route{"GET", "/a"}, t0); !d.Allowed || d.Throttled || d.Quotaed {
			t.Fatalf("a key with no plan got %+v", d)
		}
	}
}

func TestRouteThrottle(t *testing.T) {
	l := limiterWith(t, Plan{Name: "p", Rate: 100, Burst: 100,
		Routes: []RouteThrottle{{Route: Route{"POST", "/search"}, Rate: 1, Burst: 1}, {Route: Route{"ANY", "/all"}, Rate: 1, Burst: 2}}}, "k")
	take(t, l, "k", Route{"POST", "/search"}, t0, "")
	take(t, l, "k", Route{"POST", "/search"}, t0, RateLimited)
	// The rest of the API has the plan's bucket, untouched by the route's.
	d := take(t, l, "k", Route{"GET", "/a"}, t0, "")
	if d.BurstRemaining != 99 {
		t.Errorf("the plan's bucket holds %d, want 99", d.BurstRemaining)
	}
	// A GET to the search path is not the POST throttle's.
	take(t, l, "k", Route{"GET", "/search"}, t0, "")
	// An ANY throttle takes every method on its path, in one bucket.
	take(t, l, "k", Route{"GET", "/all"}, t0, "")
	take(t, l, "k", Route{"DELETE", "/all"}, t0, "")
	take(t, l, "k", Route{"PUT", "/all"}, t0, RateLimited)
}

func TestQuota(t *testing.T) {
	l := limiterWith(t, Plan{Name: "p", Quota: &Quota{Limit: 3, Period: Day}}, "k")
	for i := range 3 {
		d := take(t, l, "k", Route{"GET", "/a"}, t0, "")
		if d.QuotaRemaining != int64(2-i) || d.QuotaLimit != 3 || d.QuotaWindow != 86400 || d.QuotaReset != 12*3600 {
			t.Errorf("request %d: %+v", i, d)
		}
	}
	d := take(t, l, "k", Route{"GET", "/a"}, t0, QuotaExceeded)
	if d.RetryAfter != 12*time.Hour {
		t.Errorf("RetryAfter %s, want 12h (to midnight UTC)", d.RetryAfter)
	}
	midnight := time.Date(2026, 3, 11, 0, 0, 0, 0, time.UTC)
	take(t, l, "k", Route{"GET", "/a"}, midnight.Add(-time.Nanosecond), QuotaExceeded)
	take(t, l, "k", Route{"GET", "/a"}, midnight, "")
}

func TestQuotaOffsetAndRefund(t *testing.T) {
	l := limiterWith(t, Plan{Name: "p", Quota: &Quota{Limit: 5, Period: Day, Offset: 3}}, "k")
	take(t, l, "k", Route{"GET", "/a"}, t0, "")
	_, ticket := l.Take("k", Route{"GET", "/a"}, t0)
	take(t, l, "k", Route{"GET", "/a"}, t0, QuotaExceeded) // 5 - 3 in the first window
	l.Refund(ticket)
	take(t, l, "k", Route{"GET", "/a"}, t0, "")
	next := t0.AddDate(0, 0, 1)
	for range 5 {
		take(t, l, "k", Route{"GET", "/a"}, next, "")
	}
	take(t, l, "k", Route{"GET", "/a"}, next, QuotaExceeded)
}

func TestWindows(t *testing.T) {
	tests := []struct {
		period     Period
		at         time.Time
		start, end string
	}{
		{Day, t0, "2026-03-10", "2026-03-11"},
		{Week, t0, "2026-03-08", "2026-03-15"}, // Sunday to Sunday
		{Week, time.Date(2026, 3, 8, 0, 0, 0, 0, time.UTC), "2026-03-08", "2026-03-15"},
		{Week, time.Date(2026, 3, 7, 23, 59, 59, 0, time.UTC), "2026-03-01", "2026-03-08"},
		{Month, time.Date(2026, 1, 31, 23, 59, 59, 0, time.UTC), "2026-01-01", "2026-02-01"},
		{Month, time.Date(2026, 12, 15, 0, 0, 0, 0, time.UTC), "2026-12-01", "2027-01-01"},
		{Day, time.Date(2026, 3, 10, 23, 30, 0, 0, time.FixedZone("UTC-5", -5*3600)), "2026-03-11", "2026-03-12"},
	}
	for _, tt := range tests {
		start, end := tt.period.Window(tt.at)
		if start.Format(time.DateOnly) != tt.start || end.Format(time.DateOnly) != tt.end {
			t.Errorf("%s of %s = %s to %s, want %s to %s", tt.period, tt.at, start, end, tt.start, tt.end)
		}
	}
}

// TestSetPlans checks what a reload keeps: a key that keeps its plan keeps
// its bucket and quota (a changed rate applies from what it holds), a key
// moved to another plan starts afresh, a deleted key's state goes.
func TestSetPlans(t *testing.T) {
	a := Plan{Name: "a", Rate: 1, Burst: 2, Quota: &Quota{Limit: 10, Period: Month}}
	b := Plan{Name: "b", Rate: 1, Burst: 5}
	l := New()
	l.SetPlans([]Plan{a, b}, map[string]string{"keep": "a", "move": "a", "drop": "a"}, t0)
	for _, k := range []string{"keep", "move", "drop"} {
		take(t, l, k, Route{"GET", "/x"}, t0, "")
		take(t, l, k, Route{"GET", "/x"}, t0, "")
		take(t, l, k, Route{"GET", "/x"}, t0, RateLimited)
	}
	a2 := a
	a2.Burst = 4
	l.SetPlans([]Plan{a2, b}, map[string]string{"keep": "a", "move": "b"}, t0)
	// keep: its bucket was empty and stays so; its quota counted 2.
	d := take(t, l, "keep", Route{"GET", "/x"}, t0, RateLimited)
	if d.QuotaRemaining != 8 || d.Burst != 4 {
		t.Errorf("keep after reload: %+v, want 8 of its quota left and a burst of 4", d)
	}
	// move: plan b's bucket, full.
	if d := take(t, l, "move", Route{"GET", "/x"}, t0, ""); d.BurstRemaining != 4 || d.Quotaed {
		t.Errorf("move after reload: %+v, want plan b's full bucket and no quota", d)
	}
	if d, _ := l.Take("drop", Route{"GET", "/x"}, t0); !d.Allowed || d.Throttled {
		t.Errorf("a key with no plan any more is still limited: %+v", d)
	}
	// keep's quota moves from a month to a day: its window is the day's
	// from the next request, counted afresh.
	a3 := a2
	a3.Quota = &Quota{Limit: 1, Period: Day}
	l.SetPlans([]Plan{a3, b}, map[string]string{"keep": "a", "move": "b"}, t0)
	if d := take(t, l, "keep", Route{"GET", "/x"}, t0.Add(10*time.Second), ""); d.QuotaWindow != 86400 || d.QuotaRemaining != 0 {
		t.Errorf("keep after its quota became daily: %+v, want a day's window with its one request spent", d)
	}
	take(t, l, "keep", Route{"GET", "/x"}, t0.Add(20*time.Second), QuotaExceeded)
	if got := l.Keys(); fmt.Sprint(got) != "[keep move]" {
		t.Errorf("Keys() = %v", got)
	}
}

func TestUsage(t *testing.T) {
	l := limiterWith(t, Plan{Name: "p", Quota: &Quota{Limit: 10, Period: Week}}, "k")
	day1 := time.Date(2026, 3, 9, 9, 0, 0, 0, time.UTC) // Monday
	day2 := day1.AddDate(0, 0, 1)
	for range 3 {
		take(t, l, "k", Route{"GET", "/a"}, day1, "")
	}
	take(t, l, "k", Route{"GET", "/a"}, day2, "")
	plan, days, ok := l.Usage("k", day1.AddDate(0, 0, -1), day2, day2)
	if !ok || plan != "p" || len(days) != 3 {
		t.Fatalf("Usage = %q %v %v", plan, days, ok)
	}
	want := []struct{ used, remaining int64 }{{0, 10}, {3, 7}, {1, 6}}
	for i, w := range want {
		if days[i].Used != w.used || days[i].Remaining != w.remaining {
			t.Errorf("day %d: %+v, want used %d remaining %d", i, days[i], w.used, w.remaining)
		}
	}
	if _, _, ok := l.Usage("nobody", day1, day2, day2); ok {
		t.Error("a key with no plan has usage")
	}
	if st := l.Stats(day2)["k"]; st.Used != 4 || st.Remaining != 6 || st.Plan != "p" {
		t.Errorf("Stats = %+v", st)
	}
}

// TestTakeAllocs pins the allowed path at no allocation.
func TestTakeAllocs(t *testing.T) {
	l := limiterWith(t, Plan{Name: "p", Rate: 1e9, Burst: 1 << 30, Quota: &Quota{Limit: 1 << 60, Period: Month}}, "k")
	at := t0
	if n := testing.AllocsPerRun(1000, func() { l.Take("k", Route{"GET", "/a"}, at) }); n != 0 {
		t.Errorf("Take allocates %v times per allowed request, want 0", n)
	}
}

// BenchmarkTake measures an allowed request with 10 to 1,000,000 planned
// keys: "one" is a key calling again and again, "spread" every key in turn
// (each key's state out of the CPU's caches, the worst case). Every key has
// taken once before the timing starts, as keys in use have.
func BenchmarkTake(b *testing.B) {
	for _, n := range []int{10, 1000, 100_000, 1_000_000} {
		l := New()
		assign := make(map[string]string, n)
		ids := make([]string, n)
		for i := range n {
			ids[i] = fmt.Sprintf("key-%d", i)
			assign[ids[i]] = "p"
		}
		l.SetPlans([]Plan{{Name: "p", Rate: 1e9, Burst: 1 << 30, Quota: &Quota{Limit: 1 << 60, Period: Month}}}, assign, t0)
		for _, id := range ids {
			l.Take(id, Route{"GET", "/a"}, t0)
		}
		b.Run(fmt.Sprint(n, "-keys/one"), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				l.Take(ids[n/2], Route{"GET", "/a"}, t0)
			}
		})
		b.Run(fmt.Sprint(n, "-keys/spread"), func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				l.Take(ids[i%n], Route{"GET", "/a"}, t0)
				i++
			}
		})
	}
}
