// Command goplugin is a test function for the go-plugin runtime, and the
// same package runs under the go runtime: Handler is what a plugin
// exports, and main hands it to lambda.Start. The event's path selects
// what it does.
package main

import (
	"context"
	"errors"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

func Handler(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	switch req.Path {
	case "/env":
		return text(os.Getenv(req.QueryStringParameters["name"])), nil
	case "/lambdacontext":
		lc, _ := lambdacontext.FromContext(ctx)
		return text(strings.Join([]string{lambdacontext.FunctionName, lambdacontext.LogGroupName, lambdacontext.FunctionVersion,
			strconv.Itoa(lambdacontext.MemoryLimitInMB), lc.InvokedFunctionArn}, " ")), nil
	case "/context":
		lc, _ := lambdacontext.FromContext(ctx)
		deadline, _ := ctx.Deadline()
		return text(lc.AwsRequestID + " " + strconv.FormatBool(time.Until(deadline) > 0)), nil
	case "/throw":
		return events.APIGatewayProxyResponse{}, errors.New("deliberate failure")
	case "/panic":
		panic("deliberate panic")
	case "/goexit":
		runtime.Goexit()
	case "/stuck":
		// Ignores its context, as a handler blocked on a call without a
		// deadline would, until the file the query names exists.
		for start := time.Now(); time.Since(start) < time.Minute; time.Sleep(10 * time.Millisecond) {
			if _, err := os.Stat(req.QueryStringParameters["until"]); err == nil {
				break
			}
		}
		return text("unstuck"), nil
	case "/rich":
		// Every field of a response, with characters JSON encoders may
		// escape, so a test can compare the bytes of both runtimes.
		return events.APIGatewayProxyResponse{
			StatusCode:        201,
			Headers:           map[string]string{"Content-Type": "text/html", "X-B": "<&>"},
			MultiValueHeaders: map[string][]string{"Set-Cookie": {"a=1", "b=2"}},
			Body:              "<p>caf\u00e9 & \"tea\"</p>\u2028",
			IsBase64Encoded:   false,
		}, nil
	}
	return text("hello from go-plugin " + req.Path), nil
}

func text(body string) events.APIGatewayProxyResponse {
	return events.APIGatewayProxyResponse{StatusCode: 200, Body: body}
}

func main() { lambda.Start(Handler) }
