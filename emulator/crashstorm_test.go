package emulator

import (
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// crashingFunction is a Lambda Runtime API client that asks for one event
// and dies without answering it: every invocation is a crash.
const crashingFunction = `import os, urllib.request
urllib.request.urlopen("http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime/invocation/next").read()
os._exit(3)
`

// TestCrashStormUnderLoad keeps a function crashing (every invocation
// kills its worker, so it falls into a crash loop and out again) while
// callers without a valid key hammer the same route. Not one refused
// request may be invoked or answered other than 401/403, and the function
// is invoked exactly once per allowed request, however the crashes and
// backoffs interleave with the refusals.
func TestCrashStormUnderLoad(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 is not on PATH")
	}
	dir := t.TempDir()
	files := map[string]string{
		"crash.py": crashingFunction,
		"inquir.toml": `
[keys.caller]
secret = "storm-caller-0123456789"
groups = ["g"]

[keys.other]
secret = "storm-other-0123456789"
groups = ["elsewhere"]

[functions.storm]
runtime = "process"
command = ["python3", "crash.py"]
concurrency = 2

[[routes]]
method = "POST"
path = "/storm"
function = "storm"
group = "g"
`,
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	e, err := Start(Options{ConfigPath: filepath.Join(dir, "inquir.toml"), Listen: "127.0.0.1:0", CacheDir: t.TempDir(), Output: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := e.Close(ctx); err != nil {
			t.Error(err)
		}
	})

	const (
		allowedCalls = 40  // each crashes a worker or meets a backoff
		refusedCalls = 600 // spread over the same time
	)
	client := &http.Client{Timeout: 60 * time.Second}
	send := func(secret string) (int, error) {
		req, _ := http.NewRequest("POST", e.URL()+"/storm", nil)
		if secret != "" {
			req.Header.Set("x-api-key", secret)
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode, nil
	}

	var wrong atomic.Int64 // refused requests answered otherwise
	var wg sync.WaitGroup
	refusers := []string{"", "storm-unknown-0123456789", "storm-other-0123456789"}
	for _, secret := range refusers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range refusedCalls / len(refusers) {
				code, err := send(secret)
				if err != nil {
					t.Error(err)
					return
				}
				if code != http.StatusUnauthorized && code != http.StatusForbidden {
					wrong.Add(1)
				}
			}
		}()
	}
	var failed atomic.Int64
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range allowedCalls {
			code, err := send("storm-caller-0123456789")
			if err != nil {
				t.Error(err)
				return
			}
			if code == http.StatusBadGateway {
				failed.Add(1)
			}
		}
	}()
	wg.Wait()

	if n := wrong.Load(); n != 0 {
		t.Errorf("%d of %d refused requests were answered otherwise than 401/403", n, refusedCalls)
	}
	if n := failed.Load(); n != allowedCalls {
		t.Errorf("%d of %d calls to a function that always crashes got 502", n, allowedCalls)
	}
	if got := e.Gateway().Stats().Invocations["storm"]; got != allowedCalls {
		t.Errorf("the function was invoked %d times for %d allowed requests: refused requests reached it", got, allowedCalls)
	}
	if st := e.FunctionStats()["storm"]; st.Crashes == 0 {
		t.Errorf("stats %+v: the function never crashed, so the test proved nothing", st)
	}
}
