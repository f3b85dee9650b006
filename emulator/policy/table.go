package policy

import "strconv"

// RouteInfo is one row of the effective route table, as `inquir routes` and
// /_inquir/routes show it. It holds key ids, never secrets.
type RouteInfo struct {
	Method   string   `json:"method"`
	Path     string   `json:"path"`
	Function string   `json:"function"`
	Auth     string   `json:"auth"`
	Group    string   `json:"group,omitempty"`
	Keys     []string `json:"keys,omitempty"`
	// Callers are the configured key ids the route allows; AnyKey routes
	// list every configured key.
	Callers []string `json:"callers"`
	AnyKey  bool     `json:"any_key,omitempty"`
	Reason  string   `json:"reason,omitempty"`
	Line    int      `json:"line"`
}

// Table returns the effective route table in file order.
func (p *Policy) Table() []RouteInfo {
	rows := make([]RouteInfo, len(p.Routes))
	for _, r := range p.Routes {
		callers := r.Callers
		if callers == nil {
			callers = []string{}
		}
		rows[r.Index] = RouteInfo{
			Method: r.Method, Path: r.Path, Function: r.Function, Auth: r.Auth,
			Group: r.Group, Keys: r.Keys, Callers: callers, AnyKey: r.AnyKey, Reason: r.Reason,
			Line: p.Config.Pos("routes", strconv.Itoa(r.Index)).Line,
		}
	}
	return rows
}
