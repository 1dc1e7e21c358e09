package ingest

import (
	"context"
	"fmt"
	"io"
	"maps"
	"strconv"
	"strings"

	json "github.com/goccy/go-json"

	"github.com/canopy-sec/canopy/internal/ingest/jsonstream"
	"github.com/canopy-sec/canopy/internal/ocsf"
)

func init() {
	register(Format{
		Name:    "grype",
		Title:   "Grype JSON report",
		Version: 1,
		Classes: []int{ocsf.ClassVulnerabilityFinding},
		Notes: "grype -o json reports (image, directory, file and SBOM sources): each matches[] entry is a Vulnerability Finding (2002), " +
			"each ignoredMatches[] entry too, with status Suppressed. A CVE id gives cve (CVSS from the match and from related records of the same id, " +
			"EPSS), any other id (GHSA, ALAS …) an advisory; other relatedVulnerabilities ids become related_vulnerabilities; knownExploited sets " +
			"is_exploit_available; fix.state fixed/not-fixed/wont-fix sets is_fix_available; the artifact is " +
			"the affected package (OS package types rpm/deb/apk/alpm/portage are Operating System, others Application); matchDetails go to unmapped. " +
			"Resource: source.target (image: repo digest, else the user input; directory/file: the path); time: descriptor.timestamp. Grype writes " +
			"its matches before source and descriptor, so matches are held (in memory up to 8 MiB, then in a temporary file) until the report ends.",
		Sniff:  sniffGrype,
		Decode: decodeGrype,
	})
}

func sniffGrype(head []byte) int {
	switch {
	case sniffHas(head, `"runs"`):
		return 0 // SARIF written by Grype
	case sniffHas(head, `"matches"`, `"matchDetails"`, `"artifact"`):
		return 85
	case sniffHas(head, `"matches"`, `"descriptor"`) && sniffHas(head, `"grype"`):
		return 80
	}
	return 0
}

type grypeDecoder struct {
	ctx  context.Context
	jr   *jsonstream.Reader
	emit Emit
	n    int
	sp   spool
	rep  grypeReport
	// which context keys have been read
	sawSource, sawDescriptor, sawDistro bool
}

// grypeReport is what a report says about the scan, outside its matches.
type grypeReport struct {
	source         grypeSource
	distro         map[string]any
	version        string
	time           int64
	resource       ocsf.ResourceDetails
	manifestDigest string
}

type grypeSource struct {
	Type   string          `json:"type"`
	Target json.RawMessage `json:"target"`
}

func decodeGrype(ctx context.Context, r io.Reader, emit Emit) error {
	d := &grypeDecoder{ctx: ctx, jr: jsonstream.NewReader(r), emit: emit}
	defer d.sp.reset()
	err := d.run()
	return finishErr("grype", d.n+1, err)
}

func (d *grypeDecoder) run() error {
	jr := d.jr
	if err := beginReport(jr, "a Grype report"); err != nil {
		return err
	}
	sawMatches := false
	for {
		key, ok, err := jr.NextKey()
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		switch key {
		case "matches", "ignoredMatches":
			sawMatches = true
			err = d.matches()
		case "source":
			var src grypeSource
			err = jr.Decode(&src)
			d.rep.source, d.sawSource = src, true
		case "distro":
			err = jr.Decode(&d.rep.distro)
			d.sawDistro = true
		case "descriptor":
			var desc struct {
				Version   string `json:"version"`
				Timestamp string `json:"timestamp"`
			}
			if err = jr.Decode(&desc); err == nil {
				d.sawDescriptor = true
				if desc.Version != "[not provided]" {
					d.rep.version = desc.Version
				}
				if desc.Timestamp != "" {
					t, perr := parseTime(desc.Timestamp)
					if perr != nil {
						return &fieldError{"descriptor.timestamp", perr}
					}
					d.rep.time = ocsf.Millis(t)
				}
			}
		default:
			err = jr.Skip()
		}
		if err != nil {
			return err
		}
	}
	if _, err := jr.Peek(); err != io.EOF {
		if err != nil {
			return err
		}
		return fmt.Errorf("%w: unexpected data after the report", ErrSyntax)
	}
	if !sawMatches {
		return &fieldError{"matches", ErrMissingField}
	}
	d.prepare()
	return d.sp.replay(d.ctx, func(s spooled) error {
		return d.match(jsonstream.Item{Index: s.index, Pointer: s.pointer, Offset: s.offset}, s.raw)
	})
}

// ready reports whether the report context has been read, so that matches
// can be mapped as they come.
func (d *grypeDecoder) ready() bool { return d.sawSource && d.sawDescriptor && d.sawDistro }

func (d *grypeDecoder) matches() error {
	jr := d.jr
	ready := d.ready()
	if ready {
		d.prepare()
	}
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
		if ready {
			return d.match(jsonstream.Item{Index: d.n, Pointer: jr.Pointer(), Offset: jr.Offset()}, raw)
		}
		return d.sp.add(d.n, jr.Offset(), jr.Pointer(), raw)
	})
}

// prepare derives the scanned resource from source.
func (d *grypeDecoder) prepare() {
	src := d.rep.source
	res := ocsf.ResourceDetails{RoleID: ocsf.ResourceRoleTarget, Role: "Target"}
	var s string
	if len(src.Target) > 0 && unmarshal(src.Target, &s) == nil {
		// directory, file: the target is a path
		res.UID, res.Name = s, s
	} else if len(src.Target) > 0 {
		var t struct {
			UserInput      string   `json:"userInput"`
			ImageID        string   `json:"imageID"`
			ManifestDigest string   `json:"manifestDigest"`
			RepoDigests    []string `json:"repoDigests"`
			Tags           []string `json:"tags"`
			Path           string   `json:"path"`
			Name           string   `json:"name"`
			Version        string   `json:"version"`
		}
		if unmarshal(src.Target, &t) == nil {
			res.Name = firstNonEmpty(t.UserInput, t.Name, t.Path)
			res.UID = res.Name
			if len(t.RepoDigests) > 0 {
				res.UID = t.RepoDigests[0]
			}
			res.UIDAlt = t.ImageID
			res.Labels = t.Tags
			res.Version = t.Version
			d.rep.manifestDigest = t.ManifestDigest
		}
	}
	switch src.Type {
	case "image":
		res.Type = "Container Image"
	case "directory":
		res.Type = "Directory"
	case "file":
		res.Type = "File"
	default:
		res.Type = src.Type
	}
	d.rep.resource = res
}

type grypeCVSS struct {
	Source  string `json:"source,omitempty"`
	Type    string `json:"type,omitempty"`
	Version string `json:"version,omitempty"`
	Vector  string `json:"vector,omitempty"`
	Metrics struct {
		BaseScore           *float64 `json:"baseScore,omitempty"`
		ExploitabilityScore *float64 `json:"exploitabilityScore,omitempty"`
		ImpactScore         *float64 `json:"impactScore,omitempty"`
	} `json:"metrics,omitempty"`
	VendorMetadata map[string]any `json:"vendorMetadata,omitempty"`
}

type grypeVulnMeta struct {
	ID          string      `json:"id,omitempty"`
	DataSource  string      `json:"dataSource,omitempty"`
	Namespace   string      `json:"namespace,omitempty"`
	Severity    string      `json:"severity,omitempty"`
	URLs        []string    `json:"urls,omitempty"`
	Description string      `json:"description,omitempty"`
	CVSS        []grypeCVSS `json:"cvss,omitempty"`
}

type grypeMatch struct {
	Vulnerability struct {
		grypeVulnMeta
		EPSS []struct {
			CVE        string   `json:"cve"`
			EPSS       *float64 `json:"epss"`
			Percentile float64  `json:"percentile"`
			Date       string   `json:"date"`
		} `json:"epss"`
		KnownExploited []map[string]any `json:"knownExploited"`
		Fix            struct {
			Versions []string `json:"versions"`
			State    string   `json:"state"`
		} `json:"fix"`
		Advisories []any    `json:"advisories"`
		Risk       *float64 `json:"risk"`
	} `json:"vulnerability"`
	RelatedVulnerabilities []grypeVulnMeta `json:"relatedVulnerabilities"`
	MatchDetails           []any           `json:"matchDetails"`
	AppliedIgnoreRules     []any           `json:"appliedIgnoreRules"`
	Artifact               grypeArtifact   `json:"artifact"`
}

type grypeArtifact struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Version   string `json:"version"`
	Type      string `json:"type"`
	Locations []struct {
		Path        string `json:"path"`
		LayerID     string `json:"layerID,omitempty"`
		AccessPath  string `json:"accessPath,omitempty"`
		Annotations any    `json:"annotations,omitempty"`
	} `json:"locations"`
	Language     string         `json:"language"`
	Licenses     []any          `json:"licenses"`
	CPEs         []string       `json:"cpes"`
	PURL         string         `json:"purl"`
	Upstreams    []any          `json:"upstreams"`
	MetadataType string         `json:"metadataType"`
	Metadata     map[string]any `json:"metadata"`
}

func (d *grypeDecoder) match(it jsonstream.Item, raw []byte) error {
	var m grypeMatch
	if err := unmarshal(raw, &m); err != nil {
		return itemErr("grype", it, err)
	}
	rec, err := d.mapMatch(&m, strings.HasPrefix(it.Pointer, "/ignoredMatches/"))
	if err != nil {
		return itemErr("grype", it, err)
	}
	if err := d.emit(rec); err != nil {
		return emitError{err}
	}
	return nil
}

func grypeCVSSList(list []grypeCVSS) []ocsf.CVSS {
	var out []ocsf.CVSS
	for _, c := range list {
		if c.Metrics.BaseScore == nil {
			continue
		}
		out = append(out, ocsf.CVSS{
			Version:      firstNonEmpty(c.Version, cvssVersion(c.Vector, "")),
			BaseScore:    *c.Metrics.BaseScore,
			VectorString: c.Vector,
			VendorName:   c.Source,
			Depth:        "Base",
		})
	}
	return out
}

// grypeOSPackage reports whether a Syft package type is an operating system package.
func grypeOSPackage(typ string) bool {
	switch typ {
	case "rpm", "deb", "apk", "alpm", "portage", "nix", "linux-kernel", "linux-kernel-module":
		return true
	}
	return false
}

func (d *grypeDecoder) mapMatch(m *grypeMatch, ignored bool) (ocsf.Record, error) {
	v := &m.Vulnerability
	if v.ID == "" {
		return nil, missing("vulnerability.id")
	}
	a := &m.Artifact
	f := &ocsf.VulnerabilityFinding{}
	f.SetClass(ocsf.ClassVulnerabilityFinding, ocsf.ActivityCreate, "")
	f.Time = d.rep.time
	f.Metadata.Product = ocsf.Product{Name: "Grype", VendorName: "Anchore", Version: d.rep.version}
	f.SetSeverity(ocsf.SeverityFromLabel(v.Severity), "")
	if ignored {
		f.SetStatus(ocsf.FindingStatusSuppressed, "")
	} else {
		f.SetStatus(ocsf.FindingStatusNew, "")
	}

	pkg := firstNonEmpty(a.PURL, a.Name+"@"+a.Version)
	loc := ""
	if len(a.Locations) > 0 {
		loc = a.Locations[0].Path
	}
	res := d.rep.resource
	title := v.ID
	if a.Name != "" {
		title += " in " + strings.TrimSpace(a.Name+" "+a.Version)
	}
	f.FindingInfo = ocsf.FindingInfo{
		UID:    strings.Join([]string{res.UID, pkg, loc, v.ID}, "|"),
		Title:  title,
		Desc:   v.Description,
		SrcURL: v.DataSource,
		Types:  []string{"vulnerability"},
	}

	vul := ocsf.Vulnerability{
		Title:      title,
		Desc:       v.Description,
		Severity:   v.Severity,
		References: v.URLs,
		VendorName: "Grype",
	}
	var related []string
	cvss := grypeCVSSList(v.CVSS)
	for _, rv := range m.RelatedVulnerabilities {
		if rv.ID != v.ID {
			related = appendUnique(related, rv.ID)
			continue
		}
		// the same id from another source (NVD): its scores and text
		cvss = append(cvss, grypeCVSSList(rv.CVSS)...)
		if vul.Desc == "" {
			vul.Desc = rv.Description
		}
	}
	vul.RelatedVulns = related
	if strings.HasPrefix(v.ID, "CVE-") {
		cve := &ocsf.CVE{UID: v.ID, Desc: vul.Desc, CVSS: cvss, References: v.URLs}
		for _, e := range v.EPSS {
			if e.EPSS == nil || (e.CVE != "" && e.CVE != v.ID) {
				continue
			}
			ep := &ocsf.EPSS{Score: strconv.FormatFloat(*e.EPSS, 'f', -1, 64), Percentile: e.Percentile}
			if t, err := parseTime(e.Date); err == nil && t.Year() > 1970 {
				ep.CreatedTime = ocsf.Millis(t)
			}
			cve.EPSS = ep
			break
		}
		vul.CVE = cve
	} else {
		vul.Advisory = &ocsf.Advisory{UID: v.ID, Desc: vul.Desc, SrcURL: v.DataSource, References: v.URLs}
		if len(cvss) > 0 {
			f.AddUnmapped("cvss", cvss)
		}
		if len(v.EPSS) > 0 {
			f.AddUnmapped("vulnerability.epss", v.EPSS)
		}
	}
	switch v.Fix.State {
	case "fixed":
		vul.IsFixAvailable = boolPtr(true)
	case "not-fixed", "wont-fix":
		vul.IsFixAvailable = boolPtr(false)
	}
	if len(v.KnownExploited) > 0 {
		vul.IsExploitAvailable = boolPtr(true)
	}
	fixed := strings.Join(v.Fix.Versions, ",")
	if a.Name != "" && a.Version != "" {
		ap := ocsf.AffectedPackage{
			Name:           a.Name,
			Version:        a.Version,
			FixedInVersion: fixed,
			Purl:           a.PURL,
			PackageManager: a.Type,
			Path:           loc,
			UID:            a.ID,
		}
		switch {
		case grypeOSPackage(a.Type):
			ap.TypeID, ap.Type = ocsf.PackageTypeOS, "Operating System"
		case a.Type != "" || a.Language != "":
			ap.TypeID, ap.Type = ocsf.PackageTypeApplication, "Application"
		}
		meta := a.Metadata
		if arch, ok := meta["architecture"].(string); ok {
			ap.Architecture = arch
			delete(meta, "architecture")
		}
		if ep, ok := asInt(meta["epoch"]); ok {
			ap.Epoch = int(ep)
			delete(meta, "epoch")
		}
		var lic []string
		for _, l := range a.Licenses {
			switch x := l.(type) {
			case string:
				lic = append(lic, x)
			case map[string]any: // newer Syft: {value, spdxExpression, type}
				lic = append(lic, firstNonEmpty(asString(x["spdxExpression"]), asString(x["value"])))
			}
		}
		ap.License = strings.Join(lic, ", ")
		vul.AffectedPackages = []ocsf.AffectedPackage{ap}
		if len(v.Fix.Versions) > 0 {
			vul.Remediation = &ocsf.Remediation{Desc: "Upgrade " + a.Name + " to " + strings.Join(v.Fix.Versions, " or ") + "."}
		}
	}
	f.Vulnerabilities = []ocsf.Vulnerability{vul}
	if res.UID != "" {
		f.Resources = []ocsf.ResourceDetails{res}
	}
	f.AddObservable("vulnerabilities[0].cve.uid", ocsf.ObservableCVE, "CVE Object: uid", cveUID(vul))
	if len(f.Resources) > 0 {
		f.AddObservable("resources[0].uid", ocsf.ObservableResourceUID, "Resource UID", res.UID)
	}

	// the rest
	f.AddUnmapped("vulnerability.namespace", v.Namespace)
	f.AddUnmapped("vulnerability.fix.state", v.Fix.State)
	if v.Risk != nil {
		f.AddUnmapped("vulnerability.risk", *v.Risk)
	}
	if len(v.KnownExploited) > 0 {
		f.AddUnmapped("vulnerability.knownExploited", v.KnownExploited)
	}
	if len(v.Advisories) > 0 {
		f.AddUnmapped("vulnerability.advisories", v.Advisories)
	}
	if len(m.RelatedVulnerabilities) > 0 {
		f.AddUnmapped("relatedVulnerabilities", m.RelatedVulnerabilities)
	}
	if len(m.MatchDetails) > 0 {
		f.AddUnmapped("matchDetails", m.MatchDetails)
	}
	if len(m.AppliedIgnoreRules) > 0 {
		f.AddUnmapped("appliedIgnoreRules", m.AppliedIgnoreRules)
	}
	if len(a.Locations) > 1 || (len(a.Locations) == 1 && (a.Locations[0].LayerID != "" || a.Locations[0].AccessPath != "")) {
		f.AddUnmapped("artifact.locations", a.Locations)
	}
	f.AddUnmapped("artifact.language", a.Language)
	if len(a.CPEs) > 0 {
		f.AddUnmapped("artifact.cpes", a.CPEs)
	}
	if len(a.Upstreams) > 0 {
		f.AddUnmapped("artifact.upstreams", a.Upstreams)
	}
	f.AddUnmapped("artifact.metadataType", a.MetadataType)
	if len(a.Metadata) > 0 {
		f.AddUnmapped("artifact.metadata", a.Metadata)
	}
	f.AddUnmapped("source.type", d.rep.source.Type)
	f.AddUnmapped("source.target.manifestDigest", d.rep.manifestDigest)
	if name, _ := d.rep.distro["name"].(string); name != "" {
		f.AddUnmapped("distro", maps.Clone(d.rep.distro))
	}
	return f, nil
}

func appendUnique(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}
