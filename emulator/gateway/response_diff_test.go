package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// oldHeaderValue and oldStatusCode are headerValue and statusCode as they
// were before their fast paths: the reference the fast paths must agree
// with.
func oldHeaderValue(raw json.RawMessage) (string, error) {
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return "", err
	}
	switch v := v.(type) {
	case string:
		return v, nil
	case bool, json.Number:
		return fmt.Sprint(v), nil
	}
	return "", errors.New("a value must be a string, a number or a boolean")
}

func oldStatusCode(raw json.RawMessage) (int, error) {
	if string(raw) == "null" {
		return http.StatusOK, nil
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return 0, errors.New("not a number")
		}
		n = json.Number(strings.TrimSpace(s))
	}
	code, err := strconv.Atoi(n.String())
	if err != nil || code < 100 || code > 599 {
		return 0, fmt.Errorf("%s is not an HTTP status", n)
	}
	return code, nil
}

// TestResponseFastPathsAgree feeds the same JSON values, as a decoder hands
// them over (json.RawMessage from a map), to the fast paths and to the
// code they replaced: the same value or the same error text.
func TestResponseFastPathsAgree(t *testing.T) {
	values := []string{`null`, `true`, `false`, `0`, `-1`, `200`, `099`, `99`, `100`, `599`, `600`, `1e2`, `2.0`, `-0`, `12345678901234567890`,
		`"200"`, `" 201 "`, `"x"`, `""`, `"a\"b"`, `"\u00e9"`, `"\ud800"`, "\"\xff\"", "\"caf\xc3\xa9\"", `"<&>"`, `{}`, `[]`, `[1]`, `{"a":1}`}
	r := rand.New(rand.NewPCG(5, 6))
	for range 2000 {
		s := randomString(r)
		b, _ := json.Marshal(s)
		values = append(values, string(b), `"`+strings.NewReplacer(`"`, ``, `\`, ``).Replace(s)+`"`)
		values = append(values, strconv.Itoa(r.IntN(1000)-100))
	}
	for _, v := range values {
		var m map[string]json.RawMessage
		if err := json.Unmarshal([]byte(`{"v":`+v+`}`), &m); err != nil {
			continue // not JSON: the decoder refuses it before these run
		}
		raw := m["v"]
		gotS, gotErr := headerValue(raw)
		wantS, wantErr := oldHeaderValue(raw)
		if gotS != wantS || fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
			t.Errorf("headerValue(%s) = %q, %v; before: %q, %v", raw, gotS, gotErr, wantS, wantErr)
		}
		gotC, gotErr := statusCode(raw)
		wantC, wantErr := oldStatusCode(raw)
		if gotC != wantC || fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
			t.Errorf("statusCode(%s) = %d, %v; before: %d, %v", raw, gotC, gotErr, wantC, wantErr)
		}
		if raw[0] == '"' {
			var want string
			wantErr := json.Unmarshal(raw, &want)
			got, gotErr := jsonString(raw)
			if got != want || fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
				t.Errorf("jsonString(%s) = %q, %v; json.Unmarshal: %q, %v", raw, got, gotErr, want, wantErr)
			}
		}
	}
}
