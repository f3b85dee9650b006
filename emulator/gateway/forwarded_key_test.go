package gateway

import (
	"strings"
	"testing"

	"github.com/inquir-dev/inquir/emulator/config"
)

// TestForwardedHeaderKeyNotInEvent: with key_header naming a header API
// Gateway appends to (X-Forwarded-For), the key the client sent in it is
// still the key header, which the event leaves out: addForwarded appends
// the client's address to what else the client sent there, never to the
// secret.
func TestForwardedHeaderKeyNotInEvent(t *testing.T) {
	f := newFixtureConfig(t, withGateway(config.CompatInquir, `key_header = "x-forwarded-for"`))
	rec := f.do("GET", "/customers/c-1", "", "X-Forwarded-For", partnerSecret)
	if rec.Code != 200 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	calls := f.spy.called()
	if len(calls) != 1 {
		t.Fatalf("%d calls", len(calls))
	}
	if strings.Contains(string(calls[0].raw), partnerSecret) {
		t.Errorf("the event holds the key: %s", calls[0].raw)
	}
	if got := calls[0].event.Headers["X-Forwarded-For"]; got != "192.0.2.1" {
		t.Errorf("X-Forwarded-For = %q, want the client's address alone", got)
	}
}
