package gateway

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/inquir-dev/inquir/emulator/policy"
)

// caseConfig is issue 22's routes that differ only in letter case
// (fixtures/lettercase): partner routes beside admin routes whose paths
// differ from theirs only in letter case. Its keys are partnerSecret and
// internalSecret.
const caseConfig = "../../fixtures/lettercase/inquir.toml"

// caseGateway serves caseConfig, logging into the buffer it returns.
func caseGateway(t testing.TB) (*Gateway, *spy, *bytes.Buffer) {
	t.Helper()
	t.Setenv("INQUIR_LETTERCASE_PARTNER", partnerSecret)
	t.Setenv("INQUIR_LETTERCASE_ADMIN", internalSecret)
	p, err := policy.Load(caseConfig)
	if err != nil {
		t.Fatal(err)
	}
	s, log := &spy{}, &bytes.Buffer{}
	gw := New(Options{Invoker: s, Log: slog.New(slog.NewTextHandler(log, nil)), Now: func() time.Time { return testNow }})
	gw.SetPolicy(p)
	return gw, s, log
}

// TestLetterCaseIsRefused is fault B of issue 22: Express, Koa and
// ASP.NET route without regard to letter case, so a partner key on
// /api/ADMIN/users, which GET /api/{section}/users lets in, would run the
// code of GET /api/admin/users, the admins' route. A path whose letters,
// compared as such a router compares them, select a more protected route
// is refused as an encoded spelling is (400 bad_request, logged as
// ambiguous_request), before anything runs; a path whose case changes
// nothing reaches the function.
func TestLetterCaseIsRefused(t *testing.T) {
	gw, s, log := caseGateway(t)
	serve := func(target, secret string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, target, nil)
		req.Header.Set("x-api-key", secret)
		rec := httptest.NewRecorder()
		gw.ServeHTTP(rec, req)
		return rec
	}
	for _, target := range []string{
		"/api/ADMIN/users",
		"/api/Admin/users",
		"/api/aDmIn/users",
		"/v1/admin/x",          // ANY /v1/Admin/{proxy+}, in the case ASP.NET ignores
		"/v1/ADMIN/x",          //
		"/v1/SECRETS/x",        // ANY /v1/secrets/{proxy+}
		"/v1/x/..%2FSecrets/y", // once decoded as a framework decodes it
		"/v1/%C5%BFecrets/x",   // U+017F, which Unicode case folding makes "s"
		"/v1/%E2%84%AAeys/x",   // U+212A, the Kelvin sign, folded to "k"
	} {
		t.Run(target, func(t *testing.T) {
			before := len(s.called())
			log.Reset()
			rec := serve(target, partnerSecret)
			body := errorBody(t, rec)
			if rec.Code != http.StatusBadRequest || body["error"] != "bad_request" || body["message"] == "" {
				t.Fatalf("GET %s with the partner key: %d %v, want 400 bad_request", target, rec.Code, body)
			}
			if n := len(s.called()) - before; n != 0 {
				t.Fatalf("GET %s was refused but invoked the function %d times", target, n)
			}
			if !strings.Contains(log.String(), "reason=ambiguous_request") {
				t.Errorf("log %q does not give the reason ambiguous_request", log.String())
			}
		})
	}

	// A path whose case selects no other route, or a route no more
	// protected, reaches the function as spelled.
	for _, tt := range []struct{ target, secret, resource string }{
		{"/api/sales/users", partnerSecret, "/api/{section}/users"},
		{"/api/Sales/users", partnerSecret, "/api/{section}/users"},
		{"/v1/Orders/x", partnerSecret, "/v1/{proxy+}"},
		{"/v1/x/Admin", partnerSecret, "/v1/{proxy+}"},
		{"/v1/Admin/x", internalSecret, "/v1/Admin/{proxy+}"},
		{"/api/admin/users", internalSecret, "/api/admin/users"},
	} {
		t.Run(tt.target, func(t *testing.T) {
			before := len(s.called())
			rec := serve(tt.target, tt.secret)
			calls := s.called()
			if rec.Code != http.StatusOK || len(calls) != before+1 {
				t.Fatalf("GET %s: %d %s, want the function's 200", tt.target, rec.Code, rec.Body)
			}
			if ev := calls[len(calls)-1].event; ev.Resource != tt.resource || ev.Path != tt.target {
				t.Errorf("event: resource %q path %q, want %q %q", ev.Resource, ev.Path, tt.resource, tt.target)
			}
		})
	}
}
