package cli

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// dumpableNode is a function that tries to read the environment of the
// process that started it, inquir dev, and says how that went.
const dumpableNode = `import { readFileSync } from "node:fs";
export async function handler() {
  try {
    readFileSync("/proc/" + process.ppid + "/environ");
    return { statusCode: 200, body: "read" };
  } catch (err) {
    return { statusCode: 200, body: err.code };
  }
}
`

// TestDevNotDumpable starts a real inquir dev with a key secret in its
// environment and has another process of the same user, and a function,
// read /proc/PID/environ: both are refused, because inquir dev marks itself
// non-dumpable (issue 22, fault 2). Root passes that check, so as root the
// test runs inquir dev and the reader as nobody (65534).
func TestDevNotDumpable(t *testing.T) {
	const secret = "dumpable-test-key-secret-0123456789"
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		cred = &syscall.Credential{Uid: 65534, Gid: 65534}
	}
	// Everything the other user runs and reads sits in a folder it may
	// enter: the test binary, copied (its own folder is private), and the
	// project. Only the cache is its own, to write builds in.
	dir, err := os.MkdirTemp("", "inquir-dumpable-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "cli.test")
	copyFile(t, self, bin, 0o755)
	_, err = exec.LookPath("node")
	withNode := err == nil
	toml := "[keys.dev]\nsecret = \"env:DUMPABLE_TEST_KEY\"\n"
	if withNode {
		toml += "[functions.peek]\nruntime = \"node\"\npath = \"peek.mjs\"\n" +
			"[[routes]]\nmethod = \"GET\"\npath = \"/peek\"\nfunction = \"peek\"\nkeys = [\"dev\"]\n"
	}
	for name, content := range map[string]string{"inquir.toml": toml, "peek.mjs": dumpableNode} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cache := filepath.Join(dir, "cache")
	if err := os.Mkdir(cache, 0o755); err != nil {
		t.Fatal(err)
	}
	if cred != nil {
		if err := os.Chown(cache, int(cred.Uid), int(cred.Gid)); err != nil {
			t.Fatal(err)
		}
	}

	dev := exec.Command(bin, "dev", "--config", "inquir.toml", "--listen", "127.0.0.1:0", "--no-watch")
	dev.Dir = dir
	dev.Env = []string{testAsEnv + "=inquir", "DUMPABLE_TEST_KEY=" + secret,
		"PATH=" + os.Getenv("PATH"), "HOME=" + cache, "XDG_CACHE_HOME=" + cache}
	dev.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	stderr, err := dev.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := dev.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	var log lockedLog
	listening := make(chan string, 1)
	go func() {
		// Read the log to its end before Wait, which closes the pipe.
		sc := bufio.NewScanner(stderr)
		re := regexp.MustCompile(`inquir dev: listening on (http://\S+)`)
		for sc.Scan() {
			log.add(sc.Text())
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				listening <- m[1]
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
		exited <- dev.Wait()
	}()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		_ = dev.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("inquir dev: %v; log:\n%s", err, log.String())
			}
		case <-time.After(20 * time.Second):
			_ = dev.Process.Kill()
			<-exited
			t.Errorf("inquir dev did not stop within 20s of SIGTERM; log:\n%s", log.String())
		}
	}
	t.Cleanup(stop)
	var url string
	select {
	case url = <-listening:
	case err := <-exited:
		t.Fatalf("inquir dev exited before listening: %v; log:\n%s", err, log.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("inquir dev not listening after 30s; log:\n%s", log.String())
	}

	environ := "/proc/" + strconv.Itoa(dev.Process.Pid) + "/environ"
	reader := exec.Command(bin, environ)
	reader.Env = []string{testAsEnv + "=reader"}
	reader.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	var out, errOut bytes.Buffer
	reader.Stdout, reader.Stderr = &out, &errOut
	err = reader.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		t.Errorf("another process of inquir dev's user read its %s (%d bytes; the key secret in it: %v)",
			environ, out.Len(), bytes.Contains(out.Bytes(), []byte(secret)))
	case errors.As(err, &exit) && exit.ExitCode() == 13:
		// Refused with EACCES, as it should be.
	default:
		t.Errorf("reading %s: %v: %s; want EACCES", environ, err, errOut.String())
	}

	// The function, a child of inquir dev, runs, and is refused too.
	if withNode {
		req, err := http.NewRequest("GET", url+"/peek", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("x-api-key", secret)
		resp, err := (&http.Client{Timeout: 60 * time.Second}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || string(body) != "EACCES" {
			t.Errorf("GET /peek = %d %q, want 200 \"EACCES\" (the function could not read inquir dev's environ); log:\n%s",
				resp.StatusCode, body, log.String())
		}
	}
	stop()
}

// lockedLog keeps the lines a process logs, read while it writes them.
type lockedLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *lockedLog) add(line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, line)
}

func (l *lockedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, mode); err != nil {
		t.Fatal(err)
	}
}
