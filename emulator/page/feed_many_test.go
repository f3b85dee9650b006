package page

import (
	"sync"
	"testing"

	"github.com/inquir-dev/inquir/emulator/gateway"
)

// TestFeedManySubscribers: subscribers that come and go while the gateway
// adds, some reading and some never, under -race: add never waits, every
// reader sees the newest record or counts what it skipped, and once all
// have gone the feed holds none of them.
func TestFeedManySubscribers(t *testing.T) {
	f := newFeed(64)
	const subs, adds = 100, 5000
	var wg sync.WaitGroup
	start := make(chan struct{})
	done := make(chan struct{})
	for i := range subs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := f.subscribe(0)
			defer f.unsubscribe(s)
			<-start
			if i%2 == 1 {
				<-done // a browser that never reads
				return
			}
			var seen, skipped uint64
			for {
				select {
				case <-s.wake:
				case <-done:
					recs, sk := f.next(s, streamBatch)
					seen, skipped = seen+uint64(len(recs)), skipped+sk
					if s.cursor != adds {
						t.Errorf("a reader stopped at %d of %d", s.cursor, adds)
					}
					if seen+skipped > adds {
						t.Errorf("a reader saw %d and skipped %d of %d", seen, skipped, adds)
					}
					return
				}
				recs, sk := f.next(s, streamBatch)
				seen, skipped = seen+uint64(len(recs)), skipped+sk
			}
		}()
	}
	close(start)
	for range adds {
		f.add(gateway.Exchange{Method: "GET", Path: "/x"})
	}
	close(done)
	wg.Wait()
	if n := len(*f.subs.Load()); n != 0 {
		t.Errorf("%d subscribers left after all went", n)
	}
}
