package importer

import (
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// node is a YAML node with the lookups the importers need. A nil *node is
// a field that is not there: every method answers for it as for an empty
// one, so lookups chain (n.get("provider").get("apiGateway")).
type node yaml.Node

// pair is one entry of a mapping.
type pair struct {
	key   string
	value *node
	line  int
}

// get returns the value of key in a mapping, or nil.
func (n *node) get(key string) *node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return (*node)(n.Content[i+1])
		}
	}
	return nil
}

// pairs returns a mapping's entries in source order.
func (n *node) pairs() []pair {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	var out []pair
	for i := 0; i+1 < len(n.Content); i += 2 {
		out = append(out, pair{n.Content[i].Value, (*node)(n.Content[i+1]), n.Content[i].Line})
	}
	return out
}

// items returns a sequence's entries.
func (n *node) items() []*node {
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	out := make([]*node, len(n.Content))
	for i, c := range n.Content {
		out[i] = (*node)(c)
	}
	return out
}

func (n *node) isMap() bool    { return n != nil && n.Kind == yaml.MappingNode }
func (n *node) isSeq() bool    { return n != nil && n.Kind == yaml.SequenceNode }
func (n *node) isScalar() bool { return n != nil && n.Kind == yaml.ScalarNode }

// tag is the node's explicit tag, as "!Ref"; "" for the plain ones.
func (n *node) tag() string {
	if n == nil || !strings.HasPrefix(n.Tag, "!") || strings.HasPrefix(n.Tag, "!!") {
		return ""
	}
	return n.Tag
}

// str returns a plain scalar's text; "" for anything else.
func (n *node) str() string {
	if !n.isScalar() || n.tag() != "" {
		return ""
	}
	return n.Value
}

// boolean returns a scalar's truth value and whether it is a boolean.
func (n *node) boolean() (bool, bool) {
	if !n.isScalar() {
		return false, false
	}
	switch strings.ToLower(n.Value) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}

// number returns a scalar as a float64.
func (n *node) number() (float64, bool) {
	if !n.isScalar() {
		return 0, false
	}
	f, err := strconv.ParseFloat(n.Value, 64)
	return f, err == nil
}

// line is where the node stands, or 0 for a missing one.
func (n *node) line() int {
	if n == nil {
		return 0
	}
	return n.Line
}

// strings returns a scalar or a sequence of scalars as a list.
func (n *node) strings() []string {
	if n.isScalar() {
		return []string{n.Value}
	}
	var out []string
	for _, it := range n.items() {
		if it.isScalar() {
			out = append(out, it.Value)
		}
	}
	return out
}

// short is how a finding names a value that is not of the shape expected:
// a scalar's text (cut at 60 characters), else its kind.
func short(n *node) string {
	switch {
	case n.isScalar() && len(n.Value) > 60:
		return n.Value[:60] + "..."
	case n.isScalar():
		return n.Value
	case n.isSeq():
		return "a list"
	case n.isMap():
		return "a mapping"
	}
	return "a value"
}
