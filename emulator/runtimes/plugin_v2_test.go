package runtimes

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"

	"github.com/inquir-dev/inquir/emulator/config"
	"github.com/inquir-dev/inquir/emulator/gateway"
)

// pluginPool is a go-plugin pool whose Handler is h, a Go function standing
// in for a loaded plugin (the real builds are in plugin_test.go and
// testdata/script/payload_v2.txtar).
func pluginPool(t *testing.T, h pluginFunc) *harness {
	t.Helper()
	fn := config.Function{Name: "p", Runtime: config.RuntimeGoPlugin, Path: t.TempDir(), Timeout: 10 * time.Second, Concurrency: 2}
	m := newManager(t, fn)
	p, err := m.pool("p")
	if err != nil {
		t.Fatal(err)
	}
	p.plugin.Store(&pluginReady{arn: "arn:test", handler: h})
	return m
}

// TestPluginV2Handler checks that a go-plugin Handler for payload 2.0 gets
// a payload 2.0 event as a value (InvokeEventV2) or from its JSON
// (Invoke), and that its answer comes back as aws-lambda-go would encode
// it, cookies included.
func TestPluginV2Handler(t *testing.T) {
	var got []events.APIGatewayV2HTTPRequest
	m := pluginPool(t, pluginFunc{v2: func(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		got = append(got, req)
		return events.APIGatewayV2HTTPResponse{StatusCode: 201, Body: req.RawPath, Cookies: []string{"a=1"}}, nil
	}})
	ev := &events.APIGatewayV2HTTPRequest{Version: "2.0", RouteKey: "GET /x", RawPath: "/x", Cookies: []string{"c=1"},
		Headers: map[string]string{"h": "1,2"}}
	out, err := m.InvokeEventV2(t.Context(), "p", ev)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"statusCode":201,"headers":null,"multiValueHeaders":null,"body":"/x","cookies":["a=1"]}`
	if string(out) != want {
		t.Errorf("InvokeEventV2 answered %s, want %s", out, want)
	}
	event, _ := json.Marshal(ev)
	if out, err = m.Invoke(t.Context(), "p", event); err != nil || string(out) != want {
		t.Errorf("Invoke answered %s, %v; want %s", out, err, want)
	}
	if len(got) != 2 {
		t.Fatalf("the handler ran %d times, want 2", len(got))
	}
	for i, g := range got {
		if diff := cmp.Diff(*ev, g); diff != "" {
			t.Errorf("call %d: event (-sent +got):\n%s", i, diff)
		}
	}
	// A payload 1.0 event reaches it decoded into its type, as lambda.Start
	// would decode it, and its answer comes back as JSON for the gateway
	// to read.
	res, err := m.InvokeEvent(t.Context(), "p", &events.APIGatewayProxyRequest{Path: "/rest", Headers: map[string]string{"h": "1"}})
	if err != nil || res.Value != nil || string(res.JSON) != `{"statusCode":201,"headers":null,"multiValueHeaders":null,"body":"","cookies":["a=1"]}` {
		t.Errorf("InvokeEvent answered %+v, %v", res, err)
	}
	if len(got) != 3 || got[2].Headers["h"] != "1" || got[2].RawPath != "" {
		t.Errorf("the 1.0 event reached the handler as %+v", got[len(got)-1])
	}
}

// TestPluginV1HandlerGetsV2Event checks that a Handler for payload 1.0
// behind a payload 2.0 route gets the event's JSON decoded into its type
// (what the two formats share: headers, queryStringParameters, body), as
// on AWS, and answers JSON.
func TestPluginV1HandlerGetsV2Event(t *testing.T) {
	var got events.APIGatewayProxyRequest
	m := pluginPool(t, pluginFunc{v1: func(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		got = req
		return events.APIGatewayProxyResponse{StatusCode: 200, Body: "v1"}, nil
	}})
	out, err := m.InvokeEventV2(t.Context(), "p", &events.APIGatewayV2HTTPRequest{
		Version: "2.0", RawPath: "/x", Headers: map[string]string{"h": "1"}, QueryStringParameters: map[string]string{"q": "a,b"}, Body: "b",
	})
	if err != nil || string(out) != `{"statusCode":200,"headers":null,"multiValueHeaders":null,"body":"v1"}` {
		t.Errorf("answered %s, %v", out, err)
	}
	want := events.APIGatewayProxyRequest{Headers: map[string]string{"h": "1"}, QueryStringParameters: map[string]string{"q": "a,b"}, Body: "b"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("event (-want +got):\n%s", diff)
	}
}

// The gateway hands payload 2.0 events to a Manager as values.
var _ gateway.EventV2Invoker = (*Manager)(nil)
