// Package uuid makes the random UUIDs (version 4) that API Gateway and
// Lambda use as request ids.
package uuid

import (
	"crypto/rand"
	"encoding/hex"
)

// New returns a random UUID, version 4, in its usual text form
// (8-4-4-4-12 lower-case hex digits).
func New() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // the RFC 9562 variant
	// One allocation: the text is built in place, then made a string.
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:36], b[10:16])
	return string(out[:])
}
