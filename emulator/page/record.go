package page

import (
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/inquir-dev/inquir/emulator/gateway"
	"github.com/inquir-dev/inquir/emulator/policy"
)

// maxShown bounds each body, event and answer the page shows, in bytes;
// the rest is cut and the cut is said.
const maxShown = 16 << 10

// maxKept bounds each body, event and answer the page keeps of a request
// (gateway.Exchange.Bound): 1,024 requests of 6 MB would otherwise stay in
// memory. A request whose body was cut cannot be replayed.
const maxKept = 64 << 10

// summary is one row of the live list: what the log line says, and the
// verdict.
type summary struct {
	ID       uint64    `json:"id"`
	Time     time.Time `json:"time"`
	Method   string    `json:"method"`
	Path     string    `json:"path"`
	Route    string    `json:"route,omitempty"`
	KeyID    string    `json:"key,omitempty"`
	Verdict  string    `json:"verdict"`
	Reason   string    `json:"reason,omitempty"`
	Status   int       `json:"status"`
	Millis   float64   `json:"ms"`
	Function string    `json:"function,omitempty"`
	Worker   string    `json:"worker,omitempty"`
	// Authorizer is the Lambda authorizer that ran, and AuthorizerCache
	// whether its answer came from its cache ("hit") or a run ("miss").
	Authorizer      string `json:"authorizer,omitempty"`
	AuthorizerCache string `json:"authorizer_cache,omitempty"`
	RequestID       string `json:"request_id,omitempty"`
}

func (pg *Page) summary(rec *record) summary {
	x := &rec.x
	s := summary{ID: rec.id, Time: x.Time, Method: x.Method, Path: pg.redact(x.Path), KeyID: x.KeyID, Verdict: verdict(x), Reason: x.Reason,
		Status: x.Status, Millis: float64(x.Duration.Microseconds()) / 1000, Function: x.Function, Worker: x.Worker, RequestID: x.RequestID,
		Authorizer: x.Authorizer, AuthorizerCache: x.AuthorizerCache}
	if x.Route != nil {
		s.Route = x.Route.String()
	}
	return s
}

// verdict is the gateway's decision in a word: "allowed", "public",
// "refused" (with Reason saying why), or "failed" (the function did not
// answer well).
func verdict(x *gateway.Exchange) string {
	switch {
	case x.Reason == "authorizer_error" || x.Reason == "authorizer_bad_answer":
		return "failed" // the authorizer, not the caller
	case x.Reason != "":
		return "refused"
	case x.Answer == nil && x.Status >= 500:
		return "failed" // the function, or its build
	case x.Answer == nil && x.Status >= 400:
		return "refused" // the gateway's own: 404, 405, 413, 400
	case x.Decided && x.Outcome == policy.Public:
		return "public"
	case x.Decided:
		return "allowed"
	}
	return "answered"
}

// detail is everything the page shows about one request.
type detail struct {
	summary
	Query   string      `json:"query,omitempty"`
	Headers [][2]string `json:"headers"`
	// HeadersCut is how many header values the page did not keep.
	HeadersCut int `json:"headers_cut,omitempty"`
	// Body is the request body as the function got it, "" when the
	// request was refused before it was read (BodyRead false).
	Body     shown  `json:"body"`
	BodyRead bool   `json:"body_read"`
	Event    *shown `json:"event,omitempty"`
	// Answer is the function's answer, nil when none came (a refusal, a
	// failure: Status and Error say).
	Answer     *answerShown `json:"answer,omitempty"`
	Error      string       `json:"error,omitempty"`
	Why        *why         `json:"why,omitempty"`
	Curl       string       `json:"curl"`
	Testscript string       `json:"testscript"`
	// ReplayKeys are the keys a replay "as another key" may name without
	// typing a secret: those whose secret inquir resolved itself.
	ReplayKeys []string `json:"replay_keys"`
}

// answerShown is a function's answer as the page shows it.
type answerShown struct {
	Status  int         `json:"status"`
	Headers [][2]string `json:"headers"`
	Body    shown       `json:"body"`
}

// shown is a text cut at maxShown and redacted.
type shown struct {
	Text string `json:"text"`
	// Cut is how many bytes were left out, 0 for none.
	Cut int `json:"cut,omitempty"`
	// Base64 says the text is base64 (a body that is not UTF-8).
	Base64 bool `json:"base64,omitempty"`
}

// show cuts s at maxShown, on a rune boundary, and redacts what is left;
// full is the length s had before it was kept (s may be cut already).
func (pg *Page) show(s string, full int, base64 bool) shown {
	out := shown{Base64: base64}
	if len(s) > maxShown {
		n := maxShown
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		s = s[:n]
	}
	out.Cut = max(full, len(s)) - len(s)
	out.Text = pg.redact(s)
	return out
}

func (pg *Page) redact(s string) string { return pg.opts.Redactor.String(s) }

// headers lists h sorted by name, redacted, with the key header's value
// replaced by what it stands for: the page never holds a key's secret.
func (pg *Page) headers(h http.Header, keyHeader, keyID string) [][2]string {
	names := make([]string, 0, len(h))
	for name := range h {
		names = append(names, name)
	}
	sort.Strings(names)
	var out [][2]string
	for _, name := range names {
		for _, v := range h[name] {
			if strings.EqualFold(name, keyHeader) {
				v = keyPlaceholder(keyID)
			} else {
				v = pg.redact(v)
			}
			out = append(out, [2]string{name, v})
		}
	}
	return out
}

// keyPlaceholder stands for a key's secret on the page and in what it
// copies: the key id when the secret was one, never the secret.
func keyPlaceholder(keyID string) string {
	if keyID == "" {
		return "[a secret no key has]"
	}
	return "[key " + keyID + "]"
}

func (pg *Page) detail(rec *record) detail {
	x := &rec.x
	d := detail{summary: pg.summary(rec), Query: pg.redact(x.Query), BodyRead: x.Body != nil, Error: x.Err}
	keyHeader := keyHeaderOf(x)
	d.Headers = pg.headers(x.Header, keyHeader, x.KeyID)
	d.HeadersCut = x.HeaderCut
	d.Body = pg.show(string(x.Body), x.BodySize, !utf8.Valid(x.Body))
	if ev := x.EventJSON(); ev != nil {
		s := pg.show(string(ev), x.EventSize, false)
		d.Event = &s
	}
	if a := x.Answer; a != nil {
		d.Answer = &answerShown{Status: a.Status, Body: pg.show(a.Body, x.AnswerSize, a.IsBase64Encoded)}
		h := http.Header{}
		for k, v := range a.Headers {
			h[k] = []string{v}
		}
		for k, vs := range a.MultiValueHeaders {
			h[k] = vs
		}
		d.Answer.Headers = pg.headers(h, "", "")
	}
	if d.Verdict == "refused" {
		w := pg.why(x)
		d.Why = &w
	}
	d.Curl = pg.curl(x, keyHeader)
	d.Testscript = pg.testscript(x, keyHeader)
	d.ReplayKeys = pg.replayKeys()
	return d
}

// keyHeaderOf is the key header of the policy x was judged by.
func keyHeaderOf(x *gateway.Exchange) string {
	if x.Policy != nil {
		return x.Policy.Config.Gateway.KeyHeader
	}
	return "x-api-key"
}

func (pg *Page) serveRequest(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseUint(strings.TrimPrefix(r.URL.Path, "/_inquir/api/requests/"), 10, 64)
	rec := pg.feed.get(id)
	if err != nil || rec == nil {
		writeError(w, http.StatusNotFound, "not_found", "no such request in the page's ring (it keeps the last "+strconv.Itoa(len(pg.feed.slots))+")")
		return
	}
	b, err := json.Marshal(pg.detail(rec))
	if err != nil {
		writeError(w, http.StatusInternalServerError, "internal_error", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, json.RawMessage(rec.keyMask().String(string(b))))
}
