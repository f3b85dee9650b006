package gateway

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"

	"github.com/inquir-dev/inquir/emulator/config"
)

// randomString returns a string mixing what JSON escaping treats apart:
// plain ASCII, quotes and backslashes, control bytes, HTML's <>&, U+2028
// and U+2029, other multi-byte runes and bytes that are not UTF-8.
func randomString(r *rand.Rand) string {
	pieces := []string{"a", "Z", "0", " ", "\"", "\\", "/", "<", ">", "&", "\x00", "\x1f", "\b", "\f", "\n", "\r", "\t", "\x7f",
		"\u2028", "\u2029", "é", "日本", "😀", "\xff", "\xc3", "\xe2\x80", "=", "%2F", "{", "}"}
	var b []byte
	for range r.IntN(12) {
		b = append(b, pieces[r.IntN(len(pieces))]...)
	}
	return string(b)
}

// randomAuthorizer is a requestContext.authorizer: strings, and a
// integrationLatency number at times.
func randomAuthorizer(r *rand.Rand) map[string]any {
	m := randomStringMap(r)
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	if r.IntN(2) == 0 {
		out["integrationLatency"] = r.Int64N(1 << 40)
	}
	return out
}

func randomStringMap(r *rand.Rand) map[string]string {
	switch r.IntN(4) {
	case 0:
		return nil
	case 1:
		return map[string]string{}
	}
	m := map[string]string{}
	for range 1 + r.IntN(6) {
		m[randomString(r)] = randomString(r)
	}
	return m
}

func randomStringsMap(r *rand.Rand) map[string][]string {
	switch r.IntN(4) {
	case 0:
		return nil
	case 1:
		return map[string][]string{}
	}
	m := map[string][]string{}
	for range 1 + r.IntN(6) {
		var vs []string
		if r.IntN(5) > 0 {
			vs = []string{}
			for range r.IntN(4) {
				vs = append(vs, randomString(r))
			}
		}
		m[randomString(r)] = vs
	}
	return m
}

func randomStringPtr(r *rand.Rand) *string {
	if r.IntN(2) == 0 {
		return nil
	}
	s := randomString(r)
	return &s
}

// TestJSONMatchesMarshal proves the hand-written encoders write the bytes
// json.Marshal writes for the same values, over random values.
func TestJSONMatchesMarshal(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 3000 {
		s := randomString(r)
		want, _ := json.Marshal(s)
		if got := appendJSONString(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("appendJSONString(%q) = %s, json.Marshal = %s", s, got, want)
		}

		errCode, message := randomString(r), randomString(r)
		body := map[string]string{"error": errCode}
		if message != "" {
			body["message"] = message
		}
		want, _ = json.Marshal(body)
		want = append(want, '\n')
		if got := appendErrorBody(nil, errCode, message); !bytes.Equal(got, want) {
			t.Fatalf("appendErrorBody(%q, %q) = %s, want %s", errCode, message, got, want)
		}

		ev := proxyEvent{
			Resource: randomString(r), Path: randomString(r), HTTPMethod: randomString(r),
			Headers: randomStringMap(r), MultiValueHeaders: randomStringsMap(r),
			QueryStringParameters: randomStringMap(r), MultiValueQueryStringParameters: randomStringsMap(r),
			PathParameters: randomStringMap(r), StageVariables: randomStringMap(r),
			Body: randomStringPtr(r), IsBase64Encoded: r.IntN(2) == 0,
			RequestContext: requestContext{
				ResourceID: randomString(r), ResourcePath: randomString(r), HTTPMethod: randomString(r),
				ExtendedRequestID: randomString(r), RequestTime: randomString(r), Path: randomString(r),
				AccountID: randomString(r), Protocol: randomString(r), Stage: randomString(r),
				DomainPrefix: randomString(r), RequestTimeEpoch: r.Int64() - r.Int64(), RequestID: randomString(r),
				DomainName: randomString(r), APIID: randomString(r), Authorizer: randomAuthorizer(r),
				Identity: identity{
					CognitoIdentityPoolID: randomStringPtr(r), AccountID: randomStringPtr(r), CognitoIdentityID: randomStringPtr(r),
					Caller: randomStringPtr(r), APIKey: randomStringPtr(r), APIKeyID: randomStringPtr(r),
					AccessKey: randomStringPtr(r), SourceIP: randomString(r), PrincipalOrgID: randomStringPtr(r),
					CognitoAuthenticationType: randomStringPtr(r), CognitoAuthenticationProvider: randomStringPtr(r),
					UserArn: randomStringPtr(r), UserAgent: randomString(r), User: randomStringPtr(r),
				},
			},
		}
		want, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		if got := marshalEvent(&ev); !bytes.Equal(got, want) {
			t.Fatalf("event %d: marshalEvent differs from json.Marshal:\n got %s\nwant %s", i, got, want)
		}
	}
}

// BenchmarkEventEncoding compares, in one run, json.Marshal of one allowed
// request's event with marshalEvent, which writes the same bytes.
//
//	go test -run '^$' -bench EventEncoding -benchmem ./emulator/gateway
func BenchmarkEventEncoding(b *testing.B) {
	f := newFixture(b, config.CompatInquir)
	p := f.gw.Policy()
	r := benchRequest()
	m := p.Match(r.Method, r.URL.EscapedPath())
	d := p.Authorize(m.Route, partnerSecret, testNow)
	built := newEvent(r, m, d, []byte(benchBody), "c0ffee00-0000-4000-8000-000000000000", "x-api-key", "", testNow)
	raw := marshalEvent(&built)
	var ev proxyEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		b.Fatal(err)
	}
	b.Run("json.Marshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = json.Marshal(&ev)
		}
	})
	b.Run("marshalEvent", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = marshalEvent(&ev)
		}
	})
}
