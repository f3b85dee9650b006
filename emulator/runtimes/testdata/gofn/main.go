// Command gofn is a test function for the go runtime: an unmodified
// aws-lambda-go handler whose behaviour the event's path selects.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

func handle(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	body := "hello from go " + req.Path
	switch req.Path {
	case "/pid":
		body = strconv.Itoa(os.Getpid())
	case "/env":
		body = os.Getenv(req.QueryStringParameters["name"])
	case "/environ":
		env := map[string]string{}
		for _, kv := range os.Environ() {
			k, v, _ := strings.Cut(kv, "=")
			env[k] = v
		}
		b, err := json.Marshal(env)
		if err != nil {
			return events.APIGatewayProxyResponse{}, err
		}
		body = string(b)
	case "/cwd":
		body, _ = os.Getwd()
	case "/lambdacontext":
		lc, _ := lambdacontext.FromContext(ctx)
		body = strings.Join([]string{lambdacontext.FunctionName, lambdacontext.LogGroupName, lc.InvokedFunctionArn}, " ")
	case "/nap":
		time.Sleep(300 * time.Millisecond)
	case "/crash":
		os.Exit(3)
	case "/throw":
		return events.APIGatewayProxyResponse{}, errors.New("deliberate failure")
	case "/sleep":
		// A grandchild in the worker's process group, so a test can check
		// that a timeout kills the whole group, not only the worker.
		if err := exec.Command("sleep", "60").Start(); err != nil {
			return events.APIGatewayProxyResponse{}, err
		}
		select {
		case <-time.After(time.Minute):
		case <-ctx.Done():
			// Keep running past the deadline, as a stuck handler would.
			time.Sleep(time.Minute)
		}
	}
	return events.APIGatewayProxyResponse{StatusCode: 200, Body: body}, nil
}

func main() {
	if d, err := time.ParseDuration(os.Getenv("INIT_SLEEP")); err == nil {
		time.Sleep(d)
	}
	lambda.Start(handle)
}
