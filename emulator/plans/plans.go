// Package plans enforces usage plans as API Gateway does: per API key, a
// token bucket (rate and burst) for each throttled route and one for the
// rest, and a quota of requests per UTC day, week or month.
//
// The buckets are golang.org/x/time/rate limiters driven by the instant the
// caller passes, never by the wall clock, so a test's manual clock drives
// them; what rate lacks (quota windows aligned to UTC, usage per day, state
// that survives a config reload) is here.
//
// A Limiter is the state; Take asks it about one request. A refused request
// spends nothing: a 429 from the bucket leaves the quota as it was, and a
// quota 429 gives its token back. Take's Ticket lets a later step that
// refuses (an authorizer) give back what the request spent.
package plans

import (
	"fmt"
	"math"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// Period is a quota's window.
type Period uint8

// Quota periods, as API Gateway names them. Windows are aligned to UTC: a
// day starts at 00:00, a week on Sunday at 00:00, a month on its first day.
const (
	Day Period = iota + 1
	Week
	Month
)

// ParsePeriod reads "DAY", "WEEK" or "MONTH".
func ParsePeriod(s string) (Period, error) {
	switch s {
	case "DAY":
		return Day, nil
	case "WEEK":
		return Week, nil
	case "MONTH":
		return Month, nil
	}
	return 0, fmt.Errorf("period must be DAY, WEEK or MONTH, not %q", s)
}

func (p Period) String() string {
	switch p {
	case Day:
		return "DAY"
	case Week:
		return "WEEK"
	case Month:
		return "MONTH"
	}
	return "none"
}

// Window returns the start and end of the window of p that holds t.
func (p Period) Window(t time.Time) (start, end time.Time) {
	t = t.UTC()
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	switch p {
	case Week:
		start = day.AddDate(0, 0, -int(day.Weekday()))
		return start, start.AddDate(0, 0, 7)
	case Month:
		start = time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
		return start, start.AddDate(0, 1, 0)
	default:
		return day, day.AddDate(0, 0, 1)
	}
}

// Plan is a usage plan. Its zero Rate means no throttle, and a nil Quota
// no quota.
type Plan struct {
	Name string
	// Rate is the bucket's refill, in requests per second; Burst its size.
	Rate  float64
	Burst int
	Quota *Quota
	// Routes throttle single routes otherwise, as API Gateway's per-method
	// throttling does: a request to one of them takes a token from that
	// route's bucket, not the plan's.
	Routes []RouteThrottle
}

// Quota is a number of requests per window.
type Quota struct {
	Limit  int64
	Period Period
	// Offset is taken from Limit in the first window the key spends in,
	// as API Gateway's offset is "subtracted from the given limit in the
	// initial time period".
	Offset int64
}

// Route names what a per-route throttle applies to: a method (or "ANY",
// every method) on a route's path template, as API Gateway keys per-method
// throttling by /{path}/{METHOD}.
type Route struct {
	Method, Path string
}

// RouteThrottle is a per-route throttle of a plan.
type RouteThrottle struct {
	Route Route
	Rate  float64
	Burst int
}

// Reasons a request is refused.
const (
	RateLimited   = "rate_limited"
	QuotaExceeded = "quota_exceeded"
)

// Decision is Take's answer, with what the RateLimit fields show.
type Decision struct {
	// Allowed is false for a 429; Reason then says which limit refused it.
	Allowed bool
	Reason  string
	// RetryAfter is how long until the request would be allowed.
	RetryAfter time.Duration

	// Throttled is set when a bucket applies: its size, the seconds it
	// takes to refill from empty, the whole tokens left and the seconds
	// until it is full again.
	Throttled              bool
	Burst                  int
	BurstWindow, BurstFull int64
	BurstRemaining         int64
	// Quotaed is set when a quota applies: its limit in this window (the
	// first window less the offset), the window's length and what is left
	// of it, and the seconds until it resets.
	Quotaed        bool
	QuotaLimit     int64
	QuotaWindow    int64
	QuotaRemaining int64
	QuotaReset     int64
}

// Ticket is what one allowed request spent, for Refund. The zero Ticket
// spent nothing.
type Ticket struct {
	key         *keyState
	window, day time.Time // the quota window and the day it spent in
}

// Limiter holds every key's buckets and quota counters. The zero value is
// not usable; call New.
type Limiter struct {
	mu sync.Mutex // serializes SetPlans
	// keys is every planned key's state, by key id: a map that SetPlans
	// replaces whole, so Take looks a key up without a lock.
	keys atomic.Pointer[map[string]*keyState]
}

// keyState is one key's: its plan's buckets, its quota window, its usage.
type keyState struct {
	mu     sync.Mutex
	plan   *Plan
	bucket *rate.Limiter           // the plan's; nil with no throttle
	routes map[Route]*rate.Limiter // per-route throttles
	// The quota: the window in force (and when it ends, in Unix
	// nanoseconds, so most requests compare one number), what was spent in
	// it, and the first window the key spent in (where the offset applies).
	window, first time.Time
	windowEnd     int64
	used          int64
	// days counts allowed requests per UTC day, oldest first, for Usage;
	// at most maxDays are kept. today is the last one's end.
	days  []dayCount
	today int64
}

type dayCount struct {
	day  time.Time
	used int64
}

// maxDays bounds the usage history kept per key, as GetUsage's range is
// bounded by its plan's quota period on AWS.
const maxDays = 93

// New returns a Limiter with no plans.
func New() *Limiter {
	l := &Limiter{}
	l.keys.Store(&map[string]*keyState{})
	return l
}

// key returns keyID's state, or nil.
func (l *Limiter) key(keyID string) *keyState { return (*l.keys.Load())[keyID] }

// SetPlans puts a config's plans and its keys' assignments in force. A key
// that keeps its plan keeps its state: what its buckets hold and what it
// spent (a changed rate or burst applies from now on, from what the bucket
// holds). A key moved to another plan starts that plan's buckets full and
// its quota afresh; a key no longer in keys loses its state.
func (l *Limiter) SetPlans(plans []Plan, keys map[string]string, now time.Time) {
	byName := make(map[string]*Plan, len(plans))
	for i := range plans {
		p := plans[i]
		byName[p.Name] = &p
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	old := *l.keys.Load()
	next := make(map[string]*keyState, len(keys))
	for id, name := range keys {
		p := byName[name]
		if p == nil {
			continue
		}
		ks := old[id]
		if ks == nil || ks.plan.Name != name {
			next[id] = newKeyState(p, now)
			continue
		}
		ks.mu.Lock()
		ks.retune(p, now)
		ks.mu.Unlock()
		next[id] = ks
	}
	l.keys.Store(&next)
}

func newKeyState(p *Plan, now time.Time) *keyState {
	ks := &keyState{}
	ks.retune(p, now)
	return ks
}

// retune applies p to a key's buckets, keeping what they hold.
func (ks *keyState) retune(p *Plan, now time.Time) {
	if old := ks.plan; old != nil && (old.Quota == nil) != (p.Quota == nil) ||
		old != nil && old.Quota != nil && p.Quota != nil && old.Quota.Period != p.Quota.Period {
		// Another window: roll finds it on the next request, and the
		// quota counts afresh there.
		ks.window, ks.windowEnd, ks.used = time.Time{}, 0, 0
	}
	ks.plan = p
	ks.bucket = tune(ks.bucket, p.Rate, p.Burst, now)
	routes := make(map[Route]*rate.Limiter, len(p.Routes))
	for _, rt := range p.Routes {
		routes[rt.Route] = tune(ks.routes[rt.Route], rt.Rate, rt.Burst, now)
	}
	ks.routes = routes
}

// tune returns lim set to r and burst, or a new full bucket; nil when r is
// zero (no throttle).
func tune(lim *rate.Limiter, r float64, burst int, now time.Time) *rate.Limiter {
	if r <= 0 {
		return nil
	}
	if lim == nil {
		return rate.NewLimiter(rate.Limit(r), burst)
	}
	// Both refill the bucket up to now at the old rate first, so what it
	// holds carries over.
	lim.SetLimitAt(now, rate.Limit(r))
	lim.SetBurstAt(now, burst)
	return lim
}

// Take decides one request by key keyID to route at now: the bucket first,
// then the quota. The bucket is route's throttle if the plan has one, else
// the throttle of every method on route's path (Method "ANY"), else the
// plan's. A key with no plan is allowed with a zero Decision. An allowed
// request spends a token and one of the quota; a request the bucket
// refuses spends nothing, and one the quota refuses spends its token (the
// bucket counts requests, as API Gateway's throttle does) but no quota.
func (l *Limiter) Take(keyID string, route Route, now time.Time) (Decision, Ticket) {
	ks := l.key(keyID)
	if ks == nil {
		return Decision{Allowed: true}, Ticket{}
	}
	ks.mu.Lock()
	defer ks.mu.Unlock()
	var d Decision
	bucket, burst, r := ks.bucket, ks.plan.Burst, ks.plan.Rate
	b, ok := ks.routes[route]
	if !ok {
		route.Method = "ANY"
		b, ok = ks.routes[route]
	}
	if ok {
		bucket, burst, r = b, b.Burst(), float64(b.Limit())
	}
	if bucket != nil && !bucket.AllowN(now, 1) {
		// The time until one token is back: what AllowN found missing.
		missing := 1 - bucket.TokensAt(now)
		d.Reason, d.RetryAfter = RateLimited, time.Duration(math.Ceil(missing/r*float64(time.Second)))
		ks.fields(&d, bucket, burst, r, now)
		return d, Ticket{}
	}
	if q := ks.plan.Quota; q != nil {
		ks.roll(now)
		if ks.used >= ks.limit() {
			_, end := q.Period.Window(now)
			d.Reason, d.RetryAfter = QuotaExceeded, end.Sub(now)
			ks.fields(&d, bucket, burst, r, now)
			return d, Ticket{}
		}
		ks.used++
	}
	day := ks.count(now)
	d.Allowed = true
	ks.fields(&d, bucket, burst, r, now)
	return d, Ticket{key: ks, window: ks.window, day: day}
}

// count adds an allowed request to the usage of now's day and returns that
// day.
func (ks *keyState) count(now time.Time) time.Time {
	if n := now.UnixNano(); n >= ks.today || len(ks.days) == 0 || n < ks.today-int64(24*time.Hour) {
		day, end := Day.Window(now)
		if len(ks.days) == 0 || !ks.days[len(ks.days)-1].day.Equal(day) {
			if len(ks.days) == maxDays {
				ks.days = append(ks.days[:0], ks.days[1:]...)
			}
			ks.days = append(ks.days, dayCount{day: day})
		}
		ks.today = end.UnixNano()
	}
	last := &ks.days[len(ks.days)-1]
	last.used++
	return last.day
}

// usedOn is the usage counted on day.
func (ks *keyState) usedOn(day time.Time) int64 {
	for i := len(ks.days) - 1; i >= 0; i-- {
		if ks.days[i].day.Equal(day) {
			return ks.days[i].used
		}
	}
	return 0
}

// Refund gives back what t's request spent of its quota and its day's usage,
// for a request refused after Take allowed it (by an authorizer, say), if
// the quota window is still the one it spent in. Its token stays spent: the
// throttle counts requests.
func (l *Limiter) Refund(t Ticket) {
	ks := t.key
	if ks == nil {
		return
	}
	ks.mu.Lock()
	defer ks.mu.Unlock()
	if ks.plan.Quota != nil && t.window.Equal(ks.window) && ks.used > 0 {
		ks.used--
	}
	for i := len(ks.days) - 1; i >= 0; i-- {
		if ks.days[i].day.Equal(t.day) && ks.days[i].used > 0 {
			ks.days[i].used--
			break
		}
	}
}

// roll moves the quota to the window that holds now.
func (ks *keyState) roll(now time.Time) {
	if n := now.UnixNano(); n < ks.windowEnd && !ks.window.IsZero() && !now.Before(ks.window) {
		return
	}
	start, end := ks.plan.Quota.Period.Window(now)
	ks.windowEnd = end.UnixNano()
	if start.Equal(ks.window) {
		return
	}
	if ks.first.IsZero() {
		ks.first = start
	}
	ks.window, ks.used = start, 0
}

// limit is the quota's limit in the window in force.
func (ks *keyState) limit() int64 {
	q := ks.plan.Quota
	if ks.window.Equal(ks.first) {
		return max(q.Limit-q.Offset, 0)
	}
	return q.Limit
}

// fields fills in what the RateLimit fields show of the bucket and the
// quota.
func (ks *keyState) fields(d *Decision, bucket *rate.Limiter, burst int, r float64, now time.Time) {
	if bucket != nil {
		tokens := bucket.TokensAt(now)
		d.Throttled, d.Burst = true, burst
		d.BurstWindow = int64(math.Ceil(float64(burst) / r))
		d.BurstRemaining = max(int64(math.Floor(tokens)), 0)
		d.BurstFull = max(int64(math.Ceil((float64(burst)-tokens)/r)), 0)
	}
	q := ks.plan.Quota
	if q == nil {
		return
	}
	ks.roll(now)
	d.Quotaed = true
	d.QuotaLimit = ks.limit()
	d.QuotaWindow = (ks.windowEnd - ks.window.UnixNano()) / int64(time.Second)
	d.QuotaRemaining = max(ks.limit()-ks.used, 0)
	d.QuotaReset = (ks.windowEnd - now.UnixNano() + int64(time.Second) - 1) / int64(time.Second)
}

// DayUsage is one key's usage on one UTC day.
type DayUsage struct {
	Day  time.Time
	Used int64
	// Remaining is what the quota had left at the end of that day (now,
	// for today), or -1 with no quota.
	Remaining int64
}

// Usage returns keyID's usage per UTC day from start to end (inclusive),
// oldest first, and its plan's name; ok is false for a key with no plan.
func (l *Limiter) Usage(keyID string, start, end, now time.Time) (plan string, days []DayUsage, ok bool) {
	ks := l.key(keyID)
	if ks == nil {
		return "", nil, false
	}
	ks.mu.Lock()
	defer ks.mu.Unlock()
	q := ks.plan.Quota
	if q != nil {
		ks.roll(now)
	}
	used := make(map[time.Time]int64, len(ks.days))
	for _, dc := range ks.days {
		used[dc.day] = dc.used
	}
	first, _ := Day.Window(start)
	last, _ := Day.Window(end)
	// What was left at each day's end: the window's limit less what the
	// window's days up to that one spent, summed from the window's start.
	from := first
	if q != nil {
		from, _ = q.Period.Window(first)
	}
	var window time.Time
	var spent int64
	for d := from; !d.After(last); d = d.AddDate(0, 0, 1) {
		u := DayUsage{Day: d, Used: used[d], Remaining: -1}
		if q != nil {
			if w, _ := q.Period.Window(d); !w.Equal(window) {
				window, spent = w, 0
			}
			spent += u.Used
			limit := q.Limit
			if window.Equal(ks.first) {
				limit = max(q.Limit-q.Offset, 0)
			}
			u.Remaining = max(limit-spent, 0)
		}
		if !d.Before(first) {
			days = append(days, u)
		}
	}
	return ks.plan.Name, days, true
}

// KeyUsage is a key's counters, for /_inquir/stats.
type KeyUsage struct {
	Plan string `json:"plan"`
	// Used is what the key spent in the quota window in force (with no
	// quota, today).
	Used int64 `json:"used"`
	// Remaining is what the quota has left, or -1 with no quota.
	Remaining int64 `json:"remaining"`
}

// Stats returns every planned key's counters, by key id.
func (l *Limiter) Stats(now time.Time) map[string]KeyUsage {
	keys := *l.keys.Load()
	out := make(map[string]KeyUsage, len(keys))
	for id, ks := range keys {
		ks.mu.Lock()
		u := KeyUsage{Plan: ks.plan.Name, Remaining: -1}
		if ks.plan.Quota != nil {
			ks.roll(now)
			u.Used, u.Remaining = ks.used, max(ks.limit()-ks.used, 0)
		} else {
			day, _ := Day.Window(now)
			u.Used = ks.usedOn(day)
		}
		ks.mu.Unlock()
		out[id] = u
	}
	return out
}

// Keys returns the ids of the keys with a plan, sorted.
func (l *Limiter) Keys() []string {
	keys := *l.keys.Load()
	ids := make([]string, 0, len(keys))
	for id := range keys {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}
