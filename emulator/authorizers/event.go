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
	var ev map[string]json.RawMessage
	if err := json.Unmarshal(proxyEvent, &ev); err != nil {
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
	ev["methodArn"], _ = json.Marshal(methodARN)
	return json.Marshal(ev)
}
