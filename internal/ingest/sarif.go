package ingest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	json "github.com/goccy/go-json"

	"github.com/canopy-sec/canopy/internal/ingest/jsonstream"
	"github.com/canopy-sec/canopy/internal/ocsf"
)

func init() {
	register(Format{
		Name:    "sarif",
		Title:   "SARIF 2.1.0 log (any tool)",
		Version: 1,
		Classes: []int{ocsf.ClassVulnerabilityFinding},
		Notes: "SARIF 2.1.0 from any tool (CodeQL, Semgrep, Trivy, Grype, Dependency-Check, Gitleaks, SpotBugs, Flawfinder, ShellCheck, njsscan, Dockle …); " +
			"every runs[].results[] entry is one Vulnerability Finding (2002): a result that names a CVE (rule id or tags), a GHSA id or a package URL " +
			"is a dependency vulnerability (cve or advisory, affected_packages from the purl or the Package/Version lines Trivy and Grype write); " +
			"any other result is a code or configuration weakness (cwe from rule tags, relationships, taxa or properties, else advisory = rule id) " +
			"with affected_code for each physical location. Vulnerability Finding was chosen over Application Security Posture Finding (2007, not " +
			"yet stable in 1.8) and Detection Finding because it carries cve/cwe/packages/code locations; secrets (Gitleaks) use it too. " +
			"Rules are resolved from ruleIndex, ruleId (hierarchical ids fall back to their parent) or rule.id against tool.driver.rules and " +
			"tool.extensions[].rules; a result without either takes the rule whose id starts its message (Gitleaks 7). Severity: the " +
			"security-severity property (score, or label), then severity/issue_severity labels, then CVSS scores in properties, then level " +
			"(result, rule defaultConfiguration, else warning; none when kind is not fail). Identity: tool + rule + uri + correlationGuid, " +
			"else fingerprints, else partialFingerprints, else start line (+ package, + commit property). A run's results are held " +
			"(in memory up to 8 MiB, then in a temporary file) until the run ends, because tool, invocations, artifacts and properties may " +
			"follow them; time is the first invocation's startTimeUtc (else endTimeUtc).",
		Sniff:  sniffSARIF,
		Decode: decodeSARIF,
	})
}

func sniffSARIF(head []byte) int {
	if !sniffHas(head, `"runs"`) {
		return 0
	}
	switch {
	case bytes.Contains(head, []byte("sarif")) || bytes.Contains(head, []byte("SARIF")):
		return 95
	case sniffHas(head, `"tool"`, `"driver"`):
		return 75
	case sniffHas(head, `"results"`, `"ruleId"`):
		return 60
	}
	return 0
}

// sarifDecoder walks one SARIF log; it counts results for error positions.
type sarifDecoder struct {
	ctx  context.Context
	jr   *jsonstream.Reader
	emit Emit
	n    int
	sp   spool
}

func decodeSARIF(ctx context.Context, r io.Reader, emit Emit) error {
	d := &sarifDecoder{ctx: ctx, jr: jsonstream.NewReader(r), emit: emit}
	defer d.sp.reset()
	err := d.run()
	return finishErr("sarif", d.n+1, err)
}

func (d *sarifDecoder) run() error {
	jr := d.jr
	if err := beginReport(jr, "a SARIF log"); err != nil {
		return err
	}
	sawRuns := false
	for {
		key, ok, err := jr.NextKey()
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		if key != "runs" {
			if err := jr.Skip(); err != nil {
				return err
			}
			continue
		}
		sawRuns = true
		if err := jr.Elements(d.runObject); err != nil { // "runs": null is no run
			return err
		}
	}
	if _, err := jr.Peek(); err != io.EOF {
		if err != nil {
			return err
		}
		return fmt.Errorf("%w: unexpected data after the SARIF log", ErrSyntax)
	}
	if !sawRuns {
		return &fieldError{"runs", ErrMissingField}
	}
	return nil
}

// runObject reads one run: its results go to the spool, everything else
// into sarifRun; the results are mapped when the run ends.
func (d *sarifDecoder) runObject() error {
	jr := d.jr
	run := &sarifRun{}
	if err := jr.BeginObject(); err != nil {
		return err
	}
	for {
		key, ok, err := jr.NextKey()
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		switch key {
		case "tool":
			err = jr.Decode(&run.tool)
			run.hasTool = err == nil
		case "results":
			err = d.spoolResults()
		case "invocations":
			err = jr.Decode(&run.invocations)
		case "originalUriBaseIds":
			err = jr.Decode(&run.baseIDs)
		case "artifacts":
			err = d.artifacts(run)
		case "properties":
			err = jr.Decode(&run.properties)
		case "automationDetails":
			err = jr.Decode(&run.automation)
		case "versionControlProvenance":
			err = jr.Decode(&run.vcp)
		default:
			err = jr.Skip()
		}
		if err != nil {
			return err
		}
	}
	run.prepare()
	return d.sp.replay(d.ctx, func(s spooled) error {
		it := jsonstream.Item{Index: s.index, Pointer: s.pointer, Offset: s.offset}
		var res sarifResult
		if err := unmarshal(s.raw, &res); err != nil {
			return itemErr("sarif", it, err)
		}
		rec, err := run.result(&res)
		if err != nil {
			return itemErr("sarif", it, err)
		}
		if err := d.emit(rec); err != nil {
			return emitError{err}
		}
		return nil
	})
}

func (d *sarifDecoder) spoolResults() error {
	jr := d.jr
	return jr.Elements(func() error {
		raw, err := jr.Raw()
		if err != nil {
			return err
		}
		d.n++
		if d.n%1024 == 0 {
			if err := d.ctx.Err(); err != nil {
				return err
			}
		}
		return d.sp.add(d.n, jr.Offset(), jr.Pointer(), raw)
	})
}

// artifacts keeps, per artifact index, its location and any package URL
// found in its properties (Dependency-Check puts one there).
func (d *sarifDecoder) artifacts(run *sarifRun) error {
	jr := d.jr
	return jr.Elements(func() error {
		var a struct {
			Location   sarifArtifactLocation `json:"location"`
			Properties map[string]any        `json:"properties"`
		}
		if err := jr.Decode(&a); err != nil {
			return err
		}
		art := sarifArtifact{uri: a.Location.URI, baseID: a.Location.URIBaseID}
		for _, k := range sortedKeys(a.Properties) {
			if s, ok := a.Properties[k].(string); ok && strings.HasPrefix(s, "pkg:") {
				art.purl = s
				break
			}
		}
		run.artifacts = append(run.artifacts, art)
		return nil
	})
}

// SARIF objects, shaped like the source; only what the mapping reads.

type sarifMessage struct {
	Text      string   `json:"text"`
	Markdown  string   `json:"markdown"`
	ID        string   `json:"id"`
	Arguments []string `json:"arguments"`
}

type sarifMultiformat struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown"`
}

func (m *sarifMultiformat) String() string {
	if m == nil {
		return ""
	}
	return strings.TrimSpace(firstNonEmpty(m.Text, m.Markdown))
}

type sarifComponent struct {
	Name            string                      `json:"name"`
	FullName        string                      `json:"fullName"`
	Version         string                      `json:"version"`
	SemanticVersion string                      `json:"semanticVersion"`
	Organization    string                      `json:"organization"`
	InformationURI  string                      `json:"informationUri"`
	GUID            string                      `json:"guid"`
	Rules           []sarifRule                 `json:"rules"`
	GlobalMessages  map[string]sarifMultiformat `json:"globalMessageStrings"`
}

type sarifTool struct {
	Driver     sarifComponent   `json:"driver"`
	Extensions []sarifComponent `json:"extensions"`
}

type sarifRule struct {
	ID                   string                      `json:"id"`
	Name                 string                      `json:"name"`
	GUID                 string                      `json:"guid"`
	ShortDescription     *sarifMultiformat           `json:"shortDescription"`
	FullDescription      *sarifMultiformat           `json:"fullDescription"`
	Help                 *sarifMultiformat           `json:"help"`
	HelpURI              string                      `json:"helpUri"`
	MessageStrings       map[string]sarifMultiformat `json:"messageStrings"`
	DefaultConfiguration struct {
		Level string `json:"level"`
	} `json:"defaultConfiguration"`
	Relationships []struct {
		Target sarifRef `json:"target"`
	} `json:"relationships"`
	Properties map[string]any `json:"properties"`
}

// sarifRef is a reportingDescriptorReference (rule, taxon).
type sarifRef struct {
	ID            string `json:"id"`
	Index         *int   `json:"index"`
	ToolComponent *struct {
		Name  string `json:"name"`
		Index *int   `json:"index"`
	} `json:"toolComponent"`
}

type sarifArtifactLocation struct {
	URI       string `json:"uri"`
	URIBaseID string `json:"uriBaseId"`
	Index     *int   `json:"index"`
}

type sarifRegion struct {
	StartLine   int `json:"startLine"`
	StartColumn int `json:"startColumn"`
	EndLine     int `json:"endLine"`
	EndColumn   int `json:"endColumn"`
	Snippet     *struct {
		Text string `json:"text"`
	} `json:"snippet"`
}

type sarifLocation struct {
	PhysicalLocation *struct {
		ArtifactLocation *sarifArtifactLocation `json:"artifactLocation"`
		Region           *sarifRegion           `json:"region"`
		ContextRegion    *sarifRegion           `json:"contextRegion"`
	} `json:"physicalLocation"`
	LogicalLocations json.RawMessage `json:"logicalLocations"`
	Message          *sarifMessage   `json:"message"`
}

type sarifResult struct {
	RuleID              string            `json:"ruleId"`
	RuleIndex           *int              `json:"ruleIndex"`
	Rule                *sarifRef         `json:"rule"`
	Kind                string            `json:"kind"`
	Level               string            `json:"level"`
	Message             sarifMessage      `json:"message"`
	Locations           []sarifLocation   `json:"locations"`
	GUID                string            `json:"guid"`
	CorrelationGUID     string            `json:"correlationGuid"`
	OccurrenceCount     int               `json:"occurrenceCount"`
	Fingerprints        map[string]string `json:"fingerprints"`
	PartialFingerprints map[string]string `json:"partialFingerprints"`
	BaselineState       string            `json:"baselineState"`
	Rank                *float64          `json:"rank"`
	Suppressions        []struct {
		Kind          string `json:"kind,omitempty"`
		Status        string `json:"status,omitempty"`
		Justification string `json:"justification,omitempty"`
	} `json:"suppressions"`
	Provenance *struct {
		FirstDetectionTimeUTC string `json:"firstDetectionTimeUtc"`
		LastDetectionTimeUTC  string `json:"lastDetectionTimeUtc"`
	} `json:"provenance"`
	Taxa             []sarifRef      `json:"taxa"`
	Properties       map[string]any  `json:"properties"`
	AnalysisTarget   json.RawMessage `json:"analysisTarget"`
	RelatedLocations json.RawMessage `json:"relatedLocations"`
	CodeFlows        json.RawMessage `json:"codeFlows"`
	Stacks           json.RawMessage `json:"stacks"`
	Fixes            json.RawMessage `json:"fixes"`
	Attachments      json.RawMessage `json:"attachments"`
	WorkItemURIs     json.RawMessage `json:"workItemUris"`
	HostedViewerURI  string          `json:"hostedViewerUri"`
}

type sarifInvocation struct {
	StartTimeUTC        string `json:"startTimeUtc"`
	EndTimeUTC          string `json:"endTimeUtc"`
	ExecutionSuccessful *bool  `json:"executionSuccessful"`
}

type sarifArtifact struct {
	uri, baseID, purl string
}

// sarifRun is the context of one run's results.
type sarifRun struct {
	tool        sarifTool
	hasTool     bool
	invocations []sarifInvocation
	baseIDs     map[string]sarifArtifactLocation
	artifacts   []sarifArtifact
	properties  map[string]any
	automation  map[string]any
	vcp         []any

	// derived by prepare
	product    ocsf.Product
	time       int64
	start, end int64
	image      *ocsf.ResourceDetails
	runProps   map[string]any
	components []*sarifComponent
	byID       map[string]ruleRef
	infos      [][]*sarifRuleInfo
}

type ruleRef struct{ comp, idx int }

// sarifRuleInfo is what the mapping derives from a rule, once per rule.
type sarifRuleInfo struct {
	rule      *sarifRule
	comp      *sarifComponent
	compIndex int
	title     string
	cwes      []ocsf.CWE
	cve       string
	cvss      []ocsf.CVSS
	tags      []string
	props     map[string]any // properties not mapped
}

func (run *sarifRun) prepare() {
	drv := &run.tool.Driver
	run.product = ocsf.Product{
		Name:       drv.Name,
		Version:    firstNonEmpty(drv.Version, drv.SemanticVersion),
		VendorName: drv.Organization,
		URLString:  drv.InformationURI,
		UID:        drv.GUID,
	}
	for _, inv := range run.invocations {
		if t, err := parseTime(inv.StartTimeUTC); err == nil && run.start == 0 {
			run.start = ocsf.Millis(t)
		}
		if t, err := parseTime(inv.EndTimeUTC); err == nil && run.end == 0 {
			run.end = ocsf.Millis(t)
		}
	}
	run.time = run.start
	if run.time == 0 {
		run.time = run.end
	}
	run.components = append(run.components, drv)
	for i := range run.tool.Extensions {
		run.components = append(run.components, &run.tool.Extensions[i])
	}
	run.infos = make([][]*sarifRuleInfo, len(run.components))
	run.byID = make(map[string]ruleRef)
	for c, comp := range run.components {
		run.infos[c] = make([]*sarifRuleInfo, len(comp.Rules))
		for i := range comp.Rules {
			if id := comp.Rules[i].ID; id != "" {
				if _, dup := run.byID[id]; !dup {
					run.byID[id] = ruleRef{c, i}
				}
			}
		}
	}
	// Trivy describes the scanned image in the run's properties.
	if len(run.properties) > 0 {
		props := maps.Clone(run.properties)
		if name, _ := props["imageName"].(string); name != "" {
			delete(props, "imageName")
			res := &ocsf.ResourceDetails{UID: name, Name: name, Type: "Container Image", RoleID: ocsf.ResourceRoleTarget, Role: "Target"}
			if digests := asStrings(props["repoDigests"]); len(digests) > 0 {
				res.UID = digests[0]
			}
			delete(props, "repoDigests")
			res.UIDAlt, _ = props["imageID"].(string)
			delete(props, "imageID")
			res.Labels = asStrings(props["repoTags"])
			delete(props, "repoTags")
			run.image = res
		}
		if len(props) > 0 {
			run.runProps = props
		}
	}
}

// rule returns the derived information of rule idx of component c.
func (run *sarifRun) rule(c, idx int) *sarifRuleInfo {
	if ri := run.infos[c][idx]; ri != nil {
		return ri
	}
	ri := newRuleInfo(run.components[c], c, &run.components[c].Rules[idx])
	run.infos[c][idx] = ri
	return ri
}

func newRuleInfo(comp *sarifComponent, c int, r *sarifRule) *sarifRuleInfo {
	ri := &sarifRuleInfo{rule: r, comp: comp, compIndex: c}
	props := maps.Clone(r.Properties)
	ri.tags = asStrings(props["tags"])
	delete(props, "tags")
	name := r.Name
	if name == r.ID {
		name = ""
	}
	// CodeQL repeats the query's id, name and description in the properties
	if pid, _ := props["id"].(string); pid == r.ID {
		delete(props, "id")
	}
	if pn, _ := props["name"].(string); pn != "" && (name == "" || pn == name) {
		name = pn
		delete(props, "name")
	}
	if pd, _ := props["description"].(string); pd != "" && strings.Join(strings.Fields(pd), " ") == strings.Join(strings.Fields(r.FullDescription.String()), " ") {
		delete(props, "description")
	}
	ri.title = firstNonEmpty(titleText(r.ShortDescription.String()), name)
	ri.cvss = sarifCVSS(props)
	delete(props, "security-severity") // read by sarifSeverity
	delete(props, "precision")         // confidence
	for _, t := range ri.tags {
		if ri.cve == "" {
			ri.cve = findCVE(t)
		}
		if strings.Contains(strings.ToLower(t), "cwe") {
			ri.addCWE(t)
		}
	}
	if ri.cve == "" {
		ri.cve = findCVE(r.ID)
	}
	for _, rel := range r.Relationships {
		if rel.Target.ToolComponent != nil && strings.EqualFold(rel.Target.ToolComponent.Name, "CWE") || strings.HasPrefix(strings.ToUpper(rel.Target.ID), "CWE") {
			ri.addCWE(rel.Target.ID)
		}
	}
	for _, k := range []string{"cwe", "CWE", "cwe_id", "cwe-id"} {
		for _, s := range asStrings(props[k]) {
			if ri.addCWE(s) {
				delete(props, k)
			}
		}
	}
	if len(props) > 0 {
		ri.props = props
	}
	return ri
}

// addCWE adds the CWE named in s ("CWE-79", "external/cwe/cwe-79",
// "CWE-327: Use of a Broken …") and reports whether s named one.
func (ri *sarifRuleInfo) addCWE(s string) bool {
	c, ok := parseCWE(s)
	if !ok {
		return false
	}
	ri.cwes = appendCWE(ri.cwes, c)
	return true
}

func appendCWE(list []ocsf.CWE, c ocsf.CWE) []ocsf.CWE {
	for i, x := range list {
		if x.UID == c.UID {
			if x.Caption == "" {
				list[i].Caption = c.Caption
			}
			return list
		}
	}
	return append(list, c)
}

// parseCWE finds a CWE id in s.
func parseCWE(s string) (ocsf.CWE, bool) {
	low := strings.ToLower(s)
	for from := 0; ; {
		i := strings.Index(low[from:], "cwe")
		if i < 0 {
			return ocsf.CWE{}, false
		}
		i += from
		j := i + 3
		if j < len(low) && (low[j] == '-' || low[j] == '_' || low[j] == ' ' || low[j] == ':') {
			j++
		}
		k := j
		for k < len(low) && low[k] >= '0' && low[k] <= '9' {
			k++
		}
		if k > j && k-j <= 7 && (k == len(low) || !isAlnum(low[k])) {
			num := strings.TrimLeft(s[j:k], "0")
			if num == "" {
				num = "0"
			}
			c := ocsf.CWE{UID: "CWE-" + num, SrcURL: "https://cwe.mitre.org/data/definitions/" + num + ".html"}
			if i == 0 {
				c.Caption = strings.TrimSpace(strings.TrimLeft(s[k:], ":- "))
			}
			return c, true
		}
		from = i + 3
	}
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// findCVE returns the first CVE id in s ("CVE-2021-44228"), or "".
func findCVE(s string) string {
	for from := 0; ; {
		i := strings.Index(s[from:], "CVE-")
		if i < 0 {
			return ""
		}
		i += from
		j := i + 4
		n := 0
		for j < len(s) && n < 4 && s[j] >= '0' && s[j] <= '9' {
			j++
			n++
		}
		if n == 4 && j < len(s) && s[j] == '-' {
			k := j + 1
			for k < len(s) && s[k] >= '0' && s[k] <= '9' {
				k++
			}
			if k-j-1 >= 4 && (i == 0 || !isAlnum(s[i-1])) {
				return s[i:k]
			}
		}
		from = i + 4
	}
}

// resolveRule finds the rule a result refers to and its id; ri is nil when
// the log does not describe the rule (the id alone is then all there is),
// id is "" when the result names no rule at all.
func (run *sarifRun) resolveRule(res *sarifResult) (ri *sarifRuleInfo, id string) {
	id = res.RuleID
	comp := 0
	idx := res.RuleIndex
	if res.Rule != nil {
		if id == "" {
			id = res.Rule.ID
		}
		if res.Rule.Index != nil {
			idx = res.Rule.Index
		}
		if tc := res.Rule.ToolComponent; tc != nil {
			switch {
			case tc.Index != nil && *tc.Index >= 0 && *tc.Index+1 < len(run.components):
				comp = *tc.Index + 1
			case tc.Name != "":
				for c := 1; c < len(run.components); c++ {
					if run.components[c].Name == tc.Name {
						comp = c
						break
					}
				}
			}
		}
	}
	if idx != nil && *idx >= 0 && *idx < len(run.components[comp].Rules) {
		r := &run.components[comp].Rules[*idx]
		if id == "" || r.ID == id || strings.HasPrefix(id, r.ID+"/") {
			return run.rule(comp, *idx), firstNonEmpty(id, r.ID)
		}
	}
	if id != "" {
		for p := id; p != ""; {
			if ref, ok := run.byID[p]; ok {
				return run.rule(ref.comp, ref.idx), id
			}
			i := strings.LastIndexByte(p, '/')
			if i < 0 {
				break
			}
			p = p[:i]
		}
		return nil, id
	}
	// no rule reference: the rule whose id or name starts the message (Gitleaks 7)
	text := firstNonEmpty(res.Message.Text, res.Message.Markdown)
	best, bestLen := ruleRef{-1, -1}, 0
	for c, comp := range run.components {
		for i := range comp.Rules {
			for _, cand := range []string{comp.Rules[i].ID, comp.Rules[i].Name} {
				if len(cand) >= 3 && len(cand) > bestLen && strings.HasPrefix(text, cand) &&
					(len(text) == len(cand) || !isAlnum(text[len(cand)])) {
					best, bestLen = ruleRef{c, i}, len(cand)
				}
			}
		}
	}
	if best.comp >= 0 {
		ri = run.rule(best.comp, best.idx)
		return ri, ri.rule.ID
	}
	return nil, ""
}

// messageText renders a result message: text, markdown or a rule's message
// string, with {0}-style placeholders filled from the arguments.
func (run *sarifRun) messageText(m *sarifMessage, ri *sarifRuleInfo) string {
	text := firstNonEmpty(m.Text, m.Markdown)
	if text == "" && m.ID != "" {
		if ri != nil {
			if ms, ok := ri.rule.MessageStrings[m.ID]; ok {
				text = firstNonEmpty(ms.Text, ms.Markdown)
			}
		}
		if text == "" {
			for _, comp := range run.components {
				if ms, ok := comp.GlobalMessages[m.ID]; ok {
					text = firstNonEmpty(ms.Text, ms.Markdown)
					break
				}
			}
		}
	}
	if len(m.Arguments) > 0 {
		text = fillPlaceholders(text, m.Arguments)
	}
	return strings.TrimSpace(text)
}

// fillPlaceholders replaces {n} with args[n] and {{ }} with literal braces.
func fillPlaceholders(s string, args []string) string {
	if !strings.ContainsAny(s, "{}") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '{' && i+1 < len(s) && s[i+1] == '{', c == '}' && i+1 < len(s) && s[i+1] == '}':
			b.WriteByte(c)
			i++
		case c == '{':
			j := i + 1
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			if j > i+1 && j < len(s) && s[j] == '}' {
				if n, err := strconv.Atoi(s[i+1 : j]); err == nil && n < len(args) {
					b.WriteString(args[n])
					i = j
					continue
				}
			}
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// resolveURI applies uriBaseId (through originalUriBaseIds, which may chain)
// to a relative uri.
func (run *sarifRun) resolveURI(loc *sarifArtifactLocation) (uri, unresolvedBase string) {
	uri, base := loc.URI, loc.URIBaseID
	if uri == "" && loc.Index != nil && *loc.Index >= 0 && *loc.Index < len(run.artifacts) {
		a := run.artifacts[*loc.Index]
		uri, base = a.uri, firstNonEmpty(base, a.baseID)
	}
	for depth := 0; base != "" && depth < 8; depth++ {
		if u, err := url.Parse(uri); err == nil && u.IsAbs() {
			return uri, ""
		}
		b, ok := run.baseIDs[base]
		if !ok || b.URI == "" {
			return uri, base
		}
		bu := b.URI
		if !strings.HasSuffix(bu, "/") {
			bu += "/"
		}
		uri = bu + strings.TrimPrefix(uri, "/")
		base = b.URIBaseID
	}
	return uri, ""
}

// filePath turns a uri into a file path: file: URIs lose their scheme,
// percent-escapes are decoded.
func filePath(uri string) string {
	u, err := url.Parse(uri)
	if err != nil {
		return uri
	}
	switch {
	case u.Scheme == "file":
		p := u.Path
		if strings.HasPrefix(p, "//") {
			p = path.Clean(p)
		}
		if len(p) >= 3 && p[0] == '/' && p[2] == ':' && isAlnum(p[1]) {
			p = p[1:] // file:///C:/…
		}
		return p
	case u.Scheme == "" && u.Host == "":
		return u.Path
	}
	return uri
}

// artifactPURL returns the package URL of the artifact a location points to.
func (run *sarifRun) artifactPURL(loc *sarifArtifactLocation) string {
	if loc != nil && loc.Index != nil && *loc.Index >= 0 && *loc.Index < len(run.artifacts) {
		return run.artifacts[*loc.Index].purl
	}
	return ""
}

// sarifSeverity picks the severity of a result; see the format notes.
func sarifSeverity(res *sarifResult, ri *sarifRuleInfo) (id int, word, key string) {
	var rprops map[string]any
	if ri != nil {
		rprops = ri.rule.Properties
	}
	for _, key := range []string{"security-severity", "severity", "issue_severity", "cvssv3_baseScore", "cvssv2_score"} {
		for _, props := range []map[string]any{res.Properties, rprops} {
			v, ok := props[key]
			if !ok {
				continue
			}
			s := strings.TrimSpace(asString(v))
			if key != "severity" && key != "issue_severity" {
				if f, ok := asFloat(v); ok && f >= 0 && f <= 10 {
					switch key { // the CVSS severity word, when given, is the vendor's
					case "cvssv3_baseScore":
						s = firstNonEmpty(asString(props["cvssv3_baseSeverity"]), s)
					case "cvssv2_score":
						s = firstNonEmpty(asString(props["cvssv2_severity"]), s)
					}
					return ocsf.SeverityFromScore(f), s, key
				}
			}
			if sev := ocsf.SeverityFromLabel(s); sev != ocsf.SeverityUnknown {
				return sev, s, key
			}
		}
	}
	level := res.Level
	if level == "" && res.Kind != "" && res.Kind != "fail" {
		level = "none"
	}
	if level == "" && ri != nil {
		level = ri.rule.DefaultConfiguration.Level
	}
	if level == "" {
		level = "warning"
	}
	return ocsf.SeverityFromLabel(level), level, ""
}

// sarifCVSS reads the CVSS scores tools put in properties (Trivy,
// Dependency-Check), taking what it maps out of props.
func sarifCVSS(props map[string]any) []ocsf.CVSS {
	var out []ocsf.CVSS
	if f, ok := asFloat(props["cvssv3_baseScore"]); ok {
		vec := asString(props["cvssv3_vector"])
		c := ocsf.CVSS{Version: firstNonEmpty(asString(props["cvssv3_version"]), cvssVersion(vec, "3.1")), BaseScore: f, VectorString: vec,
			Severity: asString(props["cvssv3_baseSeverity"])}
		for _, k := range []string{"cvssv3_baseScore", "cvssv3_vector", "cvssv3_version", "cvssv3_baseSeverity"} {
			delete(props, k)
		}
		out = append(out, c)
	}
	if f, ok := asFloat(props["cvssv2_score"]); ok {
		c := ocsf.CVSS{Version: firstNonEmpty(asString(props["cvssv2_version"]), "2.0"), BaseScore: f, VectorString: asString(props["cvssv2_vector"]),
			Severity: asString(props["cvssv2_severity"])}
		for _, k := range []string{"cvssv2_score", "cvssv2_vector", "cvssv2_version", "cvssv2_severity"} {
			delete(props, k)
		}
		out = append(out, c)
	}
	return out
}

// sarifPackage is a package named by a dependency result.
type sarifPackage struct {
	name, version, fixed, typ, purl string
}

// packageFromText reads the "Package: …" lines Trivy (result message) and
// Grype (rule help) write.
func packageFromText(s string) sarifPackage {
	var p sarifPackage
	for line := range strings.SplitSeq(s, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		switch strings.TrimSpace(k) {
		case "Package":
			p.name = v
		case "Installed Version", "Version":
			p.version = v
		case "Fixed Version", "Fix Version":
			p.fixed = v
		case "Type":
			p.typ = v
		}
	}
	return p
}

// parsePURL splits pkg:type/namespace/name@version?qualifiers#subpath.
func parsePURL(purl string) sarifPackage {
	p := sarifPackage{purl: purl}
	s := strings.TrimPrefix(purl, "pkg:")
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		s = s[:i]
	}
	typ, rest, ok := strings.Cut(s, "/")
	if !ok {
		return p
	}
	p.typ = typ
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		p.version, rest = rest[i+1:], rest[:i]
		if v, err := url.PathUnescape(p.version); err == nil {
			p.version = v
		}
	}
	if i := strings.LastIndexByte(rest, '/'); i >= 0 {
		rest = rest[i+1:]
	}
	if n, err := url.PathUnescape(rest); err == nil {
		rest = n
	}
	p.name = rest
	return p
}

// result maps one result to a Vulnerability Finding.
func (run *sarifRun) result(res *sarifResult) (ocsf.Record, error) {
	drv := &run.tool.Driver
	if drv.Name == "" {
		return nil, missing("tool.driver.name")
	}
	ri, ruleID := run.resolveRule(res)
	if ruleID == "" {
		return nil, missing("ruleId")
	}
	msg := run.messageText(&res.Message, ri)
	props := maps.Clone(res.Properties)

	f := &ocsf.VulnerabilityFinding{}
	f.SetClass(ocsf.ClassVulnerabilityFinding, ocsf.ActivityCreate, "")
	f.Time = run.time
	if run.start != 0 && run.end != 0 {
		f.StartTime, f.EndTime = run.start, run.end
	}
	f.Metadata.Product = run.product
	if ri != nil && ri.compIndex > 0 {
		f.Metadata.Product.Feature = &ocsf.Feature{Name: ri.comp.Name, Version: firstNonEmpty(ri.comp.Version, ri.comp.SemanticVersion)}
	}
	sev, sevWord, sevKey := sarifSeverity(res, ri)
	f.SetSeverity(sev, "")
	switch sevKey {
	case "security-severity", "severity", "issue_severity":
		delete(props, sevKey)
	case "":
		sevWord = strings.ToLower(sevWord) // the level
	}
	f.Message = msg
	if res.OccurrenceCount > 0 {
		f.Count = res.OccurrenceCount
	}

	// status: suppressed, fixed (absent from the baseline, or a pass), else new
	status := ocsf.FindingStatusNew
	for _, s := range res.Suppressions {
		if s.Status == "" || s.Status == "accepted" {
			status = ocsf.FindingStatusSuppressed
		}
	}
	if status == ocsf.FindingStatusNew && (res.BaselineState == "absent" || res.Kind == "pass") {
		status = ocsf.FindingStatusResolved
	}
	f.SetStatus(status, "")

	// confidence: the rule's precision (CodeQL, Semgrep) or the result's own
	conf := ""
	if v, ok := props["issue_confidence"]; ok {
		conf = asString(v)
		delete(props, "issue_confidence")
	} else if ri != nil {
		conf = asString(ri.rule.Properties["precision"])
	}
	switch strings.ToLower(conf) {
	case "very-high", "high":
		f.ConfidenceID, f.Confidence = 3, "High"
	case "medium":
		f.ConfidenceID, f.Confidence = 2, "Medium"
	case "low", "very-low":
		f.ConfidenceID, f.Confidence = 1, "Low"
	}

	// locations
	var primaryURI, unresolvedBase string
	var primaryLoc *sarifArtifactLocation
	var primaryRegion *sarifRegion
	var codes []ocsf.AffectedCode
	for i := range res.Locations {
		pl := res.Locations[i].PhysicalLocation
		if pl == nil || pl.ArtifactLocation == nil {
			continue
		}
		uri, ub := run.resolveURI(pl.ArtifactLocation)
		if uri == "" {
			continue
		}
		if primaryLoc == nil {
			primaryURI, unresolvedBase, primaryLoc, primaryRegion = uri, ub, pl.ArtifactLocation, pl.Region
		}
		p := filePath(uri)
		name := baseName(p)
		if name == "" {
			name = uri
		}
		ac := ocsf.AffectedCode{File: ocsf.File{Name: name, Path: p, TypeID: ocsf.FileTypeRegular, Type: "Regular File"}}
		if r := pl.Region; r != nil {
			ac.StartLine, ac.EndLine, ac.StartColumn, ac.EndColumn = r.StartLine, r.EndLine, r.StartColumn, r.EndColumn
		}
		codes = append(codes, ac)
	}

	// what the result is about: a CVE, a package, or a weakness in code
	cve := findCVE(ruleID)
	if cve == "" && ri != nil {
		cve = ri.cve
	}
	pkg := sarifPackage{}
	purl := run.artifactPURL(primaryLoc)
	for _, k := range sortedKeys(props) {
		if s, ok := props[k].(string); ok && strings.HasPrefix(s, "pkg:") && purl == "" {
			purl = s
			delete(props, k)
		}
	}
	dependency := cve != "" || strings.HasPrefix(ruleID, "GHSA-") || purl != ""
	if dependency {
		pkg = packageFromText(msg)
		if pkg.name == "" && ri != nil {
			pkg = packageFromText(ri.rule.Help.String())
		}
		if purl != "" {
			pp := parsePURL(purl)
			if pkg.name == "" {
				pkg.name, pkg.version = pp.name, pp.version
			}
			pkg.typ = firstNonEmpty(pkg.typ, pp.typ)
			pkg.purl = purl
		}
	}

	baseTitle := ""
	if ri != nil {
		baseTitle = ri.title
	}
	if baseTitle == "" {
		baseTitle = titleText(msg)
	}
	if baseTitle == "" {
		baseTitle = ruleID
	}
	title := baseTitle
	if cve != "" && !strings.Contains(title, cve) {
		title = cve + ": " + title
	}

	// identity
	parts := []string{drv.Name, ruleID, primaryURI}
	switch {
	case res.CorrelationGUID != "":
		parts = append(parts, res.CorrelationGUID)
	case len(res.Fingerprints) > 0:
		parts = append(parts, joinMap(res.Fingerprints))
	case len(res.PartialFingerprints) > 0:
		parts = append(parts, joinMap(res.PartialFingerprints))
	default:
		if primaryRegion != nil && primaryRegion.StartLine > 0 {
			parts = append(parts, strconv.Itoa(primaryRegion.StartLine))
		}
		if pkg.name != "" {
			parts = append(parts, pkg.name+"@"+pkg.version)
		}
		if c, ok := props["commit"].(string); ok && c != "" {
			parts = append(parts, c)
		}
	}
	for len(parts) > 2 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	f.FindingInfo = ocsf.FindingInfo{
		UID:    strings.Join(parts, "|"),
		UIDAlt: res.GUID,
		Title:  title,
	}
	if ri != nil {
		f.FindingInfo.Desc = ri.rule.FullDescription.String()
		f.FindingInfo.SrcURL = ri.rule.HelpURI
		f.FindingInfo.Types = ri.tags
		f.FindingInfo.Analytic = ocsf.NewAnalytic(ocsf.AnalyticTypeRule, ruleID, firstNonEmpty(ri.title, ri.rule.Name))
	} else {
		f.FindingInfo.Analytic = ocsf.NewAnalytic(ocsf.AnalyticTypeRule, ruleID, "")
	}
	if pv := res.Provenance; pv != nil {
		if t, err := parseTime(pv.FirstDetectionTimeUTC); err == nil {
			f.FindingInfo.FirstSeenTime = ocsf.Millis(t)
		}
		if t, err := parseTime(pv.LastDetectionTimeUTC); err == nil {
			f.FindingInfo.LastSeenTime = ocsf.Millis(t)
		}
	}

	// the vulnerability
	vul := ocsf.Vulnerability{Title: baseTitle, Desc: f.FindingInfo.Desc, Severity: sevWord, VendorName: drv.Name}
	if ri != nil && ri.rule.HelpURI != "" {
		vul.References = []string{ri.rule.HelpURI}
	}
	var cwes []ocsf.CWE
	if ri != nil {
		cwes = slices.Clone(ri.cwes)
	}
	for _, t := range res.Taxa {
		if c, ok := parseCWE(t.ID); ok {
			cwes = appendCWE(cwes, c)
		}
	}
	for _, k := range []string{"cwe", "CWE", "cwe_id", "cwe-id"} {
		found := false
		for _, s := range asStrings(props[k]) {
			if c, ok := parseCWE(s); ok {
				cwes = appendCWE(cwes, c)
				found = true
			}
		}
		if found {
			delete(props, k)
		}
	}
	cvss := sarifCVSS(props)
	if ri != nil && len(cvss) == 0 {
		cvss = ri.cvss
	}
	switch {
	case cve != "":
		vul.CVE = &ocsf.CVE{UID: cve, Title: vul.Title, Desc: vul.Desc, CVSS: cvss, RelatedCWEs: cwes}
	case dependency:
		vul.Advisory = &ocsf.Advisory{UID: ruleID, Title: vul.Title, Desc: vul.Desc, SrcURL: f.FindingInfo.SrcURL}
		f.AddUnmapped("cwes", cweUIDs(cwes))
		if len(cvss) > 0 {
			f.AddUnmapped("cvss", cvss)
		}
	case len(cwes) > 0:
		vul.CWE = &cwes[0]
		if len(cwes) > 1 {
			f.AddUnmapped("related_cwes", cweUIDs(cwes[1:]))
		}
		if len(cvss) > 0 {
			f.AddUnmapped("cvss", cvss)
		}
	default:
		vul.Advisory = &ocsf.Advisory{UID: ruleID, Title: vul.Title, Desc: vul.Desc, SrcURL: f.FindingInfo.SrcURL}
		if len(cvss) > 0 {
			f.AddUnmapped("cvss", cvss)
		}
	}
	if dependency {
		if pkg.name != "" && pkg.version != "" {
			ap := ocsf.AffectedPackage{Name: pkg.name, Version: pkg.version, FixedInVersion: pkg.fixed, Purl: pkg.purl, PackageManager: pkg.typ}
			if run.image == nil { // for image scanners the location is the image
				ap.Path = filePath(primaryURI)
			}
			vul.AffectedPackages = []ocsf.AffectedPackage{ap}
			if pkg.fixed != "" {
				vul.IsFixAvailable = boolPtr(true)
				vul.Remediation = &ocsf.Remediation{Desc: "Upgrade " + pkg.name + " to " + pkg.fixed + "."}
			}
		}
		if ri != nil {
			f.AddUnmapped("rule.help", ri.rule.Help.String())
		}
	} else {
		vul.AffectedCode = codes
		if ri != nil {
			if help := ri.rule.Help.String(); help != "" && help != f.FindingInfo.Desc && help != title {
				vul.Remediation = &ocsf.Remediation{Desc: help}
				if ri.rule.HelpURI != "" {
					vul.Remediation.References = []string{ri.rule.HelpURI}
				}
			}
		}
	}
	f.Vulnerabilities = []ocsf.Vulnerability{vul}

	// resource: the scanned image (Trivy), else the file of the primary location
	switch {
	case run.image != nil:
		res := *run.image
		f.Resources = []ocsf.ResourceDetails{res}
	case primaryURI != "":
		f.Resources = []ocsf.ResourceDetails{{UID: primaryURI, Name: filePath(primaryURI), Type: "File", RoleID: ocsf.ResourceRoleTarget, Role: "Target"}}
	}
	f.AddObservable("vulnerabilities[0].cve.uid", ocsf.ObservableCVE, "CVE Object: uid", cve)
	if vul.CWE != nil {
		f.AddObservable("vulnerabilities[0].cwe.uid", observableCWE, "CWE Object: uid", vul.CWE.UID)
	}
	if len(f.Resources) > 0 {
		f.AddObservable("resources[0].uid", ocsf.ObservableResourceUID, "Resource UID", f.Resources[0].UID)
	}

	// the rest
	f.AddUnmapped("uriBaseId", unresolvedBase)
	if len(res.Locations) > 0 {
		loc := &res.Locations[0]
		if pl := loc.PhysicalLocation; pl != nil {
			switch {
			case pl.Region != nil && pl.Region.Snippet != nil:
				f.AddUnmapped("snippet", pl.Region.Snippet.Text)
			case pl.ContextRegion != nil && pl.ContextRegion.Snippet != nil:
				f.AddUnmapped("snippet", pl.ContextRegion.Snippet.Text)
			}
		}
		if len(loc.LogicalLocations) > 0 && string(loc.LogicalLocations) != "null" {
			f.AddUnmapped("logicalLocations", loc.LogicalLocations)
		}
		if loc.Message != nil {
			f.AddUnmapped("locations[0].message", firstNonEmpty(loc.Message.Text, loc.Message.Markdown))
		}
	}
	for _, raw := range []struct {
		key string
		v   json.RawMessage
	}{{"relatedLocations", res.RelatedLocations}, {"codeFlows", res.CodeFlows}, {"stacks", res.Stacks}, {"fixes", res.Fixes},
		{"attachments", res.Attachments}, {"workItemUris", res.WorkItemURIs}, {"analysisTarget", res.AnalysisTarget}} {
		if len(raw.v) > 0 && string(raw.v) != "null" {
			f.AddUnmapped(raw.key, raw.v)
		}
	}
	if len(res.Fingerprints) > 0 {
		f.AddUnmapped("fingerprints", res.Fingerprints)
	}
	if len(res.PartialFingerprints) > 0 {
		f.AddUnmapped("partialFingerprints", res.PartialFingerprints)
	}
	f.AddUnmapped("correlationGuid", res.CorrelationGUID)
	f.AddUnmapped("kind", res.Kind)
	if sevKey != "" {
		f.AddUnmapped("level", res.Level)
	}
	f.AddUnmapped("baselineState", res.BaselineState)
	f.AddUnmapped("hostedViewerUri", res.HostedViewerURI)
	if res.Rank != nil {
		f.AddUnmapped("rank", *res.Rank)
	}
	if len(res.Suppressions) > 0 {
		f.AddUnmapped("suppressions", res.Suppressions)
	}
	if len(props) > 0 {
		f.AddUnmapped("properties", props)
	}
	if ri != nil && len(ri.props) > 0 {
		f.AddUnmapped("rule.properties", maps.Clone(ri.props))
	}
	if len(run.runProps) > 0 {
		f.AddUnmapped("run.properties", maps.Clone(run.runProps))
	}
	if len(run.automation) > 0 {
		f.AddUnmapped("run.automationDetails", maps.Clone(run.automation))
	}
	if len(run.vcp) > 0 {
		f.AddUnmapped("run.versionControlProvenance", run.vcp)
	}
	return f, nil
}

// observableCWE is the observable type_id of cwe.uid.
const observableCWE = 17

func cweUIDs(cwes []ocsf.CWE) []string {
	out := make([]string, 0, len(cwes))
	for _, c := range cwes {
		out = append(out, c.UID)
	}
	return out
}

// joinMap renders a string map as sorted k=v pairs.
func joinMap(m map[string]string) string {
	var b strings.Builder
	for i, k := range sortedKeys(m) {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(m[k])
	}
	return b.String()
}

// titleText makes a one-line title of a description: its first paragraph
// with the line breaks folded, cut at the first sentence when long.
func titleText(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.Index(s, "\n\n"); i >= 0 {
		s = s[:i]
	}
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) > 120 {
		if i := strings.Index(s, ". "); i > 0 {
			s = s[:i+1]
		}
	}
	return truncateRunes(s, 200)
}

// truncateRunes cuts s to at most n runes, marking the cut with "…".
func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i, count := 0, 0
	for i = range s {
		if count == n-1 {
			break
		}
		count++
	}
	return s[:i] + "…"
}
