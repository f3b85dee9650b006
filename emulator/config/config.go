// Package config reads and validates inquir.toml.
//
// Load returns a *Config that is complete and checked: every default is
// filled in, every path is absolute, every reference between tables is known
// to resolve. Errors carry the file, line and field they are about (see
// Error). A Config holds secret references, never resolved secrets: those are
// read by the policy package when it compiles a Config.
package config

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"
)

// Defaults applied where inquir.toml leaves a field out.
const (
	DefaultListen      = "127.0.0.1:8787"
	DefaultKeyHeader   = "x-api-key"
	DefaultTimeout     = 30 * time.Second
	DefaultConcurrency = 4
	DefaultExport      = "handler"
	DefaultRegion      = "us-east-1"
)

// Compatibility modes for rejections (gateway.compat).
const (
	CompatInquir = "inquir" // 401/403 with inquir's JSON bodies
	CompatAWS    = "aws"    // every rejection is 403 {"message":"Forbidden"}
)

// Payload format versions a route may use (gateway.payload, routes.payload):
// the event a function is handed and how its answer is read, as API
// Gateway's Lambda proxy integrations name them.
const (
	Payload1 = "1.0" // a REST API's proxy event (APIGatewayProxyRequest)
	Payload2 = "2.0" // an HTTP API's event (APIGatewayV2HTTPRequest)
)

// Runtimes a function may name.
const (
	RuntimeGo       = "go"
	RuntimeGoPlugin = "go-plugin"
	RuntimeNode     = "node"
	RuntimeProcess  = "process"
)

// Route authentication modes.
const (
	AuthAPIKey = "api_key" // the default: a valid, allowed key is required
	AuthNone   = "none"    // a public route; needs a reason (lint INQ001)
)

// MethodAny matches every HTTP method.
const MethodAny = "ANY"

// Config is a validated inquir.toml.
type Config struct {
	// File is the absolute path of the file the Config was read from.
	File string
	// Dir is File's folder: relative paths inside the file resolve against it.
	Dir string
	// ID identifies the content: the first 12 hex digits of its SHA-256.
	ID string

	Gateway   Gateway
	Keys      []Key      // in file order
	Groups    []Group    // in file order; a group need not be declared to be used
	Functions []Function // in file order
	Routes    []Route    // in file order
	Plans     []Plan     // in file order

	Authorizers []Authorizer // in file order

	// positions of tables and fields, for Error and for lint findings.
	positions map[string]Position
}

// Gateway is the [gateway] table.
type Gateway struct {
	// Listen is the address inquir dev listens on. If zero, DefaultListen.
	Listen string
	// KeyHeader is the request header that carries the API key. If zero,
	// DefaultKeyHeader. It is compared case-insensitively, as HTTP says.
	KeyHeader string
	// Compat is CompatInquir (the default) or CompatAWS.
	Compat string
	// Region is the AWS Region functions are told they run in
	// (AWS_REGION, AWS_DEFAULT_REGION, invoked function ARNs). If zero,
	// DefaultRegion.
	Region string
	// APIKeySource is where a route's API key is read from: KeySourceHeader
	// (the default) or KeySourceAuthorizer (the usageIdentifierKey of the
	// route's authorizer).
	APIKeySource string
	// BinaryMediaTypes are the media ranges ("image/png", "image/*",
	// "*/*"), in lower case, that API Gateway's binaryMediaTypes would list:
	// a request body whose Content-Type matches one reaches the function
	// base64-encoded, and a response with isBase64Encoded is decoded only
	// when the request's first Accept type matches one. If empty, none, as
	// on AWS: every body is text.
	BinaryMediaTypes []string
	// Payload is the payload format version of every route that names
	// none: Payload1 or Payload2. If zero, Payload1.
	Payload string
}

// Key is one [keys.ID] table: an API key id and the secrets that
// authenticate as it.
type Key struct {
	// ID is the table name: what handlers see as apiKeyId. Never a secret.
	ID string
	// Secrets are the accepted secrets; more than one during a rotation.
	Secrets []SecretRef
	// Groups are the route groups this key may call.
	Groups []string
	// NotBefore and Expires bound the key's validity; zero means unbounded.
	NotBefore, Expires time.Time
	// Disabled keys are refused as invalid.
	Disabled bool
	// Metadata is handed to handlers in requestContext.authorizer.
	Metadata map[string]string
	// Plan is the usage plan that limits the key, or "" for none.
	Plan string
}

// Quota periods a plan may name, as API Gateway names them.
const (
	PeriodDay   = "DAY"
	PeriodWeek  = "WEEK"
	PeriodMonth = "MONTH"
)

// Plan is one [plans.NAME] table: a usage plan, as API Gateway's, that
// limits the keys that name it.
type Plan struct {
	Name string
	// Rate is the steady rate in requests per second (a token bucket's
	// refill), and Burst the bucket's size; a zero Rate means no throttle.
	Rate  float64
	Burst int
	// Quota, if set, bounds the requests per UTC window.
	Quota *Quota
	// Routes throttle single routes otherwise, as API Gateway keys
	// per-method throttling by /{path}/{METHOD}.
	Routes []PlanRoute
}

// Quota is a plan's quota.
type Quota struct {
	Limit int64
	// Period is PeriodDay, PeriodWeek or PeriodMonth.
	Period string
	// Offset is taken from Limit in the first window, as API Gateway's is.
	Offset int64
}

// PlanRoute is one [[plans.NAME.routes]] entry: a throttle for the route
// with this method and path template.
type PlanRoute struct {
	Index  int // its position among the plan's routes, from 0
	Method string
	Path   string
	Rate   float64
	Burst  int
}

// String names the route it throttles as routes name themselves.
func (r PlanRoute) String() string { return r.Method + " " + r.Path }

// Group is one [groups.NAME] table.
type Group struct {
	Name string
	// Internal marks a group only callers inside the organisation may use.
	Internal bool
	// Authorizer is the authorizer of the group's routes that name none.
	Authorizer string
}

// Function is one [functions.NAME] table.
type Function struct {
	Name    string
	Runtime string
	// Path is absolute: a package folder (go, go-plugin) or a module file (node).
	Path string
	// Export is the node module's exported handler. If zero, DefaultExport.
	Export string
	// Command is the process runtime's argv, run in Config.Dir.
	Command []string
	// Timeout bounds one invocation. If zero, DefaultTimeout.
	Timeout time.Duration
	// Concurrency is the most warm workers at once. If zero, DefaultConcurrency.
	Concurrency int
	// Env is handed to the function's workers. Values may be "env:NAME" or
	// "file:path" references; ResolveValue resolves them when a worker starts.
	Env map[string]string
	// Dir is the config's folder, where file: references resolve and
	// process workers run.
	Dir string
	// Region is Gateway.Region, carried by each function so that changing
	// it restarts the function's workers.
	Region string
}

// Route is one [[routes]] entry.
type Route struct {
	// Index is the route's position among [[routes]], from 0.
	Index int
	// Method is an upper-case HTTP method or MethodAny.
	Method string
	// Path is the template: literal segments, {name} for one segment,
	// {name+} (last only) for the rest of the path.
	Path     string
	Function string
	// Group and Keys say who may call; with neither, any valid key may.
	Group string
	Keys  []string
	// Auth is AuthAPIKey (the default), AuthNone or AuthAuthorizer.
	Auth   string
	Reason string
	// Authorizer is the authorizer that runs after the key check (or
	// alone, with AuthAuthorizer), the route's own or its group's; "" for
	// none.
	Authorizer string
	// Payload is the payload format version the route's function gets:
	// Payload1 or Payload2, the route's own or else Gateway.Payload.
	Payload string
}

// NeedsKey reports whether the route asks for an API key.
func (r Route) NeedsKey() bool { return r.Auth == AuthAPIKey }

// Public reports whether the route is open to every caller: no key and no
// authorizer.
func (r Route) Public() bool { return r.Auth == AuthNone }

// String names the route as messages do: "GET /customers/{customerId}".
func (r Route) String() string { return r.Method + " " + r.Path }

// Load reads and validates the config file at path.
func Load(path string) (*Config, error) { return load(path, false) }

// LoadLenient is Load for tools that report on a config rather than serve
// it, such as inquir lint: a route that names an undefined function is kept
// as written (Config.Function returns nil for its name) instead of failing
// the load, so the tool can report it beside its other findings. Every
// other problem fails the load as it does in Load. A Config loaded this way
// must never be served: the gateway refuses such a route, and Load says so.
func LoadLenient(path string) (*Config, error) { return load(path, true) }

// Parse validates data as the content of the config file at path (which
// must be absolute: relative paths inside resolve against its folder).
func Parse(path string, data []byte) (*Config, error) { return parse(path, data, false) }

// ParseLenient is Parse with LoadLenient's leniency.
func ParseLenient(path string, data []byte) (*Config, error) { return parse(path, data, true) }

func load(path string, lenient bool) (*Config, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, &Error{File: path, Msg: err.Error(), err: err}
	}
	data, err := os.ReadFile(abs)
	if err != nil {
		return nil, readError(abs, err)
	}
	return parse(abs, data, lenient)
}

// readError says why the config file could not be read, in the form of
// every other config error ("inquir.toml: no such file or directory"):
// the path is the Error's, so it is not repeated from the *PathError.
func readError(path string, err error) *Error {
	return &Error{File: path, Msg: errorCause(err), err: err}
}

func parse(path string, data []byte, lenient bool) (*Config, error) {
	raw, positions, err := decode(path, data)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	c := &Config{
		File:      path,
		Dir:       filepath.Dir(path),
		ID:        hex.EncodeToString(sum[:6]),
		positions: positions,
	}
	// build reports every problem it finds and fills c all the same, so a
	// lenient parse can let the undefined functions pass.
	var errs []error
	for _, e := range Errors(c.build(raw)) {
		var ce *Error
		if lenient && errors.As(e, &ce) && ce.undefinedFunction {
			continue
		}
		errs = append(errs, e)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c, nil
}

// Errors lists the problems in err, flattening what errors.Join put
// together (a config error is often several); nil gives none.
func Errors(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, Errors(e)...)
		}
		return out
	}
	return []error{err}
}

// WithSecrets returns a copy of c in which every key's secrets are those
// replace gives for it, for tools that compile a config without its real
// secrets (inquir lint, inquir verify). c itself does not change.
func (c *Config) WithSecrets(replace func(k Key) []SecretRef) *Config {
	out := *c
	out.Keys = make([]Key, len(c.Keys))
	for i, k := range c.Keys {
		k.Secrets = replace(k)
		out.Keys[i] = k
	}
	return &out
}

// WithStandInSecrets returns a copy of c in which every env: and file:
// secret is a stand-in digest, unique to its key and place, so that tools
// that compile a config to report on it (inquir lint, inquir routes) read
// no secret and run where secrets are not set (CI). Literal and sha256:
// secrets are written in the file, so they stay, and a secret two keys
// share is still refused as the gateway refuses it.
func (c *Config) WithStandInSecrets() *Config {
	return c.WithSecrets(func(k Key) []SecretRef {
		secrets := slices.Clone(k.Secrets)
		for j, s := range secrets {
			if s.Kind == SecretEnv || s.Kind == SecretFile {
				d := sha256.Sum256([]byte("inquir stand-in secret\x00" + k.ID + "\x00" + strconv.Itoa(j)))
				secrets[j] = SecretRef{Kind: SecretSHA256, Value: hex.EncodeToString(d[:])}
			}
		}
		return secrets
	})
}

// Function returns the function named name, or nil.
func (c *Config) Function(name string) *Function {
	for i := range c.Functions {
		if c.Functions[i].Name == name {
			return &c.Functions[i]
		}
	}
	return nil
}

// Key returns the key with id, or nil.
func (c *Config) Key(id string) *Key {
	for i := range c.Keys {
		if c.Keys[i].ID == id {
			return &c.Keys[i]
		}
	}
	return nil
}

// Plan returns the plan named name, or nil.
func (c *Config) Plan(name string) *Plan {
	for i := range c.Plans {
		if c.Plans[i].Name == name {
			return &c.Plans[i]
		}
	}
	return nil
}

// Group returns the declared group named name, or nil.
func (c *Config) Group(name string) *Group {
	for i := range c.Groups {
		if c.Groups[i].Name == name {
			return &c.Groups[i]
		}
	}
	return nil
}
