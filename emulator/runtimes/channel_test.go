//go:build unix

package runtimes

import (
	"net/http"
	"strings"
	"testing"

	"github.com/inquir-dev/inquir/emulator/runtimeapi"
)

// TestNodeChannel checks that a node worker takes its invocations over the
// invocation channel, and that the channel holds the worker's poll as
// GET /next does: a second poller on its address, or a second channel, is
// refused and takes nothing; the worker serves on, in the same process,
// and ran only the invocations it was handed.
func TestNodeChannel(t *testing.T) {
	fn := nodeFunction(t, "fn", "esm.mjs")
	fn.Concurrency = 1
	h := newManager(t, fn)
	h.anyCaller = true // the second poller is this process
	pid := h.pid(t, "fn")
	w := liveWorker(t, h, "fn")
	if !w.api.Channel() {
		t.Fatal("the node worker waits without an invocation channel open")
	}

	status, body := apiCall(t, w.addr, "GET", "/2018-06-01/runtime/invocation/next", "")
	if status != http.StatusForbidden || !strings.Contains(body, "InvalidStateTransition") {
		t.Errorf("a second poller got %d %s, want 403 InvalidStateTransition", status, body)
	}
	req, err := http.NewRequestWithContext(t.Context(), "GET", "http://"+w.addr+"/2018-06-01/runtime/invocation/next", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", runtimeapi.ChannelProtocol)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("a second channel got %d, want 403", res.StatusCode)
	}

	if got, want := h.mustCall(t, "fn", "/hello", nil).Body, "hello from node esm /hello"; got != want {
		t.Errorf("body %q, want %q", got, want)
	}
	if again := h.pid(t, "fn"); again != pid {
		t.Errorf("the function now runs in pid %d, want the worker %d", again, pid)
	}
	if got := h.Stats()["fn"]; got.Invocations != 3 || got.WorkersStarted != 1 || got.Crashes != 0 {
		t.Errorf("Stats = %+v, want 3 invocations by 1 worker", got)
	}
}
