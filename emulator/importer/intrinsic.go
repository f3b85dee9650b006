package importer

import (
	"regexp"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// cfn resolves CloudFormation's intrinsic functions where they are static:
// a Ref to a parameter with a Default, a Sub or Join of static parts.
// AWS pseudo parameters (AWS::Region, AWS::AccountId...) and GetAtt are
// known only once deployed, so they are not.
type cfn struct {
	params *node // the template's Parameters
}

// intrinsic returns the function name and argument of an intrinsic
// written either way: !Ref X, or {Ref: X}, {"Fn::Sub": ...}.
func intrinsic(n *node) (string, *node) {
	if t := n.tag(); t != "" {
		name := strings.TrimPrefix(t, "!")
		if name != "Ref" && name != "Condition" {
			name = "Fn::" + name
		}
		// The short form's argument is the node itself, without its tag.
		arg := *n
		arg.Tag = ""
		if arg.Kind == yaml.ScalarNode {
			arg.Tag = "!!str"
		}
		return name, &arg
	}
	if prs := n.pairs(); len(prs) == 1 && (prs[0].key == "Ref" || strings.HasPrefix(prs[0].key, "Fn::")) {
		return prs[0].key, prs[0].value
	}
	return "", nil
}

// ref returns the logical id a Ref names, or "".
func ref(n *node) string {
	if name, arg := intrinsic(n); name == "Ref" {
		return arg.Value
	}
	return ""
}

var subVar = regexp.MustCompile(`\$\{([^}!]+)\}`)

// value resolves n to a string; ok is false when it is not static, and
// what then names the part that is not ("!GetAtt Fn.Arn", "AWS::Region").
func (c *cfn) value(n *node) (s string, ok bool, what string) {
	name, arg := intrinsic(n)
	switch name {
	case "":
		if n.isScalar() {
			return n.Value, true, ""
		}
		return "", false, "a value that is not a string"
	case "Ref":
		return c.param(arg.Value)
	case "Fn::Sub":
		tmpl := arg
		if arg.isSeq() && len(arg.items()) > 0 {
			tmpl = arg.items()[0]
			if len(arg.items()) > 1 {
				return "", false, "!Sub with a variable map"
			}
		}
		if !tmpl.isScalar() {
			return "", false, "!Sub of a value that is not a string"
		}
		ok, what = true, ""
		out := subVar.ReplaceAllStringFunc(tmpl.Value, func(m string) string {
			v, vok, vwhat := c.param(m[2 : len(m)-1])
			if !vok {
				ok, what = false, vwhat
			}
			return v
		})
		return out, ok, what
	case "Fn::Join":
		items := arg.items()
		if len(items) != 2 || !items[0].isScalar() {
			return "", false, "!Join"
		}
		var parts []string
		for _, it := range items[1].items() {
			v, vok, vwhat := c.value(it)
			if !vok {
				return "", false, vwhat
			}
			parts = append(parts, v)
		}
		return strings.Join(parts, items[0].Value), true, ""
	}
	return "", false, "!" + strings.TrimPrefix(name, "Fn::")
}

// param resolves a Ref to a template parameter by its Default.
func (c *cfn) param(name string) (string, bool, string) {
	if strings.HasPrefix(name, "AWS::") {
		return "", false, name + " (known once deployed)"
	}
	p := c.params.get(name)
	if p == nil {
		return "", false, name + " (a resource, known once deployed)"
	}
	if d := p.get("Default"); d.isScalar() {
		return d.Value, true, ""
	}
	return "", false, "parameter " + name + " (no Default)"
}
