package gateway

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/inquir-dev/inquir/emulator/config"
	"github.com/inquir-dev/inquir/emulator/policy"
)

// BenchmarkServeHTTP measures what the gateway adds to a request, against a
// baseline handler in the same run that only writes a JSON answer of the
// same size: the ratios are the figures, not the nanoseconds.
//
//	go test -run '^$' -bench ServeHTTP -benchmem ./emulator/gateway
func BenchmarkServeHTTP(b *testing.B) {
	f := newFixture(b, config.CompatInquir)
	// The fixture's spy decodes and keeps every event; here a constant
	// answer and a log that writes nowhere keep the benchmark about the
	// gateway. The log line is still formatted and queued, as inquir dev
	// does (RequestLog).
	gw := New(Options{Invoker: constInvoker{}, RequestLog: io.Discard, Now: f.gw.opts.Now})
	defer gw.Close()
	gw.SetPolicy(f.gw.Policy())
	// A go-plugin function: the event and the response as values.
	plugin := New(Options{Invoker: echoValueInvoker{}, RequestLog: io.Discard, Now: f.gw.opts.Now})
	defer plugin.Close()
	plugin.SetPolicy(f.gw.Policy())
	// Routes where letter case can select a more protected route
	// (caseConfig): every request there is looked up twice, the second
	// time without regard to case (issue 22).
	cased, _, _ := caseGateway(b)
	folding := New(Options{Invoker: constInvoker{}, RequestLog: io.Discard, Now: f.gw.opts.Now})
	defer folding.Close()
	folding.SetPolicy(cased.Policy())
	// The partner key with a usage plan that never refuses: the cost of the
	// bucket, the quota and the RateLimit fields (issue 17).
	planned := New(Options{Invoker: constInvoker{}, RequestLog: io.Discard, Now: f.gw.opts.Now})
	defer planned.Close()
	planned.SetPolicy(withPlan(b, f.gw.Policy(), "partner-acme"))
	// A Lambda authorizer on every route, answered from its cache after
	// the first request (issue 18).
	authorized := New(Options{Invoker: authorizerInvoker{}, RequestLog: io.Discard, Now: f.gw.opts.Now})
	defer authorized.Close()
	authorized.SetPolicy(withAuthorizer(b, f.gw.Policy()))
	// The same routes with payload = "2.0": an HTTP API's event and
	// answer (serve_v2.go), built with encoding/json, not by hand.
	v2 := New(Options{Invoker: constInvoker{}, RequestLog: io.Discard, Now: f.gw.opts.Now})
	defer v2.Close()
	v2.SetPolicy(withPayload2(b, f.gw.Policy()))
	baseline := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "missing_api_key", "message": "x"})
	})
	cases := []struct {
		name    string
		handler http.Handler
		path    string
		key     string
	}{
		{"baseline", baseline, "/customers/c-1", ""},
		{"missing-key", gw, "/customers/c-1", ""},
		{"unknown-key", gw, "/customers/c-1", unknownSecret},
		{"forbidden", gw, "/customers/c-1", internalSecret},
		{"allowed", gw, "/customers/c-1", partnerSecret},
		{"allowed-value", plugin, "/customers/c-1", partnerSecret},
		{"allowed-planned", planned, "/customers/c-1", partnerSecret},
		{"allowed-authorizer-cached", authorized, "/customers/c-1", partnerSecret},
		{"allowed-v2", v2, "/customers/c-1", partnerSecret},
		{"odd-spelling", gw, "//customers/./c%2D1/", partnerSecret},
		{"case-folding-allowed", folding, "/api/sales/users", partnerSecret},
		{"case-folding-upper", folding, "/api/Sales/users", partnerSecret},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			req := httptest.NewRequest("GET", c.path, nil)
			if c.key != "" {
				req.Header.Set("x-api-key", c.key)
			}
			req.Header.Set("Authorization", "Bearer bench")
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				c.handler.ServeHTTP(httptest.NewRecorder(), req)
			}
		})
	}
}

// withPlan returns p's config compiled again with a usage plan that never
// refuses on the key keyID.
func withPlan(b *testing.B, p *policy.Policy, keyID string) *policy.Policy {
	b.Helper()
	cfg := *p.Config
	cfg.Plans = []config.Plan{{Name: "bench", Rate: 1e9, Burst: 1 << 30, Quota: &config.Quota{Limit: 1 << 60, Period: config.PeriodMonth}}}
	cfg.Keys = append([]config.Key(nil), p.Config.Keys...)
	for i := range cfg.Keys {
		if cfg.Keys[i].ID == keyID {
			cfg.Keys[i].Plan = "bench"
		}
	}
	out, err := policy.Compile(&cfg)
	if err != nil {
		b.Fatal(err)
	}
	return out
}

// withAuthorizer returns p's config compiled again with a cached REQUEST
// authorizer on every protected route.
func withAuthorizer(b *testing.B, p *policy.Policy) *policy.Policy {
	b.Helper()
	cfg := *p.Config
	cfg.Authorizers = []config.Authorizer{{
		Name: "bench", Function: cfg.Routes[0].Function, Type: config.AuthorizerRequest,
		IdentitySources: []config.IdentitySource{{Kind: config.SourceHeader, Name: "Authorization"}}, TTL: config.DefaultAuthorizerTTL,
	}}
	cfg.Routes = append([]config.Route(nil), p.Config.Routes...)
	for i := range cfg.Routes {
		if cfg.Routes[i].NeedsKey() {
			cfg.Routes[i].Authorizer = "bench"
		}
	}
	out, err := policy.Compile(&cfg)
	if err != nil {
		b.Fatal(err)
	}
	return out
}

// withPayload2 returns p's config compiled again with every route's
// payload "2.0".
func withPayload2(b *testing.B, p *policy.Policy) *policy.Policy {
	b.Helper()
	cfg := *p.Config
	cfg.Routes = append([]config.Route(nil), p.Config.Routes...)
	for i := range cfg.Routes {
		cfg.Routes[i].Payload = config.Payload2
	}
	out, err := policy.Compile(&cfg)
	if err != nil {
		b.Fatal(err)
	}
	return out
}

// authorizerInvoker answers an authorizer's event with a policy that
// allows the whole stage, and any other with constInvoker's response.
type authorizerInvoker struct{}

func (authorizerInvoker) Invoke(ctx context.Context, fn string, event []byte) ([]byte, error) {
	if bytes.Contains(event, []byte(`"methodArn"`)) {
		return []byte(`{"principalId":"p","policyDocument":{"Version":"2012-10-17","Statement":[{"Action":"execute-api:Invoke","Effect":"Allow","Resource":"*"}]},"context":{"tenant":"acme"}}`), nil
	}
	return constInvoker{}.Invoke(ctx, fn, event)
}

type constInvoker struct{}

func (constInvoker) Invoke(context.Context, string, []byte) ([]byte, error) {
	return []byte(`{"statusCode":200,"body":"ok"}`), nil
}
