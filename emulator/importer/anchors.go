package importer

import (
	"errors"
	"fmt"

	yaml "go.yaml.in/yaml/v3"
)

// maxExpandedNodes bounds the nodes expand copies in: a file of nested
// aliases (a "billion laughs") is refused rather than expanded.
const maxExpandedNodes = 100_000

var (
	errTooManyAliases = errors.New("the file's YAML aliases expand to more than 100000 nodes")
	errTooDeep        = errors.New("the file's YAML nests more than 100 levels deep")
)

// expand rewrites the tree under n as the tools that read these files see
// it: an alias (*name) becomes a copy of its anchor's node, and a merge key
// (<<: *defaults, or a list of them) is replaced by the entries it brings
// that the mapping does not set itself (YAML's merge key type, which
// js-yaml and CloudFormation's YAML reader take). Without it, a lookup
// would see an alias where a value is (private: *yes read as not true) or
// a "<<" field it does not know.
func expand(n *yaml.Node, budget *int, depth int) error {
	if depth > 100 {
		return errTooDeep
	}
	for i, c := range n.Content {
		if c.Kind == yaml.AliasNode && c.Alias != nil {
			cp := deepCopy(c.Alias, budget)
			if *budget < 0 {
				return errTooManyAliases
			}
			n.Content[i] = cp
		}
	}
	for _, c := range n.Content {
		if err := expand(c, budget, depth+1); err != nil {
			return err
		}
	}
	if n.Kind != yaml.MappingNode {
		return nil
	}
	var own, merged []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.Value != "<<" || k.Tag != "!!merge" && k.Tag != "" && k.Tag != "!!str" {
			own = append(own, k, v)
			continue
		}
		sources := []*yaml.Node{v}
		if v.Kind == yaml.SequenceNode {
			sources = v.Content
		}
		for _, src := range sources {
			if src.Kind != yaml.MappingNode {
				own = append(own, k, v) // not a merge: left for the reader to list
				break
			}
			merged = append(merged, src.Content...)
		}
	}
	has := func(list []*yaml.Node, key string) bool {
		for i := 0; i+1 < len(list); i += 2 {
			if list[i].Value == key {
				return true
			}
		}
		return false
	}
	for i := 0; i+1 < len(own); i += 2 {
		if own[i].Kind == yaml.ScalarNode && has(own[:i], own[i].Value) {
			return &dupError{own[i].Line, own[i].Value}
		}
	}
	out := own
	for i := 0; i+1 < len(merged); i += 2 {
		// The mapping's own keys win, then the first merged mapping's.
		if !has(out, merged[i].Value) {
			out = append(out, merged[i], merged[i+1])
		}
	}
	n.Content = out
	return nil
}

// dupError is a key written twice in one mapping.
type dupError struct {
	line int
	key  string
}

func (e *dupError) Error() string {
	return fmt.Sprintf("line %d: %s is already set in this mapping; write it once", e.line, e.key)
}

// deepCopy copies n and its children, aliases followed, spending budget.
func deepCopy(n *yaml.Node, budget *int) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	*budget--
	if *budget < 0 {
		return n
	}
	cp := *n
	cp.Anchor = ""
	cp.Content = make([]*yaml.Node, len(n.Content))
	for i, c := range n.Content {
		cp.Content[i] = deepCopy(c, budget)
	}
	return &cp
}
