package authorizers

import "encoding/json"

// TokenEvent is the event a TOKEN authorizer is handed, as API Gateway
// builds it: {"type":"TOKEN","authorizationToken":...,"methodArn":...}.
func TokenEvent(token, methodARN string) []byte {
	b, _ := json.Marshal(struct {
		Type               string `json:"type"`
		AuthorizationToken string `json:"authorizationToken"`
		MethodArn          string `json:"methodArn"`
	}{"TOKEN", token, methodARN})
	return b
}

// RequestEvent turns a REST (payload 1.0) proxy event into the event a
// REQUEST authorizer is handed: the same request without its body (an
// authorizer never sees one), with "type":"REQUEST" and the methodArn.
// requestContext.authorizer is dropped: it is what the authorizer decides.
func RequestEvent(proxyEvent []byte, methodARN string) ([]byte, error) {
	ev, err := requestOf(proxyEvent)
	if err != nil {
		return nil, err
	}
	ev["methodArn"], _ = json.Marshal(methodARN)
	return json.Marshal(ev)
}

// RequestEventV2 turns an HTTP API (payload 2.0) event into the event a
// REQUEST authorizer with payload format 2.0 is handed, as aws-lambda-go's
// apigw-v2-custom-authorizer-v2-request.json shows it: the same request
// without its body, with "type":"REQUEST", the routeArn and the values of
// its identity sources in order (identitySource).
// requestContext.authorizer is dropped: it is what the authorizer decides.
func RequestEventV2(event []byte, routeARN string, identity []string) ([]byte, error) {
	ev, err := requestOf(event)
	if err != nil {
		return nil, err
	}
	ev["routeArn"], _ = json.Marshal(routeARN)
	if identity == nil {
		identity = []string{}
	}
	ev["identitySource"], _ = json.Marshal(identity)
	return json.Marshal(ev)
}

// requestOf is what the two REQUEST events share: the route's event
// without its body, without requestContext.authorizer (what the
// authorizer decides), with "type":"REQUEST".
func requestOf(event []byte) (map[string]json.RawMessage, error) {
	var ev map[string]json.RawMessage
	if err := json.Unmarshal(event, &ev); err != nil {
		return nil, err
	}
	delete(ev, "body")
	delete(ev, "isBase64Encoded")
	if rc, ok := ev["requestContext"]; ok {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(rc, &m); err == nil {
			delete(m, "authorizer")
			ev["requestContext"], _ = json.Marshal(m)
		}
	}
	ev["type"] = json.RawMessage(`"REQUEST"`)
	return ev, nil
}
