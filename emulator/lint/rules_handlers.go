package lint

import (
	"fmt"
	"path/filepath"

	"github.com/inquir-dev/inquir/emulator/config"
)

// Handler code: what the gateway does, a handler need not.

func ruleHandlerChecksKey() *Rule {
	return &Rule{
		ID: "INQ011", Name: "HandlerChecksAPIKey", Severity: Warning,
		Title: "a handler that checks the API key itself (auth boilerplate the gateway makes needless)",
		Explanation: `The gateway checks the key before any handler code runs, and removes the key header from the event: a handler never sees the secret. Code that reads the key header is therefore dead at best; at worst it rejects every request, or it is the only check a route has, written in the hope that the handler sees what the gateway saw. A handler learns who called from requestContext.identity.apiKeyId (and the key's metadata in requestContext.authorizer).

How lint looks: it reads the handler's sources (a Go function's package folder, *.go without tests; a Node module and the .js, .mjs, .cjs and .ts files beside it) with comments removed, and looks for the key header's name (the configured key_header, and x-api-key), in any letter case, quoted and read: headers["x-api-key"], Header.Get("X-Api-Key"), headers.get('x-api-key'), event.headers?.['x-api-key'], const { "x-api-key": k } = event.headers, k === "x-api-key", strings.EqualFold(k, "x-api-key"), case "x-api-key":. Writes are not reads: a function that calls another route through the gateway sets the header (req.Header.Set, { "x-api-key": key } in a fetch) and is not reported.

Its limits: it is a textual heuristic, not a parser. It misses a header name built at run time or held in a constant defined elsewhere, a key read through a library, and nested destructuring in a parameter list; it does not read process runtimes, subfolders or node_modules, nor files over 1 MB; a JavaScript regular expression literal holding a quote can hide code from it. It reports one finding per function, at its [functions.NAME] path, naming the first place found.`,
		Fix:              "remove the check; use requestContext.identity.apiKeyId to learn the caller",
		SecuritySeverity: "2.0", Tags: []string{"security", "maintainability"}, Precision: "medium",
		Bad: Example{Config: `[keys.partner]
secret = "env:PARTNER_KEY"
groups = ["partners"]

[functions.orders]
runtime = "node"
path = "handler.mjs"

[[routes]]
method = "GET"
path = "/orders/{id}"
function = "orders"
group = "partners"
`, Files: map[string]string{"handler.mjs": `export async function handler(event) {
  const key = event.headers["x-api-key"];
  if (key !== process.env.PARTNER_KEY) {
    return { statusCode: 403, body: "forbidden" };
  }
  return { statusCode: 200, body: JSON.stringify({ order: event.pathParameters.id }) };
}
`}},
		Good: Example{Config: `[keys.partner]
secret = "env:PARTNER_KEY"
groups = ["partners"]

[functions.orders]
runtime = "node"
path = "handler.mjs"

[[routes]]
method = "GET"
path = "/orders/{id}"
function = "orders"
group = "partners"
`, Files: map[string]string{"handler.mjs": `// The gateway checked the x-api-key header before this ran.
export async function handler(event) {
  const caller = event.requestContext.identity.apiKeyId;
  return { statusCode: 200, body: JSON.stringify({ order: event.pathParameters.id, caller }) };
}
`}},
		check: func(v *View) []Finding {
			headers := []string{v.Config.Gateway.KeyHeader}
			if v.Config.Gateway.KeyHeader != config.DefaultKeyHeader {
				headers = append(headers, config.DefaultKeyHeader)
			}
			patterns := keyReadPatterns(headers)
			var out []Finding
			for _, fn := range v.Config.Functions {
				reads := findKeyReads(handlerSources(fn), patterns)
				if len(reads) == 0 {
					continue
				}
				first := reads[0]
				more := ""
				if n := len(reads) - 1; n == 1 {
					more = " (and 1 more place)"
				} else if n > 1 {
					more = fmt.Sprintf(" (and %d more places)", n)
				}
				f := v.at("function "+fn.Name,
					fmt.Sprintf("function %q reads the %s header itself at %s:%d%s; the gateway has checked the key and removed that header: use requestContext.identity.apiKeyId",
						fn.Name, first.Header, v.relative(first.File), first.Line, more),
					"functions", fn.Name, "path")
				for _, r := range reads {
					f.Related = append(f.Related, Location{File: r.File, Line: r.Line, Message: "reads the " + r.Header + " header"})
				}
				out = append(out, f)
			}
			return out
		},
	}
}

// relative spells a path relative to the config's folder, with slashes,
// as inquir.toml writes paths.
func (v *View) relative(path string) string {
	if rel, err := filepath.Rel(v.Config.Dir, path); err == nil {
		return filepath.ToSlash(rel)
	}
	return path
}
