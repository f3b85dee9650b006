package gateway

import (
	"fmt"
	"strings"
	"testing"
)

// TestResponseV2MultiValueHeadersIgnored: a payload 2.0 answer's
// multiValueHeaders are not sent, as an HTTP API does not send them, and
// the log says so, naming the function and the headers, so that a
// handler relying on them is found here rather than in production.
func TestResponseV2MultiValueHeadersIgnored(t *testing.T) {
	f := newFixtureConfig(t, fmt.Sprintf(v2Config, "inquir", sha(partnerSecret)))
	f.spy.answer = func(string, []byte) ([]byte, error) {
		return []byte(`{"statusCode":200,"multiValueHeaders":{"Set-Cookie":["a=1","b=2"]},"body":"ok"}`), nil
	}
	rec := f.do("GET", "/x", "", "x-api-key", partnerSecret)
	if rec.Code != 200 || rec.Body.String() != "ok" {
		t.Fatalf("%d %q", rec.Code, rec.Body)
	}
	if got := rec.Header().Values("Set-Cookie"); len(got) != 0 {
		t.Errorf("Set-Cookie %q sent from multiValueHeaders, which an HTTP API ignores", got)
	}
	if log := f.log.String(); !strings.Contains(log, "multiValueHeaders") || !strings.Contains(log, "Set-Cookie") || !strings.Contains(log, "fn") {
		t.Errorf("the log does not say the multiValueHeaders were left out:\n%s", log)
	}
}
