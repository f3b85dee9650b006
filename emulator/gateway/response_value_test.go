package gateway

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// viaJSON is what the gateway made of a go-plugin handler's response
// before responseOf: its JSON, parsed.
func viaJSON(t testing.TB, v *events.APIGatewayProxyResponse) (*proxyResponse, error) {
	t.Helper()
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("json.Marshal(%+v): %v", v, err)
	}
	return parseResponse(out)
}

// checkSameAsJSON fails the test unless responseOf(v) is what parsing v's
// JSON gives: an equal response, or an error with the same text.
func checkSameAsJSON(t testing.TB, v *events.APIGatewayProxyResponse) {
	t.Helper()
	before := fmt.Sprintf("%#v", *v)
	want, wantErr := viaJSON(t, v)
	got, gotErr := responseOf(v)
	if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
		t.Fatalf("responseOf(%#v): error %v; its JSON parsed: %v", *v, gotErr, wantErr)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("responseOf(%#v) =\n%#v\nits JSON parsed =\n%#v", *v, got, want)
	}
	if after := fmt.Sprintf("%#v", *v); after != before {
		t.Fatalf("responseOf changed the handler's value:\n%s\nnow\n%s", before, after)
	}
	if want != nil {
		// What reaches the client is the same too.
		a, b := httptest.NewRecorder(), httptest.NewRecorder()
		writeResponse(a, got)
		writeResponse(b, want)
		for _, h := range []http.Header{a.Header(), b.Header()} {
			for _, values := range h {
				slices.Sort(values) // names differing in case only meet in one, in map order
			}
		}
		if a.Code != b.Code || !reflect.DeepEqual(a.Header(), b.Header()) || a.Body.String() != b.Body.String() {
			t.Fatalf("written from %#v: %d %v %q; from its JSON: %d %v %q", *v, a.Code, a.Header(), a.Body, b.Code, b.Header(), b.Body)
		}
	}
}

// TestResponseOfMatchesJSON holds responseOf, the mapping of a response a
// go-plugin handler returns as a value, to what json.Marshal then
// parseResponse make of it, on the corners and on random responses.
func TestResponseOfMatchesJSON(t *testing.T) {
	corners := []events.APIGatewayProxyResponse{
		{},
		{StatusCode: 200},
		{StatusCode: 99}, {StatusCode: 100}, {StatusCode: 599}, {StatusCode: 600}, {StatusCode: -1}, {StatusCode: 1 << 40},
		{StatusCode: 200, Body: "caf\xe9"},
		{StatusCode: 200, Headers: map[string]string{"X-A": "a\xffb"}},
		{StatusCode: 200, Headers: map[string]string{"X-\xff": "1", "X-\xfe": "2"}}, // one name once replaced
		{StatusCode: 200, MultiValueHeaders: map[string][]string{"X-\xff": {"1"}, "X-\xfe": nil}},
		{StatusCode: 0, Body: "\xff"},
		{StatusCode: 200, Headers: map[string]string{}, MultiValueHeaders: map[string][]string{}},
		{StatusCode: 200, Headers: map[string]string{"X-A": "1"}, MultiValueHeaders: map[string][]string{"x-a": {}}},
		{StatusCode: 200, Headers: map[string]string{"X-A": "1"}, MultiValueHeaders: map[string][]string{"x-a": nil, "X-B": {"2", "3"}}},
		{StatusCode: 200, Headers: map[string]string{"X-A": "1"}, MultiValueHeaders: map[string][]string{"x-a": {"2"}}},
		{StatusCode: 200, Headers: map[string]string{"X-Crlf": "a\r\nInjected: 1", "Content-Length": "5", "Connection": "close"}},
		{StatusCode: 200, IsBase64Encoded: true, Body: "aGk="},
		{StatusCode: 200, IsBase64Encoded: true, Body: "not base64!"},
		{StatusCode: 200, IsBase64Encoded: true},
		{StatusCode: 0, IsBase64Encoded: true, Body: "!"},
		{StatusCode: 201, Body: "<p>\u2028 & \"x\"</p>", Headers: map[string]string{"Content-Type": "text/html", "": ""}},
	}
	for _, v := range corners {
		checkSameAsJSON(t, &v)
	}
	r := rand.New(rand.NewPCG(11, 12))
	for range 20000 {
		v := randomResponse(r)
		checkSameAsJSON(t, &v)
	}
}

// randomResponse is a response with every field drawn at random, bytes
// that are not UTF-8 and headers CR/LF included.
func randomResponse(r *rand.Rand) events.APIGatewayProxyResponse {
	codes := []int{0, -1, 99, 100, 200, 204, 302, 404, 502, 599, 600, 1000, r.IntN(700)}
	v := events.APIGatewayProxyResponse{
		StatusCode:        codes[r.IntN(len(codes))],
		Headers:           randomStringMap(r),
		MultiValueHeaders: randomStringsMap(r),
		Body:              randomString(r),
		IsBase64Encoded:   r.IntN(3) == 0,
	}
	if v.IsBase64Encoded && r.IntN(2) == 0 {
		v.Body = base64.StdEncoding.EncodeToString([]byte(v.Body))
	}
	if r.IntN(4) == 0 && v.Headers != nil {
		for name := range v.Headers {
			if v.MultiValueHeaders == nil {
				v.MultiValueHeaders = map[string][]string{}
			}
			v.MultiValueHeaders[strings.ToUpper(name)] = []string{randomString(r)}
			break
		}
	}
	return v
}

// FuzzResponseOf is TestResponseOfMatchesJSON on responses the fuzzer
// makes:
//
//	go test -run '^$' -fuzz FuzzResponseOf -fuzztime 60s ./emulator/gateway
func FuzzResponseOf(f *testing.F) {
	f.Add(200, "Content-Type", "text/plain", "Set-Cookie", "a=1", "b=2", uint8(2), "hello", false, uint8(0))
	f.Add(0, "X-\xff", "\xfe", "x-\xfe", "\r\n", "", uint8(1), "\xff", true, uint8(4))
	f.Add(600, "", "", "content-type", "", "", uint8(0), "aGk=", true, uint8(3))
	f.Add(-7, "Connection", "close", "Content-Length", "9", "x", uint8(3), "!!", true, uint8(8))
	f.Fuzz(func(t *testing.T, status int, name, value, multiName, v1, v2 string, values uint8, body string, b64 bool, shape uint8) {
		v := events.APIGatewayProxyResponse{StatusCode: status, Body: body, IsBase64Encoded: b64}
		if shape&1 == 0 {
			v.Headers = map[string]string{name: value, strings.ToLower(multiName): v1}
		}
		if shape&2 == 0 {
			var vs []string
			switch values % 4 {
			case 1:
				vs = []string{}
			case 2:
				vs = []string{v1}
			case 3:
				vs = []string{v1, v2, value}
			}
			v.MultiValueHeaders = map[string][]string{multiName: vs}
			if shape&4 != 0 {
				v.MultiValueHeaders[name] = []string{v2}
			}
		}
		if shape&8 != 0 {
			v.Body = base64.StdEncoding.EncodeToString([]byte(body))
		}
		checkSameAsJSON(t, &v)
	})
}

// valueInvoker is an EventInvoker whose functions answer with a value, as a
// go-plugin handler does; it counts the calls.
type valueInvoker struct {
	answer events.APIGatewayProxyResponse
	calls  atomic.Int64
}

func (v *valueInvoker) Invoke(context.Context, string, []byte) ([]byte, error) {
	panic("a function that takes the event as a value was invoked with JSON")
}

func (v *valueInvoker) TakesEvent(string) bool { return true }

func (v *valueInvoker) InvokeEvent(context.Context, string, *events.APIGatewayProxyRequest) (Response, error) {
	v.calls.Add(1)
	resp := v.answer
	return Response{Value: &resp}, nil
}

// logError is the error field of a request's log line.
var logError = regexp.MustCompile(`error="[^"]*(\\"[^"]*)*"`)

// TestGatewayMapsValueResponses serves responses a function returns as a
// value (go-plugin) and the same responses as JSON (a worker): the client
// gets the same answer, and a response API Gateway would refuse is refused
// with the same 502 and the same log line, after the function ran.
func TestGatewayMapsValueResponses(t *testing.T) {
	p := newFixture(t, "inquir").gw.Policy()
	serve := func(inv Invoker) (*httptest.ResponseRecorder, string) {
		var log bytes.Buffer
		gw := New(Options{Invoker: inv, Log: slog.New(slog.NewTextHandler(&log, nil)), Now: func() time.Time { return testNow }})
		gw.SetPolicy(p)
		req := httptest.NewRequest("GET", "/customers/c-1", nil)
		req.Header.Set("x-api-key", partnerSecret)
		rec := httptest.NewRecorder()
		gw.ServeHTTP(rec, req)
		return rec, logError.FindString(log.String())
	}
	for _, answer := range []events.APIGatewayProxyResponse{
		{StatusCode: 201, Headers: map[string]string{"X-A": "1", "X-B": "2"}, MultiValueHeaders: map[string][]string{"x-a": {"3", "4"}, "X-C": {}}, Body: "caf\xe9"},
		{StatusCode: 200, IsBase64Encoded: true, Body: "aGk="},
		{StatusCode: 0, Body: "no status"},
		{StatusCode: 200, IsBase64Encoded: true, Body: "not base64"},
		{StatusCode: 200, Headers: map[string]string{"X-\xff": "1", "X-\xfe": "2"}},
	} {
		out, err := json.Marshal(answer)
		if err != nil {
			t.Fatal(err)
		}
		values := &valueInvoker{answer: answer}
		got, gotLog := serve(values)
		want, wantLog := serve(&spy{answer: func(string, []byte) ([]byte, error) { return out, nil }})
		if values.calls.Load() != 1 {
			t.Errorf("%#v: the function ran %d times, want once", answer, values.calls.Load())
		}
		if got.Code != want.Code || !reflect.DeepEqual(got.Header(), want.Header()) || got.Body.String() != want.Body.String() {
			t.Errorf("%#v as a value: %d %v %q; as JSON: %d %v %q", answer, got.Code, got.Header(), got.Body, want.Code, want.Header(), want.Body)
		}
		if gotLog != wantLog {
			t.Errorf("%#v: logged %s as a value, %s as JSON", answer, gotLog, wantLog)
		}
		if want.Code == http.StatusBadGateway && !strings.Contains(wantLog, "malformed Lambda proxy response") {
			t.Errorf("%#v: logged %q, want the malformed response named", answer, wantLog)
		}
	}
}
