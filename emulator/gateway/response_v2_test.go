package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"
)

// TestParseResponseV2 reads answers as an HTTP API reads a payload 2.0
// response (the developer guide's "Lambda function response format"): an
// object with statusCode is a response; any other JSON, an object without
// statusCode included, is the body of a 200 application/json answer.
func TestParseResponseV2(t *testing.T) {
	type want struct {
		status  int
		headers http.Header
		body    string
	}
	json200 := func(body string) want {
		return want{200, http.Header{"Content-Type": {"application/json"}}, body}
	}
	tests := []struct {
		name, out string
		want      want
	}{
		// The guide's two examples of an inferred answer.
		{"a string", `"Hello from Lambda!"`, json200("Hello from Lambda!")},
		{"an object without statusCode", `{"message":"Hello from Lambda!"}`, json200(`{"message":"Hello from Lambda!"}`)},
		{"a response's keys without statusCode", `{"body":"hi","cookies":["a=1"]}`, json200(`{"body":"hi","cookies":["a=1"]}`)},
		{"a number", `42`, json200(`42`)},
		{"an array", `[1,2]`, json200(`[1,2]`)},
		{"null", `null`, json200(`null`)},
		{"statusCode null", `{"statusCode":null,"body":"x"}`, json200(`{"statusCode":null,"body":"x"}`)},
		{"a response", `{"statusCode":201,"headers":{"content-type":"text/plain","x-n":3,"x-b":true},"body":"made"}`,
			want{201, http.Header{"Content-Type": {"text/plain"}, "X-N": {"3"}, "X-B": {"true"}}, "made"}},
		{"cookies", `{"statusCode":200,"cookies":["a=1; Path=/","b=2"],"body":""}`,
			want{200, http.Header{"Set-Cookie": {"a=1; Path=/", "b=2"}, "Content-Type": {"application/json"}}, ""}},
		{"a string statusCode", `{"statusCode":"404"}`, want{404, http.Header{"Content-Type": {"application/json"}}, ""}},
		{"base64", `{"statusCode":200,"isBase64Encoded":true,"body":"aGk=","headers":{"content-type":"application/octet-stream"}}`,
			want{200, http.Header{"Content-Type": {"application/octet-stream"}}, "hi"}},
		{"aws-lambda-go's response, nulls and all", `{"statusCode":200,"headers":null,"multiValueHeaders":null,"body":"ok","cookies":null}`,
			want{200, http.Header{"Content-Type": {"application/json"}}, "ok"}},
		// Not part of the 2.0 format: an HTTP API sends none of them
		// (aws/serverless-java-container#377, the API Gateway team's
		// answer; Kludex/mangum#215, cookies lost so).
		{"multiValueHeaders", `{"statusCode":200,"multiValueHeaders":{"x-m":["1","2"],"Set-Cookie":["a=1"]},"headers":{"x-h":"h"}}`,
			want{200, http.Header{"X-H": {"h"}, "Content-Type": {"application/json"}}, ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := parseResponseV2([]byte(tt.out))
			if err != nil {
				t.Fatal(err)
			}
			rec := httptest.NewRecorder()
			writeResponseV2(rec, resp)
			h := rec.Header().Clone()
			h.Del("Content-Length")
			got := want{rec.Code, h, rec.Body.String()}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("answer (-want +got):\n%s", diff)
			}
		})
	}

	for _, bad := range []string{
		`{"statusCode":0}`, `{"statusCode":"abc"}`, `{"statusCode":700}`, `{"statusCode":200,"cookies":"a=1"}`,
		`{"statusCode":200,"cookies":[1]}`, `{"statusCode":200,"body":{"a":1}}`, `{"statusCode":200,"headers":{"a":[1]}}`,
		`{"statusCode":200,"isBase64Encoded":true,"body":"***"}`, `{"statusCode":200,"isBase64Encoded":"yes"}`,
		`not json`, `{"a":1} {"b":2}`, ``,
	} {
		if resp, err := parseResponseV2([]byte(bad)); !errors.Is(err, errMalformed) {
			t.Errorf("parseResponseV2(%s) = %+v, %v; want errMalformed", bad, resp, err)
		}
	}
}

// TestResponseV2OfGoHandler checks that what a Go handler returns as an
// events.APIGatewayV2HTTPResponse, encoded as aws-lambda-go encodes it,
// answers as it says: cookies as Set-Cookie headers included.
func TestResponseV2OfGoHandler(t *testing.T) {
	out, err := json.Marshal(events.APIGatewayV2HTTPResponse{
		StatusCode: 202, Body: "queued", Cookies: []string{"s=1; HttpOnly"},
		Headers: map[string]string{"Content-Type": "text/plain"},
	})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := parseResponseV2(out)
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	writeResponseV2(rec, resp)
	if rec.Code != 202 || rec.Body.String() != "queued" || rec.Header().Get("Set-Cookie") != "s=1; HttpOnly" || rec.Header().Get("Content-Type") != "text/plain" {
		t.Errorf("%d %q %v", rec.Code, rec.Body, rec.Header())
	}
}

// v2Fixture is a gateway serving v2Config under compat with a spy whose
// answer the test sets.
func v2Fixture(t *testing.T, compat string, answer func(string, []byte) ([]byte, error)) (*Gateway, *spy) {
	t.Helper()
	s := &spy{answer: answer}
	gw := New(Options{Invoker: s, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return testNow }})
	gw.SetPolicy(v2Policy(t, compat))
	return gw, s
}

func serve(gw *Gateway, method, target string, header ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	gw.ServeHTTP(rec, req)
	return rec
}

// TestV2Rejections checks that a keyed payload 2.0 route refuses as a
// payload 1.0 route does, before the function: inquir's bodies by
// default, and under compat = "aws" what an HTTP API whose Lambda
// authorizer reads the key header answers (401 without it, 403 with one
// it refuses).
func TestV2Rejections(t *testing.T) {
	tests := []struct {
		compat string
		header []string
		status int
		body   string
	}{
		{"inquir", nil, 401, `{"error":"missing_api_key","message":"this route needs an API key in the x-api-key header"}`},
		{"inquir", []string{"x-api-key", unknownSecret}, 401, `{"error":"invalid_api_key","message":"the API key is not valid"}`},
		{"aws", nil, 401, `{"message":"Unauthorized"}`},
		{"aws", []string{"x-api-key", unknownSecret}, 403, `{"message":"Forbidden"}`},
		{"aws", []string{"x-api-key", partnerSecret, "x-api-key", partnerSecret}, 403, `{"message":"Forbidden"}`},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.compat, tt.header), func(t *testing.T) {
			gw, s := v2Fixture(t, tt.compat, nil)
			rec := serve(gw, "GET", "/orders/1", tt.header...)
			if rec.Code != tt.status || strings.TrimSpace(rec.Body.String()) != tt.body {
				t.Errorf("%d %s; want %d %s", rec.Code, rec.Body, tt.status, tt.body)
			}
			if n := len(s.called()); n != 0 {
				t.Errorf("the function ran %d times; want never", n)
			}
		})
	}
}

// TestV2FunctionFailure checks what a caller gets when the function of a
// payload 2.0 route fails, times out or answers what an HTTP API cannot
// read: inquir's 502 or 504 by default, and an HTTP API's 500
// {"message":"Internal Server Error"} under compat = "aws".
func TestV2FunctionFailure(t *testing.T) {
	failures := map[string]func(string, []byte) ([]byte, error){
		"error":     func(string, []byte) ([]byte, error) { return nil, errors.New("handler error") },
		"timeout":   func(string, []byte) ([]byte, error) { return nil, fmt.Errorf("fn: %w", ErrTimeout) },
		"busy":      func(string, []byte) ([]byte, error) { return nil, fmt.Errorf("fn: %w", ErrBusy) },
		"malformed": func(string, []byte) ([]byte, error) { return []byte(`{"statusCode":"teapot"}`), nil },
	}
	inquir := map[string]int{"error": 502, "timeout": 504, "busy": 503, "malformed": 502}
	for name, answer := range failures {
		t.Run(name, func(t *testing.T) {
			gw, s := v2Fixture(t, "inquir", answer)
			if rec := serve(gw, "GET", "/x", "x-api-key", partnerSecret); rec.Code != inquir[name] || !strings.Contains(rec.Body.String(), `"error":"function_`) {
				t.Errorf("compat inquir: %d %s; want %d and inquir's body", rec.Code, rec.Body, inquir[name])
			}
			gw, s = v2Fixture(t, "aws", answer)
			rec := serve(gw, "GET", "/x", "x-api-key", partnerSecret)
			if rec.Code != 500 || rec.Body.String() != `{"message":"Internal Server Error"}`+"\n" {
				t.Errorf("compat aws: %d %s; want 500 Internal Server Error", rec.Code, rec.Body)
			}
			if len(s.called()) != 1 {
				t.Errorf("%d calls; want 1", len(s.called()))
			}
		})
	}
}

// v2Invoker is an EventV2Invoker that records whether the event came as a
// value, and answers as a go-plugin function's JSON.
type v2Invoker struct {
	spy
	typed atomic.Int32
	ev    *events.APIGatewayV2HTTPRequest
}

func (v *v2Invoker) TakesEvent(string) bool { return true }

func (v *v2Invoker) InvokeEventV2(ctx context.Context, function string, ev *events.APIGatewayV2HTTPRequest) ([]byte, error) {
	v.typed.Add(1)
	v.ev = ev
	return json.Marshal(events.APIGatewayV2HTTPResponse{StatusCode: 200, Body: "typed " + ev.RawPath, Cookies: []string{"t=1"}})
}

// TestV2EventInvoker checks that a function that takes its event as a
// value (go-plugin) gets the payload 2.0 event through InvokeEventV2,
// never as JSON, and that its answer reads as JSON's would.
func TestV2EventInvoker(t *testing.T) {
	inv := &v2Invoker{}
	gw := New(Options{Invoker: inv, Now: func() time.Time { return testNow }})
	gw.SetPolicy(v2Policy(t, "inquir"))
	rec := serve(gw, "GET", "/a/b?x=1", "x-api-key", partnerSecret)
	if rec.Code != 200 || rec.Body.String() != "typed /a/b" || rec.Header().Get("Set-Cookie") != "t=1" {
		t.Errorf("%d %q %v", rec.Code, rec.Body, rec.Header())
	}
	if inv.typed.Load() != 1 || len(inv.called()) != 0 {
		t.Fatalf("%d typed calls, %d JSON calls; want 1 and 0", inv.typed.Load(), len(inv.called()))
	}
	if inv.ev.Version != "2.0" || inv.ev.RouteKey != "ANY /{proxy+}" || inv.ev.RequestContext.Authorizer.Lambda["apiKeyId"] != "k" {
		t.Errorf("event %+v", inv.ev)
	}
}

// TestResponseV2MatchesAWSSample maps aws-lambda-go's published response
// in the payload 2.0 format (events/testdata/lambda-urls-response.json: a
// function URL answers in the format HTTP APIs read) through a gateway:
// its status, its headers, each cookie as a Set-Cookie header, its body.
func TestResponseV2MatchesAWSSample(t *testing.T) {
	sample := awsV2Capture(t, "lambda-urls-response.json")
	out, err := json.Marshal(sample)
	if err != nil {
		t.Fatal(err)
	}
	gw, s := v2Fixture(t, "inquir", func(string, []byte) ([]byte, error) { return out, nil })
	rec := serve(gw, "GET", "/x", "x-api-key", partnerSecret)
	if len(s.called()) != 1 {
		t.Fatalf("%d calls", len(s.called()))
	}
	if rec.Code != int(sample["statusCode"].(float64)) || rec.Body.String() != sample["body"] {
		t.Errorf("%d %q; want the sample's status and body", rec.Code, rec.Body)
	}
	for name, v := range sample["headers"].(map[string]any) {
		if got := rec.Header().Values(name); len(got) != 1 || got[0] != v {
			t.Errorf("header %s = %q, want %q", name, got, v)
		}
	}
	var cookies []string
	for _, c := range sample["cookies"].([]any) {
		cookies = append(cookies, c.(string))
	}
	if diff := cmp.Diff(cookies, rec.Header().Values("Set-Cookie")); diff != "" {
		t.Errorf("Set-Cookie (-sample +got):\n%s", diff)
	}
}

// FuzzParseResponseV2 holds parseResponseV2 to its contract on any output:
// it never panics; what it accepts writes a status in 100-599; an output
// without a statusCode key (or not an object) is accepted as a 200 whose
// body is the output (a string's text); anything it refuses is
// errMalformed.
func FuzzParseResponseV2(f *testing.F) {
	for _, s := range []string{
		`"hi"`, `{"a":1}`, `42`, `null`, `[1]`, `{"statusCode":201,"cookies":["a=1"],"body":"x"}`,
		`{"statusCode":"200"}`, `{"statusCode":0}`, `{"statusCode":200,"isBase64Encoded":true,"body":"aGk="}`,
		`{"statusCode":200,"headers":{"a":1,"b":true,"c":"d"}}`, `{"statusCode":null}`, ` "a" `, `{`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, out []byte) {
		resp, err := parseResponseV2(out)
		if err != nil {
			if !errors.Is(err, errMalformed) {
				t.Fatalf("error %v is not errMalformed", err)
			}
			return
		}
		if resp.StatusCode < 100 || resp.StatusCode > 599 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		var fields map[string]json.RawMessage
		if json.Unmarshal(out, &fields) != nil || fields["statusCode"] == nil || string(fields["statusCode"]) == "null" {
			want := strings.Trim(string(out), " \t\r\n")
			var v any
			if json.Unmarshal(out, &v) == nil {
				if s, ok := v.(string); ok {
					want = s
				}
			}
			if resp.StatusCode != 200 || resp.Body != want {
				t.Fatalf("inferred answer %d %q; want 200 %q", resp.StatusCode, resp.Body, want)
			}
		}
		writeResponseV2(httptest.NewRecorder(), resp)
	})
}
