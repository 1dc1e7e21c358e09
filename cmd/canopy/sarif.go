package main

import (
	"io"
	"sort"
	"strings"

	"github.com/canopy-sec/canopy/internal/pipeline"
	"github.com/canopy-sec/canopy/internal/posture"
)

// SARIF 2.1.0, as much of it as a posture scan's failures need: one rule
// per posture rule, one result per failing (rule, resource), the resource
// as a logical location (a cloud resource has no file).
type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool    sarifTool     `json:"tool"`
	Results []sarifResult `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifRule struct {
	ID               string         `json:"id"`
	Name             string         `json:"name"`
	ShortDescription sarifText      `json:"shortDescription"`
	FullDescription  *sarifText     `json:"fullDescription,omitempty"`
	Help             *sarifText     `json:"help,omitempty"`
	HelpURI          string         `json:"helpUri,omitempty"`
	Properties       map[string]any `json:"properties"`
}

type sarifResult struct {
	RuleID    string          `json:"ruleId"`
	Level     string          `json:"level"`
	Message   sarifText       `json:"message"`
	Locations []sarifLocation `json:"locations"`
}

type sarifLocation struct {
	LogicalLocations []sarifLogical `json:"logicalLocations"`
}

type sarifLogical struct {
	Name               string `json:"name"`
	FullyQualifiedName string `json:"fullyQualifiedName"`
	Kind               string `json:"kind"`
}

// securitySeverity is the CVSS-like score code scanning platforms sort by.
var securitySeverity = map[posture.Severity]string{
	posture.SeverityCritical: "9.5", posture.SeverityHigh: "8.0", posture.SeverityMedium: "5.5",
	posture.SeverityLow: "3.0", posture.SeverityInformational: "0.0",
}

func sarifLevel(s posture.Severity) string {
	switch s {
	case posture.SeverityCritical, posture.SeverityHigh:
		return "error"
	case posture.SeverityMedium:
		return "warning"
	}
	return "note"
}

func writeSARIF(w io.Writer, res pipeline.ScanResult, version string) error {
	rules := map[string]*posture.Rule{}
	run := sarifRun{Tool: sarifTool{Driver: sarifDriver{Name: "Canopy Posture", Version: version,
		InformationURI: "https://github.com/canopy-sec/canopy", Rules: []sarifRule{}}}, Results: []sarifResult{}}
	for _, f := range res.Failed {
		rules[f.Rule.ID] = f.Rule
		name := f.Resource.UID
		if f.Resource.Name != "" {
			name = f.Resource.Name
		}
		run.Results = append(run.Results, sarifResult{RuleID: f.Rule.ID, Level: sarifLevel(f.Rule.Severity), Message: sarifText{Text: f.Message},
			Locations: []sarifLocation{{LogicalLocations: []sarifLogical{{Name: name, FullyQualifiedName: f.Resource.Type + "/" + f.Resource.UID, Kind: "resource"}}}}})
	}
	ids := make([]string, 0, len(rules))
	for id := range rules {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		r := rules[id]
		sr := sarifRule{ID: r.ID, Name: r.ID, ShortDescription: sarifText{Text: r.Title},
			Properties: map[string]any{"tags": append([]string{"security", "posture"}, r.Controls()...), "security-severity": securitySeverity[r.Severity]}}
		if r.Description != "" {
			sr.FullDescription = &sarifText{Text: r.Description}
		}
		if r.Remediation != "" {
			sr.Help = &sarifText{Text: strings.TrimSpace(r.Remediation)}
		}
		if len(r.References) > 0 {
			sr.HelpURI = r.References[0]
		}
		run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, sr)
	}
	return writeIndented(w, sarifLog{Schema: "https://json.schemastore.org/sarif-2.1.0.json", Version: "2.1.0", Runs: []sarifRun{run}})
}
