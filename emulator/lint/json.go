package lint

import (
	"encoding/json"
	"io"

	"github.com/inquir-dev/inquir/emulator/config"
)

// jsonFinding is a finding as --format json prints it.
type jsonFinding struct {
	Rule     string `json:"rule"`
	Severity string `json:"severity"`
	File     string `json:"file"`
	Line     int    `json:"line"`
	Column   int    `json:"column,omitempty"`
	Field    string `json:"field,omitempty"`
	Message  string `json:"message"`
}

// WriteJSON prints the report as one JSON object: the config, the findings
// in order (file relative as in text), and how many of each severity.
func WriteJSON(w io.Writer, rep *Report) error {
	out := struct {
		Config   string        `json:"config"`
		Findings []jsonFinding `json:"findings"`
		Errors   int           `json:"errors"`
		Warnings int           `json:"warnings"`
	}{Config: config.DisplayPath(rep.Config), Findings: []jsonFinding{}, Errors: rep.Count(Error), Warnings: rep.Count(Warning)}
	for _, f := range rep.Findings {
		out.Findings = append(out.Findings, jsonFinding{
			Rule: f.Rule, Severity: f.Severity.String(), File: config.DisplayPath(f.File),
			Line: f.Pos.Line, Column: f.Pos.Col, Field: f.Field, Message: f.Message,
		})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
