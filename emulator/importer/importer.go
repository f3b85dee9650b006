// Package importer turns another tool's description of an API into an
// inquir.toml: a Serverless Framework serverless.yml (v3 and v4), an AWS SAM
// template, or an OpenAPI 3 document with API Gateway's
// x-amazon-apigateway-* extensions (and the x-inquir-* ones inquir export
// writes).
//
// Import reads the file into a Project: the tables of an inquir.toml, each
// with the source line it came from, and the Findings: one line for each
// thing the source says that inquir cannot express (Dropped) or serves
// otherwise than AWS would (Note). A Project is never more open than its
// source: a route whose authorizer or IAM check cannot be carried over
// keeps a key check and is listed as dropped. Write renders the Project as
// inquir.toml, deterministically, with a comment naming the source line
// above each table. A secret written inline in the source is never written
// to the file: it becomes an env: reference, and Exports holds the shell
// line that sets it.
package importer

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	yaml "go.yaml.in/yaml/v3"
)

// Formats Import recognises.
const (
	FormatServerless = "serverless"
	FormatSAM        = "sam"
	FormatOpenAPI    = "openapi"
)

// Project is an inquir.toml in the making, with where each part came from.
type Project struct {
	// Source is the file read, as given to Import; Format one of the
	// Format constants.
	Source string
	Format string
	// Dir is the source file's folder: handler paths are relative to it.
	Dir string

	Gateway     Gateway
	Keys        []Key
	Groups      []Group
	Plans       []Plan
	Authorizers []Authorizer
	Functions   []Function
	Routes      []Route

	// Findings are what could not be carried over as written, in source
	// order once Import returns.
	Findings []Finding
	// Exports are the environment variables the keys' env: secrets name
	// and the values to set them to: inline secrets of the source, and
	// new ones where AWS would have generated a key.
	Exports []Export
	// Files are files to write beside inquir.toml (a SAM function's
	// InlineCode), by path relative to the source's folder.
	Files []File

	authorizersSeen map[string]string // source authorizer → its name, "" if dropped
	// fromInquir marks a document inquir export wrote (x-inquir-gateway):
	// its groups and route order are as written, nothing is assumed.
	fromInquir bool
}

// Gateway is the [gateway] table's imported fields.
type Gateway struct {
	// Listen and Compat are inquir's own, read back from inquir export's
	// x-inquir-gateway; "" for the defaults.
	Listen, Compat string
	// KeyHeader is the header API keys travel in; "" for inquir's default,
	// which is API Gateway's (x-api-key).
	KeyHeader string
	// Region is the AWS Region the source names, or "".
	Region string
	// APIKeySource is "authorizer" when keys come from the authorizers'
	// usageIdentifierKey (API Gateway's apiKeySource AUTHORIZER).
	APIKeySource string
	// Payload is "2.0" when every route names none and gets an HTTP API's
	// event (read back from inquir export's x-inquir-gateway); "" for 1.0.
	Payload string
	Line    int
}

// Key is one [keys.ID] table.
type Key struct {
	ID       string
	Secret   string // always a reference: env:NAME or sha256:..., never a secret
	Groups   []string
	Plan     string
	Disabled bool
	Metadata map[string]string
	// NotBefore and Expires are RFC 3339 times, or "".
	NotBefore, Expires string
	Comment            string
	Line               int
}

// Group is one [groups.NAME] table: the routes of one API of the source.
type Group struct {
	Name     string
	Internal bool
	// Authorizer runs for the group's routes that name none.
	Authorizer string
	Comment    string
	Line       int
}

// Plan is one [plans.NAME] table.
type Plan struct {
	Name    string
	Rate    float64 // 0: no throttle
	Burst   int
	Quota   *Quota
	Routes  []PlanRoute
	Comment string
	Line    int
}

// Quota is a plan's quota.
type Quota struct {
	Limit  int64
	Period string
	Offset int64
}

// PlanRoute is a per-route throttle of a plan.
type PlanRoute struct {
	Method, Path string
	Rate         float64
	Burst        int
}

// Authorizer is one [authorizers.NAME] table, in the shape of issue 18.
type Authorizer struct {
	Name            string
	Function        string
	Type            string // "request" or "token"
	IdentitySources []string
	TTL             string
	TokenValidation string
	SimpleResponses bool
	Comment         string
	Line            int
}

// Function is one [functions.NAME] table.
type Function struct {
	Name        string
	Runtime     string
	Path        string // relative to the source's folder
	Export      string
	Command     []string
	Timeout     string
	Concurrency int
	Env         map[string]string
	Comment     string
	Line        int
}

// Route is one [[routes]] entry.
type Route struct {
	Method, Path string
	Function     string
	Group        string
	Keys         []string
	Auth         string // "" (a key is required), "none" or "authorizer" (the authorizer alone)
	Reason       string
	Authorizer   string
	// Payload is the route's payload format version: "2.0" for an HTTP
	// API route that sends it (their default), "" for the default, 1.0.
	Payload string
	Comment string
	Line    int
	order   int // x-inquir-route: the route's place in the exported config
}

// Severity says whether a Finding makes the import partial.
type Severity int

const (
	// Note: carried over, but served otherwise than AWS would, or a
	// deployment setting a local gateway has no use for.
	Note Severity = iota
	// Dropped: something the source says that inquir.toml cannot express.
	// Import exits 1 on any, unless --allow-partial.
	Dropped
)

// String is how the command names the severity: "note" or "dropped".
func (s Severity) String() string {
	if s == Dropped {
		return "dropped"
	}
	return "note"
}

// Finding is one line of what was not carried over as written.
type Finding struct {
	Severity Severity
	Line     int    // in the source file
	Field    string // where in the source: "functions.foo.events[0].http.cors"
	Msg      string
}

// Export is an environment variable an env: secret names.
type Export struct {
	Name  string
	Value string // the secret, or a shell expression that reads it
	// Shell is true when Value is a shell expression to be left unquoted
	// inside double quotes ("$(aws ssm get-parameter ...)").
	Shell bool
	Key   string // the key id it is the secret of
}

// File is a file Import asks to be written beside inquir.toml.
type File struct {
	Path    string // relative to the source's folder
	Content []byte
}

// Dropped reports how many findings are drops.
func (p *Project) Dropped() int {
	n := 0
	for _, f := range p.Findings {
		if f.Severity == Dropped {
			n++
		}
	}
	return n
}

// Import reads the file at path and recognises its format: a document with
// `openapi` is OpenAPI 3, one with `Resources` (or a SAM Transform) is a SAM
// template, one with `functions` or `service` is a serverless.yml. JSON is
// read as YAML.
func Import(path string) (*Project, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		// The path once, as config errors name it: "serverless.yml: no such file or directory".
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return Parse(path, data)
}

// Parse is Import of data read from path.
func Parse(path string, data []byte) (*Project, error) {
	root, err := parseYAML(path, data)
	if err != nil {
		return nil, err
	}
	p := &Project{Source: path, Dir: filepath.Dir(path)}
	switch {
	case root.get("openapi") != nil:
		p.Format = FormatOpenAPI
		err = p.openAPI(root, "")
	case root.get("swagger") != nil:
		return nil, fmt.Errorf("%s:%d: a Swagger 2.0 document; inquir import reads OpenAPI 3 (convert it first)", path, root.get("swagger").Line)
	case root.get("Resources") != nil || root.get("Transform") != nil:
		p.Format = FormatSAM
		err = p.sam(root)
	case root.get("functions") != nil || root.get("service") != nil:
		p.Format = FormatServerless
		err = p.serverless(root)
	default:
		return nil, fmt.Errorf("%s: not a serverless.yml (no functions), a SAM template (no Resources) or an OpenAPI 3 document (no openapi)", path)
	}
	if err != nil {
		return nil, err
	}
	p.finish()
	return p, nil
}

// parseYAML decodes data into its document node.
func parseYAML(path string, data []byte) (*node, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		// yaml's errors read "yaml: line 3: ...": the file's name first.
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: expected a mapping at the top of the document", path)
	}
	// The Serverless Framework (js-yaml's load) and CloudFormation read one
	// document: a second would be ignored, so it is refused.
	var next yaml.Node
	if err := dec.Decode(&next); err == nil {
		return nil, fmt.Errorf("%s:%d: a second YAML document; inquir import reads a file of one", path, next.Line)
	} else if !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	root := doc.Content[0]
	budget := maxExpandedNodes
	if err := expand(root, &budget, 0); err != nil {
		var dup *dupError
		if errors.As(err, &dup) {
			return nil, fmt.Errorf("%s:%d: %s is already set in this mapping; write it once", path, dup.line, dup.key)
		}
		return nil, fmt.Errorf("%s:%d: %v", path, root.Line, err)
	}
	return (*node)(root), nil
}

// drop and note record findings.
func (p *Project) drop(line int, field, format string, args ...any) {
	p.Findings = append(p.Findings, Finding{Dropped, line, field, fmt.Sprintf(format, args...)})
}

func (p *Project) note(line int, field, format string, args ...any) {
	p.Findings = append(p.Findings, Finding{Note, line, field, fmt.Sprintf(format, args...)})
}
