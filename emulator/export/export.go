// Package export turns the compiled policy into the configuration of a
// production gateway, so that what inquir dev enforces on a laptop is what
// the gateway in front of the real upstreams enforces.
//
// The one target today is HAProxy (2.6 or later): HAProxy writes haproxy.cfg
// and the map files it reads. Secrets leave only as SHA-256 digests. Where
// HAProxy cannot express a rule inquir enforces, the export fails and says
// what and why, or, where HAProxy cannot compute what inquir computes (a
// path routed again once decoded, a method-override header routed with the
// method it names), the configuration is stricter and answers with inquir's
// 400; it never writes a weaker configuration. Usage plans are enforced
// with stick-tables (plans.go), a path's letter case as inquir does it
// (lettercase.go).
package export

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/inquir-dev/inquir/emulator/config"
	"github.com/inquir-dev/inquir/emulator/policy"
)

// Options say where the functions live in production.
type Options struct {
	// Upstreams are base URLs (http://host:port or https://host[:port]) by
	// function name; the entry under "" serves every function without one
	// of its own. Every function a route names needs one.
	Upstreams map[string]string
	// UpstreamAuthorizes says the upstream runs the routes' Lambda
	// authorizers itself (--upstream-authorizes). HAProxy cannot run one:
	// if false, a config with a route that has an authorizer is refused;
	// if true, it is exported, HAProxy refusing (401) only a request that
	// lacks one of the authorizer's identity sources, and Warnings lists
	// what it leaves to the upstream.
	UpstreamAuthorizes bool
}

// Files written into the output folder. haproxy.cfg reads the maps by these
// names, relative to its own folder (default-path config).
const (
	ConfigFile    = "haproxy.cfg"
	KeysMap       = "keys.map"       // sha256 hex of a secret -> key id
	CallersMap    = "callers.map"    // route/key id -> 1, for every key a route allows; route>route -> 1 (lettercase.go)
	NotBeforeMap  = "not_before.map" // key id -> unix microseconds
	ExpiresMap    = "expires.map"    // key id -> unix microseconds
	MetadataMap   = "metadata.map"   // key id -> metadata as JSON
	DefaultSocket = "/run/haproxy/admin.sock"
)

// MapFiles lists the map files in the order a rotation commits them through
// the runtime API: keys.map last, so that a new secret is only accepted once
// everything about its key is in force.
var MapFiles = []string{NotBeforeMap, ExpiresMap, CallersMap, MetadataMap, PlansMap, KeysMap}

// HAProxy writes haproxy.cfg and its map files for p into dir (created if
// missing) and returns the names of the files written. Nothing is written
// when an error is returned.
func HAProxy(p *policy.Policy, dir string, opts Options) ([]string, error) {
	cfg, err := haproxyConfig(p, opts)
	if err != nil {
		return nil, err
	}
	maps, err := buildMaps(p)
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{ConfigFile: cfg}
	for name, m := range maps {
		files[name] = m
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating the output folder: %w", err)
	}
	names := append([]string{ConfigFile}, MapFiles...)
	for _, name := range names {
		// keys.map holds digests only, but a digest of a weak secret can be
		// guessed offline: it is readable by its owner alone.
		mode := os.FileMode(0o644)
		if name == KeysMap {
			mode = 0o600
		}
		if err := writeFile(filepath.Join(dir, name), files[name], mode); err != nil {
			return nil, err
		}
	}
	return names, nil
}

// writeFile replaces path in one step (write, then rename), so a HAProxy
// reloading meanwhile reads the old file or the new one, never half of one.
func writeFile(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

//go:embed haproxy.cfg.tmpl
var cfgTemplate string

var tmpl = template.Must(template.New(ConfigFile).Funcs(template.FuncMap{
	"q":       quote,
	"lf":      func(s string) string { return quote(strings.ReplaceAll(s, "%", "%%")) },
	"comment": commentText,
	"chunks":  chunks,
}).Parse(cfgTemplate))

// chunks cuts a list a directive holds (route names, path patterns) into
// pieces of at most 40, one directive each: HAProxy refuses a line of more
// than 64 words. Directives that repeat an ACL's name add to it (or), and
// the others repeated mean the same.
func chunks(list []string) [][]string {
	var out [][]string
	for len(list) > 40 {
		out = append(out, list[:40])
		list = list[40:]
	}
	if len(list) > 0 {
		out = append(out, list)
	}
	return out
}

// cfgData is what the template reads.
type cfgData struct {
	Source, ConfigID   string
	Listen             string
	KeyHeader          string // lower case, as HAProxy's fetches take it
	WWWAuthenticate    string // a log-format string
	AWS                bool
	HTTPAPI            bool       // [gateway] payload = "2.0": compat = "aws" answers no route as an HTTP API does (404)
	Routes             []cfgRoute // in matching order
	HeadRoutes         []string   // names of HEAD routes
	ReservedRegex      string     // paths refused as a decoded path could route elsewhere
	SubDelims          string     // escaped characters ReservedRegex refuses as route literals hold them
	Overrides          []override
	QueryOverrideRegex string          // a _method query parameter, matched without letter case
	BodyOverrideRegex  string          // a _method form field or JSON member, likewise
	ChunkLimit         int             // see chunkLimit
	Public             []string        // names of the routes that ask for no key: public, or auth = "authorizer"
	Authorizers        []cfgAuthorizer // authorizers.go
	Warnings           []string        // Warnings, as comments
	V2                 []string        // names of payload = "2.0" routes (compat = "aws" answers their missing key 401)
	CaseFold           bool            // route the path again in lower case (lettercase.go)
	Allow              []allowMethod
	Backends           []backend
	Bodies             bodies
	MaxBody            int
	TableKeyLen        int // the stick-tables' (plans.go)
}

type cfgRoute struct {
	Name        string // r<index in file order>
	Method      string // "" for ANY
	Regex       string
	FoldedRegex string // for the path in lower case (lettercase.go)
	Comment     string
	Function    string
}

// allowMethod is one method of a 405's Allow header and the paths that
// answer it.
type allowMethod struct {
	Method  string
	Regexes []string
}

// override is a method-override header and inquir's answer to it.
type override struct {
	Header string // lower case, as HAProxy's fetches take it
	Body   string
}

type backend struct {
	Name, Function string
	Server         string // host:port
	TLS            bool
	Host           string // for SNI
	Timeout        string
	Routes         []string
}

// bodies are the gateway's answers, byte for byte.
type bodies struct {
	MissingKey, InvalidKey, MultipleKeys, Forbidden, NotFound, TooLarge, FunctionError, FunctionTimeout string
	// MethodNotAllowed is a log-format string: it names the request's method.
	MethodNotAllowed string
	// LowerCaseMethod is a log-format string: it names the method upper-cased.
	LowerCaseMethod string
	Rerouted        string // a path whose decoded form may route elsewhere
	CaseRerouted    string // a path that, without regard to letter case, a stricter route serves
	QueryOverride   string // a _method query parameter
	BodyOverride    string // a _method form field
	ChunkedTooLarge string // a body without Content-Length past ChunkLimit
	QueryChar       string // an unencoded | { } in the query
	AWSForbidden    string // compat = "aws": every key refusal
	AWSMissingToken string // compat = "aws": no route, wrong method
	AWSNotFoundV2   string // compat = "aws", [gateway] payload = "2.0": no route, wrong method
	AWSUnauthorized string // compat = "aws": an authorizer's identity source missing, or no key on a payload 2.0 route (an HTTP API's authorizer)
	// RateLimited and QuotaExceeded are log-format strings: they name the
	// seconds to wait (plans.go).
	RateLimited, QuotaExceeded string
	AWSThrottled, AWSQuota     string // compat = "aws": the 429s
}

func haproxyConfig(p *policy.Policy, opts Options) ([]byte, error) {
	c := p.Config
	listen, err := listenAddr(c.Gateway.Listen)
	if err != nil {
		return nil, c.ErrorAt([]string{"gateway", "listen"}, "cannot export to HAProxy: %v", err)
	}
	if !plainHeaderName.MatchString(c.Gateway.KeyHeader) {
		// HAProxy reads a header name inside a fetch's parentheses, where a
		// quote, "$", "#", "," or ")" would take a second level of quoting
		// (its manual, section 2.2); a key header never needs one.
		return nil, c.ErrorAt([]string{"gateway", "key_header"}, "cannot export to HAProxy: %q holds a character other than letters, digits, '-', '_' and '.'; choose a plain header name such as %q", c.Gateway.KeyHeader, config.DefaultKeyHeader)
	}
	d := cfgData{
		Source: filepath.Base(c.File), ConfigID: c.ID, Listen: listen,
		KeyHeader: strings.ToLower(c.Gateway.KeyHeader), AWS: c.Gateway.Compat == config.CompatAWS,
		HTTPAPI:     c.Gateway.Payload == config.Payload2,
		MaxBody:     6 << 20, // gateway.MaxBodyBytes, as AWS Lambda's payload limit
		TableKeyLen: tableKeyLen,
	}
	d.Bodies = gatewayBodies(c.Gateway.KeyHeader)
	planBodies(&d.Bodies)
	d.WWWAuthenticate = `ApiKey header="` + c.Gateway.KeyHeader + `"`

	allow := map[string][]string{}
	used := map[string][]string{} // function -> route names
	for _, r := range p.Routes {
		re, err := pathRegex(r.Path)
		if err != nil {
			return nil, c.ErrorAt([]string{"routes", strconv.Itoa(r.Index), "path"}, "cannot export to HAProxy: %v", err)
		}
		if r.Method != config.MethodAny && !plainName.MatchString(r.Method) {
			return nil, c.ErrorAt([]string{"routes", strconv.Itoa(r.Index), "method"}, "cannot export to HAProxy: %q is not a method", r.Method)
		}
		folded, err := foldedRegex(r.Path)
		if err != nil {
			return nil, c.ErrorAt([]string{"routes", strconv.Itoa(r.Index), "path"}, "cannot export to HAProxy: %v", err)
		}
		cr := cfgRoute{Name: routeName(r), Regex: re, FoldedRegex: folded, Function: r.Function, Comment: describe(r)}
		if r.Method != config.MethodAny {
			cr.Method = r.Method
			allow[r.Method] = append(allow[r.Method], re)
		}
		if r.Method == http.MethodHead {
			d.HeadRoutes = append(d.HeadRoutes, cr.Name)
		}
		if !r.NeedsKey() {
			// Public, or auth = "authorizer": the upstream's authorizer
			// decides (authorizerRoutes refuses it unless the user said so).
			d.Public = append(d.Public, cr.Name)
		}
		if r.Payload == config.Payload2 {
			d.V2 = append(d.V2, cr.Name)
		}
		d.Routes = append(d.Routes, cr)
		used[r.Function] = append(used[r.Function], cr.Name)
	}
	if d.Authorizers, err = authorizerRoutes(p, opts); err != nil {
		return nil, err
	}
	d.Warnings = Warnings(p, opts)
	d.ReservedRegex, d.SubDelims = reservedRegex(p)
	d.CaseFold = caseMatters(p.Routes)
	for _, h := range overrideSpellings() {
		d.Overrides = append(d.Overrides, override{Header: strings.ToLower(h), Body: jsonBody("bad_request", "the "+h+" header names a method another route serves; send the request with that method instead")})
	}
	d.QueryOverrideRegex, d.BodyOverrideRegex = methodParamRegexes()
	d.ChunkLimit = chunkLimit
	if d.AWS {
		awsBodies(&d)
	}
	for _, m := range slices.Sorted(maps.Keys(allow)) {
		d.Allow = append(d.Allow, allowMethod{Method: m, Regexes: slices.Compact(slices.Sorted(slices.Values(allow[m])))})
	}
	for name := range opts.Upstreams {
		if name != "" && c.Function(name) == nil {
			return nil, fmt.Errorf("--upstream %s=...: no function %q in %s", name, name, c.File)
		}
	}
	for _, f := range c.Functions {
		if len(used[f.Name]) == 0 {
			continue // no route reaches it: nothing to forward to
		}
		if !plainName.MatchString(f.Name) {
			// config.Load lets no other name through; a name is a word of
			// haproxy.cfg (backend fn_NAME, server NAME), never quoted.
			return nil, c.ErrorAt([]string{"functions", f.Name}, "cannot export to HAProxy: function name %q may only hold letters, digits, '.', '_' and '-'", f.Name)
		}
		raw, ok := opts.Upstreams[f.Name]
		if !ok {
			raw, ok = opts.Upstreams[""]
		}
		if !ok {
			return nil, fmt.Errorf("function %s has no upstream: give --upstream URL (for every function) or --upstream %s=URL", f.Name, f.Name)
		}
		b, err := parseUpstream(raw)
		if err != nil {
			return nil, fmt.Errorf("--upstream for function %s: %w", f.Name, err)
		}
		b.Name, b.Function, b.Routes = "fn_"+f.Name, f.Name, used[f.Name]
		b.Timeout = strconv.FormatInt(f.Timeout.Milliseconds(), 10) + "ms"
		d.Backends = append(d.Backends, b)
	}
	var out bytes.Buffer
	if err := tmpl.Execute(&out, d); err != nil {
		return nil, fmt.Errorf("rendering %s: %w", ConfigFile, err)
	}
	return out.Bytes(), nil
}

// gatewayBodies are the bodies gateway.Gateway writes (writeJSON: the JSON
// and a newline). TestGatewayAnswers holds the two to the same bytes.
func gatewayBodies(keyHeader string) bodies {
	j := jsonBody
	return bodies{
		MissingKey:       j("missing_api_key", "this route needs an API key in the "+keyHeader+" header"),
		InvalidKey:       j("invalid_api_key", "the API key is not valid"),
		MultipleKeys:     j("invalid_api_key", "send one API key, in one "+keyHeader+" header"),
		Forbidden:        j("forbidden", "this API key may not call this route"),
		NotFound:         j("not_found", ""),
		TooLarge:         j("payload_too_large", "the request body is over 6 MB"),
		FunctionError:    j("function_error", "the function failed"),
		FunctionTimeout:  j("function_timeout", "the function did not answer in time"),
		MethodNotAllowed: strings.Replace(j("method_not_allowed", "this path does not answer METHOD"), "METHOD", "%[method]", 1),
		LowerCaseMethod:  strings.Replace(j("bad_request", "the method must be upper-case: methods are case-sensitive (RFC 9110 section 9.1); send METHOD"), "METHOD", "%[method,upper]", 1),
		Rerouted:         j("bad_request", "the path, once percent-decoded as a web framework decodes it, is served by another route than the one that authorised it; send reserved characters (/, \\, ?, #, ;) unencoded or not at all"),
		CaseRerouted:     j("bad_request", "the path, compared without regard to letter case as many web frameworks compare it, is served by a more protected route than the one that authorised it; spell the path in the letter case of the route you mean"),
		QueryOverride:    j("bad_request", "the _method query parameter names a method another route serves; send the request with that method instead"),
		BodyOverride:     j("bad_request", "the _method form field names a method another route serves; send the request with that method instead"),
		QueryChar:        j("bad_request", "encode |, { and } in the query string (as %7C, %7B and %7D): API Gateway refuses them unencoded"),
		ChunkedTooLarge:  j("payload_too_large", fmt.Sprintf("a body sent without Content-Length (chunked) is taken here only while the request fits in %d KB; HAProxy cannot count a longer one against the 6 MB limit, so send Content-Length", chunkLimit>>10)),
		AWSForbidden:     `{"message":"Forbidden"}` + "\n",
		AWSMissingToken:  `{"message":"Missing Authentication Token"}` + "\n",
		AWSNotFoundV2:    `{"message":"Not Found"}` + "\n",
		AWSUnauthorized:  awsUnauthorizedBody,
	}
}

// awsBodies puts API Gateway's bodies in place of inquir's, under compat
// = "aws", for what gateway.Gateway answers itself (its awsresponses.go):
// every 400 is {"message":"Bad Request"}, a body over the limit {"message":
// "Request Too Long"}, a failed upstream {"message":"Internal server
// error"}, one past its timeout {"message":"Endpoint request timed out"}.
func awsBodies(d *cfgData) {
	const (
		badRequest = `{"message":"Bad Request"}` + "\n"
		tooLarge   = `{"message":"Request Too Long"}` + "\n"
	)
	b := &d.Bodies
	b.LowerCaseMethod, b.Rerouted, b.CaseRerouted, b.QueryOverride, b.BodyOverride, b.QueryChar = badRequest, badRequest, badRequest, badRequest, badRequest, badRequest
	b.TooLarge, b.ChunkedTooLarge = tooLarge, tooLarge
	b.FunctionError = `{"message":"Internal server error"}` + "\n"
	b.FunctionTimeout = `{"message":"Endpoint request timed out"}` + "\n"
	for i := range d.Overrides {
		d.Overrides[i].Body = badRequest
	}
}

// jsonBody is what gateway.Gateway's fail writes: the JSON object (keys
// sorted, as encoding/json writes a map) and a newline.
func jsonBody(errCode, message string) string {
	body := map[string]string{"error": errCode}
	if message != "" {
		body["message"] = message
	}
	b, err := json.Marshal(body)
	if err != nil {
		panic(err) // a map of strings always marshals
	}
	return string(b) + "\n"
}

// overrideSpellings are the method-override headers HAProxy refuses: each
// of policy.MethodOverrideHeaders with every mix of "-" and "_" between its
// words, the dashed spelling first. CGI, WSGI and PHP hand a header to the
// application as HTTP_X_HTTP_METHOD_OVERRIDE whichever the client sent,
// and frameworks on them (Symfony, Laravel, Django) read that variable.
func overrideSpellings() []string {
	var out []string
	for _, h := range policy.MethodOverrideHeaders() {
		words := strings.Split(h, "-")
		for mask := 0; mask < 1<<(len(words)-1); mask++ {
			var b strings.Builder
			b.WriteString(words[0])
			for i, w := range words[1:] {
				b.WriteByte("-_"[mask>>i&1])
				b.WriteString(w)
			}
			out = append(out, b.String())
		}
	}
	return out
}

// methodParamRegexes match, without letter case, a "_method" parameter with
// a value in a query string, and a "_method" field in a request body: a
// form field (application/x-www-form-urlencoded, or a POST without a
// Content-Type, which Rack reads as a form), a multipart/form-data part, a
// JSON member (Laravel reads JSON input). Laravel, Symfony, Rails and
// Express's method-override run the method it names. The name is matched
// as those frameworks read it: percent-decoded (each letter may be
// escaped), and as PHP makes a variable name of it (leading blanks
// dropped, "." or a blank read as "_", "[" starting an array); in JSON,
// \u escapes. Anything HAProxy cannot decode as they do (a malformed
// escape elsewhere in the query, say) does not hide the name, since the
// match is on the text as sent.
func methodParamRegexes() (query, body string) {
	esc := func(c byte) string {
		codes := []byte{c}
		if c >= 'a' && c <= 'z' {
			codes = append(codes, c-'a'+'A')
		}
		alts := []string{regexp.QuoteMeta(string(c))}
		for _, v := range codes {
			alts = append(alts, fmt.Sprintf("%%%02x", v), fmt.Sprintf(`\\u%04x`, v))
		}
		return "(?:" + strings.Join(alts, "|") + ")"
	}
	name := `(?:\+| |%20|\\u0020)*(?:` + esc('_') + "|" + esc('.') + ")"
	for _, c := range []byte("method") {
		name += esc(c)
	}
	value := `(?:\[|%5b|=[^&;])` // an array, or a value that is not empty
	query = `(?:^|[&;])` + name + value
	body = strings.Join([]string{
		`(?:^|[&;\r\n])` + name + value,
		`name\s*=\s*"?` + name + `(?:["';\[\s]|$)`,
		`"` + name + `"\s*:`,
	}, "|")
	return query, body
}

// chunkLimit is the most a request without Content-Length may hold, its
// headers included, for HAProxy to pass it. HAProxy 2.6 evaluates its rules
// once, on what fits in one buffer (option http-buffer-request waits for
// the whole body or a full buffer: tune.bufsize 16384, less tune.maxrewrite
// 1024 and the message's own bookkeeping), so it can count a chunked body
// only while it fits there: a request that reaches the limit may be
// incomplete, and is refused (413). Measured on HAProxy 2.6 with 16 KB
// buffers, a full buffer holds at least 14.5 KB of request (with 90
// headers); 12 KB leaves room to spare.
const chunkLimit = 12 << 10

// reservedRegex matches the paths HAProxy refuses because, decoded as a web
// framework decodes them, they might route to another route than the one
// that matched (policy.Match refuses those it finds do). HAProxy cannot
// route the decoded path a second time, so it refuses every path in which
// decoding changes what routing reads: an escaped "/", "\", "?", "#", ";"
// or NUL; a bare "\", ";" or "#"; and an escaped sub-delimiter, ":" or "@"
// that some route's literal segment holds bare (elsewhere a {param} or a
// {greedy+} matches both spellings alike). Other escapes (%20, %25, ...)
// pass: decoding and re-encoding them gives back the same path. It also
// returns those sub-delimiters, for the comment in haproxy.cfg.
func reservedRegex(p *policy.Policy) (string, string) {
	alts := []string{"%(2[Ff]|5[Cc]|3[Ff]|23|3[Bb]|00)", `[\\;#]`}
	var held []byte
	for _, c := range []byte("!$&'()*+,=:@") {
		for _, r := range p.Routes {
			if strings.IndexByte(literals(r.Path), c) >= 0 {
				held = append(held, c)
				alts = append(alts, fmt.Sprintf("%%%X", c)[:2]+hexAlt(c&15))
				break
			}
		}
	}
	return strings.Join(alts, "|"), string(held)
}

// hexAlt matches one hex digit in either case.
func hexAlt(d byte) string {
	const digits = "0123456789ABCDEF"
	if d < 10 {
		return digits[d : d+1]
	}
	return "[" + digits[d:d+1] + strings.ToLower(digits[d:d+1]) + "]"
}

// literals is a route path without its {parameters}.
func literals(path string) string {
	var b strings.Builder
	for _, seg := range strings.Split(path, "/") {
		if !strings.HasPrefix(seg, "{") {
			b.WriteString(seg + "/")
		}
	}
	return b.String()
}

// routeName names a route in haproxy.cfg and callers.map by its place in
// inquir.toml.
func routeName(r *policy.Route) string { return "r" + strconv.Itoa(r.Index) }

func describe(r *policy.Route) string {
	who := "callers: " + strings.Join(r.Callers, ", ")
	switch {
	case r.Public():
		who = "public: " + commentText(r.Reason)
	case r.AnyKey:
		who = "any valid key"
	case !r.NeedsKey():
		who = "no key: the upstream's authorizer " + r.Authorizer + " decides"
	case len(r.Callers) == 0:
		who = "no key may call it"
	}
	if r.Authorizer != "" && r.NeedsKey() {
		who += "; then the upstream's authorizer " + r.Authorizer
	}
	return fmt.Sprintf("%s %s -> %s (%s)", r.Method, commentText(r.Path), r.Function, who)
}

// pathRegex is the regular expression inquir's router (policy's segment trie on the
// escaped, normalized path) matches a route's path with: {name} is one
// segment, [^/]+; {name+} the rest of the path, .+; literal segments match
// themselves.
func pathRegex(path string) (string, error) {
	if path == "/" {
		return "^/$", nil
	}
	var b strings.Builder
	b.WriteString("^")
	for _, seg := range strings.Split(path[1:], "/") {
		b.WriteString("/")
		switch {
		case strings.HasSuffix(seg, "+}"):
			b.WriteString(".+")
		case strings.HasPrefix(seg, "{"):
			b.WriteString("[^/]+")
		default:
			// A request path reaches HAProxy's match percent-encoded, so a
			// literal with a character that travels encoded would match
			// nothing there while inquir's router might match it.
			if i := strings.IndexFunc(seg, func(r rune) bool { return !isPathChar(r) }); i >= 0 {
				return "", fmt.Errorf("segment %q holds %q, which a request sends percent-encoded; HAProxy would match this route differently from inquir, so it is not exported (use letters, digits and -._~!$&'()*+,;=:@)", seg, seg[i:i+1])
			}
			b.WriteString(regexp.QuoteMeta(seg))
		}
	}
	b.WriteString("$")
	return b.String(), nil
}

// isPathChar reports whether r may stand unencoded in a path segment (RFC
// 3986 pchar, without the percent-encoding itself).
func isPathChar(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return true
	}
	return strings.ContainsRune("-._~!$&'()*+,;=:@", r)
}

// parseUpstream reads --upstream's URL: a scheme and a host, nothing else.
func parseUpstream(raw string) (backend, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return backend{}, fmt.Errorf("%q is not a URL: %w", raw, err)
	}
	var b backend
	switch u.Scheme {
	case "http":
	case "https":
		b.TLS = true
	default:
		return backend{}, fmt.Errorf("%q: want http://host:port or https://host[:port]", raw)
	}
	if u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return backend{}, fmt.Errorf("%q: want http://host:port or https://host[:port], with no user, query or fragment", raw)
	}
	if u.Path != "" && u.Path != "/" {
		// Prefixing the path would make the function read a path other
		// than the one the route was matched and authorised on.
		return backend{}, fmt.Errorf("%q has a path; the function must receive the path the gateway authorised, so give the upstream's origin only", raw)
	}
	port := u.Port()
	if port == "" {
		port = map[bool]string{false: "80", true: "443"}[b.TLS]
	}
	if err := checkHost(u.Hostname()); err != nil || u.Hostname() == "" {
		// url.Parse lets quotes, "$", "(" and ")" through in a host; in
		// haproxy.cfg they would quote or cut the server line.
		return backend{}, fmt.Errorf("%q: the host must be a DNS name or an IP address", raw)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return backend{}, fmt.Errorf("%q: the port must be a number from 1 to 65535", raw)
	}
	b.Host = u.Hostname()
	b.Server = net.JoinHostPort(b.Host, port)
	return b, nil
}

// plainName is a word haproxy.cfg may hold unquoted, also inside a fetch's
// parentheses: a method, a function name, a key id (config.Load allows no
// other function name or key id).
var plainName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// plainHeaderName is a header name the export writes unquoted, also inside
// a fetch's parentheses (req.fhdr(NAME)).
var plainHeaderName = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

// dnsName is a host name: labels of letters, digits, "-" and "_" (service
// names in container networks hold "_"), separated by dots.
var dnsName = regexp.MustCompile(`^[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?)*\.?$`)

// checkHost accepts a host HAProxy can be given unquoted: an IP address or
// a DNS name. Empty is accepted (every address, for a listener).
func checkHost(host string) error {
	if host == "" || net.ParseIP(host) != nil || dnsName.MatchString(host) && len(host) <= 253 {
		return nil
	}
	return fmt.Errorf("host %q is neither an IP address nor a DNS name", host)
}

// listenAddr is [gateway] listen as haproxy.cfg's bind takes it, inside
// "${INQUIR_LISTEN-...}": a host HAProxy reads unquoted (no quote, "$",
// "}", blank or newline could end the default early) and a numeric port.
func listenAddr(listen string) (string, error) {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "", fmt.Errorf("%q is not host:port", listen)
	}
	if err := checkHost(host); err != nil {
		return "", fmt.Errorf("%q: %v; give an IP address or a DNS name", listen, err)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 || strconv.Itoa(n) != port {
		return "", fmt.Errorf("%q: the port must be a number from 0 to 65535", listen)
	}
	return net.JoinHostPort(host, port), nil
}

// commentText makes s safe in a "#" comment of haproxy.cfg or a map file:
// a comment runs to the end of the line, so a newline in s would start a
// directive (or a map entry) of its own. Text of printable ASCII is written
// as it is; other text is written as a Go string literal, quotes and
// escapes included, so the comment reads unambiguously.
func commentText(s string) string {
	if strings.IndexFunc(s, func(r rune) bool { return r < 0x20 || r >= 0x7f }) < 0 {
		return s
	}
	return strconv.QuoteToASCII(s)
}

// quote writes s as one double-quoted word of haproxy.cfg: backslash,
// double quote and dollar (environment variables) are escaped, a newline
// is \n.
func quote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, `$`, `\$`, "\n", `\n`, "\r", `\r`, "\t", `\t`)
	return `"` + r.Replace(s) + `"`
}

// micros turns an instant into the unix microseconds HAProxy's
// date(0,us) is compared with, rounded so the check is never weaker than
// inquir's: not_before up, expires down.
func micros(t time.Time, up bool) int64 {
	us := t.UnixMicro()
	if up && time.UnixMicro(us).Before(t) {
		us++
	}
	return us
}
