package export

import (
	"testing"
	"time"
)

// TestMicrosNeverWeaker: HAProxy compares at microseconds; an instant in
// between is rounded so the exported check refuses at least whenever
// inquir's does: not_before up, expires down.
func TestMicrosNeverWeaker(t *testing.T) {
	at := time.Date(2026, 11, 1, 0, 0, 0, 1500, time.UTC) // 1.5µs past the second
	if got, want := micros(at, true), at.Truncate(time.Microsecond).UnixMicro()+1; got != want {
		t.Errorf("not_before: %d, want %d", got, want)
	}
	if got, want := micros(at, false), at.Truncate(time.Microsecond).UnixMicro(); got != want {
		t.Errorf("expires: %d, want %d", got, want)
	}
	whole := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	if micros(whole, true) != whole.UnixMicro() || micros(whole, false) != whole.UnixMicro() {
		t.Errorf("a whole microsecond must not move")
	}
}
