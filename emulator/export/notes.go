package export

import (
	"strings"

	"github.com/inquir-dev/inquir/emulator/policy"
)

// Notes lists what of p's config the HAProxy export does not carry, one
// sentence each, starting with the place in the config it is about
// ("inquir.toml:3:1: gateway.binary_media_types: ..."): inquir export
// prints them, so that nothing is dropped silently. Where HAProxy can do
// what inquir does, it does it, and there is no note.
func Notes(p *policy.Policy) []string {
	c := p.Config
	var out []string
	if len(c.Gateway.BinaryMediaTypes) > 0 {
		// HAProxy speaks HTTP to HTTP upstreams: there is no Lambda proxy
		// event to base64-encode a body into, and no isBase64Encoded
		// response to decode.
		out = append(out, c.ErrorAt([]string{"gateway", "binary_media_types"},
			"not exported to HAProxy: HAProxy forwards request and response bodies to and from the upstream as they are, with no Lambda proxy event to base64-encode them in; binary media types (%s) apply only to a Lambda proxy integration behind API Gateway or inquir dev",
			strings.Join(c.Gateway.BinaryMediaTypes, ", ")).Error())
	}
	return out
}
