package page

import (
	"testing"
	"time"

	"github.com/inquir-dev/inquir/emulator/gateway"
)

// TestFeedNeverBlocks: a subscriber that never reads does not hold the
// gateway up; when it reads, it gets at most a batch, the newest, and the
// records it missed are counted, not lost silently.
func TestFeedNeverBlocks(t *testing.T) {
	f := newFeed(16)
	slow := f.subscribe(0)
	done := make(chan struct{})
	go func() {
		for i := 0; i < 1000; i++ {
			f.add(gateway.Exchange{Path: "/r"})
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("add blocked on a subscriber that does not read")
	}
	// The fresh subscriber's first read is history, not drops: the
	// newest batch.
	recs, skipped := f.next(slow, 4)
	if len(recs) != 4 || recs[0].id != 997 || recs[3].id != 1000 || skipped != 0 {
		t.Fatalf("first read: %d records from %d, skipped %d; want 997..1000, none skipped", len(recs), recs[0].id, skipped)
	}
	for i := 0; i < 10; i++ {
		f.add(gateway.Exchange{Path: "/r"})
	}
	recs, skipped = f.next(slow, 4)
	if len(recs) != 4 || recs[0].id != 1007 || skipped != 6 {
		t.Fatalf("second read: %d records from %d, skipped %d; want 1007..1010, 6 skipped", len(recs), recs[0].id, skipped)
	}
	for i := 0; i < 40; i++ { // more than the ring holds
		f.add(gateway.Exchange{Path: "/r"})
	}
	recs, skipped = f.next(slow, 100)
	if len(recs) != 16 || skipped != 24 {
		t.Fatalf("after the ring wrapped: %d records, skipped %d; want the ring's 16, 24 skipped", len(recs), skipped)
	}
	if got := f.dropped.Load(); got != 30 {
		t.Errorf("dropped in all: %d, want 30", got)
	}
	if r := f.get(1); r != nil {
		t.Errorf("get(1) = record %d: the ring no longer holds it", r.id)
	}
	if r := f.get(1050); r == nil || r.id != 1050 {
		t.Errorf("get(1050) = %v", r)
	}
	f.unsubscribe(slow)
	if n := len(*f.subs.Load()); n != 0 {
		t.Errorf("%d subscribers after unsubscribe", n)
	}
}

// TestFeedReconnect: a stream that reconnects with the id of the last
// record it got picks up after it, and one from an earlier run (an id the
// feed has not reached) starts fresh.
func TestFeedReconnect(t *testing.T) {
	f := newFeed(16)
	for i := 0; i < 5; i++ {
		f.add(gateway.Exchange{})
	}
	s := f.subscribe(3)
	recs, skipped := f.next(s, 100)
	if len(recs) != 2 || recs[0].id != 4 || skipped != 0 {
		t.Errorf("after id 3: %d records from %v, skipped %d", len(recs), recs, skipped)
	}
	s = f.subscribe(99)
	if recs, _ := f.next(s, 100); len(recs) != 5 {
		t.Errorf("an id from another run: %d records, want the 5 held", len(recs))
	}
}
