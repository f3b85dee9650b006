// Command customers is the example partner-facing function: it looks a
// customer up by id. It is a plain AWS Lambda handler; it has no auth code,
// because the gateway checked the API key before it ran, and it learns who
// called from requestContext.
package main

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

// Customer is one row of the example table.
type Customer struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Tenant string `json:"tenant"`
}

var customers = map[string]Customer{
	"c-1001": {ID: "c-1001", Name: "Ada Lovelace", Tenant: "acme"},
	"c-1002": {ID: "c-1002", Name: "Grace Hopper", Tenant: "acme"},
	"c-2001": {ID: "c-2001", Name: "Katherine Johnson", Tenant: "globex"},
}

var idPattern = regexp.MustCompile(`^c-[0-9]{1,12}$`)

func handler(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	id := req.PathParameters["customerId"]
	if !idPattern.MatchString(id) {
		return reply(http.StatusBadRequest, map[string]string{"error": "customerId must look like c-1001"})
	}
	c, ok := customers[id]
	if !ok {
		return reply(http.StatusNotFound, map[string]string{"error": "no customer " + id})
	}
	return reply(http.StatusOK, map[string]any{
		"customer": c,
		"calledBy": req.RequestContext.Identity.APIKeyID,
	})
}

func reply(status int, body any) (events.APIGatewayProxyResponse, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return events.APIGatewayProxyResponse{}, err
	}
	return events.APIGatewayProxyResponse{
		StatusCode: status,
		Headers:    map[string]string{"Content-Type": "application/json"},
		Body:       string(b),
	}, nil
}

func main() { lambda.Start(handler) }
