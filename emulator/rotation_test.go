package emulator

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// okInvoker answers 200 for every function: these tests are about which
// requests reach a function, not what it does.
type okInvoker struct{ calls atomic.Int64 }

func (o *okInvoker) Invoke(ctx context.Context, function string, event []byte) ([]byte, error) {
	o.calls.Add(1)
	return []byte(`{"statusCode":200,"body":"ok"}`), nil
}

const stableSecret = "stable-secret-0123456789"

func rotatingSecret(i int) string { return fmt.Sprintf("rotating-secret-%04d-0123456789", i) }

func digest(s string) string {
	d := sha256.Sum256([]byte(s))
	return hex.EncodeToString(d[:])
}

// rotationConfig has a stable key and a rotating one, both allowed on GET /x.
func rotationConfig(secret string) string {
	return `
[keys.stable]
secret = "sha256:` + digest(stableSecret) + `"
[keys.rotating]
secret = "sha256:` + digest(secret) + `"
[functions.f]
runtime = "node"
path = "fn.mjs"
[[routes]]
method = "GET"
path = "/x"
function = "f"
keys = ["stable", "rotating"]
`
}

const brokenConfig = "[keys.rotating]\nsecret = \"sha256:not-hex\"\n"

// rotationProject writes a project and starts an emulator on it.
func rotationProject(t testing.TB, inv *okInvoker) (*Emulator, string) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "fn.mjs"), []byte("export async function handler() {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "inquir.toml")
	if err := os.WriteFile(path, []byte(rotationConfig(rotatingSecret(0))), 0o644); err != nil {
		t.Fatal(err)
	}
	e, err := Start(Options{ConfigPath: path, Listen: "127.0.0.1:0", Invoker: inv})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := e.Close(ctx); err != nil {
			t.Error(err)
		}
	})
	return e, path
}

// writeConfig saves content as editors do: in place, or through a
// temporary file renamed over the old one.
func writeConfig(t testing.TB, path, content string, rename bool) {
	t.Helper()
	if !rename {
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

var client = &http.Client{Timeout: 10 * time.Second}

func status(t testing.TB, url, secret string) int {
	req, err := http.NewRequest("GET", url+"/x", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("x-api-key", secret)
	resp, err := client.Do(req)
	if err != nil {
		t.Error(err)
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// waitAccepted polls until secret is accepted and returns how long it took.
func waitAccepted(t testing.TB, url, secret string, from time.Time) time.Duration {
	t.Helper()
	deadline := from.Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if status(t, url, secret) == http.StatusOK {
			return time.Since(from)
		}
	}
	t.Fatalf("the new secret was not accepted within 10s")
	return 0
}

// TestRotationUnderLoad rotates one key many times, with broken edits in
// between, while another key calls without pause: no valid request is ever
// refused, and once a new secret is seen to work, the one it replaced never
// works again.
func TestRotationUnderLoad(t *testing.T) {
	const rotations = 30
	inv := &okInvoker{}
	e, path := rotationProject(t, inv)
	stopWatch, err := e.Watch()
	if err != nil {
		t.Fatal(err)
	}
	defer stopWatch()
	url := e.URL()

	var (
		done           = make(chan struct{})
		wg             sync.WaitGroup
		stableOK       atomic.Int64
		stableRefused  atomic.Int64
		revoked        atomic.Pointer[string]
		revokedChecked atomic.Int64
		revokedAllowed atomic.Int64
	)
	loop := func(body func()) {
		defer wg.Done()
		stop := time.After(60 * time.Second) // a bound, should the rotations stall
		for i := 0; i < 200000; i++ {
			select {
			case <-done:
				return
			case <-stop:
				return
			default:
			}
			body()
		}
	}
	wg.Add(2)
	go loop(func() {
		if status(t, url, stableSecret) == http.StatusOK {
			stableOK.Add(1)
		} else {
			stableRefused.Add(1)
		}
	})
	go loop(func() {
		s := revoked.Load()
		if s == nil {
			time.Sleep(time.Millisecond)
			return
		}
		revokedChecked.Add(1)
		if status(t, url, *s) != http.StatusUnauthorized {
			revokedAllowed.Add(1)
		}
	})

	refusedBefore := int64(0)
	for i := 1; i <= rotations; i++ {
		if i%3 == 0 {
			writeConfig(t, path, brokenConfig, i%2 == 0)
			deadline := time.Now().Add(10 * time.Second)
			for e.Gateway().Stats().Reloads.Refused == refusedBefore {
				if time.Now().After(deadline) {
					t.Fatal("the broken edit was never refused")
				}
				time.Sleep(time.Millisecond)
			}
			refusedBefore = e.Gateway().Stats().Reloads.Refused
			// The last good config is still in force.
			if got := status(t, url, rotatingSecret(i-1)); got != http.StatusOK {
				t.Fatalf("after a broken edit the secret in force got %d", got)
			}
		}
		start := time.Now()
		writeConfig(t, path, rotationConfig(rotatingSecret(i)), i%2 == 1)
		waitAccepted(t, url, rotatingSecret(i), start)
		old := rotatingSecret(i - 1)
		revoked.Store(&old)
	}
	close(done)
	wg.Wait()

	st := e.Gateway().Stats()
	t.Logf("%d rotations, %d reloads applied, %d refused; stable key: %d requests; revoked secrets probed %d times",
		rotations, st.Reloads.Applied, st.Reloads.Refused, stableOK.Load(), revokedChecked.Load())
	if n := stableRefused.Load(); n != 0 {
		t.Errorf("%d requests with the unchanged key were refused", n)
	}
	if n := revokedAllowed.Load(); n != 0 {
		t.Errorf("%d requests with a revoked secret were accepted after the swap was visible", n)
	}
	if stableOK.Load() == 0 || revokedChecked.Load() == 0 {
		t.Errorf("the load loops did not run: %d stable, %d revoked", stableOK.Load(), revokedChecked.Load())
	}
	if st.Reloads.Refused < rotations/3 {
		t.Errorf("%d reloads refused, want at least %d (one per broken edit)", st.Reloads.Refused, rotations/3)
	}
}

// BenchmarkRotationPropagation measures how long a rotation takes to reach
// the next request: from the write of inquir.toml to the first request the
// new secret passes. Run it with a fixed count of rotations:
//
//	go test -run '^$' -bench RotationPropagation -benchtime 100x ./emulator
//
// The baseline, in the same run, is the same rotation applied by an explicit
// Reload (what SIGHUP does): the ratio is what watching the file costs.
func BenchmarkRotationPropagation(b *testing.B) {
	watchedEm, watchedPath := rotationProject(b, &okInvoker{})
	directEm, directPath := rotationProject(b, &okInvoker{})
	stopWatch, err := watchedEm.Watch()
	if err != nil {
		b.Fatal(err)
	}
	defer stopWatch()

	var viaWatch, viaReload []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		secret := rotatingSecret(i + 1)
		start := time.Now()
		writeConfig(b, watchedPath, rotationConfig(secret), i%2 == 0)
		viaWatch = append(viaWatch, waitAccepted(b, watchedEm.URL(), secret, start))

		start = time.Now()
		writeConfig(b, directPath, rotationConfig(secret), i%2 == 0)
		if err := directEm.Reload(); err != nil {
			b.Fatal(err)
		}
		viaReload = append(viaReload, waitAccepted(b, directEm.URL(), secret, start))
	}
	b.StopTimer()
	w50, w99 := percentile(viaWatch, 50), percentile(viaWatch, 99)
	r50 := percentile(viaReload, 50)
	b.ReportMetric(float64(w50.Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(w99.Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(r50.Microseconds())/1000, "reload-p50-ms")
	b.ReportMetric(float64(w50)/float64(r50), "watch/reload-p50")
}

func percentile(d []time.Duration, p int) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := (len(s)*p + 99) / 100
	if i > 0 {
		i--
	}
	return s[i]
}
