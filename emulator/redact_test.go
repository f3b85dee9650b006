package emulator

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inquir-dev/inquir/emulator/redact"
)

// lockedBuffer collects the log and the workers' output, written at once
// from several goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// initFailing is a process function that fails its init as a real one
// does: quoting the database password from its env in the error and on
// stderr, and printing whatever key secret it can see.
const initFailing = `import json, os, sys, urllib.request
api = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime"
pw = os.environ["DB_PASSWORD"]
print("connecting as admin with " + pw + " key " + os.environ.get("SECTEST_KEY", ""), file=sys.stderr, flush=True)
body = json.dumps({"errorType": "OperationalError", "errorMessage": "password authentication failed: postgres://admin:" + pw + "@db/app"}).encode()
urllib.request.urlopen(urllib.request.Request(api + "/init/error", data=body, method="POST")).read()
sys.exit(1)
`

// TestBuiltinsRedactSecrets runs a real function whose init error quotes a
// value of its env, under a config with key secrets, and reads
// /_inquir/stats and the whole log: neither holds a secret (issue 9,
// fault 7).
func TestBuiltinsRedactSecrets(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 is not installed")
	}
	const (
		dbPassword = "db-pa55word-from-file"
		envKey     = "sectest-env-key-secret"
		literalKey = "sectest-literal-key-secret"
	)
	t.Setenv("SECTEST_KEY", envKey)
	dir := t.TempDir()
	files := map[string]string{
		"fn.py":   initFailing,
		"db.pass": dbPassword + "\n",
		"inquir.toml": `
[keys.caller]
secret = "env:SECTEST_KEY"
[keys.other]
secret = "` + literalKey + `"
[functions.db]
runtime = "process"
command = ["python3", "fn.py"]
env = { DB_PASSWORD = "file:db.pass", DB_USER = "admin" }
[[routes]]
method = "GET"
path = "/db"
function = "db"
keys = ["caller"]
`,
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var captured lockedBuffer
	r := redact.New()
	e, err := Start(Options{
		ConfigPath: filepath.Join(dir, "inquir.toml"),
		Listen:     "127.0.0.1:0",
		CacheDir:   t.TempDir(),
		Log:        slog.New(slog.NewTextHandler(r.Writer(&captured), nil)),
		Output:     &captured,
		Redactor:   r,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := e.Close(ctx); err != nil {
			t.Error(err)
		}
	}()

	get := func(path, key string) (int, string) {
		t.Helper()
		req, err := http.NewRequest("GET", e.URL()+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if key != "" {
			req.Header.Set("x-api-key", key)
		}
		resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if code, body := get("/db", envKey); code != http.StatusBadGateway {
		t.Fatalf("GET /db = %d %s, want 502 from the failed init", code, body)
	}
	_, _ = get("/db", literalKey) // a refused key: its log line names the key id only

	// The init error reaches the stats once the worker is reaped.
	var stats string
	for deadline := time.Now().Add(30 * time.Second); ; {
		_, stats = get("/_inquir/stats", "")
		var s struct {
			Functions map[string]struct {
				LastExit string `json:"last_exit"`
			} `json:"functions"`
		}
		if err := json.Unmarshal([]byte(stats), &s); err != nil {
			t.Fatalf("stats: %v: %s", err, stats)
		}
		if strings.Contains(s.Functions["db"].LastExit, "password authentication failed") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the init error never reached the stats: %s", stats)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(stats, redact.Mask) {
		t.Errorf("stats show no %s: %s", redact.Mask, stats)
	}
	// Stop the workers so that every line they wrote is in the log.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.Close(ctx); err != nil {
		t.Error(err)
	}
	log := captured.String()
	if !strings.Contains(log, "connecting as admin with "+redact.Mask) {
		t.Errorf("the function's stderr line is missing or unredacted in the log:\n%s", log)
	}
	for _, secret := range []string{dbPassword, envKey, literalKey} {
		if strings.Contains(stats, secret) {
			t.Errorf("/_inquir/stats holds the secret %q: %s", secret, stats)
		}
		if strings.Contains(log, secret) {
			t.Errorf("the log holds the secret %q:\n%s", secret, log)
		}
	}
}

// TestBuiltinsCheckHost: on a loopback listener the built-in endpoints
// answer only a Host naming loopback or localhost, so a web page cannot read
// them by DNS rebinding (issue 9, fault 7).
func TestBuiltinsCheckHost(t *testing.T) {
	inv := &okInvoker{}
	e, _ := rotationProject(t, inv)
	port := e.URL()[strings.LastIndex(e.URL(), ":")+1:]
	tests := []struct {
		host string
		want int
	}{
		{"evil.example", http.StatusMisdirectedRequest},
		{"evil.example:" + port, http.StatusMisdirectedRequest},
		{"127.0.0.1.evil.example", http.StatusMisdirectedRequest},
		{"localhost.evil.example:" + port, http.StatusMisdirectedRequest},
		{"127.0.0.1:" + port, http.StatusOK},
		{"127.0.0.1", http.StatusOK},
		{"localhost", http.StatusOK},
		{"LocalHost:" + port, http.StatusOK},
		{"[::1]:" + port, http.StatusOK},
		{"127.1.2.3", http.StatusOK},
	}
	for _, tt := range tests {
		for _, path := range []string{"/_inquir/stats", "/_inquir/routes", "/_inquir/health"} {
			t.Run(tt.host+path, func(t *testing.T) {
				req, err := http.NewRequest("GET", e.URL()+path, nil)
				if err != nil {
					t.Fatal(err)
				}
				req.Host = tt.host
				resp, err := client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				body, _ := io.ReadAll(resp.Body)
				if resp.StatusCode != tt.want {
					t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.want, body)
				}
				if tt.want != http.StatusOK && strings.TrimSpace(string(body)) != `{"error":"misdirected_request"}` {
					t.Errorf("refusal body %s shows detail", body)
				}
			})
		}
	}
}

// spellingsNode prints, as functions do, a PEM key from a file: line by
// line (console.log adds its own prefix to the first line only) and raw, and
// JSON.stringify's spelling of both it and a secret with characters JSON
// escapes.
const spellingsNode = `const key = process.env.TLS_KEY, tricky = process.env.TRICKY;
console.log(key);
process.stdout.write(key + "\n");
console.log(JSON.stringify({ key, tricky }));
console.error("bad password:", JSON.stringify(tricky));
export async function handler() { return { statusCode: 200, body: "ok" }; }
`

// spellingsPython prints the same with print and json.dumps (which escapes
// every non-ASCII character), then serves invocations.
const spellingsPython = `import json, os, urllib.request
api = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime"
key, tricky = os.environ["TLS_KEY"], os.environ["TRICKY"]
print(key, flush=True)
print(json.dumps({"key": key, "tricky": tricky}), flush=True)
while True:
    with urllib.request.urlopen(api + "/invocation/next") as r:
        rid = r.headers["Lambda-Runtime-Aws-Request-Id"]
    urllib.request.urlopen(urllib.request.Request(api + "/invocation/" + rid + "/response", data=b'{"statusCode":200,"body":"ok"}', method="POST")).read()
`

// TestLogRedactsSpellings runs real functions that print a PEM key from a
// file: env value (the log is redacted a line at a time, so the key arrives
// in pieces) and JSON-encode a secret with a quote, a backslash, HTML
// characters, control characters and non-ASCII in it: the log holds no
// fragment of either (issue 22).
func TestLogRedactsSpellings(t *testing.T) {
	runtimes := map[string]bool{}
	for _, bin := range []string{"node", "python3"} {
		_, err := exec.LookPath(bin)
		runtimes[bin] = err == nil
	}
	if !runtimes["node"] && !runtimes["python3"] {
		t.Skip("neither node nor python3 is installed")
	}
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	key := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	// Every spelling of this one holds its first 13 characters.
	const tricky = "tr1cky-s3cr3t\"q\\b<s>&é🔑\x01\t\u2028\x7fend"

	dir := t.TempDir()
	toml := "[keys.caller]\nsecret = \"caller-key-0123456789\"\n"
	for fn, on := range map[string]bool{"node": runtimes["node"], "py": runtimes["python3"]} {
		if !on {
			continue
		}
		if fn == "node" {
			toml += "[functions.node]\nruntime = \"node\"\npath = \"fn.mjs\"\n"
		} else {
			toml += "[functions.py]\nruntime = \"process\"\ncommand = [\"python3\", \"fn.py\"]\n"
		}
		toml += `env = { TLS_KEY = "file:key.pem", TRICKY = "file:tricky.txt" }
[[routes]]
method = "GET"
path = "/` + fn + `"
function = "` + fn + `"
keys = ["caller"]
`
	}
	files := map[string]string{
		"fn.mjs": spellingsNode, "fn.py": spellingsPython,
		"key.pem": key, "tricky.txt": tricky, "inquir.toml": toml,
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var captured lockedBuffer
	r := redact.New()
	e, err := Start(Options{
		ConfigPath: filepath.Join(dir, "inquir.toml"),
		Listen:     "127.0.0.1:0",
		CacheDir:   t.TempDir(),
		Log:        slog.New(slog.NewTextHandler(r.Writer(&captured), nil)),
		Output:     &captured,
		Redactor:   r,
	})
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	stop := func() {
		if closed {
			return
		}
		closed = true
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := e.Close(ctx); err != nil {
			t.Error(err)
		}
	}
	defer stop()
	for fn, on := range map[string]bool{"node": runtimes["node"], "py": runtimes["python3"]} {
		if !on {
			continue
		}
		req, err := http.NewRequest("GET", e.URL()+"/"+fn, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("x-api-key", "caller-key-0123456789")
		resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /%s = %d %s", fn, resp.StatusCode, body)
		}
	}
	// Stop the workers so that every line they wrote is in the log.
	stop()
	log := captured.String()

	// The key's armor is no secret and shows: the key reached the log.
	for fn, on := range map[string]bool{"node": runtimes["node"], "py": runtimes["python3"]} {
		if on && !strings.Contains(log, "["+fn+"] -----BEGIN PRIVATE KEY-----") {
			t.Errorf("no line of function %s's key in the log:\n%s", fn, log)
		}
	}
	// Nothing of the tricky secret, and no 16 characters in a row of any
	// base64 line of the key.
	if strings.Contains(log, "tr1cky") {
		t.Errorf("the log holds a spelling of the secret %q:\n%s", tricky, log)
	}
	for _, line := range strings.Split(strings.TrimSpace(key), "\n") {
		if strings.HasPrefix(line, "-----") {
			continue
		}
		for i := 0; i+16 <= len(line); i++ {
			if strings.Contains(log, line[i:i+16]) {
				t.Fatalf("the log holds %q, a fragment of the key:\n%s", line[i:i+16], log)
			}
		}
	}
}
