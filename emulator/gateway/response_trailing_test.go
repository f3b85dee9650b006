package gateway

import (
	"errors"
	"testing"
)

// TestParseResponseRefusesTrailingData: a payload 1.0 answer is one JSON
// object and nothing after it but whitespace. API Gateway cannot parse
// `{...}]` or `{...}}` and answers 502 (malformed Lambda proxy response);
// the decoder's More does not see a "]" or "}" after a top-level value.
func TestParseResponseRefusesTrailingData(t *testing.T) {
	for _, out := range []string{
		`{"statusCode":200}]`,
		`{"statusCode":200}}`,
		`{"statusCode":200} ]`,
		`{"statusCode":200}{}`,
		`{"statusCode":200} x`,
	} {
		if _, err := parseResponse([]byte(out)); !errors.Is(err, errMalformed) {
			t.Errorf("parseResponse(%s) = %v, want malformed", out, err)
		}
	}
	for _, out := range []string{`{"statusCode":200}`, " {\"statusCode\":200} \n\t"} {
		if _, err := parseResponse([]byte(out)); err != nil {
			t.Errorf("parseResponse(%q) = %v, want a response", out, err)
		}
	}
}
