package gateway

import (
	"cmp"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/inquir-dev/inquir/emulator/config"
	"github.com/inquir-dev/inquir/emulator/plans"
	"github.com/inquir-dev/inquir/emulator/policy"
)

// Usage plans: after the key check, a key with a plan takes a token from
// its bucket and one request of its quota (plans.Limiter); a key out of
// either gets 429 before anything of the function runs. Every answer to a
// planned key carries the RateLimit-Policy and RateLimit fields of
// draft-ietf-httpapi-ratelimit-headers, except under compat = "aws", where
// the answers are API Gateway's own and carry none.

// AWS's bodies for its THROTTLED and QUOTA_EXCEEDED gateway responses.
var (
	awsThrottledBody = []byte(`{"message":"Too Many Requests"}` + "\n")
	awsQuotaBody     = []byte(`{"message":"Limit Exceeded"}` + "\n")
)

// plansOf turns a config's plans and its keys' assignments into the
// limiter's terms. A per-route throttle is keyed by method (or ANY) and
// path template, as the gateway asks (planRoute).
func plansOf(c *config.Config) ([]plans.Plan, map[string]string) {
	out := make([]plans.Plan, 0, len(c.Plans))
	for _, p := range c.Plans {
		lp := plans.Plan{Name: p.Name, Rate: p.Rate, Burst: p.Burst}
		if q := p.Quota; q != nil {
			period, _ := plans.ParsePeriod(q.Period) // validated by config
			lp.Quota = &plans.Quota{Limit: q.Limit, Period: period, Offset: q.Offset}
		}
		for _, r := range p.Routes {
			lp.Routes = append(lp.Routes, plans.RouteThrottle{Route: plans.Route{Method: r.Method, Path: r.Path}, Rate: r.Rate, Burst: r.Burst})
		}
		out = append(out, lp)
	}
	keys := map[string]string{}
	for _, k := range c.Keys {
		if k.Plan != "" {
			keys[k.ID] = k.Plan
		}
	}
	return out, keys
}

// planRoute names what a per-route throttle applies to: the method the
// route was chosen for (a HEAD authorised by a GET route is that GET, so it
// takes the GET throttle and cannot dodge it), or the request's own on an
// ANY route, on the route's path template, as API Gateway keys per-method
// throttling by /{path}/{METHOD}. The limiter falls back to an ANY throttle
// of the path, then to the plan's bucket.
func planRoute(method string, route *policy.Route) plans.Route {
	if route.Method != config.MethodAny {
		method = route.Method
	}
	return plans.Route{Method: method, Path: route.Path}
}

// limit asks the plan of the request's key, if it has one. A non-zero
// status means the request was refused (and answered), for reason; else the
// ticket says what it spent, for a later refusal to give back.
func (g *Gateway) limit(w http.ResponseWriter, p *policy.Policy, r *http.Request, route *policy.Route, key *policy.Key, now time.Time) (int, string, plans.Ticket) {
	if key == nil {
		return 0, "", plans.Ticket{}
	}
	d, ticket := g.plans.Take(key.ID, planRoute(r.Method, route), now)
	aws := p.Config.Gateway.Compat == config.CompatAWS
	if !aws {
		setRateLimitFields(w.Header(), d)
	}
	if d.Allowed {
		return 0, "", ticket
	}
	retry := int64((d.RetryAfter + time.Second - 1) / time.Second)
	if aws {
		// API Gateway's THROTTLED and QUOTA_EXCEEDED answers: no extra
		// fields.
		body := awsThrottledBody
		if d.Reason == plans.QuotaExceeded {
			body = awsQuotaBody
		}
		writeJSONBody(w, http.StatusTooManyRequests, body)
		return http.StatusTooManyRequests, d.Reason, plans.Ticket{}
	}
	w.Header().Set("Retry-After", strconv.FormatInt(retry, 10))
	msg := "too many requests with this API key; retry in " + strconv.FormatInt(retry, 10) + " s"
	if d.Reason == plans.QuotaExceeded {
		msg = "this API key's quota is spent; it resets in " + strconv.FormatInt(retry, 10) + " s"
	}
	return g.fail(w, http.StatusTooManyRequests, d.Reason, msg), d.Reason, plans.Ticket{}
}

// setRateLimitFields writes the RateLimit-Policy and RateLimit fields
// (draft-ietf-httpapi-ratelimit-headers-11, structured field lists): the
// "burst" policy of the bucket that applied, and the "quota" policy. Both
// values are built in one buffer: this runs on every planned request.
func setRateLimitFields(h http.Header, d plans.Decision) {
	if !d.Throttled && !d.Quotaed {
		return
	}
	var buf [160]byte
	b := buf[:0]
	item := func(b []byte, name, k1 string, v1 int64, k2 string, v2 int64) []byte {
		if len(b) > 0 && b[len(b)-1] != 0 {
			b = append(b, ", "...)
		}
		b = append(b, name...)
		b = append(b, k1...)
		b = strconv.AppendInt(b, v1, 10)
		b = append(b, k2...)
		return strconv.AppendInt(b, v2, 10)
	}
	if d.Throttled {
		b = item(b, `"burst"`, ";q=", int64(d.Burst), ";w=", d.BurstWindow)
	}
	if d.Quotaed {
		b = item(b, `"quota"`, ";q=", d.QuotaLimit, ";w=", d.QuotaWindow)
	}
	policies := len(b)
	b = append(b, 0) // a boundary item() does not join across
	if d.Throttled {
		b = item(b, `"burst"`, ";r=", d.BurstRemaining, ";t=", d.BurstFull)
	}
	if d.Quotaed {
		b = item(b, `"quota"`, ";r=", d.QuotaRemaining, ";t=", d.QuotaReset)
	}
	all := string(b)
	// Spelled as the draft spells them; Go's canonical form would be
	// "Ratelimit".
	h["RateLimit-Policy"] = []string{all[:policies]}
	h["RateLimit"] = []string{all[policies+1:]}
}

// usageBody is GET /_inquir/usage's answer, in the shape of API Gateway's
// GetUsage: for each key, one [used, remaining] pair per UTC day from
// startDate to endDate. remaining is -1 for a plan without a quota.
type usageBody struct {
	UsagePlanID string               `json:"usagePlanId,omitempty"`
	StartDate   string               `json:"startDate"`
	EndDate     string               `json:"endDate"`
	Items       map[string][][]int64 `json:"items"`
}

// maxUsageDays bounds the range /_inquir/usage answers for.
const maxUsageDays = 90

// serveUsage answers GET /_inquir/usage?keyId=ID&usagePlanId=NAME&
// startDate=YYYY-MM-DD&endDate=YYYY-MM-DD; every parameter is optional (the
// dates default to today, UTC, and no keyId means every key with a plan).
func (g *Gateway) serveUsage(w http.ResponseWriter, r *http.Request) int {
	now := g.opts.Now().UTC()
	q := r.URL.Query()
	today := now.Format(time.DateOnly)
	start, err1 := time.Parse(time.DateOnly, cmp.Or(q.Get("startDate"), today))
	end, err2 := time.Parse(time.DateOnly, cmp.Or(q.Get("endDate"), today))
	switch {
	case err1 != nil || err2 != nil:
		return g.fail(w, http.StatusBadRequest, "bad_request", "startDate and endDate are dates, as in "+today)
	case end.Before(start):
		return g.fail(w, http.StatusBadRequest, "bad_request", "endDate is before startDate")
	case end.Sub(start) > maxUsageDays*24*time.Hour:
		return g.fail(w, http.StatusBadRequest, "bad_request", "the range is over "+strconv.Itoa(maxUsageDays)+" days")
	}
	ids, keyID := g.plans.Keys(), q.Get("keyId")
	if keyID != "" {
		ids = []string{keyID}
	}
	planID := q.Get("usagePlanId")
	body := usageBody{UsagePlanID: planID, StartDate: start.Format(time.DateOnly), EndDate: end.Format(time.DateOnly), Items: map[string][][]int64{}}
	for _, id := range ids {
		plan, days, ok := g.plans.Usage(id, start, end, now)
		if !ok || (planID != "" && plan != planID) {
			continue
		}
		pairs := make([][]int64, len(days))
		for i, d := range days {
			pairs[i] = []int64{d.Used, d.Remaining}
		}
		body.Items[id] = pairs
	}
	if keyID != "" && len(body.Items) == 0 {
		return g.fail(w, http.StatusNotFound, "not_found", "key "+strconv.Quote(keyID)+" has no usage plan")
	}
	writeJSON(w, http.StatusOK, body)
	return http.StatusOK
}

// clockRequest is the body of POST /_inquir/clock.
type clockRequest struct {
	// Advance moves the clock forward by a Go duration ("24h", "1500ms").
	Advance string `json:"advance"`
	// Set moves it to an RFC 3339 instant.
	Set string `json:"set"`
}

// serveClock answers GET and POST /_inquir/clock when the gateway runs on a
// manual clock (Options.Clock is a *policy.ManualClock): GET tells the
// instant, POST moves it. A POST must be JSON, which a cross-site form
// cannot send without a preflight the gateway never grants.
func (g *Gateway) serveClock(w http.ResponseWriter, r *http.Request) int {
	mc, ok := g.opts.Clock.(*policy.ManualClock)
	if !ok {
		return g.fail(w, http.StatusNotFound, "not_found", "the clock is the system's; start inquir dev with --clock=manual to move it")
	}
	if r.Method == http.MethodPost {
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(strings.ToLower(ct), "application/json") {
			return g.fail(w, http.StatusUnsupportedMediaType, "bad_request", `send {"advance":"24h"} as application/json`)
		}
		var req clockRequest
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<10))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil || (req.Advance == "") == (req.Set == "") {
			return g.fail(w, http.StatusBadRequest, "bad_request", `send {"advance":"24h"} or {"set":"2026-12-31T23:59:59Z"}`)
		}
		moved := false
		if req.Advance != "" {
			d, err := time.ParseDuration(req.Advance)
			if err != nil {
				return g.fail(w, http.StatusBadRequest, "bad_request", "advance is a duration, as in \"24h\" or \"1500ms\"")
			}
			_, moved = mc.Advance(d)
		} else {
			t, err := time.Parse(time.RFC3339Nano, req.Set)
			if err != nil {
				return g.fail(w, http.StatusBadRequest, "bad_request", "set is an RFC 3339 instant, as in \"2026-12-31T23:59:59Z\"")
			}
			mc.Set(t)
			moved = true
		}
		if !moved {
			return g.fail(w, http.StatusConflict, "bad_request", "advance only moves the clock forward; set moves it anywhere")
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"now": mc.Now().UTC().Format(time.RFC3339Nano)})
	return http.StatusOK
}
