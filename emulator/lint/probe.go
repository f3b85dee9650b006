package lint

import (
	"strconv"
	"strings"

	"github.com/inquir-dev/inquir/emulator/config"
	"github.com/inquir-dev/inquir/emulator/policy"
)

// Probe is one sample request derived from a route, and the route the
// gateway's router serves it with. INQ008, INQ009, INQ012 and INQ015
// decide by probes (INQ014 by %2F and other-case spellings of their paths), so they see what the gateway does (its ordering of literal,
// {param} and {greedy+} segments, of one method over ANY, its path
// normalization) instead of comparing templates.
type Probe struct {
	// Method and Path are the request.
	Method, Path string
	// From is the route the sample was derived from: Path matches its
	// template. It may or may not answer Method.
	From *policy.Route
	// Served is the route Policy.Match answers; nil for a 404 or 405.
	Served *policy.Route
}

// probeMethods are the methods probes try: every method a route may name.
var probeMethods = [...]string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

// Answers reports whether the probe's origin route takes its method.
func (pr Probe) Answers() bool {
	return pr.From.Method == config.MethodAny || pr.From.Method == pr.Method
}

// probe sends every method to every sample path of every route, in file
// order, and records what the router answers.
func probe(p *policy.Policy) []Probe {
	seg := sampleSegments(p)
	var probes []Probe
	for _, r := range p.InFileOrder() {
		for _, path := range samplePaths(r.Path, seg) {
			for _, m := range probeMethods {
				probes = append(probes, Probe{Method: m, Path: path, From: r, Served: p.Match(m, path).Route})
			}
		}
	}
	return probes
}

// samplePaths fills a template's parameters with sample segments: one
// path, or two for a template ending in {rest+}, which is tried with one
// segment and with several, since a {name} route elsewhere can catch the
// one-segment form only.
func samplePaths(template string, seg [3]string) []string {
	segs := strings.Split(template, "/")
	greedy := false
	for i, s := range segs {
		switch {
		case strings.HasSuffix(s, "+}"):
			segs[i], greedy = seg[0], true
		case strings.HasPrefix(s, "{"):
			segs[i] = seg[0]
		}
	}
	one := strings.Join(segs, "/")
	if !greedy {
		return []string{one}
	}
	return []string{one, one + "/" + seg[1] + "/" + seg[2]}
}

// sampleSegments picks segments no route names literally, so a sample
// stands for "any value" of a parameter: a route that names one path
// literally (GET /customers/me) answers for that path only, and is not
// mistaken for catching every request of a {param} route beside it.
func sampleSegments(p *policy.Policy) [3]string {
	literal := map[string]bool{}
	for _, r := range p.Routes {
		for _, s := range strings.Split(r.Path, "/") {
			literal[s] = true
		}
	}
	var out [3]string
	for i, base := range [3]string{"sample", "more", "parts"} {
		s := base
		for n := 2; literal[s]; n++ {
			s = base + strconv.Itoa(n)
		}
		out[i] = s
	}
	return out
}

// sameShape reports whether two templates match the same paths: equal but
// for parameter names.
func sameShape(a, b string) bool {
	as, bs := strings.Split(a, "/"), strings.Split(b, "/")
	if len(as) != len(bs) {
		return false
	}
	for i := range as {
		if shapeOf(as[i]) != shapeOf(bs[i]) {
			return false
		}
	}
	return true
}

func shapeOf(seg string) string {
	switch {
	case strings.HasSuffix(seg, "+}"):
		return "{+}"
	case strings.HasPrefix(seg, "{"):
		return "{}"
	}
	return seg
}
