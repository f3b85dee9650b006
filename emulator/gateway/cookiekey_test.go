package gateway

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestV2CookieKeyNotInEvent: with key_header = "cookie", the Cookie
// header is the key header, so a payload 2.0 event carries neither it nor
// the cookies split from it; payload 1.0's leaves it out too.
func TestV2CookieKeyNotInEvent(t *testing.T) {
	for _, version := range []string{"1.0", "2.0"} {
		toml := strings.Replace(fmt.Sprintf(overlapVConfig, version, sha(partnerSecret), sha(internalSecret)), "[gateway]\n", "[gateway]\nkey_header = \"cookie\"\n", 1)
		addr, s := liveGatewayConfig(t, toml)
		code, _ := rawRequest(t, addr, "GET", "/api/x", "Cookie", partnerSecret, "X-Forwarded-For", "203.0.113.9")
		if code != http.StatusOK {
			t.Fatalf("%s: status %d", version, code)
		}
		calls := s.called()
		if len(calls) != 1 {
			t.Fatalf("%s: %d calls", version, len(calls))
		}
		if strings.Contains(string(calls[0].raw), "partner-secret") {
			t.Errorf("%s: the event holds the key: %s", version, calls[0].raw)
		}
		if !strings.Contains(string(calls[0].raw), `"sourceIp":"127.0.0.1"`) {
			t.Errorf("%s: sourceIp is not the connection's address: %s", version, calls[0].raw)
		}
	}
}
