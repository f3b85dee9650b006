package verify

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/inquir-dev/inquir/emulator/policy"
)

// echoed is what an echo route's function answers: what it received. The
// contract (README.md, "Prove that no route is open"):
//
//   - path: the path the function was handed (a Lambda event's path; an
//     HTTP upstream's request path, as received);
//   - headers: the headers it was handed, by name, each a string or an
//     array of strings (a Lambda event's multiValueHeaders or headers);
//   - keyId: the key id it was given, or null: a Lambda handler's
//     event.requestContext.identity.apiKeyId, an HTTP upstream's
//     X-Inquir-Key-Id header;
//   - keyMetadata (optional): the key's metadata it was given, or null:
//     a Lambda handler's event.requestContext.authorizer, an HTTP
//     upstream's X-Inquir-Key-Metadata header, parsed.
type echoed struct {
	Path        *string                    `json:"path"`
	Headers     map[string]json.RawMessage `json:"headers"`
	KeyID       *string                    `json:"keyId"`
	KeyMetadata json.RawMessage            `json:"keyMetadata"`
}

// checkEcho reads an echo route's answer to a probe sent with secret (""
// for none) and the forged identity headers, and says what is wrong with
// what the function received, or "" if nothing is:
//
//   - the key header, or the secret anywhere, reached the function;
//   - the key id it was given is the forged one, or on a protected route
//     not the id of the key sent (on a public route: none, or that key's);
//   - the forged metadata reached it as the key's metadata;
//   - the path it was handed, normalised and routed as inquir routes it,
//     is not served by the echo route: the gateway authorised one path
//     and forwarded another.
func checkEcho(p *policy.Policy, rt *policy.Route, method string, body []byte, secret, keyID string) string {
	var e echoed
	if err := json.Unmarshal(body, &e); err != nil || e.Path == nil || e.Headers == nil {
		return "echo: the answer is not an echo (a JSON object with path and headers)"
	}
	var faults []string
	for name := range e.Headers {
		if strings.EqualFold(name, p.Config.Gateway.KeyHeader) {
			faults = append(faults, "the "+p.Config.Gateway.KeyHeader+" header reached the function")
			break
		}
	}
	if secret != "" && (strings.Contains(string(body), secret) || containsString(body, secret)) {
		faults = append(faults, "the key's secret reached the function")
	}
	got := ""
	if e.KeyID != nil {
		got = *e.KeyID
	}
	switch {
	case got == forgedKeyID:
		faults = append(faults, "the client's forged X-Inquir-Key-Id reached the function as its key id")
	case rt.Public() && got != "" && got != keyID:
		faults = append(faults, fmt.Sprintf("the function was given key id %q, not the key sent", got))
	case !rt.Public() && got != keyID:
		faults = append(faults, fmt.Sprintf("the function was given key id %q, want %q", got, keyID))
	}
	if strings.Contains(string(e.KeyMetadata), forgedMarker) {
		faults = append(faults, "the client's forged X-Inquir-Key-Metadata reached the function as the key's metadata")
	}
	if m := matchEchoed(p, method, *e.Path); m.Route != rt || m.Refused != "" {
		to := "no route"
		if m.Route != nil {
			to = m.Route.String()
		}
		if m.Refused != "" {
			to += ", refused as ambiguous"
		}
		faults = append(faults, fmt.Sprintf("the function was handed path %q, which routes to %s", *e.Path, to))
	}
	if len(faults) == 0 {
		return ""
	}
	return "echo: " + strings.Join(faults, "; ")
}

// matchEchoed routes a path an echo handed back: as a request path
// (escaped), or, if it is not valid as one, as a decoded path (a gateway
// may hand a function the path decoded, as API Gateway's event does).
func matchEchoed(p *policy.Policy, method, path string) policy.Match {
	if method == http.MethodHead {
		method = http.MethodGet
	}
	if m := p.Match(method, path); m.Route != nil {
		return m
	}
	if _, err := url.PathUnescape(path); err != nil || !strings.HasPrefix(path, "/") {
		return p.Match(method, (&url.URL{Path: path}).EscapedPath())
	}
	return p.Match(method, path)
}

// containsString reports whether any string in the JSON document body,
// once unescaped, contains s (a secret JSON-escaped in the raw body).
func containsString(body []byte, s string) bool {
	var v any
	if json.Unmarshal(body, &v) != nil {
		return false
	}
	var walk func(any) bool
	walk = func(v any) bool {
		switch v := v.(type) {
		case string:
			return strings.Contains(v, s)
		case []any:
			for _, x := range v {
				if walk(x) {
					return true
				}
			}
		case map[string]any:
			for k, x := range v {
				if strings.Contains(k, s) || walk(x) {
					return true
				}
			}
		}
		return false
	}
	return walk(v)
}
