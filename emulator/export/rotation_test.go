package export_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/inquir-dev/inquir/emulator/export"
)

// adminCommand sends one command to HAProxy's runtime API and returns its
// answer, as `socat stdio SOCKET` does in README.md's rotation recipe.
func adminCommand(t *testing.T, socket, command string) string {
	t.Helper()
	conn, err := net.DialTimeout("unix", socket, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.WriteString(conn, command); err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(conn)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// applyMaps is README.md's rotation recipe: each map file, in
// export.MapFiles order, replaced atomically with prepare/add/commit map.
func applyMaps(t *testing.T, socket, dir string) {
	t.Helper()
	for _, m := range export.MapFiles {
		out := adminCommand(t, socket, "prepare map "+m+"\n")
		var ver int
		if _, err := fmt.Sscanf(strings.TrimSpace(out), "New version created: %d", &ver); err != nil {
			t.Fatalf("prepare map %s: %q", m, out)
		}
		b, err := os.ReadFile(filepath.Join(dir, m))
		if err != nil {
			t.Fatal(err)
		}
		var entries []string
		sc := bufio.NewScanner(strings.NewReader(string(b)))
		for sc.Scan() {
			if l := sc.Text(); l != "" && !strings.HasPrefix(l, "#") {
				entries = append(entries, l)
			}
		}
		if len(entries) > 0 {
			if out := adminCommand(t, socket, fmt.Sprintf("add map @%d %s <<\n%s\n\n", ver, m, strings.Join(entries, "\n"))); strings.TrimSpace(out) != "" {
				t.Fatalf("add map @%d %s: %q", ver, m, out)
			}
		}
		if out := adminCommand(t, socket, fmt.Sprintf("commit map @%d %s\n", ver, m)); strings.TrimSpace(out) != "" {
			t.Fatalf("commit map @%d %s: %q", ver, m, out)
		}
	}
}

// TestRotationThroughRuntimeAPI follows README.md: change inquir.toml,
// export again, apply the maps through the runtime socket. The new secrets
// work and the old one is refused at once, on a connection opened before
// the rotation, with no restart.
func TestRotationThroughRuntimeAPI(t *testing.T) {
	requireHAProxy(t)
	project := t.TempDir()
	cfg := filepath.Join(project, "inquir.toml")
	write := func(keys string) {
		t.Helper()
		body := keys + `
[functions.f]
runtime = "process"
command = ["./f"]

[[routes]]
method = "GET"
path = "/orders/{id}"
function = "f"
group = "orders"
`
		if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(`
[keys.acme]
secret = "rotation-old"
groups = ["orders"]
`)
	up := newUpstream(t, "f")
	dir := exportTo(t, cfg, up.URL)
	h := startHAProxy(t, dir)

	reused := 0
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	get := func(secret string) int {
		t.Helper()
		req, _ := http.NewRequest("GET", h.URL+"/orders/1", nil)
		req.Header.Set("x-api-key", secret)
		req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
			GotConn: func(i httptrace.GotConnInfo) {
				if i.Reused {
					reused++
				}
			},
		}))
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := get("rotation-old"); code != 200 {
		t.Fatalf("before the rotation: old secret got %d", code)
	}

	// Rotate: acme's old secret goes, a new one and a new key come.
	write(`
[keys.acme]
secret = "rotation-new"
groups = ["orders"]

[keys.beta]
secret = "rotation-beta"
groups = ["orders"]
metadata = { tenant = "beta" }
`)
	if code, out := runCLI(t, "export", "--target", "haproxy", "--config", cfg, "--out", dir, "--upstream", up.URL); code != 0 {
		t.Fatalf("re-export: exit %d\n%s", code, out)
	}
	applyMaps(t, h.Socket, dir)

	up.take()
	for _, c := range []struct {
		secret string
		want   int
		id     string
	}{{"rotation-old", 401, ""}, {"rotation-new", 200, "acme"}, {"rotation-beta", 200, "beta"}} {
		if code := get(c.secret); code != c.want {
			t.Errorf("after the rotation: %s got %d, want %d", c.secret, code, c.want)
		}
		hits := up.take()
		if c.want != 200 && len(hits) != 0 {
			t.Errorf("after the rotation: %s reached the upstream", c.secret)
		}
		if c.want == 200 && (len(hits) != 1 || hits[0].Header.Get("X-Inquir-Key-Id") != c.id) {
			t.Errorf("after the rotation: %s: upstream saw %+v, want key id %s", c.secret, hits, c.id)
		}
	}
	if reused != 3 {
		t.Errorf("%d of 3 requests after the first reused its connection; a rotation must not drop connections", reused)
	}
	select {
	case <-h.exited:
		t.Fatal("haproxy exited during the rotation")
	default:
	}
}
