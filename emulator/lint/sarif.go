package lint

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"

	"github.com/inquir-dev/inquir/emulator/config"
)

// SARIF 2.1.0, the subset GitHub code scanning ingests: rules with their
// documentation and a security-severity each, results that point at a
// repo-relative file and line, and fingerprints that survive lines moving.
// https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html

const (
	sarifSchema  = "https://json.schemastore.org/sarif-2.1.0.json"
	sarifVersion = "2.1.0"
	// InformationURI is where the tool is documented.
	InformationURI = "https://github.com/inquir-dev/inquir"
	// fingerprintKey names inquir's fingerprint among a result's
	// partialFingerprints; the version changes if the hash ever does.
	fingerprintKey = "inquirFinding/v1"
)

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool        sarifTool         `json:"tool"`
	Invocations []sarifInvocation `json:"invocations"`
	Results     []sarifResult     `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	InformationURI string      `json:"informationUri"`
	Version        string      `json:"version"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID                   string          `json:"id"`
	Name                 string          `json:"name"`
	ShortDescription     sarifText       `json:"shortDescription"`
	FullDescription      sarifText       `json:"fullDescription"`
	Help                 sarifText       `json:"help"`
	DefaultConfiguration sarifRuleConfig `json:"defaultConfiguration"`
	Properties           sarifRuleProps  `json:"properties"`
}

type sarifText struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown,omitempty"`
}

type sarifRuleConfig struct {
	Level string `json:"level"`
}

type sarifRuleProps struct {
	SecuritySeverity string   `json:"security-severity"`
	Precision        string   `json:"precision"`
	Tags             []string `json:"tags"`
}

type sarifInvocation struct {
	ExecutionSuccessful        bool                `json:"executionSuccessful"`
	ToolExecutionNotifications []sarifNotification `json:"toolExecutionNotifications,omitempty"`
}

type sarifNotification struct {
	Level     string          `json:"level"`
	Message   sarifText       `json:"message"`
	Locations []sarifLocation `json:"locations,omitempty"`
}

type sarifResult struct {
	RuleID              string            `json:"ruleId"`
	RuleIndex           int               `json:"ruleIndex"`
	Level               string            `json:"level"`
	Message             sarifText         `json:"message"`
	Locations           []sarifLocation   `json:"locations"`
	RelatedLocations    []sarifLocation   `json:"relatedLocations,omitempty"`
	PartialFingerprints map[string]string `json:"partialFingerprints"`
}

type sarifLocation struct {
	ID               int                   `json:"id,omitempty"`
	PhysicalLocation sarifPhysicalLocation `json:"physicalLocation"`
	Message          *sarifText            `json:"message,omitempty"`
}

type sarifPhysicalLocation struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           *sarifRegion  `json:"region,omitempty"`
}

type sarifArtifact struct {
	URI string `json:"uri"`
}

type sarifRegion struct {
	StartLine   int `json:"startLine"`
	StartColumn int `json:"startColumn,omitempty"`
}

// WriteSARIF prints the report as a SARIF 2.1.0 log. File URIs are relative
// to the root of the git repository holding the config, or else to the
// working folder, as code scanning expects them.
func WriteSARIF(w io.Writer, rep *Report) error {
	rules := Rules()
	index := map[string]int{}
	for i, r := range rules {
		index[r.ID] = i
	}
	root := sarifRoot(rep.Config)
	run := newRun(rules, true)
	for _, f := range rep.Findings {
		res := sarifResult{
			RuleID: f.Rule, RuleIndex: index[f.Rule], Level: f.Severity.String(),
			Message:             sarifText{Text: f.Message},
			Locations:           []sarifLocation{location(root, f.File, f.Pos.Line, f.Pos.Col)},
			PartialFingerprints: map[string]string{fingerprintKey: fingerprint(f)},
		}
		for i, rel := range f.Related {
			loc := location(root, rel.File, rel.Line, 0)
			loc.ID, loc.Message = i+1, &sarifText{Text: rel.Message}
			res.RelatedLocations = append(res.RelatedLocations, loc)
		}
		run.Results = append(run.Results, res)
	}
	return encode(w, run)
}

// WriteSARIFFailure prints a SARIF log for a config that could not be
// linted: no results, and an unsuccessful invocation whose notifications
// say why, with positions. A CI job that uploads the log whatever lint's
// exit status then uploads a valid file.
func WriteSARIFFailure(w io.Writer, path string, err error) error {
	root := sarifRoot(path)
	run := newRun(Rules(), false)
	for _, e := range config.Errors(err) {
		n := sarifNotification{Level: "error", Message: sarifText{Text: e.Error()}}
		var ce *config.Error
		if errors.As(e, &ce) {
			n.Message.Text = ce.Msg
			if ce.Field != "" {
				n.Message.Text = ce.Field + ": " + ce.Msg
			}
			n.Locations = []sarifLocation{location(root, ce.File, ce.Pos.Line, ce.Pos.Col)}
		}
		run.Invocations[0].ToolExecutionNotifications = append(run.Invocations[0].ToolExecutionNotifications, n)
	}
	return encode(w, run)
}

func newRun(rules []*Rule, ok bool) sarifRun {
	d := sarifDriver{Name: "inquir", InformationURI: InformationURI, Version: toolVersion()}
	for _, r := range rules {
		d.Rules = append(d.Rules, sarifRule{
			ID: r.ID, Name: r.Name,
			ShortDescription:     sarifText{Text: r.Title},
			FullDescription:      sarifText{Text: firstParagraph(r.Explanation)},
			Help:                 sarifText{Text: helpText(r), Markdown: helpMarkdown(r)},
			DefaultConfiguration: sarifRuleConfig{Level: r.Severity.String()},
			Properties:           sarifRuleProps{SecuritySeverity: r.SecuritySeverity, Precision: r.Precision, Tags: r.Tags},
		})
	}
	return sarifRun{
		Tool:        sarifTool{Driver: d},
		Invocations: []sarifInvocation{{ExecutionSuccessful: ok}},
		Results:     []sarifResult{},
	}
}

func encode(w io.Writer, run sarifRun) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(sarifLog{Schema: sarifSchema, Version: sarifVersion, Runs: []sarifRun{run}})
}

// location points at a line (and column) of a file; a line of 0 (unknown)
// points at the file's first line, since code scanning needs a line.
func location(root, file string, line, col int) sarifLocation {
	if line < 1 {
		line, col = 1, 0
	}
	return sarifLocation{PhysicalLocation: sarifPhysicalLocation{
		ArtifactLocation: sarifArtifact{URI: artifactURI(root, file)},
		Region:           &sarifRegion{StartLine: line, StartColumn: col},
	}}
}

// artifactURI spells file relative to root with slashes, escaped as a URI
// reference; a file outside root gets an absolute file: URI.
func artifactURI(root, file string) string {
	rel, err := filepath.Rel(root, file)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return (&url.URL{Scheme: "file", Path: filepath.ToSlash(file)}).String()
	}
	return (&url.URL{Path: filepath.ToSlash(rel)}).EscapedPath()
}

// sarifRoot is the folder URIs are relative to: the root of the git
// repository that holds file (a folder with .git, a folder or a worktree's
// file), or else the working folder.
func sarifRoot(file string) string {
	if abs, err := filepath.Abs(file); err == nil {
		file = abs
	}
	for dir := filepath.Dir(file); ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, ".git")); err == nil {
			return dir
		}
		if parent := filepath.Dir(dir); parent == dir {
			break
		}
	}
	wd, err := filepath.Abs(".")
	if err != nil {
		return filepath.Dir(file)
	}
	return wd
}

// fingerprint identifies a finding by its rule and what it is about, not by
// its line, so that code scanning keeps one alert while lines move.
func fingerprint(f Finding) string {
	sum := sha256.Sum256([]byte(f.Rule + "\x00" + f.Subject))
	return hex.EncodeToString(sum[:16])
}

// toolVersion is the module version inquir was built as, "(devel)" when
// built from a checkout.
func toolVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" {
		return info.Main.Version
	}
	return "(devel)"
}
