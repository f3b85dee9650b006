package verify

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/inquir-dev/inquir/emulator/config"
	"github.com/inquir-dev/inquir/emulator/plans"
	"github.com/inquir-dev/inquir/emulator/policy"
)

// Usage plans (issue 17): after the matrix, each plan is probed with a key
// that has it, on a protected route the key may call.
//
//   - Its bucket, and each per-route throttle: a burst one beyond the
//     bucket. Locally, on a manual clock that stands still, the first
//     burst requests reach the function and the last gets the gateway's
//     429 (inquir's rate_limited with Retry-After, or API Gateway's Too
//     Many Requests under compat = "aws"), and the recorder saw no
//     invocation for it. Against a URL nobody stops the clock, so verify
//     sends as fast as it can and allows for the refill: after burst + 1
//     requests it sends more until it has sent burst + ceil(rate ×
//     elapsed) + 1, more than the bucket can have let through, and one of
//     them must be a 429.
//   - Its quota, locally only: verify moves the clock to the start of a
//     quota window, spends the quota (moving the clock on as the bucket
//     needs), checks the next request gets 429 quota_exceeded and runs
//     nothing, and that the next window starts afresh. Against a URL a
//     quota is never spent: it is the real key's.
//   - A key with no plan sends a burst one beyond the largest of any plan
//     and is never refused 429.
//
// Against a URL the bursts spend the keys' quotas too, so they are sent
// only when Options.Plans asks; otherwise the plan cells are listed as not
// probed.

// maxPlanRequests bounds the requests one plan cell sends. A burst or a
// quota beyond it is listed as not probed.
const maxPlanRequests = 1000

// planWorkers is how many requests of a burst against a URL are in flight
// at once: enough to outpace a refill, few enough for a staging gateway.
const planWorkers = 8

// planProber sends the plan cells of one policy to one gateway.
type planProber struct {
	ctx    context.Context
	client *http.Client
	p      *policy.Policy
	url    string
	now    time.Time
	// creds are the keys verify can send, by key id.
	creds map[string]Credential
	// probe is false against a URL that Options.Plans did not ask to
	// probe: the cells are listed, not sent.
	probe bool

	// The local emulator only: its recorder, the clock it runs on, and
	// reset, which gives every key's plan full buckets and an unspent
	// quota.
	rec   *recorder
	clock *policy.ManualClock
	reset func()
}

func (pp *planProber) local() bool { return pp.clock != nil }

func (pp *planProber) aws() bool { return pp.p.Config.Gateway.Compat == config.CompatAWS }

// planTarget is one request a plan's cell sends, again and again.
type planTarget struct {
	rt           *policy.Route
	method, path string
	cred         Credential
	// secret is false when verify holds no secret for cred's key (against
	// a URL): the cell is listed as not probed.
	secret bool
}

// run adds the cells of every plan to r.
func (pp *planProber) run(r *Report) {
	cfg := pp.p.Config
	if len(cfg.Plans) == 0 {
		return
	}
	pp.unplanned(r)
	for i := range cfg.Plans {
		plan := &cfg.Plans[i]
		if plan.Rate > 0 {
			pp.burst(r, plan, nil)
		}
		for j := range plan.Routes {
			pp.burst(r, plan, &plan.Routes[j])
		}
		if plan.Quota != nil {
			pp.quota(r, plan)
		}
	}
}

// candidate is a request to a route, before a key is chosen for it.
type candidate struct {
	rt           *policy.Route
	method, path string
}

// bucketRequests are the requests plan's own bucket limits: each protected
// route's samples, GET first, but those a per-route throttle of the plan
// takes.
func (pp *planProber) bucketRequests(plan *config.Plan) []candidate {
	var gets, others []candidate
	for _, rt := range pp.p.InFileOrder() {
		// A route behind a Lambda authorizer takes a token verify does
		// not hold: a burst there shows the authorizer, not the plan.
		if rt.Public() || rt.Authorizer != "" {
			continue
		}
		throttled := rt.ThrottleRequests(plan.Routes)
	samples:
		for _, s := range samples(pp.p, rt) {
			for _, methods := range throttled {
				if slices.Contains(methods, s.method) {
					continue samples
				}
			}
			c := candidate{rt, s.method, s.path}
			if s.method == http.MethodGet {
				gets = append(gets, c)
			} else {
				others = append(others, c)
			}
		}
	}
	return append(gets, others...)
}

// throttleRequests are the requests per-route throttle t of plan takes:
// on each protected route, the methods that take it as the gateway decides
// (policy.Route.ThrottleRequests), t's own method first.
func (pp *planProber) throttleRequests(plan config.Plan, t config.PlanRoute) []candidate {
	var out []candidate
	for _, rt := range pp.p.InFileOrder() {
		// A route behind a Lambda authorizer takes a token verify does
		// not hold: a burst there shows the authorizer, not the plan.
		if rt.Public() || rt.Authorizer != "" {
			continue
		}
		methods := rt.ThrottleRequests(plan.Routes)[t.Index]
		slices.SortStableFunc(methods, func(a, b string) int {
			return cmp.Compare(boolInt(b == t.Method), boolInt(a == t.Method))
		})
		for _, m := range methods {
			if path, ok := samplePath(pp.p, rt, m); ok {
				out = append(out, candidate{rt, m, path})
				break
			}
		}
	}
	return out
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// target picks the first of reqs that a key with plan (or, for plan "",
// a key with none) may call, preferring a key verify holds a secret for.
// why says why there is none.
func (pp *planProber) target(plan string, reqs []candidate) (planTarget, string) {
	var keys []*policy.Key
	for _, k := range pp.p.Config.Keys {
		if k.Plan == plan {
			keys = append(keys, pp.p.Key(k.ID))
		}
	}
	if len(keys) == 0 {
		return planTarget{}, "no key has it"
	}
	for _, secret := range []bool{true, false} {
		for _, c := range reqs {
			for _, k := range keys {
				if _, ok := pp.creds[k.ID]; ok != secret {
					continue
				}
				if pp.p.AuthorizeKey(c.rt, k, pp.now).Outcome != policy.Allowed {
					continue
				}
				cred, ok := pp.creds[k.ID]
				if !ok {
					cred = Credential{Label: "key " + k.ID, ID: k.ID}
				}
				label := " (no plan)"
				if plan != "" {
					label = " (plan " + plan + ")"
				}
				cred.Label = "key " + k.ID + label
				return planTarget{rt: c.rt, method: c.method, path: c.path, cred: cred, secret: secret}, ""
			}
		}
	}
	return planTarget{}, "no key that has it may call (and is valid to call) a protected route it limits without a Lambda authorizer (whose token verify does not hold)"
}

// cell starts the cell of target t.
func (pp *planProber) cell(t planTarget, want Expect, expected string, sent int) Cell {
	return Cell{Route: t.rt.String(), Function: t.rt.Function, Method: t.method, Path: t.path, Credential: t.cred.Label,
		Want: want, Expected: expected, Sent: sent, Invoked: -1}
}

// unsendable says why the cell cannot be sent against a URL ("" when it
// can): Options.Plans did not ask, or verify holds no secret for the key.
func (pp *planProber) unsendable(t planTarget) string {
	switch {
	case !pp.probe:
		return "give --plans to probe usage plans"
	case !t.secret:
		return "no --key secret"
	}
	return ""
}

// skip lists c as not probed, for why; it sent nothing.
func skip(r *Report, c Cell, why string) {
	c.NotProbed, c.Got, c.Sent, c.OK = true, "not probed ("+why+")", 0, false
	r.Cells = append(r.Cells, c)
}

// words is how the gateway spells a plan's refusal under the config's
// compat mode.
func (pp *planProber) words(reason string) string {
	if pp.aws() {
		for m, r := range awsThrottleMessages {
			if r == reason {
				return "429 " + m
			}
		}
	}
	return "429 " + reason
}

// burst probes plan's bucket, or its per-route throttle t, with a burst
// one beyond it.
func (pp *planProber) burst(r *Report, plan *config.Plan, t *config.PlanRoute) {
	rate, size, reqs := plan.Rate, plan.Burst, pp.bucketRequests(plan)
	what := fmt.Sprintf("plan %q's bucket", plan.Name)
	if t != nil {
		rate, size, reqs = t.Rate, t.Burst, pp.throttleRequests(*plan, *t)
		what = fmt.Sprintf("plan %q's throttle of %s", plan.Name, t)
	}
	tg, why := pp.target(plan.Name, reqs)
	if why != "" {
		if t != nil && len(reqs) == 0 {
			why = "no request takes it (lint INQ018)"
		}
		r.NotChecked = append(r.NotChecked, fmt.Sprintf("%s: %s, so it was not probed", what, why))
		return
	}
	if t != nil {
		tg.cred.Label = "key " + tg.cred.ID + " (plan " + plan.Name + ", " + t.String() + " throttle)"
	}
	if !pp.local() {
		c := pp.cell(tg, Limited, fmt.Sprintf("%s past the burst of %d (and what refills at %g/s meanwhile)", pp.words(rateLimited), size, rate), 0)
		if why := pp.unsendable(tg); why != "" {
			skip(r, c, why)
			return
		}
		r.Cells = append(r.Cells, pp.outpace(c, tg, rate, size))
		return
	}
	n := size + 1
	c := pp.cell(tg, Limited, fmt.Sprintf("%d × function, then %s", size, pp.words(rateLimited)), n)
	if n > maxPlanRequests {
		skip(r, c, fmt.Sprintf("a burst of %d is over the %d requests verify sends", size, maxPlanRequests))
		return
	}
	pp.reset()
	pp.clock.Set(pp.now)
	r.Cells = append(r.Cells, pp.spend(c, tg, n, rateLimited, nil))
}

// spend sends tg n times on the local emulator: the first n-1 must reach
// the function, once each, and the last be refused for reason and run
// nothing. before, if set, runs before each request, with its number from 1.
func (pp *planProber) spend(c Cell, tg planTarget, n int, reason string, before func(i int)) Cell {
	for i := 1; i <= n; i++ {
		if before != nil {
			before(i)
		}
		a, invoked := pp.sendLocal(tg)
		if i < n {
			if a.kind != reached || invoked != 1 {
				c.Got = fmt.Sprintf("request %d of %d: %s", i, n, a.got())
				if invoked > 1 {
					c.Got += fmt.Sprintf(", invoked %s %d times", tg.rt.Function, invoked)
				}
				return c
			}
			continue
		}
		c.Invoked, c.Status = invoked, a.status
		fault := pp.refusedFor(a, tg.method, reason)
		switch {
		case a.kind == reached:
			c.Got = fmt.Sprintf("%d × function, never 429", n)
		case fault != "":
			c.Got = fmt.Sprintf("%d × function, then %s", n-1, fault)
		default:
			c.Got = fmt.Sprintf("%d × function, then %s", n-1, a.got())
		}
		c.OK = fault == "" && invoked == 0
	}
	return c
}

// refusedFor says what is wrong with a, the answer to method, as the
// gateway's 429 for reason, or "" when nothing is: inquir's body with
// Retry-After, or under compat = "aws" API Gateway's body. An answer to
// HEAD has no body to read: its status and fields say it.
func (pp *planProber) refusedFor(a answer, method, reason string) string {
	switch {
	case a.kind != throttled:
		return a.got()
	case a.reason == "" && method != http.MethodHead:
		if pp.aws() {
			return a.got() + ", not API Gateway's body"
		}
		return a.got() + ", not inquir's body"
	case a.reason != "" && a.reason != reason:
		return a.got() + ", not " + reason
	}
	if !pp.aws() {
		if s, err := strconv.Atoi(a.header.Get("Retry-After")); err != nil || s < 0 {
			return a.got() + " with no Retry-After"
		}
	}
	return ""
}

// sendLocal sends tg to the local emulator and counts the invocations it
// caused.
func (pp *planProber) sendLocal(tg planTarget) (answer, int) {
	before := pp.rec.count(tg.rt.Function)
	a := pp.send(tg)
	return a, pp.rec.count(tg.rt.Function) - before
}

func (pp *planProber) send(tg planTarget) answer {
	header := http.Header{}
	header.Set(pp.p.Config.Gateway.KeyHeader, tg.cred.Secret)
	return request(pp.ctx, pp.client, tg.method, pp.url+tg.path, header, pp.aws())
}

// sendMany sends tg n times, planWorkers at once, as fast as it can.
func (pp *planProber) sendMany(tg planTarget, n int) []answer {
	out := make([]answer, n)
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(planWorkers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				out[i] = pp.send(tg)
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return out
}

// outpace sends tg against a URL until one answer is the bucket's 429, or
// until it has sent more than the bucket can have let through: its size
// and what refilled at rate meanwhile. A gateway nobody can outpace from
// here (a rate faster than verify sends) leaves the cell not probed.
func (pp *planProber) outpace(c Cell, tg planTarget, rate float64, size int) Cell {
	start := time.Now()
	sent, need, through := 0, size+1, 0
	for {
		var limited, spent, other *answer
		for _, a := range pp.sendMany(tg, need-sent) {
			switch {
			case a.kind == reached:
				through++
			case a.kind == throttled && a.reason == quotaExceeded:
				spent = cmpOr(spent, a)
			case a.kind == throttled:
				limited = cmpOr(limited, a)
			default:
				other = cmpOr(other, a)
			}
		}
		sent = need
		c.Sent = sent
		switch {
		case other != nil:
			c.Got = fmt.Sprintf("%s (and %d of %d requests reached the function)", other.got(), through, sent)
			return c
		case limited != nil:
			c.Status = limited.status
			if fault := pp.refusedFor(*limited, tg.method, rateLimited); fault != "" {
				c.Got = fault
				return c
			}
			c.Got, c.OK = fmt.Sprintf("%s, %d of %d requests reached the function", limited.got(), through, sent), true
			return c
		case spent != nil:
			c.NotProbed, c.Sent = true, 0
			c.Got = fmt.Sprintf("not probed (%s: the key's quota ran out before its bucket)", spent.got())
			return c
		}
		elapsed := time.Since(start)
		need = size + int(math.Ceil(rate*elapsed.Seconds())) + 1
		switch {
		case sent >= need:
			c.Got = fmt.Sprintf("%d × function in %s, never 429: the bucket lets at most %d through then", sent, elapsed.Round(time.Millisecond), need-1)
			return c
		case need > maxPlanRequests:
			c.NotProbed, c.Sent = true, 0
			c.Got = fmt.Sprintf("not probed (at %g/s the bucket refills about as fast as verify sends: %d requests in %s, none refused)", rate, sent, elapsed.Round(time.Millisecond))
			return c
		}
	}
}

// cmpOr returns first, or a's address when first is nil.
func cmpOr(first *answer, a answer) *answer {
	if first != nil {
		return first
	}
	return &a
}

// quota probes plan's quota on the local emulator: spent in one window,
// the next request is refused 429 quota_exceeded and runs nothing; the
// next window starts afresh. Against a URL it is listed as not probed.
func (pp *planProber) quota(r *Report, plan *config.Plan) {
	q := plan.Quota
	what := fmt.Sprintf("plan %q's quota", plan.Name)
	// Any request of the key spends its quota; the bucket that applies to
	// the one sent says how fast it may go.
	rate, size := plan.Rate, plan.Burst
	tg, why := pp.target(plan.Name, pp.bucketRequests(plan))
	for _, t := range plan.Routes {
		if why == "" {
			break
		}
		if tg, why = pp.target(plan.Name, pp.throttleRequests(*plan, t)); why == "" {
			rate, size = t.Rate, t.Burst
		}
	}
	if why != "" {
		r.NotChecked = append(r.NotChecked, fmt.Sprintf("%s: %s, so it was not probed", what, why))
		return
	}
	first := q.Limit - q.Offset // the first window's limit, as API Gateway's offset takes it
	c := pp.cell(tg, QuotaSpent, fmt.Sprintf("%d × function, then %s", first, pp.words(quotaExceeded)), int(first+1))
	if !pp.local() {
		skip(r, c, "verify spends no quota against --url: it is the key's own")
		return
	}
	period, err := plans.ParsePeriod(q.Period)
	if err != nil { // config validated it
		r.Problems = append(r.Problems, fmt.Sprintf("%s: %v", what, err))
		return
	}
	// The bucket refills one request every step; the quota must be spent
	// within one window for its end to show.
	var step time.Duration
	if rate > 0 {
		step = time.Duration(math.Ceil(float64(time.Second) / rate))
	}
	_, start := period.Window(pp.now) // the next window, whole
	_, end := period.Window(start)
	refills := max(first+1-int64(size), 0)
	switch {
	case first+1 > maxPlanRequests:
		skip(r, c, fmt.Sprintf("a quota of %d is over the %d requests verify sends", first, maxPlanRequests))
		return
	case step > 0 && time.Duration(refills)*step >= end.Sub(start):
		skip(r, c, fmt.Sprintf("at %g/s the bucket cannot spend a quota of %d within one %s", rate, first, q.Period))
		return
	}
	pp.reset()
	pp.clock.Set(start)
	c = pp.spend(c, tg, int(first+1), quotaExceeded, func(i int) {
		if step > 0 && i > size {
			pp.clock.Advance(step)
		}
	})
	r.Cells = append(r.Cells, c)

	// The next window: the quota is whole again.
	_, next := period.Window(pp.clock.Now())
	pp.clock.Set(next)
	renewed := pp.cell(tg, Reach, "function (the next "+q.Period+"'s quota)", 0)
	a, invoked := pp.sendLocal(tg)
	renewed.Status, renewed.Invoked, renewed.Got = a.status, invoked, a.got()
	renewed.OK = a.kind == reached && invoked == 1
	r.Cells = append(r.Cells, renewed)
}

// unplanned probes a key with no plan with a burst one beyond the largest
// bucket of any plan: it is never refused 429.
func (pp *planProber) unplanned(r *Report) {
	largest := 0
	for _, plan := range pp.p.Config.Plans {
		if plan.Rate > 0 {
			largest = max(largest, plan.Burst)
		}
		for _, t := range plan.Routes {
			largest = max(largest, t.Burst)
		}
	}
	if largest == 0 {
		return // no plan throttles: a burst shows nothing
	}
	var reqs []candidate
	for _, rt := range pp.p.InFileOrder() {
		if !rt.Public() {
			for _, s := range samples(pp.p, rt) {
				reqs = append(reqs, candidate{rt, s.method, s.path})
			}
		}
	}
	tg, why := pp.target("", reqs)
	if why != "" {
		return // every key that may call a route has a plan: none to probe
	}
	n := min(largest+1, maxPlanRequests)
	c := pp.cell(tg, Reach, fmt.Sprintf("%d × function, never 429", n), n)
	if !pp.local() {
		if why := pp.unsendable(tg); why != "" {
			skip(r, c, why)
			return
		}
		ok := 0
		for _, a := range pp.sendMany(tg, n) {
			if a.kind != reached {
				c.Got = fmt.Sprintf("%s (after %d requests reached the function)", a.got(), ok)
				r.Cells = append(r.Cells, c)
				return
			}
			ok++
		}
		c.Got, c.OK = fmt.Sprintf("%d × function", n), true
		r.Cells = append(r.Cells, c)
		return
	}
	// On the policy with the plans in force and every key valid, as every
	// plan probe: this one runs first, when the emulator still serves the
	// matrix's (no plans; keys as valid as at Now).
	pp.reset()
	pp.clock.Set(pp.now)
	for i := 1; i <= n; i++ {
		a, invoked := pp.sendLocal(tg)
		if a.kind != reached || invoked != 1 {
			c.Got = fmt.Sprintf("request %d of %d: %s", i, n, a.got())
			r.Cells = append(r.Cells, c)
			return
		}
	}
	c.Got, c.OK = fmt.Sprintf("%d × function", n), true
	r.Cells = append(r.Cells, c)
}
