package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// target is one row of the table: a server and a request.
type target struct {
	name     string // as -targets spells it
	function string // the function behind the route; "" for bare
	runtime  string // its runtime; "" for bare and 401
	path     string // the request path
	keyed    bool   // the request carries the benchmark key
	want     int    // the status every answer must have
	// page: the live page is open during the load (a subscriber of
	// /_inquir/events reads every record the stream sends).
	page bool
}

// allTargets in table order.
var allTargets = []target{
	{name: "bare", want: 200, path: "/echo"},
	{name: "node-http", want: 200, path: "/echo"},
	{name: "node-cluster", want: 200, path: "/echo"},
	{name: "401", path: "/guarded", want: 401},
	{name: "401-page", path: "/guarded", want: 401, page: true},
	{name: "plugin", function: "pluginfn", runtime: "go-plugin", path: "/plugin/echo", keyed: true, want: 200},
	{name: "go", function: "gofn", runtime: "go", path: "/go/echo", keyed: true, want: 200},
	{name: "node", function: "nodefn", runtime: "node", path: "/node/echo", keyed: true, want: 200},
	{name: "process", function: "pyfn", runtime: "process", path: "/py/echo", keyed: true, want: 200},
}

// benchKey is the key every keyed request sends. A literal secret in the
// config (lint warns about it; fine for a benchmark).
const benchKey = "inq_bench_load_0123456789abcdef"

// project is a generated inquir project in a folder of its own.
type project struct {
	dir         string
	targets     []target // the selected function targets
	concurrency int
	// spare is the function the 401 and rotation routes point at.
	spare string
}

func (p *project) configPath() string { return filepath.Join(p.dir, "inquir.toml") }

// newProject writes the project's files for the selected targets. repo is
// inquir's module root: the go functions require the aws-lambda-go version
// inquir is built with (go-plugin needs exactly that one).
func newProject(dir, repo string, selected []target, concurrency int) (*project, error) {
	p := &project{dir: dir, concurrency: concurrency}
	for _, t := range selected {
		if t.function != "" {
			p.targets = append(p.targets, t)
		}
	}
	// The cheapest function serves the rotation route; node when there is
	// none, since it needs no build.
	p.spare = "nodefn"
	if len(p.targets) > 0 {
		p.spare = p.targets[0].function
	}
	files := map[string]string{
		"node/echo.mjs": nodeEcho,
		"echo.py":       pyEcho,
	}
	if p.has("go-plugin") || p.has("go") {
		mod, sum, err := lambdaRequirement(repo)
		if err != nil {
			return nil, err
		}
		files["go.mod"] = "module example.com/inquirload\n\ngo 1.26\n\nrequire " + mod + "\n"
		files["go.sum"] = sum
		files["gofn/main.go"] = goEcho
	}
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, fmt.Errorf("writing the project: %w", err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			return nil, fmt.Errorf("writing the project: %w", err)
		}
	}
	return p, p.writeConfig("inq_bench_rotating_initial_0123456789")
}

func (p *project) has(runtime string) bool {
	for _, t := range p.targets {
		if t.runtime == runtime {
			return true
		}
	}
	return false
}

// writeConfig writes inquir.toml with rotating as the secret of key
// "rotating", to a temporary file renamed over the old one, as editors save.
func (p *project) writeConfig(rotating string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "[keys.bench]\nsecret = %q\n\n[keys.rotating]\nsecret = %q\n\n", benchKey, rotating)
	fns := map[string]bool{}
	for _, t := range p.targets {
		fns[t.function] = true
	}
	fns[p.spare] = true
	for _, fn := range []struct{ name, body string }{
		{"pluginfn", `runtime = "go-plugin"` + "\npath = \"gofn\"\n"},
		{"gofn", `runtime = "go"` + "\npath = \"gofn\"\n"},
		{"nodefn", `runtime = "node"` + "\npath = \"node/echo.mjs\"\n"},
		{"pyfn", `runtime = "process"` + "\ncommand = [\"python3\", \"echo.py\"]\n"},
	} {
		if fns[fn.name] {
			fmt.Fprintf(&b, "[functions.%s]\n%sconcurrency = %d\n\n", fn.name, fn.body, p.concurrency)
		}
	}
	route := func(path, function, key string) {
		fmt.Fprintf(&b, "[[routes]]\nmethod = \"POST\"\npath = %q\nfunction = %q\nkeys = [%q]\n\n", path, function, key)
	}
	route("/guarded", p.spare, "bench")
	route("/rotate", p.spare, "rotating")
	for _, t := range p.targets {
		route(t.path, t.function, "bench")
	}
	tmp := p.configPath() + ".tmp"
	if err := os.WriteFile(tmp, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("writing inquir.toml: %w", err)
	}
	return os.Rename(tmp, p.configPath())
}

// lambdaRequirement reads the aws-lambda-go requirement from inquir's
// go.mod and its lines from go.sum.
func lambdaRequirement(repo string) (mod, sum string, err error) {
	gomod, err := os.ReadFile(filepath.Join(repo, "go.mod"))
	if err != nil {
		return "", "", fmt.Errorf("reading inquir's go.mod: %w", err)
	}
	m := regexp.MustCompile(`(?m)^\s*(?:require\s+)?github\.com/aws/aws-lambda-go\s+(v\S+)`).FindSubmatch(gomod)
	if m == nil {
		return "", "", fmt.Errorf("%s: no github.com/aws/aws-lambda-go requirement; the go functions need the version inquir is built with", filepath.Join(repo, "go.mod"))
	}
	mod = "github.com/aws/aws-lambda-go " + string(m[1])
	gosum, err := os.ReadFile(filepath.Join(repo, "go.sum"))
	if err != nil {
		return "", "", fmt.Errorf("reading inquir's go.sum: %w", err)
	}
	var out strings.Builder
	sc := bufio.NewScanner(bytes.NewReader(gosum))
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), mod+" ") || strings.HasPrefix(sc.Text(), mod+"/go.mod ") {
			out.WriteString(sc.Text() + "\n")
		}
	}
	return mod, out.String(), nil
}

// The functions: each answers the request's body, as JSON. One Go package
// serves both go (main) and go-plugin (Handler).
const (
	goEcho = `package main

import (
	"context"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

var headers = map[string]string{"Content-Type": "application/json"}

func Handler(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	return events.APIGatewayProxyResponse{StatusCode: 200, Headers: headers, Body: req.Body}, nil
}

func main() { lambda.Start(Handler) }
`
	nodeEcho = `export async function handler(event) {
  return { statusCode: 200, headers: { 'Content-Type': 'application/json' }, body: event.body };
}
`
	// nodeHTTP is node's own speed at the same echo, for the node row to
	// be read against: a node:http server, in one process, or with
	// node:cluster in as many processes as the functions have workers.
	nodeHTTP = `import cluster from 'node:cluster';
import http from 'node:http';

const procs = Number(process.env.PROCS);
if (procs > 1 && cluster.isPrimary) {
  let up = 0;
  for (let i = 0; i < procs; i++) {
    cluster.fork().on('listening', (addr) => {
      if (++up === procs) console.log(` + "`node-http: listening on http://127.0.0.1:${addr.port}`" + `);
    });
  }
  const stop = () => { for (const w of Object.values(cluster.workers)) w.kill(); process.exit(0); };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
} else {
  const srv = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(Buffer.concat(chunks));
    });
  });
  srv.keepAliveTimeout = 60000;
  srv.listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
    if (!(procs > 1)) console.log(` + "`node-http: listening on http://127.0.0.1:${srv.address().port}`" + `);
  });
  process.on('SIGTERM', () => process.exit(0));
}
`
	pyEcho = `# The README's minimal Lambda Runtime API client, echoing the body.
import json, os, urllib.request

api = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime"
while True:
    with urllib.request.urlopen(api + "/invocation/next") as res:
        request_id = res.headers["Lambda-Runtime-Aws-Request-Id"]
        event = json.load(res)
    response = {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": event["body"]}
    urllib.request.urlopen(urllib.request.Request(
        f"{api}/invocation/{request_id}/response", data=json.dumps(response).encode(), method="POST")).read()
`
)
