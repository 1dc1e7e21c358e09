package ingest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/canopy-sec/canopy/internal/ingest/jsonstream"
	"github.com/canopy-sec/canopy/internal/ocsf"
)

func init() {
	register(Format{
		Name:    "prowler",
		Title:   "Prowler scan results (OCSF JSON, native JSON, CSV)",
		Version: 1,
		Classes: []int{ocsf.ClassComplianceFinding},
		Notes: "Prowler 4/5 OCSF JSON arrays (OCSF 1.2-1.4 Detection Findings, re-mapped attribute by attribute), " +
			"Prowler 3 native JSON arrays (CheckID …) and Prowler 5 CSV (';'-separated with a header row). " +
			"Every check result becomes a Compliance Finding (2003): control = check id, standards = the keys of the " +
			"compliance map (the map, or the CSV cell as written, is kept in unmapped), status FAIL → compliance Fail and finding New, " +
			"PASS → Pass and Resolved, MANUAL (and Prowler 3 INFO) → Warning and New (the same choice Prowler makes " +
			"for Security Hub); muted findings are Suppressed. MITRE-ATTACK compliance entries become finding_info.attacks. " +
			"finding_info.uid is Prowler's own finding uid; where it is only a documentation placeholder (<finding_uid>) " +
			"it is rebuilt as Prowler does: prowler-<provider>-<check>-<account>-<region>-<resource>. " +
			"Azure accounts are typed Azure Subscription and GCP accounts GCP Project (their uids are subscription and project ids); " +
			"times without a zone are UTC",
		Sniff:  sniffProwler,
		Decode: decodeProwler,
	})
}

func sniffProwler(head []byte) int {
	switch {
	case sniffHas(head, `"event_code"`, `"finding_info"`, `"Prowler"`):
		return 85
	case sniffHas(head, `"CheckID"`, `"FindingUniqueId"`):
		return 80
	}
	line := head
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	if sniffHas(line, "CHECK_ID", "FINDING_UID", ";") {
		return 80
	}
	return 0
}

func decodeProwler(ctx context.Context, r io.Reader, emit Emit) error {
	br := bufio.NewReader(r)
	if b, err := br.Peek(3); err == nil && bytes.Equal(b, []byte("\xef\xbb\xbf")) {
		br.Discard(3)
	}
	first, err := prowlerFirstByte(br)
	if err == io.EOF {
		return nil
	}
	if err != nil {
		return finishErr("prowler", 1, err)
	}
	if first == '[' || first == '{' {
		return decodeItems(ctx, "prowler", br, nil, emit, mapProwlerItem)
	}
	return decodeProwlerCSV(ctx, br, emit)
}

// prowlerFirstByte returns the first byte of br that is not white space, without
// consuming anything.
func prowlerFirstByte(br *bufio.Reader) (byte, error) {
	for n := 1; ; n++ {
		b, err := br.Peek(n)
		if len(b) < n {
			if err == nil || errors.Is(err, bufio.ErrBufferFull) {
				err = io.EOF
			}
			return 0, err
		}
		switch c := b[n-1]; c {
		case ' ', '\t', '\r', '\n':
		default:
			return c, nil
		}
	}
}

func mapProwlerItem(it jsonstream.Item, emit Emit) error {
	m, err := decodeMap(it.Raw)
	if err != nil {
		return err
	}
	var p *prowlerCheck
	switch {
	case m["CheckID"] != nil:
		p, err = prowlerFromNative(m)
	case m["finding_info"] != nil || m["metadata"] != nil:
		p, err = prowlerFromOCSF(m)
	default:
		return &fieldError{"finding_info", fmt.Errorf("%w: not a Prowler finding (neither finding_info nor CheckID)", ErrMissingField)}
	}
	if err != nil {
		return err
	}
	return emit(p.record())
}

// prowlerCheck is one check result, whatever the variant it was read from.
type prowlerCheck struct {
	checkID, title, desc string
	types                []string
	status               string // PASS, FAIL, MANUAL (INFO in Prowler 3)
	statusDetail         string
	message              string
	muted                bool
	severity             string
	severityID           int64
	findingUID           string
	provider             string // aws, azure, gcp, kubernetes …
	productVersion       string
	logVersion           string
	tenantUID            string

	cloud     *ocsf.Cloud
	resources []ocsf.ResourceDetails

	time, created time.Time
	tzOffset      *int // minutes ahead of UTC, when known

	remediation string
	references  []string
	compliance  map[string][]string
	// rawCompliance: the source's own compliance text is in unmapped
	rawCompliance bool

	unmapped map[string]any
}

func (p *prowlerCheck) addUnmapped(k string, v any) {
	v = pruneBlankValues(v)
	if v == nil {
		return
	}
	if p.unmapped == nil {
		p.unmapped = make(map[string]any)
	}
	p.unmapped[k] = v
}

// pruneBlankValues drops empty strings, arrays and objects (recursively); it
// returns nil when nothing is left.
func pruneBlankValues(v any) any {
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		if x == "" {
			return nil
		}
	case []string:
		if len(x) == 0 {
			return nil
		}
	case []any:
		out := x[:0:0]
		for _, e := range x {
			if e = pruneBlankValues(e); e != nil {
				out = append(out, e)
			}
		}
		if len(out) == 0 {
			return nil
		}
		return out
	case map[string]any:
		for k, e := range x {
			if e = pruneBlankValues(e); e == nil {
				delete(x, k)
			} else {
				x[k] = e
			}
		}
		if len(x) == 0 {
			return nil
		}
	case fields:
		return pruneBlankValues(map[string]any(x))
	}
	return v
}

// prowlerPlaceholder reports whether s is a documentation placeholder such as
// "<finding_uid>" rather than a value.
func prowlerPlaceholder(s string) bool {
	return len(s) > 2 && s[0] == '<' && s[len(s)-1] == '>' && strings.Count(s, "<") == 1
}

func (p *prowlerCheck) uid() string {
	if p.findingUID != "" && !prowlerPlaceholder(p.findingUID) {
		return p.findingUID
	}
	account, region := "", ""
	if p.cloud != nil {
		region = p.cloud.Region
		if p.cloud.Account != nil {
			account = p.cloud.Account.UID
		}
	}
	res := ""
	if len(p.resources) > 0 {
		r := p.resources[0]
		res = firstNonEmpty(r.UID, r.Name)
		if r.Namespace != "" {
			res = r.Namespace + "-" + res
		}
		region = firstNonEmpty(region, r.Region)
	}
	parts := []string{"prowler"}
	for _, s := range []string{p.provider, p.checkID, account, region, res} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, "-")
}

func (p *prowlerCheck) record() *ocsf.ComplianceFinding {
	f := &ocsf.ComplianceFinding{}
	f.SetClass(ocsf.ClassComplianceFinding, ocsf.ActivityCreate, "")
	f.Time = ocsf.Millis(p.time)
	f.TimezoneOffset = p.tzOffset
	f.Metadata.Product = ocsf.Product{Name: "Prowler", VendorName: "Prowler", UID: "prowler", Version: p.productVersion}
	f.Metadata.EventCode = p.checkID
	f.Metadata.LogVersion = p.logVersion
	f.Metadata.TenantUID = p.tenantUID

	sev := ocsf.SeverityFromLabel(p.severity)
	if sev == ocsf.SeverityUnknown && p.severityID > 0 && p.severityID <= ocsf.SeverityFatal {
		sev = int(p.severityID)
	}
	f.SetSeverity(sev, "")

	f.Compliance = ocsf.Compliance{Control: p.checkID, StatusCode: p.status}
	switch strings.ToUpper(p.status) {
	case "PASS":
		f.Compliance.SetStatus(ocsf.ComplianceStatusPass)
		f.SetStatus(ocsf.FindingStatusResolved, "")
	case "FAIL":
		f.Compliance.SetStatus(ocsf.ComplianceStatusFail)
		f.SetStatus(ocsf.FindingStatusNew, "")
	case "MANUAL", "INFO":
		f.Compliance.SetStatus(ocsf.ComplianceStatusWarning)
		f.SetStatus(ocsf.FindingStatusNew, "")
	default:
		f.Compliance.StatusID, f.Compliance.Status = 99, p.status
		f.SetStatus(ocsf.FindingStatusNew, "")
	}
	if p.muted {
		f.SetStatus(ocsf.FindingStatusSuppressed, "")
	}
	f.StatusCode = p.status
	f.StatusDetail = p.statusDetail
	if p.statusDetail != "" {
		f.Compliance.StatusDetails = []string{p.statusDetail}
	}
	f.Message = firstNonEmpty(p.message, p.statusDetail)
	for _, std := range sortedKeys(p.compliance) {
		f.Compliance.Standards = append(f.Compliance.Standards, std)
		for _, req := range p.compliance[std] {
			f.Compliance.Requirements = append(f.Compliance.Requirements, std+": "+req)
		}
	}

	f.FindingInfo = ocsf.FindingInfo{
		UID:         p.uid(),
		Title:       firstNonEmpty(p.title, p.checkID),
		Desc:        p.desc,
		Types:       p.types,
		CreatedTime: ocsf.Millis(p.created),
		Analytic:    ocsf.NewAnalytic(ocsf.AnalyticTypeRule, p.checkID, p.title),
		Attacks:     prowlerAttacks(p.compliance["MITRE-ATTACK"]),
	}

	f.SetCloud(p.cloud)
	for i := range p.resources {
		r := &p.resources[i]
		if f.Cloud == nil { // region and partition belong to the cloud profile
			if r.Region != "" || r.CloudPartition != "" {
				p.addUnmapped("resources["+strconv.Itoa(i)+"]", map[string]any{"region": r.Region, "cloud_partition": r.CloudPartition})
			}
			r.Region, r.CloudPartition = "", ""
		}
		r.RoleID, r.Role = ocsf.ResourceRoleTarget, "Target"
	}
	f.Resources = p.resources
	for i, r := range p.resources {
		f.AddObservable("resources["+strconv.Itoa(i)+"].uid", ocsf.ObservableResourceUID, "Resource UID", r.UID)
	}
	if p.remediation != "" || len(p.references) > 0 {
		f.Remediation = &ocsf.Remediation{Desc: p.remediation, References: p.references}
	}
	if len(p.compliance) > 0 && !p.rawCompliance {
		p.addUnmapped("compliance", p.compliance)
	}
	for k, v := range p.unmapped {
		f.AddUnmapped(k, v)
	}
	return f
}

// prowlerAttacks turns ATT&CK technique ids (T1078, T1078.004) into attacks.
func prowlerAttacks(ids []string) []ocsf.Attack {
	var out []ocsf.Attack
	for _, id := range ids {
		id = strings.TrimSpace(id)
		if len(id) < 2 || id[0] != 'T' || !isDigits(strings.Replace(id[1:], ".", "", 1)) {
			continue
		}
		a := ocsf.Attack{}
		if i := strings.IndexByte(id, '.'); i > 0 {
			a.Technique = &ocsf.Technique{UID: id[:i]}
			a.SubTechnique = &ocsf.Technique{UID: id}
		} else {
			a.Technique = &ocsf.Technique{UID: id}
		}
		out = append(out, a)
	}
	return out
}

// prowlerCloudProvider normalizes a provider name; ok is false for providers
// that are not clouds (kubernetes, m365, github …).
func prowlerCloudProvider(p string) (name string, accountType int, ok bool) {
	switch strings.ToLower(p) {
	case "aws":
		return "AWS", ocsf.AccountTypeAWS, true
	case "azure":
		return "Azure", 13, true // Azure Subscription
	case "gcp":
		return "GCP", 11, true // GCP Project
	}
	return p, 0, false
}

var prowlerAccountTypes = map[int]string{ocsf.AccountTypeAWS: "AWS Account", 13: "Azure Subscription", 11: "GCP Project"}

// newProwlerCloud builds the cloud object for a cloud provider, or nil.
func newProwlerCloud(provider, region, accountUID, accountName string, labels []string, orgUID, orgName string) *ocsf.Cloud {
	name, at, ok := prowlerCloudProvider(provider)
	if !ok {
		return nil
	}
	c := &ocsf.Cloud{Provider: name, Region: region}
	if accountUID != "" || accountName != "" {
		c.Account = &ocsf.Account{UID: accountUID, Name: accountName, TypeID: at, Type: prowlerAccountTypes[at], Labels: labels}
	}
	if orgUID != "" || orgName != "" {
		c.Org = &ocsf.Organization{UID: orgUID, Name: orgName}
	}
	return c
}

// prowlerEpochDT reads Prowler 5's pair of an epoch-seconds time and its
// _dt twin, an ISO time without a zone that Prowler writes in the local time
// of the scan. The epoch is authoritative; the twin adds the fraction of a
// second and, when the two differ by a whole number of quarter hours, the
// time zone offset in minutes.
func prowlerEpochDT(field string, epoch, dt any) (time.Time, *int, error) {
	if epoch == nil || epoch == "" {
		t, err := prowlerTime(field+"_dt", dt)
		return t, nil, err
	}
	t, err := prowlerTime(field, epoch)
	if err != nil || dt == nil || dt == "" {
		return t, nil, err
	}
	local, err := prowlerTime(field+"_dt", dt)
	if err != nil {
		return t, nil, err
	}
	diff := local.Truncate(time.Second).Sub(t.Truncate(time.Second))
	if diff%(15*time.Minute) != 0 || diff < -14*time.Hour || diff > 14*time.Hour {
		return t, nil, nil
	}
	off := int(diff / time.Minute)
	return t.Truncate(time.Second).Add(time.Duration(local.Nanosecond())), &off, nil
}

// prowlerTime parses a Prowler time field; ISO times without a zone are UTC.
func prowlerTime(field string, v any) (time.Time, error) {
	if v == nil || v == "" {
		return time.Time{}, nil
	}
	t, err := anyTime(v)
	if err != nil {
		return t, &fieldError{field, err}
	}
	return t, nil
}

func prowlerComplianceMap(v any) map[string][]string {
	m, ok := v.(map[string]any)
	if !ok || len(m) == 0 {
		return nil
	}
	out := make(map[string][]string, len(m))
	for k, reqs := range m {
		out[k] = asStrings(reqs)
	}
	return out
}

// prowlerFromOCSF reads a Prowler 4/5 OCSF finding (OCSF 1.2-1.4).
func prowlerFromOCSF(m fields) (*prowlerCheck, error) {
	p := &prowlerCheck{}
	md := m.obj("metadata")
	p.checkID = md.str("event_code")
	if p.checkID == "" {
		return nil, missing("metadata.event_code")
	}
	prod := md.obj("product")
	prod.take("name")
	prod.take("vendor_name")
	prod.take("uid")
	p.productVersion = prod.str("version")
	p.logVersion = md.str("version")
	md.take("profiles")
	p.tenantUID = md.str("tenant_uid")
	if len(prod) > 0 {
		md["product"] = map[string]any(prod)
	}
	p.addUnmapped("metadata", md.rest())

	p.severity = m.str("severity")
	p.severityID, _ = m.int("severity_id")
	p.muted = strings.EqualFold(m.str("status"), "Suppressed")
	m.take("status_id")
	p.status = m.str("status_code")
	p.statusDetail = m.str("status_detail")
	p.message = m.str("message")

	fi := m.obj("finding_info")
	p.findingUID = fi.str("uid")
	p.title = fi.str("title")
	p.desc = fi.str("desc")
	p.types = asStrings(fi.take("types"))
	fi.take("product_uid")
	var err error
	p.created, _, err = prowlerEpochDT("finding_info.created_time", fi.take("created_time"), fi.take("created_time_dt"))
	if err != nil {
		return nil, err
	}
	p.addUnmapped("finding_info", fi.rest())

	switch {
	case m["time"] != nil || m["time_dt"] != nil:
		p.time, p.tzOffset, err = prowlerEpochDT("time", m.take("time"), m.take("time_dt"))
	case m["event_time"] != nil:
		p.time, err = prowlerTime("event_time", m.take("event_time"))
	default:
		p.time = p.created
	}
	if err != nil {
		return nil, err
	}

	um := m.obj("unmapped")
	p.compliance = prowlerComplianceMap(um.take("compliance"))
	for k, v := range um {
		p.addUnmapped(k, v)
	}

	if c := m.obj("cloud"); c != nil {
		p.provider = asString(c.get("provider"))
		if _, _, ok := prowlerCloudProvider(p.provider); ok {
			c.take("provider")
			acct := c.obj("account")
			org := c.obj("org")
			p.cloud = newProwlerCloud(p.provider, c.str("region"), acct.str("uid"), acct.str("name"), asStrings(acct.take("labels")), org.str("uid"), org.str("name"))
			acct.take("type")
			acct.take("type_id")
			c["account"], c["org"] = map[string]any(acct), map[string]any(org)
		}
		p.addUnmapped("cloud", c.rest()) // all of it when the provider is not a cloud
	}

	res, _ := m.take("resources").([]any)
	var leftovers []any
	for i, rv := range res {
		rm, ok := rv.(map[string]any)
		if !ok {
			return nil, &fieldError{"resources[" + strconv.Itoa(i) + "]", fmt.Errorf("%w: not an object", ErrSyntax)}
		}
		rf := fields(rm)
		r := ocsf.ResourceDetails{
			UID:            rf.str("uid"),
			Name:           rf.str("name"),
			Type:           rf.str("type"),
			Region:         rf.str("region"),
			CloudPartition: rf.str("cloud_partition"),
			Namespace:      rf.str("namespace"),
			Labels:         asStrings(rf.take("labels")),
		}
		if g := rf.obj("group"); g != nil {
			r.Group = &ocsf.Group{Name: g.str("name"), UID: g.str("uid")}
			if *r.Group == (ocsf.Group{}) {
				r.Group = nil
			}
		}
		if d := pruneBlankValues(rf.take("data")); d != nil {
			r.Data = d
		}
		if r.UID == "" {
			r.UID = r.Name
		}
		if r.UID == "" {
			return nil, missing("resources[" + strconv.Itoa(i) + "].uid")
		}
		if p.provider == "" && r.Namespace != "" {
			p.provider = "kubernetes"
		}
		p.resources = append(p.resources, r)
		if rest := pruneBlankValues(rf.rest()); rest != nil {
			leftovers = append(leftovers, rest)
		}
	}
	if len(leftovers) > 0 {
		p.addUnmapped("resources", leftovers)
	}

	if rem := m.obj("remediation"); rem != nil {
		p.remediation = rem.str("desc")
		p.references = asStrings(rem.take("references"))
		p.addUnmapped("remediation", rem.rest())
	}
	p.addUnmapped("risk_details", m.str("risk_details"))

	// the source's own classification, recomputed for OCSF 1.8
	for _, k := range []string{"activity_name", "activity_id", "category_name", "category_uid", "class_name", "class_uid", "type_uid", "type_name"} {
		m.take(k)
	}
	for k, v := range m {
		p.addUnmapped(k, v)
	}
	return p, nil
}

// prowlerFromNative reads a Prowler 3 native JSON finding.
func prowlerFromNative(m fields) (*prowlerCheck, error) {
	p := &prowlerCheck{}
	p.checkID = m.str("CheckID")
	if p.checkID == "" {
		return nil, missing("CheckID")
	}
	p.title = m.str("CheckTitle")
	p.desc = m.str("Description")
	p.types = asStrings(m.take("CheckType"))
	p.status = m.str("Status")
	if p.status == "" {
		return nil, missing("Status")
	}
	p.statusDetail = m.str("StatusExtended")
	p.severity = m.str("Severity")
	p.findingUID = m.str("FindingUniqueId")
	p.provider = m.str("Provider")
	var err error
	if p.time, err = prowlerTime("AssessmentStartTime", m.take("AssessmentStartTime")); err != nil {
		return nil, err
	}
	p.compliance = prowlerComplianceMap(m.take("Compliance"))

	account := firstNonEmpty(m.str("AccountId"), m.str("Subscription"), m.str("ProjectId"))
	region := firstNonEmpty(m.str("Region"), m.str("Location"))
	p.cloud = newProwlerCloud(p.provider, region, account, "", nil, "", "")
	if p.cloud == nil {
		p.addUnmapped("AccountId", account)
		p.addUnmapped("Region", region)
	}

	r := ocsf.ResourceDetails{
		Type:   m.str("ResourceType"),
		Region: region,
	}
	id := m.str("ResourceId")
	arn := m.str("ResourceArn")
	name := m.str("ResourceName")
	r.UID = firstNonEmpty(arn, id, name)
	r.Name = firstNonEmpty(name, id)
	if r.UID != "" && r.UID != id && id != "" && id != r.Name {
		r.UIDAlt = id
	}
	if svc := m.str("ServiceName"); svc != "" {
		r.Group = &ocsf.Group{Name: svc}
	}
	r.Tags = awsTagsFromMap(m.take("ResourceTags"))
	if d := m.str("ResourceDetails"); d != "" {
		r.Data = map[string]any{"details": d}
	}
	if r.UID != "" {
		if p.provider == "aws" {
			r.CloudPartition = prowlerARNPartition(r.UID)
		}
		p.resources = []ocsf.ResourceDetails{r}
	}

	rem := m.obj("Remediation")
	rec := rem.obj("Recommendation")
	p.remediation = rec.str("Text")
	code := rem.obj("Code")
	for _, k := range []string{"NativeIaC", "Terraform", "CLI", "Other"} {
		if s := code.str(k); s != "" {
			p.references = append(p.references, s)
		}
	}
	if u := rec.str("Url"); u != "" {
		p.references = append(p.references, u)
	}
	p.addUnmapped("Remediation", rem.rest())
	for k, v := range m {
		p.addUnmapped(k, v)
	}
	return p, nil
}

// prowlerARNPartition returns the partition of an ARN ("aws", "aws-cn" …), or "".
func prowlerARNPartition(arn string) string {
	if !strings.HasPrefix(arn, "arn:") {
		return ""
	}
	rest := arn[4:]
	if i := strings.IndexByte(rest, ':'); i > 0 {
		return rest[:i]
	}
	return ""
}

// awsTagsFromMap turns a {key: value} tag map into sorted key/value pairs.
func awsTagsFromMap(v any) []ocsf.KeyValue {
	m, ok := v.(map[string]any)
	if !ok || len(m) == 0 {
		return nil
	}
	out := make([]ocsf.KeyValue, 0, len(m))
	for _, k := range sortedKeys(m) {
		out = append(out, ocsf.KeyValue{Name: k, Value: asString(m[k])})
	}
	return out
}

// decodeProwlerCSV streams a Prowler 5 CSV report row by row.
func decodeProwlerCSV(ctx context.Context, r io.Reader, emit Emit) error {
	cr := csv.NewReader(r)
	cr.Comma = ';'
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		if err == io.EOF {
			return nil
		}
		return &RecordError{Format: "prowler", Record: 0, Offset: 0, Err: fmt.Errorf("%w: CSV header: %v", ErrSyntax, err)}
	}
	cols := make(map[string]int, len(header))
	names := make([]string, len(header))
	for i, h := range header {
		h = strings.TrimSpace(h)
		names[i] = h
		cols[h] = i
	}
	if _, ok := cols["CHECK_ID"]; !ok {
		return &RecordError{Format: "prowler", Record: 0, Offset: 0, Field: "CHECK_ID", Err: fmt.Errorf("%w: not a Prowler CSV header (no CHECK_ID column)", ErrMissingField)}
	}
	cr.FieldsPerRecord = len(header)
	n := 0
	for {
		off := cr.InputOffset()
		row, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		n++
		if n%1024 == 0 {
			if cerr := ctx.Err(); cerr != nil {
				return cerr
			}
		}
		if err != nil {
			return &RecordError{Format: "prowler", Record: n, Offset: off, Err: fmt.Errorf("%w: %v", ErrSyntax, err)}
		}
		p, err := prowlerFromCSV(names, cols, row)
		if err != nil {
			re := itemErr("prowler", jsonstream.Item{Index: n, Offset: off}, err)
			return re
		}
		if err := emit(p.record()); err != nil {
			return err
		}
	}
}

func prowlerFromCSV(names []string, cols map[string]int, row []string) (*prowlerCheck, error) {
	used := make([]bool, len(row))
	get := func(col string) string {
		i, ok := cols[col]
		if !ok {
			return ""
		}
		used[i] = true
		return strings.TrimSpace(row[i])
	}
	p := &prowlerCheck{}
	p.checkID = get("CHECK_ID")
	if p.checkID == "" {
		return nil, missing("CHECK_ID")
	}
	p.status = get("STATUS")
	if p.status == "" {
		return nil, missing("STATUS")
	}
	p.title = get("CHECK_TITLE")
	p.desc = get("DESCRIPTION")
	p.types = prowlerSplitBar(get("CHECK_TYPE"))
	p.statusDetail = get("STATUS_EXTENDED")
	p.muted = strings.EqualFold(get("MUTED"), "true")
	p.severity = get("SEVERITY")
	p.findingUID = get("FINDING_UID")
	p.provider = get("PROVIDER")
	p.productVersion = get("PROWLER_VERSION")
	var err error
	if p.time, err = prowlerTime("TIMESTAMP", get("TIMESTAMP")); err != nil {
		return nil, err
	}
	region := get("REGION")
	account := get("ACCOUNT_UID")
	p.cloud = newProwlerCloud(p.provider, region, account, get("ACCOUNT_NAME"), prowlerSplitBar(get("ACCOUNT_TAGS")),
		get("ACCOUNT_ORGANIZATION_UID"), get("ACCOUNT_ORGANIZATION_NAME"))
	if p.cloud == nil { // not a cloud: keep the account columns as they are
		for _, c := range []string{"ACCOUNT_UID", "ACCOUNT_NAME", "ACCOUNT_TAGS", "ACCOUNT_ORGANIZATION_UID", "ACCOUNT_ORGANIZATION_NAME"} {
			if i, ok := cols[c]; ok {
				used[i] = false
			}
		}
	}
	r := ocsf.ResourceDetails{
		UID:            get("RESOURCE_UID"),
		Name:           get("RESOURCE_NAME"),
		Type:           get("RESOURCE_TYPE"),
		Region:         region,
		CloudPartition: get("PARTITION"),
		Tags:           prowlerTagsFromBar(get("RESOURCE_TAGS")),
	}
	if svc := get("SERVICE_NAME"); svc != "" {
		r.Group = &ocsf.Group{Name: svc}
	}
	if d := get("RESOURCE_DETAILS"); d != "" {
		r.Data = map[string]any{"details": d}
	}
	if r.UID == "" {
		r.UID = r.Name
	}
	if r.UID != "" {
		p.resources = []ocsf.ResourceDetails{r}
	}
	p.remediation = get("REMEDIATION_RECOMMENDATION_TEXT")
	for _, c := range []string{"REMEDIATION_CODE_NATIVEIAC", "REMEDIATION_CODE_TERRAFORM", "REMEDIATION_CODE_CLI", "REMEDIATION_CODE_OTHER", "REMEDIATION_RECOMMENDATION_URL"} {
		if s := get(c); s != "" {
			p.references = append(p.references, s)
		}
	}
	// the cell itself goes to unmapped: requirements may hold the ", " that separates them
	p.compliance = prowlerComplianceCell(get("COMPLIANCE"))
	if i, ok := cols["COMPLIANCE"]; ok {
		p.rawCompliance = true
		used[i] = false
	}
	for i, v := range row {
		if !used[i] && i < len(names) {
			p.addUnmapped(names[i], strings.TrimSpace(v))
		}
	}
	return p, nil
}

// prowlerSplitBar splits Prowler's "a | b" list cells.
func prowlerSplitBar(s string) []string {
	if s == "" {
		return nil
	}
	var out []string
	for _, part := range strings.Split(s, "|") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// prowlerTagsFromBar parses "key=value | key2=value2" tag cells.
func prowlerTagsFromBar(s string) []ocsf.KeyValue {
	var out []ocsf.KeyValue
	for _, part := range prowlerSplitBar(s) {
		k, v, _ := strings.Cut(part, "=")
		out = append(out, ocsf.KeyValue{Name: strings.TrimSpace(k), Value: strings.TrimSpace(v)})
	}
	return out
}

// prowlerComplianceCell parses "CIS-1.4: 1.20 | KISA: 2.5.6, 2.6.4".
func prowlerComplianceCell(s string) map[string][]string {
	parts := prowlerSplitBar(s)
	if len(parts) == 0 {
		return nil
	}
	out := make(map[string][]string, len(parts))
	for _, part := range parts {
		std, reqs, ok := strings.Cut(part, ":")
		std = strings.TrimSpace(std)
		if !ok {
			out[std] = nil
			continue
		}
		for _, req := range strings.Split(reqs, ",") {
			if req = strings.TrimSpace(req); req != "" {
				out[std] = append(out[std], req)
			}
		}
	}
	return out
}
