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
					fmt.Sprintf("function %q reads the %s header itself at %s:%d%s; the gateway has checked the key and removed that header: use %s",
						fn.Name, first.Header, v.relative(first.File), first.Line, more, keyIDField(v.Config, fn.Name)),
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

func ruleBase64WithoutBinaryTypes() *Rule {
	const project = `[gateway]
%s
[keys.partner]
secret = "env:PARTNER_KEY"
groups = ["partners"]

[functions.thumbnails]
runtime = "node"
path = "handler.mjs"

[[routes]]
method = "GET"
path = "/thumbnails/{id}"
function = "thumbnails"
group = "partners"
`
	handler := map[string]string{"handler.mjs": `export async function handler(event) {
  const png = Buffer.from("iVBORw0KGgo=", "base64"); // the image, read from storage
  return {
    statusCode: 200,
    headers: { "Content-Type": "image/png" },
    isBase64Encoded: true,
    body: png.toString("base64"),
  };
}
`}
	return &Rule{
		ID: "INQ020", Name: "Base64WithoutBinaryMediaTypes", Severity: Warning,
		Title: "a function returns isBase64Encoded with no binary media type configured",
		Explanation: `API Gateway decodes a Lambda proxy response marked isBase64Encoded only when the API lists binary media types and the caller's first Accept type is one of them; otherwise the caller gets the base64 text, not the bytes. An API has no binary media types unless it is given some, and neither does inquir: [gateway] binary_media_types is empty by default, so a handler that answers an image as base64 sends its caller base64 text, here as behind API Gateway. (With a binary media type such as "*/*", every request body of a matching Content-Type also reaches functions base64-encoded.)

How lint looks: with binary_media_types empty, it reads each function's sources as INQ011 does (a Go package folder, a Node module and the files beside it, comments removed) and looks for a response marked with a literal true: isBase64Encoded: true, "isBase64Encoded": true, IsBase64Encoded: true, or resp.isBase64Encoded = true. Reading the event's isBase64Encoded is not reported.

Its limits: it is a textual heuristic. It misses a flag computed at run time (isBase64Encoded: isBinary) and one set through a library, and it does not read process runtimes, subfolders or node_modules. It reports one finding per function, at its [functions.NAME] path, naming the first place found.`,
		Fix:              `list the media types the function answers in binary, as the API Gateway API would: [gateway] binary_media_types = ["image/png"]`,
		SecuritySeverity: "1.0", Tags: []string{"security", "aws-fidelity"}, Precision: "high",
		Bad:  Example{Config: fmt.Sprintf(project, ""), Files: handler},
		Good: Example{Config: fmt.Sprintf(project, `binary_media_types = ["image/png"]`+"\n"), Files: handler},
		check: func(v *View) []Finding {
			if len(v.Config.Gateway.BinaryMediaTypes) > 0 {
				return nil
			}
			var out []Finding
			for _, fn := range v.Config.Functions {
				if onlyPayload2(v.Config, fn.Name) {
					// HTTP APIs have no binary media types: they decode
					// isBase64Encoded always, and so does inquir.
					continue
				}
				places := findBase64Answers(handlerSources(fn))
				if len(places) == 0 {
					continue
				}
				first := places[0]
				f := v.at("function "+fn.Name,
					fmt.Sprintf("function %q answers with isBase64Encoded at %s:%d, but [gateway] binary_media_types is empty: API Gateway, and inquir, send such a body as its base64 text; list the media types it answers in binary",
						fn.Name, v.relative(first.File), first.Line),
					"functions", fn.Name, "path")
				for _, p := range places {
					f.Related = append(f.Related, Location{File: p.File, Line: p.Line, Message: "answers with isBase64Encoded"})
				}
				out = append(out, f)
			}
			return out
		},
	}
}

// onlyPayload2 reports whether function has routes, all of them payload
// 2.0 (an HTTP API's).
func onlyPayload2(c *config.Config, function string) bool {
	seen := false
	for _, r := range c.Routes {
		if r.Function != function {
			continue
		}
		if r.Payload != config.Payload2 {
			return false
		}
		seen = true
	}
	return seen
}

// keyIDField is where function's event holds the caller's key id:
// requestContext.identity.apiKeyId in a REST API's event (payload 1.0),
// requestContext.authorizer.lambda.apiKeyId in an HTTP API's (2.0), which
// a function only behind payload 2.0 routes gets.
func keyIDField(c *config.Config, function string) string {
	if onlyPayload2(c, function) {
		return "requestContext.authorizer.lambda.apiKeyId"
	}
	return "requestContext.identity.apiKeyId"
}
