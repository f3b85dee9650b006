package export

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/inquir-dev/inquir/emulator/config"
	"github.com/inquir-dev/inquir/emulator/policy"
)

// Usage plans. The gateway (emulator/plans) gives each key with a plan a
// token bucket per throttle (the plan's, and one per [[plans.NAME.routes]]
// entry) and a quota per UTC day, week or month, and answers 429 after the
// key check, before the function. haproxy.cfg does the same with two
// stick-tables:
//
//   - inquir_buckets, keyed by PLAN[/pN]/KEY: each bucket is held as GCRA
//     holds it, by its theoretical arrival time (TAT, in gpt0 seconds and
//     gpt1 microseconds). A request is let in while TAT - now <= tolerance,
//     (burst - 1) x interval, and moves TAT to max(TAT, now) + interval, the
//     interval being 1/rate: the same verdicts as a token bucket of that
//     rate and burst, and the same wait until the next token. gpc0 is a lock
//     around the read and the write, which HAProxy's threads could otherwise
//     interleave.
//   - inquir_quotas, keyed by PLAN/KEY/PERIODWINDOW, where the window is the
//     UTC day, Sunday-started week or month: gpc0 counts the requests let
//     through to the function in it. PLAN/KEY/firstPERIOD holds in gpt0 the
//     first window the key spent in, where the offset applies.
//
// What each plan is, and which plan each key has, is in plans.map, so that
// a rotation through the runtime API assigns a new key its plan, or changes
// a plan, with no reload.

// PlansMap holds the plans and the keys' assignments to them.
const PlansMap = "plans.map"

const (
	// maxBucketWindow is the longest a bucket may take to refill from
	// empty: inquir_buckets forgets an entry 24 days after its last
	// request (HAProxy's longest expire), which is only right once the
	// bucket is full again.
	maxBucketWindow = 24 * 24 * 3600 * 1e6 // microseconds
	// tableKeyLen is the length of the stick-tables' string keys; longer
	// keys would be cut, and two keys or windows share an entry.
	tableKeyLen = 256
)

// planEntries are plans.map's lines for c's plans and the keys that have
// one. routes are the policy's routes, for the per-route throttles.
func planEntries(c *config.Config, routes []*policy.Route) ([]string, error) {
	var out []string
	longest := 0
	for _, k := range c.Keys {
		if k.Plan != "" {
			out = append(out, fmt.Sprintf("key/%s %s", k.ID, k.Plan))
			longest = max(longest, len(k.ID))
		}
	}
	for _, p := range c.Plans {
		if !plainName.MatchString(p.Name) {
			return nil, c.ErrorAt([]string{"plans", p.Name}, "cannot export to HAProxy: plan name %q may only hold letters, digits, '.', '_' and '-'", p.Name)
		}
		if n := len(p.Name) + longest + len("/p/firstMONTH") + len(strconv.Itoa(len(p.Routes))) + 6; n > tableKeyLen {
			return nil, c.ErrorAt([]string{"plans", p.Name}, "cannot export to HAProxy: the plan's name and its keys' ids make stick-table keys of %d characters, over %d; shorten them", n, tableKeyLen)
		}
		out = append(out, "# plan "+p.Name)
		if p.Rate > 0 {
			b, err := bucket(c, []string{"plans", p.Name}, p.Rate, p.Burst)
			if err != nil {
				return nil, err
			}
			out = append(out, bucketEntries(p.Name, b)...)
		}
		if q := p.Quota; q != nil {
			out = append(out, fmt.Sprintf("quota/%s %d", p.Name, q.Limit), fmt.Sprintf("period/%s %s", p.Name, q.Period))
			if q.Offset > 0 {
				out = append(out, fmt.Sprintf("offset/%s %d", p.Name, q.Offset))
			}
		}
		for _, pr := range p.Routes {
			name := p.Name + "/p" + strconv.Itoa(pr.Index)
			b, err := bucket(c, []string{"plans", p.Name, "routes", strconv.Itoa(pr.Index)}, pr.Rate, pr.Burst)
			if err != nil {
				return nil, err
			}
			if !plainName.MatchString(pr.Method) {
				return nil, c.ErrorAt([]string{"plans", p.Name, "routes", strconv.Itoa(pr.Index), "method"}, "cannot export to HAProxy: %q is not a method", pr.Method)
			}
			out = append(out, bucketEntries(name, b)...)
		}
		// Which throttle each request takes, by the request's method and
		// the route that serves it, as the gateway chooses it
		// (policy.Route.ThrottleRequests).
		for _, r := range routes {
			taken := r.ThrottleRequests(p.Routes)
			for _, i := range slices.Sorted(maps.Keys(taken)) {
				for _, m := range taken[i] {
					out = append(out, fmt.Sprintf("route/%s/%s/%s p%d", p.Name, m, routeName(r), i))
				}
			}
		}
	}
	return out, nil
}

// gcra is a token bucket in GCRA's terms, in microseconds.
type gcra struct{ interval, tolerance int64 }

// bucket turns a rate (requests per second) and a burst into GCRA's
// interval and tolerance. The interval is rounded up to a whole
// microsecond, so the bucket HAProxy holds refills no faster than inquir's.
func bucket(c *config.Config, at []string, rate float64, burst int) (gcra, error) {
	iv := math.Ceil(1e6 / rate)
	if iv*float64(burst) > maxBucketWindow {
		return gcra{}, c.ErrorAt(at, "cannot export to HAProxy: a bucket of %d at %v requests per second takes over 24 days to refill, longer than HAProxy keeps a stick-table entry; use a quota for limits over days", burst, rate)
	}
	g := gcra{interval: max(int64(iv), 1)}
	g.tolerance = int64(burst-1)*g.interval + min(clockSkew, g.interval/2)
	return g, nil
}

// clockSkew is what the tolerance allows for HAProxy's clock: date() is
// each thread's time of its last wake-up, so a request one thread serves
// right after another thread's can read an earlier instant; without it
// the request that takes the bucket's last token at its due time was at
// times refused by a few microseconds (Retry-After 1: TestPlanFollowsRotation,
// 2 in 40 on a busy machine). With it a token may be taken up to 5 ms
// (and never more than half an interval) before inquir dev would hand it
// out.
const clockSkew = 5000 // µs

func bucketEntries(name string, b gcra) []string {
	return []string{
		fmt.Sprintf("interval/%s %d", name, b.interval),
		fmt.Sprintf("tolerance/%s %d", name, b.tolerance),
	}
}

// planBodies are the gateway's 429s (gateway.limit), as log-format
// strings naming the seconds to wait.
func planBodies(b *bodies) {
	b.RateLimited = strings.Replace(jsonBody("rate_limited", "too many requests with this API key; retry in N s"), "N", "%[var(txn.bucket_retry)]", 1)
	b.QuotaExceeded = strings.Replace(jsonBody("quota_exceeded", "this API key's quota is spent; it resets in N s"), "N", "%[var(txn.quota_retry)]", 1)
	b.AWSThrottled = `{"message":"Too Many Requests"}` + "\n"
	b.AWSQuota = `{"message":"Limit Exceeded"}` + "\n"
}
