package verify

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
)

// kind is what an answer shows about who gave it.
type kind uint8

const (
	failed      kind = iota // no answer: the request failed
	reached                 // the function answered
	refusal                 // the gateway refused (400, 401 or 403)
	redirect                // a 3xx, not followed
	notFunction             // 404, 405 or 5xx: a gateway, proxy or dead upstream
	throttled               // 429 from the gateway: a usage plan refused it
)

// answer is one response, read.
type answer struct {
	status int
	kind   kind
	header http.Header
	body   []byte
	err    error
	// reason is why a throttled answer's body says it was refused
	// (rateLimited or quotaExceeded), read in the words of the config's
	// compat mode (throttleReason); "" when the body does not say. said
	// is those words, for the GOT column.
	reason, said string
}

// got says what came back, for the GOT column.
func (a answer) got() string {
	switch a.kind {
	case failed:
		return a.err.Error()
	case refusal:
		return fmt.Sprint(a.status)
	case redirect:
		// A redirect is not the function answering: it may be a proxy or
		// login page in front of it, and it was not followed.
		return fmt.Sprintf("redirect (%d), not followed", a.status)
	case notFunction:
		return fmt.Sprintf("%d (not the function)", a.status)
	case throttled:
		if a.said != "" {
			return fmt.Sprintf("%d %s", a.status, a.said)
		}
		return fmt.Sprint(a.status)
	}
	return fmt.Sprintf("function (%d)", a.status)
}

// gatewayErrors are the "error" codes of inquir's refusal bodies, by status.
var gatewayErrors = map[int][]string{
	http.StatusBadRequest:   {"bad_request"},
	http.StatusUnauthorized: {"missing_api_key", "invalid_api_key"},
	http.StatusForbidden:    {"forbidden"},
}

// awsMessages are the "message"s of API Gateway's 403 refusals: a key that
// may not call the route, and a path or method with no resource behind it.
var awsMessages = []string{"Forbidden", "Missing Authentication Token"}

// Why a usage plan refuses a request, as inquir's 429 bodies say it, and
// as API Gateway's THROTTLED and QUOTA_EXCEEDED answers say it.
const (
	rateLimited   = "rate_limited"
	quotaExceeded = "quota_exceeded"
)

var awsThrottleMessages = map[string]string{"Too Many Requests": rateLimited, "Limit Exceeded": quotaExceeded}

// classify reads an answer as a gateway's refusal, a function's answer, or
// neither. The rules, which README.md "Prove that no route is open" states:
//
//   - 3xx is a redirect, never the function (and never followed);
//   - 404, 405 and 5xx are never the function: a router that found no
//     route, a proxy whose upstream is down or missing, or a function that
//     failed: none of them shows the function was reached and answered;
//   - 400, 401 and 403 are refusals, judged by status, so a gateway whose
//     refusal bodies differ from inquir's (Kong's, nginx's) is not reported
//     as a mismatch. A body that names who refused is read, though: if it
//     is a JSON object with an "error" string (inquir's field), the code
//     must be the gateway's for that status (missing_api_key or
//     invalid_api_key for 401, forbidden for 403, bad_request for 400);
//     under compat = "aws", if it has a "message" string and no "error",
//     a 403's message must be "Forbidden" or "Missing Authentication
//     Token". A body that names another code is the function's own 401 or
//     403, and counts as reached;
//   - 429 is a usage plan's refusal, judged by status as a refusal is,
//     except that a JSON "error" other than rate_limited or
//     quota_exceeded is the function's own 429;
//   - anything else is the function.
func classify(status int, body []byte, aws bool) kind {
	switch {
	case status >= 300 && status < 400:
		return redirect
	case status == http.StatusNotFound || status == http.StatusMethodNotAllowed || status >= 500:
		return notFunction
	case status == http.StatusTooManyRequests:
		var named struct {
			Error *string `json:"error"`
		}
		if json.Unmarshal(body, &named) == nil && named.Error != nil && *named.Error != rateLimited && *named.Error != quotaExceeded {
			return reached
		}
		return throttled
	case status != http.StatusBadRequest && status != http.StatusUnauthorized && status != http.StatusForbidden:
		return reached
	}
	var named struct {
		Error   *string `json:"error"`
		Message *string `json:"message"`
	}
	if json.Unmarshal(body, &named) != nil {
		return refusal // not a JSON object: the status says it
	}
	switch {
	case named.Error != nil:
		if slices.Contains(gatewayErrors[status], *named.Error) {
			return refusal
		}
		return reached
	case aws && status == http.StatusForbidden && named.Message != nil:
		if slices.Contains(awsMessages, *named.Message) {
			return refusal
		}
		return reached
	}
	return refusal
}

// forged are the identity headers verify sends as a client forging them;
// a gateway must drop or replace both before the function sees them.
var forged = map[string]string{
	"X-Inquir-Key-Id":       forgedKeyID,
	"X-Inquir-Key-Metadata": `{"` + forgedMarker + `":"1"}`,
}

const (
	forgedKeyID  = "inquir-verify-forged"
	forgedMarker = "inquir-verify-forged"
)

// request sends one probe, never following a redirect (the client given
// says so), and reads at most 64 KiB of the answer.
func request(ctx context.Context, client *http.Client, method, url string, header http.Header, aws bool) answer {
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		return answer{err: err}
	}
	for name, values := range header {
		req.Header[name] = values
	}
	resp, err := client.Do(req)
	if err != nil {
		return answer{err: err}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	a := answer{status: resp.StatusCode, kind: classify(resp.StatusCode, body, aws), header: resp.Header, body: body}
	if a.kind == throttled {
		a.reason, a.said = throttleReason(body, aws)
	}
	return a
}

// throttleReason reads why a 429 says a plan refused it, spelled as the
// config's compat mode has the gateway spell it: inquir's "error" code, or
// under compat = "aws" API Gateway's "message". It returns inquir's code
// and the words the body used, or "" for both when the body does not say
// so in those words.
func throttleReason(body []byte, aws bool) (reason, said string) {
	var named struct {
		Error   string `json:"error"`
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &named) != nil {
		return "", ""
	}
	if aws {
		if r := awsThrottleMessages[named.Message]; r != "" {
			return r, named.Message
		}
		return "", ""
	}
	if named.Error == rateLimited || named.Error == quotaExceeded {
		return named.Error, named.Error
	}
	return "", ""
}
