package policy

import (
	"strconv"
	"time"

	"github.com/inquir-dev/inquir/emulator/config"
)

// RouteInfo is one row of the effective route table, as `inquir routes` and
// /_inquir/routes show it. It holds key ids, never secrets.
type RouteInfo struct {
	Method   string   `json:"method"`
	Path     string   `json:"path"`
	Function string   `json:"function"`
	Auth     string   `json:"auth"`
	Group    string   `json:"group,omitempty"`
	Keys     []string `json:"keys,omitempty"`
	// Callers are the ids of the keys that may call the route now; AnyKey
	// routes list every usable key.
	Callers []string `json:"callers"`
	// Inactive are keys the route allows that are expired, not yet valid or
	// disabled now, as "id (reason)".
	Inactive []string `json:"inactive,omitempty"`
	AnyKey   bool     `json:"any_key,omitempty"`
	Reason   string   `json:"reason,omitempty"`
	// Authorizer is the Lambda authorizer that runs for the route (its
	// own or its group's), after the key unless Auth is "authorizer";
	// "" for none.
	Authorizer string `json:"authorizer,omitempty"`
	// Payload is "2.0" on a route that hands its function an HTTP API's
	// event, and empty on the default, a REST API's ("1.0").
	Payload string `json:"payload,omitempty"`
	Line    int    `json:"line"`
}

// Table returns the effective route table at now, in file order.
func (p *Policy) Table(now time.Time) []RouteInfo {
	rows := make([]RouteInfo, 0, len(p.Routes))
	for _, r := range p.InFileOrder() {
		callers, inactive := []string{}, []string(nil)
		for _, id := range r.Callers {
			if why := p.Key(id).Validity(now); why != ReasonNone {
				inactive = append(inactive, id+" ("+why.String()+")")
			} else {
				callers = append(callers, id)
			}
		}
		row := RouteInfo{
			Method: r.Method, Path: r.Path, Function: r.Function, Auth: r.Auth,
			Group: r.Group, Keys: r.Keys, Callers: callers, Inactive: inactive, AnyKey: r.AnyKey, Reason: r.Reason,
			Authorizer: r.Authorizer,
			Line:       p.Config.Pos("routes", strconv.Itoa(r.Index)).Line,
		}
		if r.Payload == config.Payload2 {
			row.Payload = r.Payload
		}
		rows = append(rows, row)
	}
	return rows
}
