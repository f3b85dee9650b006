package export_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAWSNotFoundV2BehindHAProxy: with compat = "aws" and [gateway]
// payload = "2.0", the whole API is an HTTP API, and HAProxy answers a
// request no route serves as inquir dev does (gateway's
// TestAWSNotFoundV2): 404 {"message":"Not Found"}, not a REST API's 403
// "Missing Authentication Token". Nothing reaches the upstream.
func TestAWSNotFoundV2BehindHAProxy(t *testing.T) {
	requireHAProxy(t)
	src, err := os.ReadFile(awsConfig)
	if err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(t.TempDir(), "inquir.toml")
	text := strings.Replace(string(src), "[gateway]\n", "[gateway]\npayload = \"2.0\"\n", 1)
	if err := os.WriteFile(config, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	up := newUpstream(t, "items")
	h := startHAProxy(t, exportTo(t, config, up.URL))
	for _, req := range [][2]string{{"GET", "/nothing"}, {"DELETE", "/ping"}} {
		resp, body := rawRequest(t, strings.TrimPrefix(h.URL, "http://"), req[0], req[1], "X-Api-Key", "export-fixture-aws-reader")
		if resp.StatusCode != 404 || string(body) != `{"message":"Not Found"}`+"\n" {
			t.Errorf("%s %s: %d %q, want 404 {\"message\":\"Not Found\"}", req[0], req[1], resp.StatusCode, body)
		}
	}
	if hits := up.take(); len(hits) != 0 {
		t.Errorf("the upstream got %v", hits)
	}
}
