package page

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/inquir-dev/inquir/emulator/config"
	"github.com/inquir-dev/inquir/emulator/gateway"
	"github.com/inquir-dev/inquir/emulator/policy"
	"github.com/inquir-dev/inquir/emulator/redact"
	"github.com/inquir-dev/inquir/emulator/verify"
)

// secretOf is key id's secret, as inquir resolved it (env:, file: or
// literal), for a replay or a probe sent from this process. ok is false for
// a key whose secrets are all sha256: digests, or none resolves now.
func (pg *Page) secretOf(p *policy.Policy, id string) (string, bool) {
	for _, k := range p.Config.Keys {
		if k.ID != id {
			continue
		}
		for _, ref := range k.Secrets {
			if ref.Kind == config.SecretSHA256 {
				continue
			}
			// The secret must be one the policy in force accepts as this
			// key's: a file rewritten since the last reload is not.
			if s, err := ref.Plaintext(); err == nil {
				if owner := p.Identify(s); owner != nil && owner.ID == id {
					return s, true
				}
			}
		}
	}
	return "", false
}

// replayKeys are the keys whose secret inquir holds, by id.
func (pg *Page) replayKeys() []string {
	p := pg.policy()
	out := []string{}
	if p == nil {
		return out
	}
	for _, k := range p.Keys {
		if _, ok := pg.secretOf(p, k.ID); ok {
			out = append(out, k.ID)
		}
	}
	return out
}

// replayRequest is the body of POST /_inquir/api/replay.
type replayRequest struct {
	ID uint64 `json:"id"`
	// As is "as-is" (the key it was sent with), "key" (Key's secret, or
	// Secret when given) or "no-key".
	As  string `json:"as"`
	Key string `json:"key,omitempty"`
	// Secret is a secret the user typed for Key, when inquir holds only
	// its digest. It is sent to the gateway and nowhere else.
	Secret string `json:"secret,omitempty"`
}

// replayAnswer is what a replay got back.
type replayAnswer struct {
	Status  int         `json:"status"`
	Headers [][2]string `json:"headers"`
	Body    shown       `json:"body"`
	// Sent says which credential went: "no key", "key partner-acme",
	// "the key it was sent with".
	Sent string `json:"sent"`
	// Invoked is how many times the route's function ran meanwhile
	// (other requests included), -1 when the request matched no route.
	Invoked int `json:"invoked"`
}

func (pg *Page) serveReplay(w http.ResponseWriter, r *http.Request) {
	var req replayRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", "the body must be a JSON object: {\"id\":N,\"as\":\"as-is|key|no-key\"}")
		return
	}
	rec := pg.feed.get(req.ID)
	if rec == nil {
		writeError(w, http.StatusNotFound, "not_found", "no such request in the page's ring")
		return
	}
	x := &rec.x
	if x.BodySize > len(x.Body) {
		writeError(w, http.StatusBadRequest, "body_cut", fmt.Sprintf("the request's body was %d bytes, and the page keeps the first %d: copy it as curl and send the body from its file", x.BodySize, len(x.Body)))
		return
	}
	if x.HeaderCut > 0 {
		writeError(w, http.StatusBadRequest, "headers_cut", fmt.Sprintf("the request had %d more header fields than the page keeps: copy it as curl and add them", x.HeaderCut))
		return
	}
	p := pg.policy()
	if p == nil || x.Policy == nil {
		writeError(w, http.StatusServiceUnavailable, "not_ready", "the gateway has no config loaded yet")
		return
	}
	header := replayHeader(x.Header, x.Policy.Config.Gateway.KeyHeader)
	keyHeader := p.Config.Gateway.KeyHeader
	sent := ""
	switch req.As {
	case "as-is":
		for _, v := range x.Header.Values(x.Policy.Config.Gateway.KeyHeader) {
			header.Add(keyHeader, v)
		}
		sent = "the key it was sent with"
		if x.KeyID != "" {
			sent = "key " + x.KeyID + ", as sent"
		} else if len(header.Values(keyHeader)) == 0 {
			sent = "no key, as sent"
		}
	case "no-key":
		sent = "no key"
	case "key":
		secret := req.Secret
		if secret == "" {
			s, ok := pg.secretOf(p, req.Key)
			if !ok {
				writeError(w, http.StatusBadRequest, "no_secret", fmt.Sprintf("inquir holds no secret of key %q (a sha256: secret, or no such key): type one", req.Key))
				return
			}
			secret = s
		}
		header.Set(keyHeader, secret)
		sent = "key " + req.Key
		if owner := p.Identify(secret); owner == nil || owner.ID != req.Key {
			sent = "a secret that is not key " + req.Key + "'s"
		}
	default:
		writeError(w, http.StatusBadRequest, "bad_request", `"as" must be "as-is", "key" or "no-key"`)
		return
	}
	target := pg.url() + x.Path
	if x.Query != "" {
		target += "?" + x.Query
	}
	hreq, err := http.NewRequestWithContext(r.Context(), x.Method, target, bytes.NewReader(x.Body))
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", pg.redact(err.Error()))
		return
	}
	hreq.Header = header
	fn := ""
	if x.Route != nil {
		fn = x.Route.Function
	}
	before := pg.stats().Invocations[fn]
	resp, err := pg.opts.Client.Do(hreq)
	if err != nil {
		writeError(w, http.StatusBadGateway, "replay_failed", pg.redact(err.Error()))
		return
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxShown+1))
	resp.Body.Close()
	ans := replayAnswer{Status: resp.StatusCode, Headers: pg.headers(resp.Header, "", ""), Body: pg.show(string(body), len(body), false), Sent: sent, Invoked: -1}
	if fn != "" {
		ans.Invoked = int(pg.stats().Invocations[fn] - before)
	}
	// The answer may echo the key sent (a typed secret the Redactor does
	// not know) or the one the request was sent with.
	mask := redact.New()
	mask.Add(header.Values(keyHeader)...)
	mask.Add(x.Header.Values(x.Policy.Config.Gateway.KeyHeader)...)
	mask.Add(x.UsageKey())
	b, err := json.Marshal(ans)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "internal_error", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, json.RawMessage(mask.String(string(b))))
}

// replayHeader is the request's header to send again: without the key
// header, the Host (the gateway's own is set) and what the client's
// transport sets itself.
func replayHeader(h http.Header, keyHeader string) http.Header {
	out := http.Header{}
	for name, vs := range h {
		switch http.CanonicalHeaderKey(name) {
		case http.CanonicalHeaderKey(keyHeader), "Host", "Content-Length", "Connection", "Transfer-Encoding", "Accept-Encoding", "Te", "Upgrade", "Keep-Alive", "Proxy-Connection":
			continue
		}
		out[name] = append([]string(nil), vs...)
	}
	return out
}

// matrixRow is one cell of the page's matrix: verify's Cell as the page
// shows it.
type matrixRow struct {
	Route      string `json:"route"`
	Request    string `json:"request"`
	Credential string `json:"credential"`
	Expect     string `json:"expect"`
	Got        string `json:"got"`
	Status     int    `json:"status"`
	Invoked    int    `json:"invoked"`
	Result     string `json:"result"`
}

func (pg *Page) serveMatrix(w http.ResponseWriter, r *http.Request) {
	var req struct {
		ID uint64 `json:"id"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", `the body must be a JSON object: {"id":N}`)
		return
	}
	rec := pg.feed.get(req.ID)
	p := pg.policy()
	if rec == nil || p == nil {
		writeError(w, http.StatusNotFound, "not_found", "no such request in the page's ring")
		return
	}
	if rec.x.Route == nil {
		writeError(w, http.StatusBadRequest, "no_route", "the request matched no route: there is no matrix to probe")
		return
	}
	// The route as the policy in force has it: the matrix is about now.
	var rt *policy.Route
	for _, cand := range p.Routes {
		if cand.String() == rec.x.Route.String() {
			rt = cand
		}
	}
	if rt == nil {
		writeError(w, http.StatusGone, "no_route", "the route "+rec.x.Route.String()+" is not in the config in force any more")
		return
	}
	writeJSON(w, http.StatusOK, pg.matrix(r.Context(), p, rt))
}

// matrix probes rt as `inquir verify` does, with every key whose secret
// inquir holds, against the gateway itself.
func (pg *Page) matrix(ctx context.Context, p *policy.Policy, rt *policy.Route) []matrixRow {
	var keys []verify.Credential
	var digestOnly []*policy.Key
	for _, k := range p.Keys {
		if s, ok := pg.secretOf(p, k.ID); ok {
			keys = append(keys, verify.Credential{Label: "key " + k.ID, Secret: s, ID: k.ID})
		} else {
			digestOnly = append(digestOnly, k)
		}
	}
	cells := verify.RouteCells(ctx, verify.RouteOptions{Policy: p, Route: rt, URL: pg.url(), Keys: keys, Unprobed: digestOnly, Client: pg.opts.Client, Now: pg.opts.Now(),
		Invoked: func(fn string) int { return int(pg.stats().Invocations[fn]) }})
	rows := make([]matrixRow, 0, len(cells)+len(p.Keys))
	for _, c := range cells {
		res := "ok"
		switch {
		case c.NotProbed:
			res = "not probed"
		case !c.OK:
			res = "MISMATCH"
		}
		got := c.Got
		if got == "not probed (no --key secret)" {
			got = "not probed (inquir holds only its digest; replay as the key, typing its secret)"
		}
		rows = append(rows, matrixRow{Route: c.Route, Request: c.Method + " " + c.Path, Credential: c.Credential, Expect: c.Expectation(),
			Got: pg.redact(got), Status: c.Status, Invoked: c.Invoked, Result: res})
	}
	return rows
}

// curl is the request as a curl command, the key's secret as a shell
// variable named for the key (never the secret).
func (pg *Page) curl(x *gateway.Exchange, keyHeader string) string {
	var b strings.Builder
	b.WriteString("curl -sS -i")
	switch x.Method {
	case http.MethodGet:
	case http.MethodHead:
		b.WriteString(" -I")
	default:
		b.WriteString(" -X " + shellQuote(x.Method))
	}
	target := pg.url() + x.Path
	if x.Query != "" {
		target += "?" + x.Query
	}
	b.WriteString(" " + shellQuote(pg.redact(target)))
	for _, h := range sortedHeaders(replayHeader(x.Header, keyHeader)) {
		b.WriteString(" -H " + shellQuote(h[0]+": "+pg.redact(h[1])))
	}
	for range x.Header.Values(keyHeader) {
		b.WriteString(` -H "` + keyHeader + `: $` + secretVar(x.KeyID) + `"`)
	}
	switch {
	case x.BodySize > len(x.Body):
		b.WriteString(" --data-binary @BODY_FILE  # the body was " + strconv.Itoa(x.BodySize) + " bytes; the page kept the first " + strconv.Itoa(len(x.Body)))
	case len(x.Body) > 0:
		b.WriteString(" --data-binary " + shellQuote(pg.redact(string(x.Body))))
	}
	return headerCutNote(x) + b.String()
}

// headerCutNote is a comment line, for a shell and for testscript, saying
// how many header fields the page did not keep; "" when it kept them all.
func headerCutNote(x *gateway.Exchange) string {
	if x.HeaderCut == 0 {
		return ""
	}
	return "# " + strconv.Itoa(x.HeaderCut) + " more header fields were sent; the page did not keep them\n"
}

// testscript is the request as lines of an inquir testscript: the request
// and the status it got.
func (pg *Page) testscript(x *gateway.Exchange, keyHeader string) string {
	var b strings.Builder
	files := "" // the archive's files, after the script
	b.WriteString(headerCutNote(x))
	b.WriteString("exec inquir request " + x.Method + " $URL" + pg.redact(x.Path))
	if x.Query != "" {
		b.WriteString(scriptQuote("?" + pg.redact(x.Query)))
	}
	for _, h := range sortedHeaders(replayHeader(x.Header, keyHeader)) {
		switch strings.ToLower(h[0]) {
		case "user-agent", "accept":
			continue // what a client adds of its own
		}
		b.WriteString(" -H " + scriptQuote(h[0]+": "+pg.redact(h[1])))
	}
	for range x.Header.Values(keyHeader) {
		b.WriteString(" -H " + scriptQuote(keyHeader+": ") + "$" + secretVar(x.KeyID))
	}
	switch {
	case x.BodySize > len(x.Body):
		// testscript reads a '#' only at the start of a line.
		note := "# the body was " + strconv.Itoa(x.BodySize) + " bytes and the page kept the first " + strconv.Itoa(len(x.Body)) + ": put it in body.bin\n"
		cmd := b.String()
		b.Reset()
		b.WriteString(note + cmd + " -d @body.bin")
	case strings.Contains(string(x.Body), "\n"):
		// A line break ends a testscript command, quoted or not: the body
		// goes in a file of the archive, or a caller's body would add
		// commands ("exec ...") to the suite the copy is pasted into.
		body := pg.redact(string(x.Body))
		if hasFileMarker(body) {
			cmd := b.String()
			b.Reset()
			b.WriteString("# the body has a line that reads as a file of the archive (-- NAME --): put it in body.txt\n" + cmd)
		} else {
			files = "-- body.txt --\n" + body
			if !strings.HasSuffix(body, "\n") {
				files += "\n" // txtar ends a file with a line break
			}
		}
		b.WriteString(" -d @body.txt")
	case len(x.Body) > 0:
		b.WriteString(" -d " + scriptQuote(pg.redact(string(x.Body))))
	}
	b.WriteString("\nstdout '^" + strconv.Itoa(x.Status) + "$'\n")
	if x.Function != "" {
		switch {
		case x.Answer != nil:
			b.WriteString("# " + x.Function + " ran\n")
		case x.Reason != "":
			b.WriteString("# refused (" + x.Reason + "): " + x.Function + " did not run; check with: invocations " + x.Function + " N\n")
		}
	}
	return b.String() + files
}

// hasFileMarker reports whether s has a line txtar reads as the start of
// a file ("-- NAME --").
func hasFileMarker(s string) bool {
	for line := range strings.Lines(s) {
		line = strings.TrimRight(line, "\r\n")
		if strings.HasPrefix(line, "-- ") && strings.HasSuffix(line, " --") {
			return true
		}
	}
	return false
}

// secretVar names the shell variable that stands for a key's secret.
func secretVar(keyID string) string {
	if keyID == "" {
		return "API_KEY"
	}
	name := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z':
			return r - 'a' + 'A'
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			return r
		}
		return '_'
	}, keyID)
	return name + "_KEY"
}

func sortedHeaders(h http.Header) [][2]string {
	var out [][2]string
	for name, vs := range h {
		for _, v := range vs {
			out = append(out, [2]string{name, v})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

// shellQuote quotes s for a POSIX shell (and testscript, which reads
// single quotes the same way but for ” inside them).
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// scriptQuote quotes s for testscript, where a quote inside single quotes
// is written twice.
func scriptQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
