package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/canopy-sec/canopy/internal/ingest/jsonstream"
	"github.com/canopy-sec/canopy/internal/ocsf"
)

func init() {
	register(Format{
		Name:    "asff",
		Title:   "AWS Security Finding Format (Security Hub)",
		Version: 1,
		Classes: []int{ocsf.ClassVulnerabilityFinding, ocsf.ClassComplianceFinding, ocsf.ClassDetectionFinding},
		Notes: "ASFF findings from Security Hub and the products that write it (Inspector, GuardDuty, Config, Prowler, Trivy …), " +
			"as a bare array, {\"Findings\":[…]}, {\"findings\":[…]} or EventBridge events ({\"detail\":{\"findings\":[…]}}). " +
			"Class: findings with Vulnerabilities[] (or Trivy's template, whose CVE sits in Resources[].Details.Other) are Vulnerability Findings (2002); " +
			"findings with Compliance are Compliance Findings (2003; PASSED → Pass, FAILED → Fail, WARNING and Prowler's INFOED → Warning, " +
			"NOT_AVAILABLE → Other); all others, threat detections included, are Detection Findings (2004), with GuardDuty's " +
			"action (API call, network connection, port probe, DNS request) as evidence and TTPs/<tactic> types as ATT&CK tactics. " +
			"finding_info.uid is Id (Trivy secret findings, whose Id is only the file name, get the title appended); time is UpdatedAt " +
			"(else CreatedAt). Status: RecordState ARCHIVED → Archived, else Workflow.Status (NEW → New, NOTIFIED → In Progress, " +
			"SUPPRESSED → Suppressed, RESOLVED → Resolved), else WorkflowState, else PASSED compliance → Resolved and the rest New. " +
			"Severity: Label, else Normalized (0-100), else Product. ProductFields, Note, Network, Process and every other unmapped member go to unmapped",
		Sniff:  sniffASFF,
		Decode: decodeASFF,
	})
}

func sniffASFF(head []byte) int {
	switch {
	case sniffHas(head, `"SchemaVersion"`, `"2018-10-08"`) && (sniffHas(head, `"ProductArn"`) || sniffHas(head, `"GeneratorId"`)):
		return 88
	case sniffHas(head, `"ProductArn"`, `"GeneratorId"`, `"AwsAccountId"`):
		return 70
	}
	return 0
}

func decodeASFF(ctx context.Context, r io.Reader, emit Emit) error {
	return decodeItems(ctx, "asff", r, []string{"Findings", "findings"}, emit, mapASFFItem)
}

func mapASFFItem(it jsonstream.Item, emit Emit) error {
	m, err := decodeMap(it.Raw)
	if err != nil {
		return err
	}
	// EventBridge: {"detail-type":"Security Hub Findings - Imported","detail":{"findings":[…]}}
	if det, ok := m["detail"].(map[string]any); ok {
		if list, ok := det["findings"].([]any); ok && m["Id"] == nil {
			delete(det, "findings")
			delete(m, "detail")
			env := pruneBlankValues(map[string]any(m))
			if d := pruneBlankValues(det); d != nil {
				if env == nil {
					env = map[string]any{}
				}
				env.(map[string]any)["detail"] = d
			}
			for i, fv := range list {
				prefix := "detail.findings[" + strconv.Itoa(i) + "]"
				fm, ok := fv.(map[string]any)
				if !ok {
					return &fieldError{prefix, fmt.Errorf("%w: not an object", ErrSyntax)}
				}
				rec, err := asffFinding(fields(fm))
				if err != nil {
					return asffPrefixField(prefix+".", err)
				}
				if env != nil {
					rec.Common().AddUnmapped("EventBridge", env)
				}
				if err := emit(rec); err != nil {
					return err
				}
			}
			return nil
		}
	}
	rec, err := asffFinding(m)
	if err != nil {
		return err
	}
	return emit(rec)
}

// asffTime takes and parses an ASFF timestamp.
func asffTime(m fields, field string) (int64, error) {
	v := m.take(field)
	if v == nil || v == "" {
		return 0, nil
	}
	t, err := anyTime(v)
	if err != nil {
		return 0, &fieldError{field, err}
	}
	return ocsf.Millis(t), nil
}

// asffSeverity: Label, else Normalized (0-100), else Product.
func asffSeverity(sev fields) (id int, label string) {
	label = asString(sev.get("Label"))
	if id = ocsf.SeverityFromLabel(label); id != ocsf.SeverityUnknown {
		sev.take("Label")
		return id, label
	}
	if n, ok := asFloat(sev.get("Normalized")); ok {
		return severityFromNormalized(n), label
	}
	if p, ok := asFloat(sev.get("Product")); ok {
		if p <= 10 {
			return ocsf.SeverityFromScore(p), label
		}
		return severityFromNormalized(p), label
	}
	return ocsf.SeverityUnknown, label
}

// severityFromNormalized maps ASFF's 0-100 scale as Security Hub does:
// 0 informational, 1-39 low, 40-69 medium, 70-89 high, 90-100 critical.
func severityFromNormalized(n float64) int {
	switch {
	case n < 1:
		return ocsf.SeverityInformational
	case n < 40:
		return ocsf.SeverityLow
	case n < 70:
		return ocsf.SeverityMedium
	case n < 90:
		return ocsf.SeverityHigh
	default:
		return ocsf.SeverityCritical
	}
}

// asffProduct names the product that wrote a finding.
func asffProduct(m fields, pf map[string]any) ocsf.Product {
	arn := m.str("ProductArn")
	p := ocsf.Product{
		UID:        arn,
		Name:       m.str("ProductName"),
		VendorName: m.str("CompanyName"),
	}
	pfs := func(k string) string { return asString(pf[k]) }
	p.Name = firstNonEmpty(p.Name, pfs("aws/securityhub/ProductName"), pfs("ProviderName"), pfs("Product Name"))
	p.VendorName = firstNonEmpty(p.VendorName, pfs("aws/securityhub/CompanyName"))
	p.Version = firstNonEmpty(pfs("ProviderVersion"), pfs("aws/inspector/ProductVersion"))
	// arn:aws:securityhub:REGION::product/COMPANY/PRODUCT
	if i := strings.Index(arn, ":product/"); i >= 0 {
		company, product, _ := strings.Cut(arn[i+len(":product/"):], "/")
		p.Name = firstNonEmpty(p.Name, product)
		if p.VendorName == "" && company != "aws" {
			p.VendorName = company
		}
		if company == "aws" {
			p.VendorName = firstNonEmpty(p.VendorName, "Amazon")
		}
	}
	return p
}

var asffCVERE = regexp.MustCompile(`^CVE-\d{4}-\d{4,}$`)

// asffFinding maps one ASFF finding.
func asffFinding(m fields) (ocsf.Record, error) {
	id := m.str("Id")
	if id == "" {
		return nil, missing("Id")
	}
	pf, _ := m.take("ProductFields").(map[string]any)
	pfs := func(k string) string { return asString(pf[k]) }
	product := asffProduct(m, pf)
	generator := m.str("GeneratorId")
	types := asStrings(m.take("Types"))
	title := m.str("Title")
	sevObj := m.obj("Severity")
	sevID, _ := asffSeverity(sevObj)

	created, err := asffTime(m, "CreatedAt")
	if err != nil {
		return nil, err
	}
	updated, err := asffTime(m, "UpdatedAt")
	if err != nil {
		return nil, err
	}
	first, err := asffTime(m, "FirstObservedAt")
	if err != nil {
		return nil, err
	}
	last, err := asffTime(m, "LastObservedAt")
	if err != nil {
		return nil, err
	}

	// what has not the expected shape stays in unmapped
	vulnList, _ := m.get("Vulnerabilities").([]any)
	if vulnList != nil {
		m.take("Vulnerabilities")
	}
	compliance, _ := m.get("Compliance").(map[string]any)
	if compliance != nil {
		m.take("Compliance")
	}
	isGuardDuty := strings.HasSuffix(product.UID, "/aws/guardduty") || pf["aws/guardduty/service/action/actionType"] != nil

	var (
		rec ocsf.Record
		fnd *ocsf.Finding
	)
	compStatus := ""
	if compliance != nil {
		compStatus = strings.ToUpper(asString(compliance["Status"]))
	}
	resList, _ := m.get("Resources").([]any)
	if resList != nil {
		m.take("Resources")
	}
	var trivyVuln *ocsf.Vulnerability
	if len(vulnList) == 0 {
		trivyVuln = asffTrivyVuln(resList, generator, types) // before asffResources takes Details
	}
	resources, resLeft, err := asffResources(resList)
	if err != nil {
		return nil, err
	}

	switch {
	case len(vulnList) > 0 || trivyVuln != nil:
		v := &ocsf.VulnerabilityFinding{}
		v.SetClass(ocsf.ClassVulnerabilityFinding, ocsf.ActivityCreate, "")
		if trivyVuln != nil {
			v.Vulnerabilities = []ocsf.Vulnerability{*trivyVuln}
		} else {
			var left []any
			for i, vv := range vulnList {
				vm, ok := vv.(map[string]any)
				if !ok {
					return nil, &fieldError{"Vulnerabilities[" + strconv.Itoa(i) + "]", fmt.Errorf("%w: not an object", ErrSyntax)}
				}
				vul, rest, err := asffVulnerability(fields(vm), i)
				if err != nil {
					return nil, err
				}
				vul.Title = title
				v.Vulnerabilities = append(v.Vulnerabilities, vul)
				if rest != nil {
					left = append(left, rest)
				}
			}
			v.AddUnmapped("Vulnerabilities", left)
		}
		for i, vul := range v.Vulnerabilities {
			if vul.CVE != nil {
				v.AddObservable("vulnerabilities["+strconv.Itoa(i)+"].cve.uid", ocsf.ObservableCVE, "CVE Object: uid", vul.CVE.UID)
			}
		}
		rec, fnd = v, &v.Finding
	case compliance != nil:
		c := &ocsf.ComplianceFinding{}
		c.SetClass(ocsf.ClassComplianceFinding, ocsf.ActivityCreate, "")
		c.Compliance = asffCompliance(fields(compliance), generator, product.Name, pf)
		c.AddUnmapped("Compliance", pruneBlankValues(compliance))
		rec, fnd = c, &c.Finding
	default:
		d := &ocsf.DetectionFinding{}
		d.SetClass(ocsf.ClassDetectionFinding, ocsf.ActivityCreate, "")
		if isGuardDuty {
			if ev := guardDutyEvidence(pf); ev != nil {
				d.Evidences = []ocsf.Evidence{*ev}
				if ev.SrcEndpoint != nil {
					d.AddObservable("evidences[0].src_endpoint.ip", ocsf.ObservableIP, "IP Address", ev.SrcEndpoint.IP)
				}
				if ev.DstEndpoint != nil {
					d.AddObservable("evidences[0].dst_endpoint.ip", ocsf.ObservableIP, "IP Address", ev.DstEndpoint.IP)
				}
			}
			if n, ok := asInt(pf["aws/guardduty/service/count"]); ok && n > 0 {
				d.Count = int(n)
			}
		}
		rec, fnd = d, &d.Finding
	}

	fnd.Metadata.Product = product
	fnd.Metadata.LogVersion = m.str("SchemaVersion")
	fnd.SetSeverity(sevID, "")
	fnd.AddUnmapped("Severity", pruneBlankValues(sevObj))
	fnd.Time = asffFirstTime(updated, created, last, first)

	// workflow status
	wf := m.obj("Workflow")
	wfStatus := wf.str("Status")
	wfState := m.str("WorkflowState")
	recordState := m.str("RecordState")
	asffStatus(fnd, recordState, wfStatus, wfState, compStatus)
	if strings.EqualFold(recordState, "ARCHIVED") { // the workflow status was not used
		if wfStatus != "" {
			wf["Status"] = wfStatus
		}
		fnd.AddUnmapped("WorkflowState", wfState)
	}
	fnd.AddUnmapped("Workflow", pruneBlankValues(wf))
	if recordState != "" && !strings.EqualFold(recordState, "ACTIVE") && !strings.EqualFold(recordState, "ARCHIVED") {
		fnd.AddUnmapped("RecordState", recordState)
	}

	uid := id
	if generator == "Trivy" && title != "" && strings.Contains(product.UID, "/aquasecurity/") {
		uid = id + "/" + title // Trivy gives every secret of a file the file name as Id
	}
	fnd.FindingInfo = ocsf.FindingInfo{
		UID:           uid,
		UIDAlt:        pfs("aws/securityhub/FindingId"),
		Title:         title,
		Desc:          m.str("Description"),
		Types:         types,
		SrcURL:        m.str("SourceUrl"),
		CreatedTime:   created,
		ModifiedTime:  updated,
		FirstSeenTime: first,
		LastSeenTime:  last,
		Attacks:       asffAttacks(types),
	}
	if fnd.FindingInfo.UIDAlt == uid {
		fnd.FindingInfo.UIDAlt = ""
	}
	if generator != "" {
		a := ocsf.NewAnalytic(ocsf.AnalyticTypeRule, generator, "")
		if isGuardDuty && len(types) > 0 {
			// GuardDuty's GeneratorId is the detector; the rule is the finding type
			t := types[0][strings.LastIndexByte(types[0], '/')+1:]
			a = ocsf.NewAnalytic(ocsf.AnalyticTypeRule, t, t)
			fnd.AddUnmapped("GeneratorId", generator)
		} else if strings.HasPrefix(generator, "prowler-") {
			a.Name = title
		} else if i := strings.Index(generator, "/v/"); i > 0 {
			a.Name = title
		}
		fnd.FindingInfo.Analytic = a
	}

	// cloud
	cloud := &ocsf.Cloud{Provider: "AWS", Region: m.str("Region")}
	if acct := m.str("AwsAccountId"); acct != "" {
		cloud.Account = &ocsf.Account{UID: acct, TypeID: ocsf.AccountTypeAWS, Type: "AWS Account"}
	}
	for _, r := range resources {
		if r.CloudPartition != "" {
			cloud.CloudPartition = r.CloudPartition
			break
		}
	}
	if cloud.Region == "" {
		for _, r := range resources {
			if r.Region != "" {
				cloud.Region = r.Region
				break
			}
		}
	}
	fnd.SetCloud(cloud)

	if role := strings.ToUpper(pfs("aws/guardduty/service/resourceRole")); role != "" && len(resources) > 0 && resources[0].RoleID == 0 {
		asffResourceRole(&resources[0], role)
	}
	fnd.Resources = resources
	if len(resLeft) > 0 {
		fnd.AddUnmapped("Resources", resLeft)
	}
	for i, r := range resources {
		fnd.AddObservable("resources["+strconv.Itoa(i)+"].uid", ocsf.ObservableResourceUID, "Resource UID", r.UID)
	}

	// remediation
	rem := m.obj("Remediation")
	recm := rem.obj("Recommendation")
	text, url := recm.str("Text"), recm.str("Url")
	if text == "None Provided" {
		text = ""
	}
	if text != "" || url != "" {
		fnd.Remediation = &ocsf.Remediation{Desc: firstNonEmpty(text, url)}
		if url != "" {
			fnd.Remediation.References = []string{url}
		}
	}
	if len(recm) > 0 {
		rem["Recommendation"] = map[string]any(recm)
	}
	fnd.AddUnmapped("Remediation", pruneBlankValues(rem))
	if v, ok := rec.(*ocsf.VulnerabilityFinding); ok && fnd.Remediation != nil {
		// Vulnerability Finding has no remediation of its own: it goes with each vulnerability
		for i := range v.Vulnerabilities {
			vr := *fnd.Remediation
			if pr := v.Vulnerabilities[i].Remediation; pr != nil {
				vr.Desc += "\n" + pr.Desc
			}
			v.Vulnerabilities[i].Remediation = &vr
		}
		fnd.Remediation = nil
	}

	if c, ok := asInt(m.take("Confidence")); ok && c >= 0 && c <= 100 {
		fnd.ConfidenceScore = int(c)
	}
	if s, _ := m.get("Sample").(bool); s || pfs("aws/guardduty/service/additionalInfo/sample") == "true" {
		fnd.Metadata.Labels = append(fnd.Metadata.Labels, "sample")
	}

	fnd.AddUnmapped("ProductFields", pf)
	for k, v := range m {
		fnd.AddUnmapped(k, pruneBlankValues(v))
	}
	return rec, nil
}

// asffPrefixField puts prefix before the field an error names (or makes the
// prefix, without its trailing dot, the field).
func asffPrefixField(prefix string, err error) error {
	var fe *fieldError
	if errors.As(err, &fe) {
		return &fieldError{prefix + fe.field, fe.err}
	}
	return &fieldError{strings.TrimSuffix(prefix, "."), err}
}

func asffFirstTime(vs ...int64) int64 {
	for _, v := range vs {
		if v != 0 {
			return v
		}
	}
	return 0
}

// asffStatus sets the finding's status and activity.
func asffStatus(f *ocsf.Finding, recordState, wfStatus, wfState, compStatus string) {
	if strings.EqualFold(recordState, "ARCHIVED") {
		f.SetClass(f.ClassUID, ocsf.ActivityClose, "")
		f.SetStatus(ocsf.FindingStatusArchived, "")
		f.StatusCode = "ARCHIVED"
		return
	}
	status := strings.ToUpper(firstNonEmpty(wfStatus, wfState))
	f.StatusCode = status
	switch status {
	case "NEW":
		f.SetStatus(ocsf.FindingStatusNew, "")
	case "NOTIFIED", "ASSIGNED", "IN_PROGRESS":
		f.SetStatus(ocsf.FindingStatusInProgress, "")
	case "SUPPRESSED", "DEFERRED":
		f.SetStatus(ocsf.FindingStatusSuppressed, "")
	case "RESOLVED":
		f.SetStatus(ocsf.FindingStatusResolved, "")
	case "":
		if compStatus == "PASSED" {
			f.SetStatus(ocsf.FindingStatusResolved, "")
		} else {
			f.SetStatus(ocsf.FindingStatusNew, "")
		}
	default:
		f.SetStatus(99, status)
	}
}

func asffResourceRole(r *ocsf.ResourceDetails, role string) {
	switch strings.ToUpper(role) {
	case "TARGET":
		r.RoleID, r.Role = ocsf.ResourceRoleTarget, "Target"
	case "ACTOR":
		r.RoleID, r.Role = ocsf.ResourceRoleActor, "Actor"
	case "AFFECTED":
		r.RoleID, r.Role = ocsf.ResourceRoleAffected, "Affected"
	case "RELATED":
		r.RoleID, r.Role = ocsf.ResourceRoleRelated, "Related"
	}
}

// asffResources maps Resources[]; what a resource holds beyond Type, Id,
// Partition, Region, Tags and ResourceRole joins its Details in data.
func asffResources(list []any) ([]ocsf.ResourceDetails, []any, error) {
	var out []ocsf.ResourceDetails
	var left []any
	for i, rv := range list {
		field := "Resources[" + strconv.Itoa(i) + "]"
		rm, ok := rv.(map[string]any)
		if !ok {
			return nil, nil, &fieldError{field, fmt.Errorf("%w: not an object", ErrSyntax)}
		}
		rf := fields(rm)
		r := ocsf.ResourceDetails{
			UID:            rf.str("Id"),
			Type:           rf.str("Type"),
			Region:         rf.str("Region"),
			CloudPartition: rf.str("Partition"),
			Tags:           awsTagsFromMap(rf.take("Tags")),
		}
		if r.UID == "" {
			return nil, nil, missing(field + ".Id")
		}
		if role := rf.str("ResourceRole"); role != "" {
			asffResourceRole(&r, role)
			if r.RoleID == 0 {
				rf["ResourceRole"] = role
			}
		}
		data, _ := rf.take("Details").(map[string]any)
		if d := pruneBlankValues(data); d != nil {
			r.Data = d
		}
		if rest := pruneBlankValues(rf.rest()); rest != nil {
			left = append(left, map[string]any{"Id": r.UID, "other": rest})
		}
		out = append(out, r)
	}
	return out, left, nil
}

// asffVulnerability maps one Vulnerabilities[] entry; it returns what is
// left of it, or nil.
func asffVulnerability(v fields, i int) (ocsf.Vulnerability, any, error) {
	field := "Vulnerabilities[" + strconv.Itoa(i) + "]"
	id := v.str("Id")
	if id == "" {
		return ocsf.Vulnerability{}, nil, missing(field + ".Id")
	}
	vul := ocsf.Vulnerability{References: asStrings(v.take("ReferenceUrls")), RelatedVulns: asStrings(v.take("RelatedVulnerabilities"))}
	vendor := v.obj("Vendor")
	vul.VendorName = vendor.str("Name")
	vul.Severity = vendor.str("VendorSeverity")
	vendorURL := vendor.str("Url")
	vcreated, err := asffTime(vendor, "VendorCreatedAt")
	if err != nil {
		return vul, nil, asffPrefixField(field+".Vendor.", err)
	}
	vupdated, err := asffTime(vendor, "VendorUpdatedAt")
	if err != nil {
		return vul, nil, asffPrefixField(field+".Vendor.", err)
	}
	switch strings.ToUpper(v.str("FixAvailable")) {
	case "YES", "PARTIAL":
		vul.IsFixAvailable = boolPtr(true)
	case "NO":
		vul.IsFixAvailable = boolPtr(false)
	}
	switch strings.ToUpper(v.str("ExploitAvailable")) {
	case "YES":
		vul.IsExploitAvailable = boolPtr(true)
	case "NO":
		vul.IsExploitAvailable = boolPtr(false)
	}
	var cvss []ocsf.CVSS
	cl, _ := v.take("Cvss").([]any)
	for _, cv := range cl {
		cm, ok := cv.(map[string]any)
		if !ok {
			continue
		}
		cf := fields(cm)
		score, _ := asFloat(cf.take("BaseScore"))
		vec := cf.str("BaseVector")
		c := ocsf.CVSS{Version: firstNonEmpty(cf.str("Version"), cvssVersion(vec, "")), BaseScore: score, VectorString: vec, VendorName: cf.str("Source")}
		if c.Version == "" {
			continue
		}
		dup := false
		for _, x := range cvss {
			if x == c {
				dup = true
			}
		}
		if !dup {
			cvss = append(cvss, c)
		}
	}
	epss, hasEPSS := asFloat(v.take("EpssScore"))
	if asffCVERE.MatchString(id) {
		vul.CVE = &ocsf.CVE{UID: id, CVSS: cvss, CreatedTime: vcreated, ModifiedTime: vupdated}
		if hasEPSS {
			vul.CVE.EPSS = &ocsf.EPSS{Score: strconv.FormatFloat(epss, 'f', -1, 64)}
		}
	} else {
		vul.Advisory = &ocsf.Advisory{UID: id, SrcURL: vendorURL, CreatedTime: vcreated, ModifiedTime: vupdated}
		vendorURL = ""
		if len(cvss) > 0 {
			v["Cvss"] = cl
		}
		if hasEPSS {
			v["EpssScore"] = epss
		}
	}
	if vendorURL != "" && !asffContains(vul.References, vendorURL) {
		vul.References = append(vul.References, vendorURL)
	}
	pkgs, _ := v.take("VulnerablePackages").([]any)
	var pkgLeft []any
	var remediations []string
	for j, pv := range pkgs {
		pm, ok := pv.(map[string]any)
		if !ok {
			return vul, nil, &fieldError{field + ".VulnerablePackages[" + strconv.Itoa(j) + "]", fmt.Errorf("%w: not an object", ErrSyntax)}
		}
		p := fields(pm)
		ap := ocsf.AffectedPackage{
			Name:           p.str("Name"),
			Version:        p.str("Version"),
			Release:        p.str("Release"),
			Architecture:   p.str("Architecture"),
			PackageManager: p.str("PackageManager"),
			FixedInVersion: p.str("FixedInVersion"),
			Path:           p.str("FilePath"),
		}
		if ap.Name == "" {
			return vul, nil, missing(field + ".VulnerablePackages[" + strconv.Itoa(j) + "].Name")
		}
		if e := p.take("Epoch"); e != nil {
			if n, ok := asInt(e); ok {
				ap.Epoch = int(n)
			} else {
				p["Epoch"] = e
			}
		}
		if strings.EqualFold(ap.PackageManager, "OS") {
			ap.TypeID, ap.Type = ocsf.PackageTypeOS, "Operating System"
		} else if ap.PackageManager != "" {
			ap.TypeID, ap.Type = ocsf.PackageTypeApplication, "Application"
		}
		if r := p.str("Remediation"); r != "" && !asffContains(remediations, r) {
			remediations = append(remediations, r)
		}
		vul.AffectedPackages = append(vul.AffectedPackages, ap)
		if rest := pruneBlankValues(p.rest()); rest != nil {
			pkgLeft = append(pkgLeft, rest)
		}
	}
	if len(remediations) > 0 {
		vul.Remediation = &ocsf.Remediation{Desc: strings.Join(remediations, "; ")}
	}
	if len(pkgLeft) > 0 {
		v["VulnerablePackages"] = pkgLeft
	}
	if len(vendor) > 0 {
		v["Vendor"] = map[string]any(vendor)
	}
	rest := pruneBlankValues(v.rest())
	if rest != nil {
		rest.(map[string]any)["Id"] = id
	}
	return vul, rest, nil
}

func asffContains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// asffTrivyVuln reads the vulnerability Trivy's ASFF template puts in
// Resources[].Details.Other ("CVE ID", "PkgName" …); nil when there is none.
func asffTrivyVuln(resources []any, generator string, types []string) *ocsf.Vulnerability {
	isVuln := false
	for _, t := range types {
		if strings.HasPrefix(t, "Software and Configuration Checks/Vulnerabilities") {
			isVuln = true
		}
	}
	if !isVuln {
		return nil
	}
	for _, rv := range resources {
		rm, _ := rv.(map[string]any)
		det, _ := rm["Details"].(map[string]any)
		other, _ := det["Other"].(map[string]any)
		id := asString(other["CVE ID"])
		if id == "" {
			continue
		}
		s := func(k string) string { return asString(other[k]) }
		vul := &ocsf.Vulnerability{Title: s("CVE Title"), VendorName: firstNonEmpty(strings.SplitN(generator, "/", 2)[0], "Trivy")}
		var cvss []ocsf.CVSS
		for _, v := range []struct{ score, vector, def string }{{"NvdCvssScoreV3", "NvdCvssVectorV3", "3.1"}, {"NvdCvssScoreV2", "NvdCvssVectorV2", "2.0"}} {
			score, ok := asFloat(other[v.score])
			vec := s(v.vector)
			if ok || vec != "" {
				cvss = append(cvss, ocsf.CVSS{Version: cvssVersion(vec, v.def), BaseScore: score, VectorString: vec, VendorName: "NVD"})
			}
		}
		if asffCVERE.MatchString(id) {
			vul.CVE = &ocsf.CVE{UID: id, Title: vul.Title, CVSS: cvss}
		} else {
			vul.Advisory = &ocsf.Advisory{UID: id, Title: vul.Title}
		}
		if pkg := s("PkgName"); pkg != "" {
			ap := ocsf.AffectedPackage{Name: pkg, Version: s("Installed Package"), FixedInVersion: s("Patched Package")}
			vul.AffectedPackages = []ocsf.AffectedPackage{ap}
			vul.IsFixAvailable = boolPtr(ap.FixedInVersion != "")
		}
		return vul
	}
	return nil
}

// asffCompliance maps the Compliance object (what it takes is removed from c).
func asffCompliance(c fields, generator, productName string, pf map[string]any) ocsf.Compliance {
	out := ocsf.Compliance{}
	status := c.str("Status")
	out.StatusCode = status
	switch strings.ToUpper(status) {
	case "PASSED":
		out.SetStatus(ocsf.ComplianceStatusPass)
	case "FAILED":
		out.SetStatus(ocsf.ComplianceStatusFail)
	case "WARNING", "INFOED":
		out.SetStatus(ocsf.ComplianceStatusWarning)
	case "":
		out.SetStatus(0)
	default:
		out.StatusID, out.Status = 99, status
	}
	pfs := func(k string) string { return asString(pf[k]) }
	out.Control = firstNonEmpty(pfs("ControlId"), c.str("SecurityControlId"))
	if out.Control == "" {
		switch {
		case strings.HasPrefix(generator, "prowler-"):
			out.Control = strings.TrimPrefix(generator, "prowler-")
		case strings.Contains(generator, "/v/") && !strings.HasPrefix(generator, "arn:"):
			out.Control = generator[strings.LastIndexByte(generator, '/')+1:]
		default:
			out.Control = generator
		}
	}
	out.Requirements = asStrings(c.take("RelatedRequirements"))
	if stds, ok := c.take("AssociatedStandards").([]any); ok {
		var left []any
		for _, s := range stds {
			sm, _ := s.(map[string]any)
			if id := asString(sm["StandardsId"]); id != "" {
				out.Standards = append(out.Standards, id)
				delete(sm, "StandardsId")
			}
			if x := pruneBlankValues(sm); x != nil {
				left = append(left, x)
			}
		}
		if len(left) > 0 {
			c["AssociatedStandards"] = left
		}
	}
	if len(out.Standards) == 0 {
		if arn := firstNonEmpty(pfs("StandardsArn"), pfs("StandardsGuideArn")); arn != "" {
			std := arn[strings.LastIndexByte(arn, ':')+1:]
			std = strings.TrimPrefix(strings.TrimPrefix(std, "standards/"), "ruleset/")
			out.Standards = []string{std}
		} else if i := strings.Index(generator, "/v/"); i > 0 && !strings.HasPrefix(generator, "arn:") {
			out.Standards = []string{generator[:strings.LastIndexByte(generator, '/')]}
		} else if productName != "" {
			out.Standards = []string{productName}
		}
	}
	if reasons, ok := c.take("StatusReasons").([]any); ok {
		for _, r := range reasons {
			rm, _ := r.(map[string]any)
			code, desc := asString(rm["ReasonCode"]), asString(rm["Description"])
			switch {
			case code != "" && desc != "":
				out.StatusDetails = append(out.StatusDetails, code+": "+desc)
			default:
				if s := firstNonEmpty(code, desc); s != "" {
					out.StatusDetails = append(out.StatusDetails, s)
				}
			}
		}
	}
	if params, ok := c.take("SecurityControlParameters").([]any); ok {
		for _, p := range params {
			pm, _ := p.(map[string]any)
			kv := ocsf.KeyValue{Name: asString(pm["Name"]), Values: asStrings(pm["Value"])}
			if kv.Name != "" {
				out.ControlParameters = append(out.ControlParameters, kv)
			}
		}
	}
	return out
}

// ATT&CK enterprise tactics by the names ASFF uses under "TTPs/".
var asffTactics = map[string]string{
	"Reconnaissance":       "TA0043",
	"Resource Development": "TA0042",
	"Initial Access":       "TA0001",
	"Execution":            "TA0002",
	"Persistence":          "TA0003",
	"Privilege Escalation": "TA0004",
	"Defense Evasion":      "TA0005",
	"Credential Access":    "TA0006",
	"Discovery":            "TA0007",
	"Lateral Movement":     "TA0008",
	"Collection":           "TA0009",
	"Command and Control":  "TA0011",
	"Exfiltration":         "TA0010",
	"Data Exfiltration":    "TA0010",
	"Impact":               "TA0040",
}

// asffAttacks turns "TTPs/<Tactic>/…" types into ATT&CK tactics.
func asffAttacks(types []string) []ocsf.Attack {
	var out []ocsf.Attack
	seen := map[string]bool{}
	for _, t := range types {
		parts := strings.Split(t, "/")
		if len(parts) < 2 || parts[0] != "TTPs" || parts[1] == "" || seen[parts[1]] {
			continue
		}
		seen[parts[1]] = true
		name := parts[1]
		if name == "Data Exfiltration" {
			name = "Exfiltration"
		}
		out = append(out, ocsf.Attack{Tactic: &ocsf.Tactic{UID: asffTactics[parts[1]], Name: name}})
	}
	return out
}

// guardDutyEvidence reads the action GuardDuty flattens into ProductFields.
func guardDutyEvidence(pf map[string]any) *ocsf.Evidence {
	const action = "aws/guardduty/service/action/"
	s := func(k string) string { return strings.TrimSpace(asString(pf[k])) }
	ev := &ocsf.Evidence{}
	switch s(action + "actionType") {
	case "AWS_API_CALL":
		a := action + "awsApiCallAction/"
		if op := s(a + "api"); op != "" {
			ev.API = &ocsf.API{Operation: op}
			if svc := s(a + "serviceName"); svc != "" {
				ev.API.Service = &ocsf.Service{Name: svc}
			}
		}
		ev.SrcEndpoint = gdEndpoint(pf, a+"remoteIpDetails/", "")
		if ev.SrcEndpoint == nil {
			if d := s(a + "domainDetails/domain"); d != "" {
				ev.SrcEndpoint = &ocsf.NetworkEndpoint{Domain: d}
			}
		}
	case "NETWORK_CONNECTION":
		a := action + "networkConnectionAction/"
		remote := gdEndpoint(pf, a+"remoteIpDetails/", a+"remotePortDetails/port")
		local := gdEndpoint(pf, a+"localIpDetails/", a+"localPortDetails/port")
		ci := &ocsf.ConnectionInfo{ProtocolName: strings.ToLower(s(a + "protocol"))}
		switch s(a + "connectionDirection") {
		case "INBOUND":
			ci.SetDirection(ocsf.DirectionInbound, "")
			ev.SrcEndpoint, ev.DstEndpoint = remote, local
		case "OUTBOUND":
			ci.SetDirection(ocsf.DirectionOutbound, "")
			ev.SrcEndpoint, ev.DstEndpoint = local, remote
		default:
			ci.SetDirection(ocsf.DirectionUnknown, "")
			ev.SrcEndpoint, ev.DstEndpoint = remote, local
		}
		ev.ConnectionInfo = ci
	case "PORT_PROBE":
		a := action + "portProbeAction/portProbeDetails.0_/"
		ev.SrcEndpoint = gdEndpoint(pf, a+"remoteIpDetails/", "")
		ev.DstEndpoint = gdEndpoint(pf, a+"localIpDetails/", a+"localPortDetails/port")
	case "DNS_REQUEST":
		a := action + "dnsRequestAction/"
		if d := s(a + "domain"); d != "" {
			ev.Query = &ocsf.DNSQuery{Hostname: d}
		}
		if p := s(a + "protocol"); p != "" {
			ev.ConnectionInfo = &ocsf.ConnectionInfo{ProtocolName: strings.ToLower(p)}
		}
	default:
		return nil
	}
	if ev.API == nil && ev.SrcEndpoint == nil && ev.DstEndpoint == nil && ev.Query == nil && ev.ConnectionInfo == nil {
		return nil
	}
	return ev
}

// gdEndpoint builds a network endpoint from GuardDuty's flattened
// remoteIpDetails / localIpDetails; nil when it has no address.
func gdEndpoint(pf map[string]any, prefix, portKey string) *ocsf.NetworkEndpoint {
	s := func(k string) string { return strings.TrimSpace(asString(pf[k])) }
	ip := firstNonEmpty(s(prefix+"ipAddressV4"), s(prefix+"ipAddressV6"))
	if ip == "" {
		return nil
	}
	ep := &ocsf.NetworkEndpoint{IP: ip, ISP: s(prefix + "organization/isp")}
	if portKey != "" {
		if p, err := strconv.Atoi(s(portKey)); err == nil && p > 0 && p < 65536 {
			ep.Port = p
		}
	}
	if asn, err := strconv.Atoi(s(prefix + "organization/asn")); err == nil && asn > 0 {
		ep.AS = &ocsf.AutonomousSystem{Number: asn, Name: s(prefix + "organization/asnOrg")}
	}
	loc := &ocsf.Location{City: s(prefix + "city/cityName"), Desc: s(prefix + "country/countryName")}
	lat, errLat := strconv.ParseFloat(s(prefix+"geoLocation/lat"), 64)
	lon, errLon := strconv.ParseFloat(s(prefix+"geoLocation/lon"), 64)
	if errLat == nil && errLon == nil && lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180 && (lat != 0 || lon != 0) {
		loc.Lat, loc.Long = lat, lon
	}
	if *loc != (ocsf.Location{}) {
		ep.Location = loc
	}
	return ep
}
