package ingest

import (
	"context"
	"io"
	"sort"
	"strings"

	"github.com/canopy-sec/canopy/internal/ingest/jsonstream"
	"github.com/canopy-sec/canopy/internal/ocsf"
)

func init() {
	register(Format{
		Name:    "gcp-scc",
		Title:   "Google Security Command Center findings",
		Version: 1,
		Classes: []int{ocsf.ClassDetectionFinding, ocsf.ClassComplianceFinding, ocsf.ClassVulnerabilityFinding},
		Notes: "Security Command Center findings: Pub/Sub notifications ({notificationConfigName, finding, resource}), " +
			"ListFindings results (listFindingsResults[] or a bare array of {finding, resource}) and bare finding objects, " +
			"old (2019-2020, no severity or findingClass) and new shapes. findingClass THREAT (and OBSERVATION, " +
			"TOXIC_COMBINATION and other classes) → Detection Finding; VULNERABILITY with a CVE → Vulnerability Finding; " +
			"MISCONFIGURATION, and VULNERABILITY without a CVE → Compliance Finding; without findingClass, Security " +
			"Health Analytics findings (sourceProperties.ScannerName, compliances) are Compliance Findings and the rest " +
			"Detection Findings. name → finding_info.uid (canonicalName → uid_alt), category → analytic and title, " +
			"severity (else sourceProperties.SeverityLevel) → severity, state ACTIVE → New, INACTIVE → Resolved, mute " +
			"MUTED → Suppressed, eventTime → time, createTime → created_time, externalUri → src_url, resourceName and " +
			"resource → resources and cloud (provider GCP, project → account, organization → org), mitreAttack → " +
			"attacks (tactic ids from their names; techniques by name only), compliances → compliance standards and " +
			"requirements, Recommendation/nextSteps → remediation. sourceProperties and securityMarks stay in unmapped.",
		Sniff:  sniffGCPSCC,
		Decode: decodeGCPSCC,
	})
}

func sniffGCPSCC(head []byte) int {
	switch {
	case sniffHas(head, `"protoPayload"`):
		return 0 // an audit log entry about Security Command Center, not a finding
	case sniffHas(head, `"notificationConfigName"`, `"finding"`):
		return 90
	case sniffHas(head, `"listFindingsResults"`):
		return 90
	case sniffHas(head, `"sourceProperties"`, `"category"`) || sniffHas(head, `"securityMarks"`, `"category"`):
		return 80
	}
	return 0
}

func decodeGCPSCC(ctx context.Context, r io.Reader, emit Emit) error {
	return decodeItems(ctx, "gcp-scc", r, []string{"listFindingsResults"}, emit, func(it jsonstream.Item, emit Emit) error {
		w, err := decodeMap(it.Raw)
		if err != nil {
			return err
		}
		f := nested(w, "finding")
		prefix := "finding."
		if f != nil {
			w.take("finding")
		} else if w.get("category") != nil || w.get("sourceProperties") != nil {
			f, w, prefix = w, fields{}, ""
		} else {
			return missing("finding")
		}
		res := nested(w, "resource")
		if res != nil {
			w.take("resource")
		} else if res = nested(f, "resource"); res != nil {
			f.take("resource")
		}
		rec, err := mapGCPSCC(f, res)
		if err != nil {
			return prefixField(prefix, err)
		}
		if res != nil {
			if rest := pruneNested(res.rest()); len(rest) > 0 {
				rec.Common().AddUnmapped("resource", rest)
			}
		}
		for k, v := range pruneNested(w.rest()) {
			rec.Common().AddUnmapped(k, v)
		}
		return emit(rec)
	})
}

// sccKey returns the first non-empty string of the keys (SCC writes
// resource fields in snake_case or camelCase depending on the API version)
// and takes it.
func sccKey(f fields, keys ...string) string {
	for _, k := range keys {
		if s := asString(f.get(k)); s != "" {
			f.take(k)
			return s
		}
	}
	return ""
}

func mapGCPSCC(f, res fields) (ocsf.Record, error) {
	name := f.str("name")
	if name == "" {
		return nil, missing("name")
	}
	props := nested(f, "sourceProperties")
	category := f.str("category")
	class := strings.ToUpper(asString(f.get("findingClass")))
	cve := asString(f.get("vulnerability.cve.id"))

	var rec ocsf.Record
	var fi *ocsf.Finding
	var comp *ocsf.ComplianceFinding
	var vuln *ocsf.VulnerabilityFinding
	switch {
	case cve != "" && (class == "VULNERABILITY" || class == ""):
		vuln = &ocsf.VulnerabilityFinding{}
		vuln.SetClass(ocsf.ClassVulnerabilityFinding, ocsf.ActivityCreate, "")
		rec, fi = vuln, &vuln.Finding
	case class == "MISCONFIGURATION" || class == "VULNERABILITY" ||
		class == "" && (props.get("ScannerName") != nil || f.get("compliances") != nil):
		comp = &ocsf.ComplianceFinding{}
		comp.SetClass(ocsf.ClassComplianceFinding, ocsf.ActivityCreate, "")
		rec, fi = comp, &comp.Finding
	default:
		det := &ocsf.DetectionFinding{}
		det.SetClass(ocsf.ClassDetectionFinding, ocsf.ActivityCreate, "")
		rec, fi = det, &det.Finding
	}
	if class != "" {
		f.take("findingClass")
	}
	fi.Metadata.Product = ocsf.Product{Name: "Security Command Center", VendorName: "Google"}
	if src, parent := f.str("sourceDisplayName"), f.str("parent"); src != "" || parent != "" {
		fi.Metadata.Product.Feature = &ocsf.Feature{Name: src, UID: parent}
	}

	sev := asString(f.take("severity"))
	if sev == "" || strings.EqualFold(sev, "SEVERITY_UNSPECIFIED") {
		sev = sccKey(props, "SeverityLevel")
	}
	fi.SetSeverity(ocsf.SeverityFromLabel(sev), "")

	state := strings.ToUpper(f.str("state"))
	switch {
	case strings.EqualFold(asString(f.get("mute")), "MUTED"):
		f.take("mute")
		fi.SetStatus(ocsf.FindingStatusSuppressed, "")
	case state == "ACTIVE":
		fi.SetStatus(ocsf.FindingStatusNew, "")
	case state == "INACTIVE":
		fi.SetStatus(ocsf.FindingStatusResolved, "")
	default:
		fi.SetStatus(0, "")
	}
	if m := asString(f.get("mute")); m == "UNDEFINED" || m == "UNMUTED" {
		f.take("mute")
	}
	eventTime, err := takeTime(f, "eventTime", "eventTime")
	if err != nil {
		return nil, err
	}
	createTime, err := takeTime(f, "createTime", "createTime")
	if err != nil {
		return nil, err
	}
	fi.Time = firstNonZero(eventTime, createTime)

	fi.FindingInfo = ocsf.FindingInfo{
		UID:         name,
		UIDAlt:      f.str("canonicalName"),
		Title:       firstNonEmpty(category, name),
		Desc:        firstNonEmpty(f.str("description"), sccKey(props, "Explanation")),
		SrcURL:      f.str("externalUri"),
		CreatedTime: createTime,
	}
	if class != "" {
		fi.FindingInfo.Types = []string{class}
	}
	if category != "" {
		fi.FindingInfo.Analytic = ocsf.NewAnalytic(ocsf.AnalyticTypeRule, category, category)
	}
	fi.FindingInfo.Attacks = sccAttacks(nested(f, "mitreAttack"))
	if rem := firstNonEmpty(f.str("nextSteps"), sccKey(props, "Recommendation")); rem != "" {
		fi.Remediation = &ocsf.Remediation{Desc: rem}
	}

	// resource and cloud
	r := ocsf.ResourceDetails{UID: firstNonEmpty(f.str("resourceName"), sccKey(res, "name"))}
	r.Name = firstNonEmpty(sccKey(res, "display_name", "displayName", "resourceDisplayName"), f.str("assetDisplayName"))
	r.Type = sccKey(res, "type", "resourceType")
	r.UIDAlt = f.str("assetId")
	if r.Name == "" && r.UID != "" {
		r.Name = r.UID[strings.LastIndexByte(r.UID, '/')+1:]
	}
	region, zone := sccLocation(r.UID)
	r.Region, r.Zone = region, zone
	cloud := &ocsf.Cloud{Provider: "GCP", Region: region, Zone: zone}
	projectName := sccKey(res, "project_name", "projectName", "gcpMetadata.project")
	if projectName == "" && strings.HasPrefix(r.UID, "//cloudresourcemanager.googleapis.com/projects/") {
		projectName = r.UID
	}
	acct := &ocsf.Account{TypeID: 11, Type: "GCP Project"}
	if projectName != "" {
		acct.UID = projectName[strings.LastIndexByte(projectName, '/')+1:]
	}
	acct.Name = firstNonEmpty(sccKey(res, "project_display_name", "projectDisplayName", "gcpMetadata.projectDisplayName"), sccKey(props, "ProjectId"))
	if acct.UID == "" && acct.Name != "" {
		acct.UID = acct.Name
	}
	if acct.UID != "" {
		cloud.Account = acct
	}
	if org, _, ok := strings.Cut(strings.TrimPrefix(name, "organizations/"), "/"); ok && strings.HasPrefix(name, "organizations/") {
		cloud.Org = &ocsf.Organization{UID: org}
	}
	fi.SetCloud(cloud)
	if r.UID != "" || r.Name != "" {
		r.RoleID, r.Role = ocsf.ResourceRoleTarget, "Target"
		fi.Resources = []ocsf.ResourceDetails{r}
		fi.AddObservable("resources[0].uid", ocsf.ObservableResourceUID, "Resource UID", r.UID)
	}

	switch {
	case comp != nil:
		comp.Compliance = ocsf.Compliance{Control: category}
		standards, reqs := sccCompliances(f, props)
		comp.Compliance.Standards, comp.Compliance.Requirements = standards, reqs
		if len(standards) == 0 {
			std := "Security Command Center"
			if ft := fi.Metadata.Product.Feature; ft != nil && ft.Name != "" {
				std = ft.Name
			}
			comp.Compliance.Standards = []string{std}
		}
		switch state {
		case "ACTIVE":
			comp.Compliance.SetStatus(ocsf.ComplianceStatusFail)
		case "INACTIVE":
			comp.Compliance.SetStatus(ocsf.ComplianceStatusPass)
		}
	case vuln != nil:
		vul := sccVulnerability(nested(f, "vulnerability"), sev)
		vul.Remediation, fi.Remediation = fi.Remediation, nil // the class has no remediation of its own
		vuln.Vulnerabilities = []ocsf.Vulnerability{vul}
		vuln.AddObservable("vulnerabilities[0].cve.uid", ocsf.ObservableCVE, "CVE Object: uid", cve)
	}
	if state != "" {
		fi.StatusCode = state
	}
	for k, v := range pruneNested(f.rest()) {
		fi.AddUnmapped(k, v)
	}
	return rec, nil
}

// sccLocation reads the region and zone out of a full resource name
// ("//compute.googleapis.com/projects/p/zones/us-central1-a/instances/i").
func sccLocation(resourceName string) (region, zone string) {
	parts := strings.Split(resourceName, "/")
	for i := 0; i+1 < len(parts); i++ {
		switch parts[i] {
		case "zones":
			zone = parts[i+1]
			if j := strings.LastIndexByte(zone, '-'); j > 0 {
				region = zone[:j]
			}
		case "regions", "locations":
			region = parts[i+1]
		}
	}
	return region, zone
}

// sccAttacks maps mitreAttack (enum names such as INITIAL_ACCESS and
// VALID_ACCOUNTS, in camelCase or snake_case keys).
func sccAttacks(m fields) []ocsf.Attack {
	if m == nil {
		return nil
	}
	get := func(camel, snake string) any {
		if v := m.take(camel); v != nil {
			return v
		}
		return m.take(snake)
	}
	version := asString(get("version", "version"))
	primary := asString(get("primaryTactic", "primary_tactic"))
	var attacks []ocsf.Attack
	for _, t := range asStrings(get("primaryTechniques", "primary_techniques")) {
		attacks = append(attacks, ocsf.Attack{Technique: &ocsf.Technique{Name: enumCaption(t)}})
	}
	var tactics []ocsf.Tactic
	if primary != "" && primary != "TACTIC_UNSPECIFIED" {
		tactics = append(tactics, sccTactic(primary))
	}
	attacks = joinTactics(attacks, tactics)
	for _, t := range asStrings(get("additionalTechniques", "additional_techniques")) {
		attacks = append(attacks, ocsf.Attack{Technique: &ocsf.Technique{Name: enumCaption(t)}})
	}
	for _, t := range asStrings(get("additionalTactics", "additional_tactics")) {
		tt := sccTactic(t)
		attacks = append(attacks, ocsf.Attack{Tactic: &tt})
	}
	for i := range attacks {
		attacks[i].Version = version
	}
	return attacks
}

func sccTactic(enum string) ocsf.Tactic {
	if t, ok := tacticFromName(enum); ok {
		return t
	}
	return ocsf.Tactic{Name: enumCaption(enum)}
}

// enumCaption turns an enum name (VALID_ACCOUNTS) into words (Valid Accounts).
func enumCaption(s string) string {
	words := strings.Fields(strings.ReplaceAll(strings.ToLower(s), "_", " "))
	for i, w := range words {
		words[i] = strings.ToUpper(w[:1]) + w[1:]
	}
	return strings.Join(words, " ")
}

// sccCompliances reads finding.compliances[] ({standard, version, ids}), else
// sourceProperties.compliance_standards ({std: [{version, ids}]}).
func sccCompliances(f, props fields) (standards, reqs []string) {
	type entry struct {
		std, version string
		ids          []string
	}
	var entries []entry
	if arr, ok := f.get("compliances").([]any); ok {
		f.take("compliances")
		for _, e := range arr {
			if m, ok := e.(map[string]any); ok {
				entries = append(entries, entry{asString(m["standard"]), asString(m["version"]), asStrings(m["ids"])})
			}
		}
	} else if m, ok := props.get("compliance_standards").(map[string]any); ok {
		props.take("compliance_standards")
		for _, std := range sortedKeys(m) {
			arr, _ := m[std].([]any)
			for _, e := range arr {
				if x, ok := e.(map[string]any); ok {
					entries = append(entries, entry{std, asString(x["version"]), asStrings(x["ids"])})
				}
			}
		}
	}
	seen := map[string]bool{}
	for _, e := range entries {
		std := strings.ToUpper(e.std)
		if e.version != "" {
			std += " " + e.version
		}
		if !seen[std] {
			seen[std] = true
			standards = append(standards, std)
		}
		for _, id := range e.ids {
			reqs = append(reqs, std+": "+id)
		}
	}
	sort.Strings(standards)
	return standards, reqs
}

// sccVulnerability maps finding.vulnerability (cve, offendingPackage, fixedPackage).
func sccVulnerability(v fields, sev string) ocsf.Vulnerability {
	c := nested(v, "cve")
	cve := &ocsf.CVE{UID: c.str("id")}
	if s, ok := asFloat(c.get("cvssv3.baseScore")); ok && s > 0 {
		c.take("cvssv3.baseScore")
		cve.CVSS = []ocsf.CVSS{{Version: "3", BaseScore: s}}
	}
	out := ocsf.Vulnerability{Severity: sev, CVE: cve, VendorName: "Google"}
	if refs, ok := c.get("references").([]any); ok {
		c.take("references")
		for _, r := range refs {
			if m, ok := r.(map[string]any); ok {
				if u := asString(m["uri"]); u != "" {
					out.References = append(out.References, u)
				}
			}
		}
	}
	if b, ok := c.get("upstreamFixAvailable").(bool); ok {
		c.take("upstreamFixAvailable")
		out.IsFixAvailable = boolPtr(b)
	}
	if p := nested(v, "offendingPackage"); p != nil && asString(p.get("packageName")) != "" {
		ap := ocsf.AffectedPackage{Name: p.str("packageName"), Version: p.str("packageVersion"), PackageManager: p.str("packageType")}
		ap.FixedInVersion = asString(v.take("fixedPackage.packageVersion"))
		out.AffectedPackages = []ocsf.AffectedPackage{ap}
	}
	return out
}
