package importer

import "strings"

// httpAPIPayload gives r, an HTTP API route, the payload format version its
// API sends it: v's, where the source names one (SAM's
// PayloadFormatVersion, the Serverless Framework's provider.httpApi.payload,
// "1.0" or "2.0"), else 2.0, the default of both. vField names v; field
// and line are the route's.
func (p *Project) httpAPIPayload(r *Route, v *node, vField string, line int, field string) {
	switch s := strings.TrimSpace(v.str()); s {
	case "", "2.0", "2":
		r.Payload = "2.0"
	case "1.0", "1":
		p.note(line, field, "an HTTP API route with payload 1.0: inquir hands the function a REST API's 1.0 event, whose requestContext has a few fields an HTTP API's lacks")
	default:
		p.drop(v.line(), vField, "%q is not a payload format version (\"1.0\" or \"2.0\"); the route is served with 2.0, the default", s)
		r.Payload = "2.0"
	}
}
