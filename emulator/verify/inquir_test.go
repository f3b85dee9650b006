package verify

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/inquir-dev/inquir/emulator/gateway"
	"github.com/inquir-dev/inquir/emulator/policy"
)

// TestURLPassesInquirGateway: inquir's own gateway, probed over HTTP as
// any other gateway is (--url), passes the whole matrix: every method of
// an ANY route, every encoded reserved character and letter case
// included. Its functions (verify's recorder) ran once for each cell that
// should reach one, and never for another.
func TestURLPassesInquirGateway(t *testing.T) {
	t.Setenv("INQUIR_OVERLAP_PARTNER", partnerSecret)
	t.Setenv("INQUIR_OVERLAP_ADMIN", adminSecret)
	overlap, err := os.ReadFile(overlapConfig)
	if err != nil {
		t.Fatal(err)
	}
	caseTOML := letterCaseConfig(t)
	for _, tc := range []struct{ name, config, echo string }{
		{"issue 9's overlapping routes", string(overlap), ""},
		{"an ANY route beside a reserved character", itemsTOML, "ANY /v1/{name}"},
		{"routes that differ in letter case", caseTOML, "ANY /v1/{proxy+}"},
		{"an echo route beside an admin route", gatewayTOML, "GET /echo/{proxy+}"},
		{"payload 2.0", "[gateway]\npayload = \"2.0\"\n" + gatewayTOML, "GET /echo/{proxy+}"},
		{"payload 2.0 under compat aws", "[gateway]\ncompat = \"aws\"\npayload = \"2.0\"\n" + gatewayTOML, "GET /echo/{proxy+}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, content := range map[string]string{"inquir.toml": tc.config, "fn.mjs": "export async function handler() {}\n"} {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			cfgPath := filepath.Join(dir, "inquir.toml")
			p, err := policy.Load(cfgPath)
			if err != nil {
				t.Fatal(err)
			}
			rec := &recorder{calls: map[string]int{}}
			gw := gateway.New(gateway.Options{Invoker: rec})
			defer gw.Close()
			gw.SetPolicy(p)
			srv := httptest.NewServer(gw)
			defer srv.Close()

			rep := runAgainst(t, cfgPath, srv.URL, tc.echo, gatewayKeys)
			reach := 0
			for _, c := range rep.Cells {
				if !c.OK {
					t.Errorf("cell %s %s (%s) for %s: want %s, got %s", c.Method, c.Path, c.Credential, c.Route, c.Want, c.Got)
				}
				if c.Want == Reach {
					reach++
				}
			}
			if !rep.OK() || len(rep.Problems) > 0 || rep.NotProbed() > 0 {
				t.Errorf("report not OK: problems %q, %d not probed", rep.Problems, rep.NotProbed())
			}
			if n := rec.count("api"); n != reach {
				t.Errorf("the function ran %d times; %d cells should have reached it", n, reach)
			}
		})
	}
}
