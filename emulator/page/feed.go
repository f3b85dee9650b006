package page

import (
	"sync"
	"sync/atomic"

	"github.com/inquir-dev/inquir/emulator/gateway"
	"github.com/inquir-dev/inquir/emulator/redact"
)

// feed is the ring the gateway writes each request into and the page's
// streams read from. The gateway's side is a few atomic operations and a
// non-blocking wake of each subscriber: it never waits for a browser. A
// subscriber that falls more than a batch behind skips the records in
// between and counts them (subscriber.dropped).
type feed struct {
	slots []atomic.Pointer[record]
	last  atomic.Uint64 // the id of the newest record; ids start at 1

	mu   sync.Mutex                    // serializes subscribe and unsubscribe
	subs atomic.Pointer[[]*subscriber] // read without a lock by add
	// dropped counts every record a subscriber skipped, for Dropped.
	dropped atomic.Uint64
}

// record is one request in the ring, with its id.
type record struct {
	id uint64
	x  gateway.Exchange
	// mask hides the values x's key header carried (keyMask), built
	// once, when first asked for.
	maskOnce sync.Once
	mask     *redact.Redactor
}

// keyMask hides, in what the page sends of the request, the values its
// key header carried and the key its authorizer named (UsageKey), wherever else the request spelled them (its path,
// a query, another header, a body the function echoed): the Redactor
// knows only the secrets inquir resolved, not that of a key known by its
// sha256: digest alone, nor a secret no key has (a caller's key of
// another system). nil (which hides nothing) for a request without one.
func (rec *record) keyMask() *redact.Redactor {
	rec.maskOnce.Do(func() {
		vs := rec.x.Header.Values(keyHeaderOf(&rec.x))
		if k := rec.x.UsageKey(); k != "" {
			vs = append(vs[:len(vs):len(vs)], k)
		}
		if len(vs) > 0 {
			rec.mask = redact.New()
			rec.mask.Add(vs...)
		}
	})
	return rec.mask
}

// subscriber is one stream's place in the feed.
type subscriber struct {
	wake   chan struct{} // one pending signal: records were added
	cursor uint64        // the id of the last record sent
	fresh  bool          // nothing read yet: older records are history, not drops
}

func newFeed(size int) *feed {
	f := &feed{slots: make([]atomic.Pointer[record], size)}
	f.subs.Store(&[]*subscriber{})
	return f
}

// add puts x in the ring and wakes every subscriber; it never blocks.
func (f *feed) add(x gateway.Exchange) {
	id := f.last.Add(1)
	f.slots[id%uint64(len(f.slots))].Store(&record{id: id, x: x})
	for _, s := range *f.subs.Load() {
		select {
		case s.wake <- struct{}{}:
		default: // already woken; it reads everything up to last
		}
	}
}

// get returns the record with id, or nil when the ring no longer holds it.
func (f *feed) get(id uint64) *record {
	if id == 0 {
		return nil
	}
	r := f.slots[id%uint64(len(f.slots))].Load()
	if r == nil || r.id != id {
		return nil
	}
	return r
}

// subscribe starts a subscriber after the record with id after (0: with
// the newest records the ring holds, as many as a batch).
func (f *feed) subscribe(after uint64) *subscriber {
	if after > f.last.Load() {
		after = 0 // an id of an earlier run of inquir dev
	}
	s := &subscriber{wake: make(chan struct{}, 1), cursor: after, fresh: after == 0}
	f.mu.Lock()
	subs := append([]*subscriber(nil), *f.subs.Load()...)
	f.subs.Store(ptr(append(subs, s)))
	f.mu.Unlock()
	s.wake <- struct{}{} // send what the ring holds already
	return s
}

func (f *feed) unsubscribe(s *subscriber) {
	f.mu.Lock()
	var subs []*subscriber
	for _, o := range *f.subs.Load() {
		if o != s {
			subs = append(subs, o)
		}
	}
	f.subs.Store(&subs)
	f.mu.Unlock()
}

func ptr[T any](v T) *T { return &v }

// next returns the records after s's cursor, at most max of them (the
// newest), and how many it skipped: those over max behind, and those
// overwritten in the ring before they were read. A fresh subscriber starts
// with the newest max the ring holds, and skips nothing. It moves the
// cursor.
func (f *feed) next(s *subscriber, max int) (out []*record, skipped uint64) {
	last := f.last.Load()
	if last <= s.cursor {
		return nil, 0
	}
	from := s.cursor + 1
	if held := min(uint64(len(f.slots)), uint64(max)); last-from+1 > held {
		if !s.fresh {
			skipped = last - held + 1 - from
		}
		from = last - held + 1
	}
	s.fresh = false
	s.cursor = last
	for id := from; id <= last; id++ {
		r := f.slots[id%uint64(len(f.slots))].Load()
		switch {
		case r != nil && r.id == id:
			out = append(out, r)
		case r != nil && r.id > id:
			skipped++ // overwritten before it was read
		default:
			// Counted (last) but not yet stored: add wakes s again once
			// it is.
			s.cursor = id - 1
			f.dropped.Add(skipped)
			return out, skipped
		}
	}
	f.dropped.Add(skipped)
	return out, skipped
}
