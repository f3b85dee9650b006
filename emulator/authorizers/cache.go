package authorizers

import (
	"crypto/sha256"
	"encoding/binary"
	"sync"
	"time"
)

// A Cache holds at most MaxCacheEntries answers and MaxCacheBytes of
// them (as their functions wrote them: an answer may be as large as a
// Lambda response, 6 MB); past either, expired answers are dropped first,
// then any. An answer larger than MaxCacheBytes is not cached.
const (
	MaxCacheEntries = 10000
	MaxCacheBytes   = 64 << 20
)

// Cache keeps authorizers' answers for their TTL, keyed as API Gateway
// keys them: by authorizer and the values of its identity sources (the
// token, for a TOKEN authorizer). Like API Gateway's, one cached answer
// answers every route the authorizer guards until it expires: a policy
// that allows only the ARN it was first asked about denies the next route.
// Values are held as digests, never as the tokens themselves.
type Cache struct {
	mu      sync.Mutex
	entries map[cacheKey]entry
	bytes   int // the Size of every answer held
}

type cacheKey struct {
	authorizer string
	digest     [sha256.Size]byte
}

type entry struct {
	answer  Answer
	expires time.Time
}

// NewCache returns an empty Cache.
func NewCache() *Cache { return &Cache{entries: map[cacheKey]entry{}} }

func key(authorizer string, values []string) cacheKey {
	h := sha256.New()
	var n [8]byte
	for _, v := range values {
		binary.BigEndian.PutUint64(n[:], uint64(len(v)))
		h.Write(n[:])
		h.Write([]byte(v))
	}
	k := cacheKey{authorizer: authorizer}
	h.Sum(k.digest[:0])
	return k
}

// Get returns the answer cached for the authorizer and identity values at
// now, if one has not expired.
func (c *Cache) Get(authorizer string, values []string, now time.Time) (Answer, bool) {
	k := key(authorizer, values)
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k]
	if !ok {
		return Answer{}, false
	}
	if !now.Before(e.expires) {
		c.drop(k)
		return Answer{}, false
	}
	return e.answer, true
}

// Put caches a for ttl from now; a ttl of zero caches nothing.
func (c *Cache) Put(authorizer string, values []string, a Answer, ttl time.Duration, now time.Time) {
	if ttl <= 0 || a.Size > MaxCacheBytes {
		return
	}
	k := key(authorizer, values)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.drop(k)
	full := func() bool { return len(c.entries) >= MaxCacheEntries || c.bytes+a.Size > MaxCacheBytes }
	if full() {
		for k, e := range c.entries {
			if !now.Before(e.expires) {
				c.drop(k)
			}
		}
		for k := range c.entries {
			if !full() {
				break
			}
			c.drop(k)
		}
	}
	c.entries[k] = entry{answer: a, expires: now.Add(ttl)}
	c.bytes += a.Size
}

// drop forgets the answer at k, if any; c.mu is held.
func (c *Cache) drop(k cacheKey) {
	if e, ok := c.entries[k]; ok {
		c.bytes -= e.answer.Size
		delete(c.entries, k)
	}
}

// Flush drops every answer cached for the authorizers keep does not keep:
// after a reload, an authorizer whose definition changed starts afresh, as
// a redeployed one does on AWS.
func (c *Cache) Flush(keep func(authorizer string) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.entries {
		if !keep(k.authorizer) {
			c.drop(k)
		}
	}
}

// Len is the number of answers cached, expired ones not yet dropped
// included.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}
