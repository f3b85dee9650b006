//go:build unix

package runtimes

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/inquir-dev/inquir/emulator/config"
	"github.com/inquir-dev/inquir/emulator/gateway"
)

// TestTraceIDFlows: the trace id the gateway puts in the event's
// X-Amzn-Trace-Id (gateway.WithTraceID) is the Root of the invocation's
// Lambda-Runtime-Trace-Id, which the runtime clients hand the handler as
// _X_AMZN_TRACE_ID, as on AWS.
func TestTraceIDFlows(t *testing.T) {
	const root = "1-5f2330a4-6a0de1cd0e17c0508d386a64"
	for _, tt := range []struct {
		name string
		fn   func(t *testing.T) config.Function
	}{
		{"go", func(t *testing.T) config.Function { return goFunction(t, "fn") }},
		{"node", func(t *testing.T) config.Function { return nodeFunction(t, "fn", "esm.mjs") }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newManager(t, tt.fn(t))
			res, err := h.call(gateway.WithTraceID(t.Context(), root), "fn", "/environ", nil)
			if err != nil {
				t.Fatal(err)
			}
			var env map[string]string
			if err := json.Unmarshal([]byte(res.Body), &env); err != nil {
				t.Fatalf("/environ answered %q: %v", res.Body, err)
			}
			got := env["_X_AMZN_TRACE_ID"]
			if !strings.HasPrefix(got, "Root="+root+";Parent=") || !strings.HasSuffix(got, ";Sampled=0") {
				t.Errorf("_X_AMZN_TRACE_ID = %q, want Root=%s;Parent=...;Sampled=0", got, root)
			}
		})
	}
}
