package ingest

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/canopy-sec/canopy/internal/ingest/jsonstream"
	"github.com/canopy-sec/canopy/internal/ocsf"
)

func init() {
	register(Format{
		Name:    "trivy",
		Title:   "Trivy JSON report",
		Version: 1,
		Classes: []int{ocsf.ClassVulnerabilityFinding, ocsf.ClassComplianceFinding, ocsf.ClassDetectionFinding},
		Notes:   "SchemaVersion 2 reports (image, fs, repo, config, secret, license), the pre-0.20 array form, k8s cluster reports (legacy and Resources form) and k8s summaries",
		Sniff:   sniffTrivy,
		Decode:  decodeTrivy,
	})
}

func sniffTrivy(head []byte) int {
	switch {
	case sniffHas(head, `"SchemaVersion"`, `"ArtifactName"`):
		return 90
	case sniffHas(head, `"ClusterName"`) && (sniffHas(head, `"Results"`) || sniffHas(head, `"Resources"`)):
		return 80
	case sniffHas(head, `"VulnerabilityID"`, `"PkgName"`, `"Target"`):
		return 70 // pre-0.20 list form
	case sniffHas(head, `"Target"`, `"Misconfigurations"`) || sniffHas(head, `"Target"`, `"Secrets"`, `"RuleID"`):
		return 60
	case sniffHas(head, `"misconfigurations"`) && sniffHas(head, `"KSV`):
		return 40 // k8s summary of ids
	}
	return 0
}

// trivyReport holds what a report says about the scanned artifact, read
// before its results.
type trivyReport struct {
	version      string
	created      int64
	artifact     string
	artifactType string
	imageID      string
	repoDigest   string
	osName       string
	// k8s resource context
	cluster, namespace, kind, name string
}

type trivyResultCtx struct {
	target, class, typ string
}

// trivyDecoder walks one report; it counts records for error positions.
type trivyDecoder struct {
	ctx  context.Context
	jr   *jsonstream.Reader
	emit Emit
	rep  trivyReport
	n    int
}

func decodeTrivy(ctx context.Context, r io.Reader, emit Emit) error {
	d := &trivyDecoder{ctx: ctx, jr: jsonstream.NewReader(r), emit: emit}
	err := d.run()
	return finishErr("trivy", d.n+1, err)
}

func (d *trivyDecoder) run() error {
	k, err := d.jr.Peek()
	if err == io.EOF {
		return fmt.Errorf("%w: empty input", ErrSyntax)
	}
	if err != nil {
		return err
	}
	if k == jsonstream.Array { // pre-0.20: a bare array of results
		return d.results()
	}
	if err := d.jr.Members(d.topKey); err != nil {
		return err
	}
	if _, err := d.jr.Peek(); err != io.EOF {
		if err != nil {
			return err
		}
		return fmt.Errorf("%w: unexpected data after the report", ErrSyntax)
	}
	return nil
}

func (d *trivyDecoder) topKey(key string) error {
	jr := d.jr
	var err error
	switch key {
	case "Trivy":
		var v struct{ Version string }
		err = jr.Decode(&v)
		d.rep.version = v.Version
	case "CreatedAt":
		var s string
		if s, err = jr.String(); err == nil && s != "" {
			t, perr := parseTime(s)
			if perr != nil {
				return &fieldError{"CreatedAt", perr}
			}
			d.rep.created = ocsf.Millis(t)
		}
	case "ArtifactName":
		d.rep.artifact, err = jr.String()
	case "ArtifactType":
		d.rep.artifactType, err = jr.String()
	case "ClusterName":
		d.rep.cluster, err = jr.String()
	case "Metadata":
		var m struct {
			ImageID     string
			RepoDigests []string
			OS          struct{ Family, Name string }
		}
		err = jr.Decode(&m)
		d.rep.imageID = m.ImageID
		if len(m.RepoDigests) > 0 {
			d.rep.repoDigest = m.RepoDigests[0]
		}
		if m.OS.Family != "" {
			d.rep.osName = strings.TrimSpace(m.OS.Family + " " + m.OS.Name)
		}
	case "Results":
		return d.results()
	case "Vulnerabilities", "Misconfigurations", "Resources":
		// k8s cluster reports: arrays of {Namespace, Kind, Name, Results}
		return d.k8sResources()
	case "vulnerabilities", "misconfigurations":
		return d.summaryIDs(key)
	default:
		err = jr.Skip()
	}
	return err
}

func (d *trivyDecoder) k8sResources() error {
	jr := d.jr
	return jr.Elements(func() error {
		d.rep.namespace, d.rep.kind, d.rep.name = "", "", ""
		return jr.Members(func(key string) (err error) {
			switch key {
			case "Namespace":
				d.rep.namespace, err = jr.String()
			case "Kind":
				d.rep.kind, err = jr.String()
			case "Name":
				d.rep.name, err = jr.String()
			case "Results":
				err = d.results()
			default:
				err = jr.Skip()
			}
			return err
		})
	})
}

func (d *trivyDecoder) results() error { return d.jr.Elements(d.result) }

func (d *trivyDecoder) result() error {
	jr := d.jr
	var rc trivyResultCtx
	return jr.Members(func(key string) (err error) {
		switch key {
		case "Target":
			rc.target, err = jr.String()
		case "Class":
			rc.class, err = jr.String()
		case "Type":
			rc.typ, err = jr.String()
		case "Vulnerabilities":
			err = d.items(func(raw []byte) (ocsf.Record, error) {
				var v trivyVuln
				if err := unmarshal(raw, &v); err != nil {
					return nil, err
				}
				return d.vuln(&rc, &v)
			})
		case "Misconfigurations":
			err = d.items(func(raw []byte) (ocsf.Record, error) {
				var m trivyMisconf
				if err := unmarshal(raw, &m); err != nil {
					return nil, err
				}
				return d.misconf(&rc, &m)
			})
		case "Secrets":
			err = d.items(func(raw []byte) (ocsf.Record, error) {
				var s trivySecret
				if err := unmarshal(raw, &s); err != nil {
					return nil, err
				}
				return d.secret(&rc, &s)
			})
		case "Licenses":
			err = d.items(func(raw []byte) (ocsf.Record, error) {
				var l trivyLicense
				if err := unmarshal(raw, &l); err != nil {
					return nil, err
				}
				return d.license(&rc, &l)
			})
		default:
			err = jr.Skip()
		}
		return err
	})
}

// items decodes each element of the array at the current position as one record.
func (d *trivyDecoder) items(mapRaw func([]byte) (ocsf.Record, error)) error {
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
		rec, err := mapRaw(raw)
		if err != nil {
			return itemErr("trivy", jsonstream.Item{Index: d.n, Pointer: jr.Pointer(), Offset: jr.Offset()}, err)
		}
		if err := d.emit(rec); err != nil {
			return emitError{err}
		}
		return nil
	})
}

func (d *trivyDecoder) summaryIDs(key string) error {
	var ids []string
	if err := d.jr.Decode(&ids); err != nil {
		return err
	}
	for i, id := range ids {
		d.n++
		if id == "" {
			return itemErr("trivy", jsonstream.Item{Index: d.n, Pointer: "/" + key + "/" + strconv.Itoa(i), Offset: -1}, missing(key+"[]"))
		}
		var rec ocsf.Record
		if key == "vulnerabilities" {
			rec, _ = d.vuln(&trivyResultCtx{}, &trivyVuln{VulnerabilityID: id})
		} else {
			rec, _ = d.misconf(&trivyResultCtx{class: "config"}, &trivyMisconf{ID: id, Status: "FAIL"})
		}
		if err := d.emit(rec); err != nil {
			return emitError{err}
		}
	}
	return nil
}

type trivyVuln struct {
	VulnerabilityID  string
	VendorIDs        []string
	PkgID            string
	PkgName          string
	PkgPath          string
	PkgIdentifier    struct{ PURL, UID string }
	InstalledVersion string
	FixedVersion     string
	Status           string
	Layer            map[string]any
	SeveritySource   string
	PrimaryURL       string
	DataSource       map[string]any
	Fingerprint      string
	Title            string
	Description      string
	Severity         string
	CweIDs           []string
	VendorSeverity   map[string]any
	CVSS             map[string]trivyCVSS
	References       []string
	PublishedDate    string
	LastModifiedDate string
}

type trivyCVSS struct {
	V2Vector, V3Vector, V40Vector string
	V2Score, V3Score, V40Score    float64
}

func (d *trivyDecoder) base(b *ocsf.Base, class int) {
	b.SetClass(class, ocsf.ActivityCreate, "")
	b.Time = d.rep.created
	b.Metadata.Product = ocsf.Product{Name: "Trivy", VendorName: "Aqua Security", Version: d.rep.version}
}

// resource describes what was scanned: the k8s workload, else the artifact.
func (d *trivyDecoder) resource(rc *trivyResultCtx) ocsf.ResourceDetails {
	if d.rep.kind != "" {
		uid := d.rep.namespace + "/" + d.rep.kind + "/" + d.rep.name
		if d.rep.cluster != "" {
			uid = d.rep.cluster + "/" + uid
		}
		return ocsf.ResourceDetails{UID: uid, Name: d.rep.name, Type: d.rep.kind, Namespace: d.rep.namespace}
	}
	name := firstNonEmpty(d.rep.artifact, rc.target, d.rep.cluster, "unknown artifact")
	uid := name
	if d.rep.repoDigest != "" {
		uid = d.rep.repoDigest
	}
	typ := d.rep.artifactType
	switch typ {
	case "container_image":
		typ = "Container Image"
	case "filesystem":
		typ = "Filesystem"
	case "repository":
		typ = "Repository"
	case "vm":
		typ = "Virtual Machine"
	}
	return ocsf.ResourceDetails{UID: uid, Name: name, Type: typ}
}

func (d *trivyDecoder) scope(rc *trivyResultCtx) string {
	if d.rep.kind != "" {
		return d.rep.cluster + "/" + d.rep.namespace + "/" + d.rep.kind + "/" + d.rep.name
	}
	return d.rep.artifact
}

func (d *trivyDecoder) vuln(rc *trivyResultCtx, v *trivyVuln) (ocsf.Record, error) {
	if v.VulnerabilityID == "" {
		return nil, missing("VulnerabilityID")
	}
	f := &ocsf.VulnerabilityFinding{}
	d.base(&f.Base, ocsf.ClassVulnerabilityFinding)
	sev := ocsf.SeverityFromLabel(v.Severity)
	f.SetSeverity(sev, "")
	f.SetStatus(ocsf.FindingStatusNew, "")
	pkg := firstNonEmpty(v.PkgID, v.PkgName+"@"+v.InstalledVersion)
	f.FindingInfo = ocsf.FindingInfo{
		UID:    strings.Join([]string{d.scope(rc), rc.target, pkg, v.PkgPath, v.VulnerabilityID}, "|"),
		Title:  v.VulnerabilityID + ": " + firstNonEmpty(v.Title, v.PkgName),
		SrcURL: v.PrimaryURL,
		Types:  []string{firstNonEmpty(rc.class, "vulnerability")},
	}
	if t, err := parseTime(v.PublishedDate); err == nil {
		f.FindingInfo.CreatedTime = ocsf.Millis(t)
	}
	if t, err := parseTime(v.LastModifiedDate); err == nil {
		f.FindingInfo.ModifiedTime = ocsf.Millis(t)
	}
	vul := ocsf.Vulnerability{
		Title:      v.Title,
		Desc:       v.Description,
		Severity:   v.Severity,
		References: v.References,
		VendorName: "Trivy",
	}
	if v.FixedVersion != "" || v.Status != "" {
		vul.IsFixAvailable = boolPtr(v.FixedVersion != "")
	}
	if strings.HasPrefix(v.VulnerabilityID, "CVE-") {
		cve := &ocsf.CVE{UID: v.VulnerabilityID, CreatedTime: f.FindingInfo.CreatedTime, ModifiedTime: f.FindingInfo.ModifiedTime}
		for _, src := range sortedKeys(v.CVSS) {
			c := v.CVSS[src]
			if c.V40Vector != "" || c.V40Score > 0 {
				cve.CVSS = append(cve.CVSS, ocsf.CVSS{Version: "4.0", BaseScore: c.V40Score, VectorString: c.V40Vector, VendorName: src})
			}
			if c.V3Vector != "" || c.V3Score > 0 {
				cve.CVSS = append(cve.CVSS, ocsf.CVSS{Version: cvssVersion(c.V3Vector, "3.1"), BaseScore: c.V3Score, VectorString: c.V3Vector, VendorName: src})
			}
			if c.V2Vector != "" || c.V2Score > 0 {
				cve.CVSS = append(cve.CVSS, ocsf.CVSS{Version: "2.0", BaseScore: c.V2Score, VectorString: c.V2Vector, VendorName: src})
			}
		}
		for _, cw := range v.CweIDs {
			cve.RelatedCWEs = append(cve.RelatedCWEs, ocsf.CWE{UID: cw})
		}
		vul.CVE = cve
	} else {
		vul.Advisory = &ocsf.Advisory{UID: v.VulnerabilityID, Title: v.Title, SrcURL: v.PrimaryURL}
		if len(v.CweIDs) > 0 {
			f.AddUnmapped("CweIDs", v.CweIDs)
		}
	}
	if v.PkgName != "" || v.InstalledVersion != "" {
		ap := ocsf.AffectedPackage{
			Name:           firstNonEmpty(v.PkgName, v.PkgID),
			Version:        v.InstalledVersion,
			FixedInVersion: v.FixedVersion,
			Purl:           v.PkgIdentifier.PURL,
			PackageManager: rc.typ,
			Path:           v.PkgPath,
		}
		switch rc.class {
		case "os-pkgs":
			ap.TypeID, ap.Type = ocsf.PackageTypeOS, "Operating System"
		case "lang-pkgs":
			ap.TypeID, ap.Type = ocsf.PackageTypeApplication, "Application"
		}
		vul.AffectedPackages = []ocsf.AffectedPackage{ap}
	}
	if v.FixedVersion != "" {
		vul.Remediation = &ocsf.Remediation{Desc: "Upgrade " + firstNonEmpty(v.PkgName, v.PkgID) + " to " + v.FixedVersion + "."}
	}
	f.Vulnerabilities = []ocsf.Vulnerability{vul}
	res := d.resource(rc)
	res.RoleID, res.Role = ocsf.ResourceRoleTarget, "Target"
	f.Resources = []ocsf.ResourceDetails{res}
	f.AddObservable("vulnerabilities[0].cve.uid", ocsf.ObservableCVE, "CVE", cveUID(vul))
	f.AddObservable("resources[0].uid", ocsf.ObservableResourceUID, "Resource UID", res.UID)
	f.AddUnmapped("Target", rc.target)
	f.AddUnmapped("Class", rc.class)
	f.AddUnmapped("Status", v.Status)
	f.AddUnmapped("SeveritySource", v.SeveritySource)
	f.AddUnmapped("VendorSeverity", v.VendorSeverity)
	f.AddUnmapped("Layer", v.Layer)
	f.AddUnmapped("DataSource", v.DataSource)
	f.AddUnmapped("Fingerprint", v.Fingerprint)
	f.AddUnmapped("PkgUID", v.PkgIdentifier.UID)
	f.AddUnmapped("VendorIDs", v.VendorIDs)
	f.AddUnmapped("ImageID", d.rep.imageID)
	f.AddUnmapped("OS", d.rep.osName)
	return f, nil
}

func cveUID(v ocsf.Vulnerability) string {
	if v.CVE != nil {
		return v.CVE.UID
	}
	return ""
}

func cvssVersion(vector, def string) string {
	if strings.HasPrefix(vector, "CVSS:") {
		if i := strings.IndexByte(vector, '/'); i > 5 {
			return vector[5:i]
		}
	}
	return def
}

type trivyMisconf struct {
	Type          string
	ID            string
	AVDID         string
	Title         string
	Description   string
	Message       string
	Namespace     string
	Query         string
	Resolution    string
	Severity      string
	PrimaryURL    string
	References    []string
	Status        string
	CauseMetadata struct {
		Resource  string
		Provider  string
		Service   string
		StartLine int
		EndLine   int
	}
}

func (d *trivyDecoder) misconf(rc *trivyResultCtx, m *trivyMisconf) (ocsf.Record, error) {
	if m.ID == "" {
		return nil, missing("ID")
	}
	f := &ocsf.ComplianceFinding{}
	d.base(&f.Base, ocsf.ClassComplianceFinding)
	f.SetSeverity(ocsf.SeverityFromLabel(m.Severity), "")
	loc := m.CauseMetadata.Resource
	if loc == "" && m.CauseMetadata.StartLine > 0 {
		loc = "line " + strconv.Itoa(m.CauseMetadata.StartLine)
	}
	f.FindingInfo = ocsf.FindingInfo{
		UID:      strings.Join([]string{d.scope(rc), rc.target, m.ID, loc}, "|"),
		Title:    firstNonEmpty(m.Title, m.ID),
		Desc:     m.Description,
		SrcURL:   m.PrimaryURL,
		Types:    []string{firstNonEmpty(m.Type, "misconfiguration")},
		Analytic: ocsf.NewAnalytic(ocsf.AnalyticTypeRule, m.ID, m.Title),
	}
	f.Message = m.Message
	f.Compliance = ocsf.Compliance{Control: m.ID, Standards: []string{firstNonEmpty(m.Type, "Trivy misconfiguration checks")}, StatusCode: m.Status}
	if m.Message != "" {
		f.Compliance.StatusDetails = []string{m.Message}
	}
	switch strings.ToUpper(m.Status) {
	case "PASS":
		f.Compliance.SetStatus(ocsf.ComplianceStatusPass)
		f.SetStatus(ocsf.FindingStatusResolved, "")
	case "EXCEPTION":
		f.Compliance.SetStatus(ocsf.ComplianceStatusWarning)
		f.SetStatus(ocsf.FindingStatusSuppressed, "")
	default:
		f.Compliance.SetStatus(ocsf.ComplianceStatusFail)
		f.SetStatus(ocsf.FindingStatusNew, "")
	}
	if m.Resolution != "" {
		f.Remediation = &ocsf.Remediation{Desc: m.Resolution, References: m.References}
	}
	res := d.resource(rc)
	if d.rep.kind == "" && rc.target != "" {
		res = ocsf.ResourceDetails{UID: d.rep.artifact + ":" + rc.target, Name: rc.target, Type: firstNonEmpty(rc.typ, "File")}
		if d.rep.artifact == "" {
			res.UID = rc.target
		}
	}
	if m.CauseMetadata.Resource != "" {
		res.UIDAlt = m.CauseMetadata.Resource
	}
	res.RoleID, res.Role = ocsf.ResourceRoleTarget, "Target"
	f.Resources = []ocsf.ResourceDetails{res}
	f.AddObservable("resources[0].uid", ocsf.ObservableResourceUID, "Resource UID", res.UID)
	f.AddUnmapped("AVDID", m.AVDID)
	f.AddUnmapped("Namespace", m.Namespace)
	f.AddUnmapped("Query", m.Query)
	if cm := m.CauseMetadata; cm != (struct {
		Resource  string
		Provider  string
		Service   string
		StartLine int
		EndLine   int
	}{}) {
		f.AddUnmapped("CauseMetadata", map[string]any{"Resource": cm.Resource, "Provider": cm.Provider, "Service": cm.Service, "StartLine": cm.StartLine, "EndLine": cm.EndLine})
	}
	f.AddUnmapped("Target", rc.target)
	return f, nil
}

type trivySecret struct {
	RuleID    string
	Category  string
	Severity  string
	Title     string
	StartLine int
	EndLine   int
	Match     string
	Layer     map[string]any
}

func (d *trivyDecoder) secret(rc *trivyResultCtx, s *trivySecret) (ocsf.Record, error) {
	if s.RuleID == "" {
		return nil, missing("RuleID")
	}
	f := &ocsf.DetectionFinding{}
	d.base(&f.Base, ocsf.ClassDetectionFinding)
	f.SetSeverity(ocsf.SeverityFromLabel(s.Severity), "")
	f.SetStatus(ocsf.FindingStatusNew, "")
	f.FindingInfo = ocsf.FindingInfo{
		UID:      strings.Join([]string{d.scope(rc), rc.target, s.RuleID, strconv.Itoa(s.StartLine)}, "|"),
		Title:    firstNonEmpty(s.Title, s.RuleID) + " exposed in " + rc.target,
		Types:    []string{"secret", s.Category},
		Analytic: ocsf.NewAnalytic(ocsf.AnalyticTypeRegex, s.RuleID, s.Title),
	}
	file := &ocsf.File{Name: baseName(rc.target), Path: rc.target, TypeID: ocsf.FileTypeRegular, Type: "Regular File"}
	f.Evidences = []ocsf.Evidence{{File: file, Data: map[string]any{"match": s.Match, "start_line": s.StartLine, "end_line": s.EndLine}}}
	res := d.resource(rc)
	res.RoleID, res.Role = ocsf.ResourceRoleTarget, "Target"
	f.Resources = []ocsf.ResourceDetails{res}
	f.Remediation = &ocsf.Remediation{Desc: "Remove the secret from " + rc.target + ", rotate the credential and review its use since it was exposed."}
	f.AddUnmapped("Layer", s.Layer)
	return f, nil
}

type trivyLicense struct {
	Severity   string
	Category   string
	PkgName    string
	FilePath   string
	Name       string
	Confidence float64
	Link       string
}

func (d *trivyDecoder) license(rc *trivyResultCtx, l *trivyLicense) (ocsf.Record, error) {
	if l.Name == "" {
		return nil, missing("Name")
	}
	f := &ocsf.ComplianceFinding{}
	d.base(&f.Base, ocsf.ClassComplianceFinding)
	f.SetSeverity(ocsf.SeverityFromLabel(l.Severity), "")
	f.SetStatus(ocsf.FindingStatusNew, "")
	subject := firstNonEmpty(l.PkgName, l.FilePath)
	f.FindingInfo = ocsf.FindingInfo{
		UID:   strings.Join([]string{d.scope(rc), rc.target, subject, l.Name}, "|"),
		Title: "License " + l.Name + " (" + l.Category + ") in " + subject,
		Types: []string{"license"},
	}
	f.Compliance = ocsf.Compliance{Control: l.Name, Standards: []string{"License policy"}, Category: l.Category}
	f.Compliance.SetStatus(ocsf.ComplianceStatusFail)
	res := d.resource(rc)
	f.Resources = []ocsf.ResourceDetails{res}
	f.AddUnmapped("Link", l.Link)
	return f, nil
}

func baseName(p string) string {
	if i := strings.LastIndexAny(p, "/\\"); i >= 0 && i < len(p)-1 {
		return p[i+1:]
	}
	return p
}
