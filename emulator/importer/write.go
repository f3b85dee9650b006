package importer

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// finish puts the findings in source order and declares every group a
// route uses, so each says where it came from.
func (p *Project) finish() {
	p.checkAuthorizers()
	for i := range p.Plans {
		// API Gateway takes an offset up to the limit; inquir wants one
		// request left in the first period.
		if q := p.Plans[i].Quota; q != nil && q.Offset >= q.Limit {
			field, _, _ := strings.Cut(p.Plans[i].Comment, ": ")
			p.drop(p.Plans[i].Line, field+".Quota.Offset", "offset %d leaves no request in the first period, which inquir refuses; written as %d, one request", q.Offset, q.Limit-1)
			q.Offset = q.Limit - 1
		}
	}
	slices.SortStableFunc(p.Findings, func(a, b Finding) int { return cmp.Compare(a.Line, b.Line) })
	// An inquir export declares its groups (x-inquir-groups): one it does
	// not declare was not declared in the config either.
	for _, r := range p.Routes {
		if p.fromInquir || r.Group == "" || slices.ContainsFunc(p.Groups, func(g Group) bool { return g.Name == r.Group }) {
			continue
		}
		p.Groups = append(p.Groups, Group{Name: r.Group, Line: r.Line, Comment: "the routes that need a key"})
	}
}

// Write renders the project as inquir.toml for a file in outDir: paths in
// it are made relative to outDir. The output depends only on the project:
// tables in source order, fields in a fixed order, maps sorted.
func (p *Project) Write(w io.Writer, outDir string) error {
	var b bytes.Buffer
	src := baseName(p.Source)
	fmt.Fprintf(&b, "# Imported by `inquir import` from %s (%s).\n", src, formatName(p.Format))
	b.WriteString("# Each table's comment names the line it came from. Key secrets are env:\n")
	b.WriteString("# references: the command printed the lines that set them.\n")
	at := func(line int, what string) {
		b.WriteString("\n# ")
		if line > 0 {
			fmt.Fprintf(&b, "%s:%d", src, line)
		} else {
			b.WriteString(src)
		}
		if what != "" {
			b.WriteString(": " + strings.ReplaceAll(what, "\n", " "))
		}
		b.WriteString("\n")
	}
	g := p.Gateway
	if g.KeyHeader != "" || g.Region != "" || g.Listen != "" || g.Compat != "" || g.APIKeySource != "" || g.Payload != "" {
		at(g.Line, "gateway")
		b.WriteString("[gateway]\n")
		field(&b, "listen", g.Listen)
		field(&b, "key_header", g.KeyHeader)
		field(&b, "compat", g.Compat)
		field(&b, "region", g.Region)
		field(&b, "api_key_source", g.APIKeySource)
		field(&b, "payload", g.Payload)
	}
	for _, pl := range p.Plans {
		at(pl.Line, pl.Comment)
		fmt.Fprintf(&b, "[plans.%s]\n", tomlKey(pl.Name))
		if pl.Rate > 0 {
			fmt.Fprintf(&b, "rate = %s\nburst = %d\n", strconv.FormatFloat(pl.Rate, 'f', -1, 64), pl.Burst)
		}
		if q := pl.Quota; q != nil {
			fmt.Fprintf(&b, "quota = { limit = %d, period = %s", q.Limit, tomlString(q.Period))
			if q.Offset != 0 {
				fmt.Fprintf(&b, ", offset = %d", q.Offset)
			}
			b.WriteString(" }\n")
		}
		for _, r := range pl.Routes {
			fmt.Fprintf(&b, "[[plans.%s.routes]]\nmethod = %s\npath = %s\nrate = %s\nburst = %d\n", tomlKey(pl.Name),
				tomlString(r.Method), tomlString(r.Path), strconv.FormatFloat(r.Rate, 'f', -1, 64), r.Burst)
		}
	}
	for _, k := range p.Keys {
		at(k.Line, k.Comment)
		fmt.Fprintf(&b, "[keys.%s]\n", tomlKey(k.ID))
		secret := k.Secret
		if path, ok := strings.CutPrefix(secret, "file:"); ok {
			secret = "file:" + p.rebase(path, outDir)
		}
		field(&b, "secret", secret)
		list(&b, "groups", k.Groups)
		field(&b, "plan", k.Plan)
		if k.Disabled {
			b.WriteString("disabled = true\n")
		}
		datetime(&b, "not_before", k.NotBefore)
		datetime(&b, "expires", k.Expires)
		inline(&b, "metadata", k.Metadata)
	}
	for _, gr := range p.Groups {
		at(gr.Line, gr.Comment)
		fmt.Fprintf(&b, "[groups.%s]\ninternal = %t\n", tomlKey(gr.Name), gr.Internal)
		field(&b, "authorizer", gr.Authorizer)
	}
	for _, a := range p.Authorizers {
		at(a.Line, a.Comment)
		fmt.Fprintf(&b, "[authorizers.%s]\n", tomlKey(a.Name))
		field(&b, "function", a.Function)
		field(&b, "type", a.Type)
		list(&b, "identity_sources", a.IdentitySources)
		field(&b, "ttl", a.TTL)
		field(&b, "token_validation", a.TokenValidation)
		if a.SimpleResponses {
			b.WriteString("simple_responses = true\n")
		}
	}
	for _, f := range p.Functions {
		at(f.Line, f.Comment)
		fmt.Fprintf(&b, "[functions.%s]\n", tomlKey(f.Name))
		field(&b, "runtime", f.Runtime)
		if f.Path != "" {
			field(&b, "path", p.rebase(f.Path, outDir))
		}
		if f.Export != "" && f.Export != "handler" {
			field(&b, "export", f.Export)
		}
		list(&b, "command", f.Command)
		field(&b, "timeout", f.Timeout)
		if f.Concurrency > 0 {
			fmt.Fprintf(&b, "concurrency = %d\n", f.Concurrency)
		}
		inline(&b, "env", f.Env)
	}
	for _, r := range p.Routes {
		at(r.Line, r.Comment)
		b.WriteString("[[routes]]\n")
		field(&b, "method", r.Method)
		field(&b, "path", r.Path)
		field(&b, "function", r.Function)
		field(&b, "group", r.Group)
		list(&b, "keys", r.Keys)
		field(&b, "authorizer", r.Authorizer)
		field(&b, "auth", r.Auth)
		field(&b, "reason", r.Reason)
		field(&b, "payload", routePayload(r.Payload, g.Payload))
	}
	_, err := w.Write(b.Bytes())
	return err
}

// rebase makes a path relative to the source's folder relative to outDir.
func (p *Project) rebase(path, outDir string) string {
	if filepath.IsAbs(path) {
		return filepath.ToSlash(path)
	}
	abs, err1 := filepath.Abs(filepath.Join(p.Dir, filepath.FromSlash(path)))
	out, err2 := filepath.Abs(outDir)
	if err1 != nil || err2 != nil {
		return path
	}
	rel, err := filepath.Rel(out, abs)
	if err != nil {
		return path
	}
	return filepath.ToSlash(rel)
}

func formatName(f string) string {
	switch f {
	case FormatServerless:
		return "Serverless Framework"
	case FormatSAM:
		return "AWS SAM"
	}
	return "OpenAPI 3"
}

func baseName(p string) string { return filepath.Base(p) }

// field writes name = "value" unless value is "".
func field(b *bytes.Buffer, name, value string) {
	if value != "" {
		fmt.Fprintf(b, "%s = %s\n", name, tomlString(value))
	}
}

// list writes name = ["a", "b"] unless values is empty.
func list(b *bytes.Buffer, name string, values []string) {
	if len(values) == 0 {
		return
	}
	q := make([]string, len(values))
	for i, v := range values {
		q[i] = tomlString(v)
	}
	fmt.Fprintf(b, "%s = [%s]\n", name, strings.Join(q, ", "))
}

// inline writes name = { k = "v" } with the keys sorted.
func inline(b *bytes.Buffer, name string, m map[string]string) {
	if len(m) == 0 {
		return
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, tomlKey(k)+" = "+tomlString(m[k]))
	}
	fmt.Fprintf(b, "%s = { %s }\n", name, strings.Join(parts, ", "))
}

// datetime writes an RFC 3339 time as a TOML datetime; a value that is not
// one is written as a string, which inquir's config refuses by name.
func datetime(b *bytes.Buffer, name, value string) {
	if value == "" {
		return
	}
	if t, err := time.Parse(time.RFC3339, value); err == nil {
		fmt.Fprintf(b, "%s = %s\n", name, t.Format(time.RFC3339))
		return
	}
	field(b, name, value)
}

var bareKey = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// tomlKey writes a key bare where TOML allows, quoted otherwise.
func tomlKey(k string) string {
	if bareKey.MatchString(k) {
		return k
	}
	return tomlString(k)
}

// tomlString quotes s as a TOML basic string.
func tomlString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// routePayload is what a route's payload field says: nothing where the
// route's version is the gateway's (gateway, "" for 1.0).
func routePayload(route, gateway string) string {
	if route == "" || route == gateway || route == "1.0" && gateway == "" {
		return ""
	}
	return route
}
