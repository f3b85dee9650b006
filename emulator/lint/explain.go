package lint

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
)

// WriteRuleList prints every rule: id, severity and title, one a line.
func WriteRuleList(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, r := range Rules() {
		sev := r.Severity.String()
		if r.StrictSeverity != 0 {
			sev += " (" + r.StrictSeverity.String() + " with --strict)"
		}
		if r.Optional {
			sev += " (off by default)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", r.ID, sev, r.Title)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintln(w, "\ninquir lint --explain INQnnn explains a rule, with a bad and a good example;\ninquir lint --enable INQnnn turns on a rule that is off by default.")
	return err
}

// WriteExplanation prints what a rule flags, why, how lint decides, and a
// bad and a good inquir.toml, wrapped for a terminal.
func WriteExplanation(w io.Writer, r *Rule) error {
	_, err := io.WriteString(w, helpText(r))
	return err
}

// helpText is the explanation as --explain prints it and SARIF's help.text
// holds it.
func helpText(r *Rule) string {
	var b strings.Builder
	sev := r.Severity.String()
	if r.StrictSeverity != 0 {
		sev += ", " + r.StrictSeverity.String() + " with --strict"
	}
	if r.Optional {
		sev += ", off by default"
	}
	fmt.Fprintf(&b, "%s (%s): %s\n\n", r.ID, sev, r.Title)
	if r.Optional {
		fmt.Fprintf(&b, "This rule is off by default; inquir lint --enable %s turns it on.\n\n", r.ID)
	}
	for _, p := range paragraphs(r.Explanation) {
		b.WriteString(wrap(p, 78))
		b.WriteString("\n\n")
	}
	fmt.Fprintf(&b, "Fix: %s.\n", r.Fix)
	for _, ex := range []struct {
		title string
		ex    Example
	}{{"Bad", r.Bad}, {"Good", r.Good}} {
		fmt.Fprintf(&b, "\n%s: inquir.toml\n\n%s", ex.title, indent(ex.ex.Config))
		for _, name := range slices.Sorted(maps.Keys(ex.ex.Files)) {
			fmt.Fprintf(&b, "\n%s: %s\n\n%s", ex.title, name, indent(ex.ex.Files[name]))
		}
	}
	return b.String()
}

// helpMarkdown is the explanation for SARIF's help.markdown.
func helpMarkdown(r *Rule) string {
	var b strings.Builder
	fmt.Fprintf(&b, "**%s**: %s\n\n", r.ID, r.Title)
	if r.Optional {
		fmt.Fprintf(&b, "This rule is off by default; `inquir lint --enable %s` turns it on.\n\n", r.ID)
	}
	for _, p := range paragraphs(r.Explanation) {
		b.WriteString(p)
		b.WriteString("\n\n")
	}
	fmt.Fprintf(&b, "**Fix:** %s.\n", r.Fix)
	for _, ex := range []struct {
		title string
		ex    Example
	}{{"Bad", r.Bad}, {"Good", r.Good}} {
		fmt.Fprintf(&b, "\n%s, `inquir.toml`:\n\n```toml\n%s```\n", ex.title, ex.ex.Config)
		for _, name := range slices.Sorted(maps.Keys(ex.ex.Files)) {
			fmt.Fprintf(&b, "\n%s, `%s`:\n\n```\n%s```\n", ex.title, name, ex.ex.Files[name])
		}
	}
	return b.String()
}

// paragraphs splits text at blank lines.
func paragraphs(text string) []string {
	var out []string
	for _, p := range strings.Split(strings.TrimSpace(text), "\n\n") {
		out = append(out, strings.TrimSpace(p))
	}
	return out
}

func firstParagraph(text string) string { return paragraphs(text)[0] }

// wrap breaks a paragraph's lines at width; a list item ("- ...") keeps
// its own line and continues under its text.
func wrap(p string, width int) string {
	var out []string
	for _, line := range strings.Split(p, "\n") {
		hang := ""
		if strings.HasPrefix(line, "- ") {
			hang = "  "
		}
		cur := ""
		for _, word := range strings.Fields(line) {
			switch {
			case cur == "":
				cur = word
			case len(cur)+1+len(word) > width:
				out = append(out, cur)
				cur = hang + word
			default:
				cur += " " + word
			}
		}
		out = append(out, cur)
	}
	return strings.Join(out, "\n")
}

func indent(text string) string {
	var b strings.Builder
	for _, line := range strings.SplitAfter(text, "\n") {
		if strings.TrimSpace(line) != "" {
			b.WriteString("    ")
		}
		b.WriteString(line)
	}
	return b.String()
}
