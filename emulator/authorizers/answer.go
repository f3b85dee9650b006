package authorizers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
)

// Answer is what an authorizer function decided, parsed and checked.
type Answer struct {
	// PrincipalID is the caller the authorizer names (IAM answers).
	PrincipalID string
	// Policy is the IAM policy of an IAM answer.
	Policy Policy
	// Simple is set for a payload 2.0 simple response; Authorized is its
	// isAuthorized.
	Simple     bool
	Authorized bool
	// Context is the answer's context map, each value stringified as
	// REST APIs hand it to the handler ("1", "true"); nil values are left
	// out.
	Context map[string]string
	// RawContext is the context as the authorizer wrote it, for payload
	// 2.0 events, which keep the JSON types.
	RawContext map[string]any
	// UsageIdentifierKey is the API key the authorizer picked for the
	// request's usage plan (gateway.api_key_source = "authorizer"). It is
	// a secret: never logged.
	UsageIdentifierKey string
	// Size is the length of the answer as the function wrote it, which
	// bounds what the Cache holds.
	Size int
}

// Parse reads an authorizer function's answer: an IAM policy answer, or
// with simple set a payload 2.0 simple response. An answer API Gateway
// would refuse (AuthorizerConfigurationException, 500 to the caller) is an
// error that says what is wrong, in the words a user can act on.
func Parse(body []byte, simple bool) (Answer, error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return Answer{}, errors.New("the authorizer's answer is not a JSON object")
	}
	a, err := parse(body, simple)
	a.Size = len(body)
	return a, err
}

func parse(body []byte, simple bool) (Answer, error) {
	if simple {
		return parseSimple(body)
	}
	var raw struct {
		PrincipalID        *json.RawMessage `json:"principalId"`
		PolicyDocument     json.RawMessage  `json:"policyDocument"`
		Context            json.RawMessage  `json:"context"`
		UsageIdentifierKey *string          `json:"usageIdentifierKey"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return Answer{}, fmt.Errorf("the authorizer's answer does not decode: %v", err)
	}
	var a Answer
	if raw.PrincipalID == nil {
		return Answer{}, errors.New("the authorizer's answer has no principalId")
	}
	// API Gateway takes a number as principalId too; it reaches the
	// handler as a string.
	switch v := decodeAny(*raw.PrincipalID).(type) {
	case string:
		a.PrincipalID = v
	case json.Number:
		a.PrincipalID = v.String()
	default:
		return Answer{}, errors.New("the authorizer's principalId is not a string")
	}
	if len(raw.PolicyDocument) == 0 || string(raw.PolicyDocument) == "null" {
		return Answer{}, errors.New("the authorizer's answer has no policyDocument")
	}
	p, err := parsePolicy(raw.PolicyDocument)
	if err != nil {
		return Answer{}, err
	}
	a.Policy = p
	if a.Context, a.RawContext, err = parseContext(raw.Context); err != nil {
		return Answer{}, err
	}
	if raw.UsageIdentifierKey != nil {
		a.UsageIdentifierKey = *raw.UsageIdentifierKey
	}
	return a, nil
}

// parseSimple reads {"isAuthorized": bool, "context": {...}}.
func parseSimple(body []byte) (Answer, error) {
	var raw struct {
		IsAuthorized *bool           `json:"isAuthorized"`
		Context      json.RawMessage `json:"context"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return Answer{}, fmt.Errorf("the authorizer's simple response does not decode: %v", err)
	}
	if raw.IsAuthorized == nil {
		return Answer{}, errors.New("the authorizer's simple response has no isAuthorized (a boolean)")
	}
	a := Answer{Simple: true, Authorized: *raw.IsAuthorized}
	var err error
	// A simple response's context keeps its JSON types, objects and
	// arrays included: HTTP APIs hand it over as written.
	if len(raw.Context) > 0 && string(raw.Context) != "null" {
		if err = decodeStrict(raw.Context, &a.RawContext); err != nil {
			return Answer{}, errors.New("the authorizer's context is not a JSON object")
		}
	}
	return a, nil
}

// parseContext checks a REST answer's context: a flat object whose values
// are strings, numbers or booleans. API Gateway refuses a nested object or
// an array (AuthorizerConfigurationException) and hands the rest to the
// handler stringified.
func parseContext(raw json.RawMessage) (map[string]string, map[string]any, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil, nil
	}
	var m map[string]any
	if err := decodeStrict(raw, &m); err != nil {
		return nil, nil, errors.New("the authorizer's context is not a JSON object")
	}
	out := make(map[string]string, len(m))
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		switch v := m[k].(type) {
		case string:
			out[k] = v
		case json.Number:
			out[k] = v.String()
		case bool:
			out[k] = strconv.FormatBool(v)
		case nil:
		default:
			return nil, nil, fmt.Errorf("the authorizer's context value %q is an object or an array; API Gateway takes only strings, numbers and booleans there", k)
		}
	}
	return out, m, nil
}

// decodeStrict decodes JSON keeping numbers as json.Number, as written.
func decodeStrict(raw []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	return d.Decode(v)
}

func decodeAny(raw []byte) any {
	var v any
	if decodeStrict(raw, &v) != nil {
		return nil
	}
	return v
}
