package ingest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/canopy-sec/canopy/internal/ingest/jsonstream"
	"github.com/canopy-sec/canopy/internal/ocsf"
)

func init() {
	register(Format{
		Name:    "wazuh",
		Title:   "Wazuh alerts and vulnerability inventory",
		Version: 1,
		Classes: []int{ocsf.ClassDetectionFinding, ocsf.ClassVulnerabilityFinding},
		Notes: "Wazuh 4.x alerts (alerts.json, JSON lines) → Detection Finding: id → finding_info.uid (each alert is one " +
			"occurrence), rule.id → analytic, rule.description → title, rule.groups → types, rule.mitre → attacks, " +
			"rule.level → severity (0-2 Informational, 3-6 Low, 7-11 Medium, 12-14 High, 15 Critical; the level stays " +
			"in unmapped), agent → device and resources, data.srcip/srcport/dstip/dstport/srcuser/dstuser and " +
			"syscheck.path → evidences, location → metadata.log_name; compliance tags (pci_dss, gdpr …), full_log and " +
			"decoder stay in unmapped. Vulnerabilities → Vulnerability Finding: the 4.7 API output " +
			"(data.affected_items[]; it names no agent, so uid = cve|package|version|architecture) and the 4.8+ indexer " +
			"export (hits.hits[]._source with vulnerability.*, package.*, agent.*; uid = agent.id|cve|package@version, " +
			"the document _id → uid_alt). Indexer exports of alerts (hits.hits[]._source with rule) map as alerts. " +
			"The Wazuh QA JSON Schemas (schema-*.json) are not tool output and are refused.",
		Sniff:  sniffWazuh,
		Decode: decodeWazuh,
	})
}

func sniffWazuh(head []byte) int {
	switch {
	case sniffHas(head, `"_source"`, `"_index"`, `"hits"`, `wazuh`) && (sniffHas(head, `"vulnerability"`, `"package"`) || sniffHas(head, `"rule"`, `"agent"`)):
		return 85
	case sniffHas(head, `"rule"`, `"agent"`, `"manager"`, `"level"`):
		return 85
	case sniffHas(head, `"affected_items"`, `"cve"`):
		return 80 // the API's total_affected_items may lie beyond the head
	case sniffHas(head, `"rule"`, `"decoder"`, `"location"`):
		return 75
	}
	return 0
}

func decodeWazuh(ctx context.Context, r io.Reader, emit Emit) error {
	br := bufio.NewReaderSize(r, SniffBytes)
	head, _ := br.Peek(SniffBytes) // a read error shows up again when decoding
	switch {
	case bytes.Contains(head, []byte(`"affected_items"`)):
		return decodeWazuhNested(ctx, br, []string{"data", "affected_items"}, emit, func(f fields) (ocsf.Record, error) {
			return mapWazuhAPIVuln(f)
		})
	case bytes.Contains(head, []byte(`"_source"`)) && bytes.Contains(head, []byte(`"_index"`)) && bytes.Contains(head, []byte(`"hits"`)):
		return decodeWazuhNested(ctx, br, []string{"hits", "hits"}, emit, mapWazuhHit)
	}
	return decodeItems(ctx, "wazuh", br, nil, emit, func(it jsonstream.Item, emit Emit) error {
		f, err := decodeMap(it.Raw)
		if err != nil {
			return err
		}
		rec, err := mapWazuhAlert(f)
		if err != nil {
			return err
		}
		return emit(rec)
	})
}

// decodeWazuhNested emits one record per element of the array at path (e.g.
// data.affected_items) in each top-level object of r.
func decodeWazuhNested(ctx context.Context, r io.Reader, path []string, emit Emit, mapItem func(fields) (ocsf.Record, error)) error {
	jr := jsonstream.NewReader(r)
	n := 0
	each := func(raw []byte) error {
		n++
		if n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		it := jsonstream.Item{Index: n, Pointer: jr.Pointer(), Offset: jr.Offset()}
		f, err := decodeMap(raw)
		if err != nil {
			return itemErr("wazuh", it, err)
		}
		rec, err := mapItem(f)
		if err != nil {
			return itemErr("wazuh", it, err)
		}
		if err := emit(rec); err != nil {
			return emitError{err}
		}
		return nil
	}
	err := func() error {
		for {
			k, err := jr.Peek()
			if err == io.EOF {
				if n == 0 {
					return fmt.Errorf("%w: no %s array", ErrSyntax, strings.Join(path, "."))
				}
				return nil
			}
			if err != nil {
				return err
			}
			if k != jsonstream.Object {
				return fmt.Errorf("%w: expected a JSON object at the top level", ErrSyntax)
			}
			if err := walkArrayAt(jr, path, each); err != nil {
				return err
			}
		}
	}()
	return finishErr("wazuh", n+1, err)
}

// walkArrayAt reads the object at the reader's position and calls fn with
// each element of the array found at path; everything else is skipped.
func walkArrayAt(jr *jsonstream.Reader, path []string, fn func([]byte) error) error {
	return jr.Members(func(key string) error {
		k, err := jr.Peek()
		if err == io.EOF {
			return fmt.Errorf("%w: %w", ErrSyntax, io.ErrUnexpectedEOF)
		}
		if err != nil {
			return err
		}
		switch {
		case key == path[0] && len(path) > 1 && k == jsonstream.Object:
			return walkArrayAt(jr, path[1:], fn)
		case key == path[0] && len(path) == 1 && k == jsonstream.Array:
			return jr.Elements(func() error {
				raw, err := jr.Raw()
				if err != nil {
					return err
				}
				return fn(raw)
			})
		}
		return jr.Skip()
	})
}

// wazuhSeverity maps a Wazuh rule level (0-15) to a severity id.
func wazuhSeverity(level int64) int {
	switch {
	case level < 0:
		return ocsf.SeverityUnknown
	case level <= 2:
		return ocsf.SeverityInformational
	case level <= 6:
		return ocsf.SeverityLow
	case level <= 11:
		return ocsf.SeverityMedium
	case level <= 14:
		return ocsf.SeverityHigh
	default:
		return ocsf.SeverityCritical
	}
}

func wazuhProduct() ocsf.Product { return ocsf.Product{Name: "Wazuh", VendorName: "Wazuh"} }

func mapWazuhAlert(f fields) (*ocsf.DetectionFinding, error) {
	id := f.str("id")
	if id == "" {
		return nil, missing("id")
	}
	rule := nested(f, "rule")
	if rule == nil {
		return nil, missing("rule")
	}
	ruleID := rule.str("id")
	if ruleID == "" {
		return nil, missing("rule.id")
	}
	d := &ocsf.DetectionFinding{}
	d.SetClass(ocsf.ClassDetectionFinding, ocsf.ActivityCreate, "")
	d.SetStatus(ocsf.FindingStatusNew, "")
	d.IsAlert = boolPtr(true)
	d.Metadata.Product = wazuhProduct()
	if lv := rule.get("level"); lv != nil {
		level, ok := asInt(lv)
		if !ok {
			return nil, &fieldError{"rule.level", errors.New("not an integer")}
		}
		d.SetSeverity(wazuhSeverity(level), "")
	}
	if ts := f.take("timestamp"); ts != nil {
		t, err := anyTime(ts)
		if err != nil {
			return nil, &fieldError{"timestamp", err}
		}
		d.SetTime(t)
	}
	desc := rule.str("description")
	d.FindingInfo = ocsf.FindingInfo{
		UID:      id,
		Title:    firstNonEmpty(desc, "Wazuh rule "+ruleID),
		Types:    asStrings(rule.take("groups")),
		Analytic: ocsf.NewAnalytic(ocsf.AnalyticTypeRule, ruleID, desc),
	}
	if mitre := nested(rule, "mitre"); mitre != nil {
		ids, techniques := asStrings(mitre.take("id")), asStrings(mitre.get("technique"))
		if len(techniques) == len(ids) {
			mitre.take("technique")
		} else {
			techniques = nil
		}
		var attacks []ocsf.Attack
		for i, tid := range ids {
			name := ""
			if techniques != nil {
				name = techniques[i]
			}
			a := ocsf.Attack{Technique: &ocsf.Technique{UID: tid, Name: name}}
			if base, _, ok := strings.Cut(tid, "."); ok {
				a = ocsf.Attack{Technique: &ocsf.Technique{UID: base}, SubTechnique: &ocsf.Technique{UID: tid, Name: name}}
			}
			attacks = append(attacks, a)
		}
		var tactics []ocsf.Tactic
		for _, name := range asStrings(mitre.take("tactic")) {
			t, ok := tacticFromName(name)
			if !ok {
				t = ocsf.Tactic{Name: name}
			}
			tactics = append(tactics, t)
		}
		d.FindingInfo.Attacks = joinTactics(attacks, tactics)
	}
	d.Metadata.LogName = f.str("location")

	if agent := nested(f, "agent"); agent != nil {
		dev, res := wazuhAgent(agent)
		d.Device = dev
		if res != nil {
			d.Resources = []ocsf.ResourceDetails{*res}
			d.AddObservable("resources[0].uid", ocsf.ObservableResourceUID, "Resource UID", res.UID)
		}
	}

	ev := ocsf.Evidence{}
	data := nested(f, "data")
	if data != nil {
		ev.SrcEndpoint = wazuhEndpoint(data, "srcip", "srcport")
		ev.DstEndpoint = wazuhEndpoint(data, "dstip", "dstport")
		if (ev.SrcEndpoint != nil || ev.DstEndpoint != nil) && asString(data.get("protocol")) != "" {
			ev.ConnectionInfo = &ocsf.ConnectionInfo{ProtocolName: strings.ToLower(data.str("protocol"))}
		}
		if u := asString(data.get("srcuser")); u != "" {
			ev.User = &ocsf.User{Name: data.str("srcuser")}
		} else if u := asString(data.get("dstuser")); u != "" {
			ev.User = &ocsf.User{Name: data.str("dstuser")}
		}
	}
	if p := asString(f.get("syscheck.path")); p != "" {
		f.take("syscheck.path")
		ev.File = &ocsf.File{Name: baseName(p), Path: p, TypeID: ocsf.FileTypeUnknown, Type: "Unknown"}
	}
	if ev.SrcEndpoint != nil || ev.DstEndpoint != nil || ev.User != nil || ev.File != nil {
		d.Evidences = []ocsf.Evidence{ev}
		if ev.SrcEndpoint != nil {
			d.AddObservable("evidences[0].src_endpoint.ip", ocsf.ObservableIP, "IP Address", ev.SrcEndpoint.IP)
		}
		if ev.User != nil {
			d.AddObservable("evidences[0].user.name", ocsf.ObservableUserName, "User Name", ev.User.Name)
		}
	}
	for k, v := range pruneNested(f.rest()) {
		d.AddUnmapped(k, v)
	}
	return d, nil
}

// wazuhAgent maps an agent object to the device and the resource the alert
// or vulnerability is about.
func wazuhAgent(agent fields) (*ocsf.Device, *ocsf.ResourceDetails) {
	id, name := agent.str("id"), agent.str("name")
	ip := asString(agent.get("ip"))
	if validIP(ip) {
		agent.take("ip")
	} else {
		ip = ""
	}
	if id == "" && name == "" && ip == "" {
		return nil, nil
	}
	dev := &ocsf.Device{UID: id, Name: name, IP: ip}
	dev.SetType(ocsf.DeviceTypeUnknown)
	res := &ocsf.ResourceDetails{UID: id, Name: name, IP: ip, Type: "Wazuh agent", RoleID: ocsf.ResourceRoleTarget, Role: "Target"}
	if res.UID == "" && res.Name == "" {
		res = nil
	}
	return dev, res
}

func wazuhEndpoint(data fields, ipKey, portKey string) *ocsf.NetworkEndpoint {
	ip := asString(data.get(ipKey))
	if !validIP(ip) {
		return nil
	}
	data.take(ipKey)
	ep := &ocsf.NetworkEndpoint{IP: ip}
	if p, ok := asInt(data.get(portKey)); ok && p > 0 && p <= 65535 {
		data.take(portKey)
		ep.Port = int(p)
	}
	return ep
}

// mapWazuhAPIVuln maps one data.affected_items[] element of the Wazuh 4.7
// API (GET /vulnerability/{agent_id}).
func mapWazuhAPIVuln(f fields) (*ocsf.VulnerabilityFinding, error) {
	cve := f.str("cve")
	if cve == "" {
		return nil, missing("cve")
	}
	name, version, arch := f.str("name"), f.str("version"), f.str("architecture")
	v := &ocsf.VulnerabilityFinding{}
	v.SetClass(ocsf.ClassVulnerabilityFinding, ocsf.ActivityCreate, "")
	v.SetStatus(ocsf.FindingStatusNew, "")
	v.Metadata.Product = wazuhProduct()
	sev := f.str("severity")
	v.SetSeverity(ocsf.SeverityFromLabel(sev), "")
	detected, err := takeTime(f, "detection_time", "detection_time")
	if err != nil {
		return nil, err
	}
	v.Time = detected
	published, _ := takeTime(f, "published", "published")
	updated, _ := takeTime(f, "updated", "updated")
	title := f.str("title")
	v.FindingInfo = ocsf.FindingInfo{
		UID:           strings.Join([]string{cve, name, version, arch}, "|"),
		Title:         firstNonEmpty(title, cve+" affects "+name),
		Types:         []string{"vulnerability"},
		FirstSeenTime: detected,
	}
	c := &ocsf.CVE{UID: cve, CreatedTime: published, ModifiedTime: updated}
	if s, ok := asFloat(f.get("cvss3_score")); ok {
		f.take("cvss3_score")
		if s > 0 {
			c.CVSS = append(c.CVSS, ocsf.CVSS{Version: "3", BaseScore: s})
		}
	}
	if s, ok := asFloat(f.get("cvss2_score")); ok {
		f.take("cvss2_score")
		if s > 0 {
			c.CVSS = append(c.CVSS, ocsf.CVSS{Version: "2.0", BaseScore: s})
		}
	}
	vul := ocsf.Vulnerability{
		Title:      title,
		Severity:   sev,
		VendorName: "Wazuh",
		CVE:        c,
		References: asStrings(f.take("external_references")),
	}
	if cond := asString(f.get("condition")); strings.EqualFold(cond, "Package unfixed") {
		f.take("condition")
		vul.IsFixAvailable = boolPtr(false)
	}
	if name != "" {
		ap := ocsf.AffectedPackage{Name: name, Version: version, Architecture: arch}
		if strings.EqualFold(asString(f.get("type")), "PACKAGE") {
			f.take("type")
		}
		vul.AffectedPackages = []ocsf.AffectedPackage{ap}
	}
	v.Vulnerabilities = []ocsf.Vulnerability{vul}
	v.AddObservable("vulnerabilities[0].cve.uid", ocsf.ObservableCVE, "CVE Object: uid", cve)
	for k, val := range pruneNested(f.rest()) {
		v.AddUnmapped(k, val)
	}
	return v, nil
}

// mapWazuhHit maps one hits.hits[] document of a Wazuh indexer export: a
// vulnerability state (wazuh-states-vulnerabilities-*) or an alert.
func mapWazuhHit(hit fields) (ocsf.Record, error) {
	src := nested(hit, "_source")
	if src == nil {
		return nil, missing("_source")
	}
	docID := hit.str("_id")
	hit.take("_source")
	var rec ocsf.Record
	switch {
	case src.get("vulnerability") != nil:
		v, err := mapWazuhStateVuln(src)
		if err != nil {
			return nil, prefixField("_source.", err)
		}
		v.FindingInfo.UIDAlt = docID
		rec = v
	case src.get("rule") != nil:
		a, err := mapWazuhAlert(src)
		if err != nil {
			return nil, prefixField("_source.", err)
		}
		a.FindingInfo.UIDAlt = docID
		rec = a
	default:
		return nil, missing("_source.vulnerability")
	}
	for k, v := range pruneNested(hit.rest()) {
		rec.Common().AddUnmapped(k, v)
	}
	return rec, nil
}

// prefixField qualifies the field an error names.
func prefixField(prefix string, err error) error {
	var fe *fieldError
	if errors.As(err, &fe) {
		return &fieldError{prefix + fe.field, fe.err}
	}
	if errors.Is(err, ErrMissingField) {
		return fmt.Errorf("%s%w", prefix, err)
	}
	return err
}

// mapWazuhStateVuln maps the _source of a wazuh-states-vulnerabilities document.
func mapWazuhStateVuln(src fields) (*ocsf.VulnerabilityFinding, error) {
	vf := nested(src, "vulnerability")
	vid := vf.str("id")
	if vid == "" {
		return nil, missing("vulnerability.id")
	}
	pkg := nested(src, "package")
	name, version, arch := pkg.str("name"), pkg.str("version"), pkg.str("architecture")
	v := &ocsf.VulnerabilityFinding{}
	v.SetClass(ocsf.ClassVulnerabilityFinding, ocsf.ActivityCreate, "")
	v.SetStatus(ocsf.FindingStatusNew, "")
	v.Metadata.Product = wazuhProduct()
	if ver := asString(src.get("wazuh.schema.version")); ver != "" {
		v.Metadata.LogVersion = asString(src.take("wazuh.schema.version"))
	}
	sev := vf.str("severity")
	v.SetSeverity(ocsf.SeverityFromLabel(sev), "")
	detected, err := takeTime(vf, "detected_at", "vulnerability.detected_at")
	if err != nil {
		return nil, err
	}
	published, err := takeTime(vf, "published_at", "vulnerability.published_at")
	if err != nil {
		return nil, err
	}
	v.Time = detected

	agent := nested(src, "agent")
	agentID := asString(agent.get("id"))
	pkgRef := name
	if version != "" {
		pkgRef += "@" + version
	}
	v.FindingInfo = ocsf.FindingInfo{
		UID:           strings.Join([]string{agentID, vid, pkgRef}, "|"),
		Title:         vid + " in " + firstNonEmpty(name, "an unnamed package"),
		Types:         []string{"vulnerability"},
		FirstSeenTime: detected,
		SrcURL:        asString(vf.take("scanner.reference")),
	}
	desc := vf.str("description")
	vul := ocsf.Vulnerability{
		Desc:       desc,
		Severity:   sev,
		Category:   vf.str("category"),
		VendorName: asString(vf.take("scanner.vendor")),
	}
	for _, ref := range strings.Split(vf.str("reference"), ",") {
		if ref = strings.TrimSpace(ref); ref != "" {
			vul.References = append(vul.References, ref)
		}
	}
	enum := asString(vf.get("enumeration"))
	if strings.EqualFold(enum, "CVE") || strings.HasPrefix(vid, "CVE-") {
		if strings.EqualFold(enum, "CVE") {
			vf.take("enumeration")
		}
		vul.CVE = &ocsf.CVE{UID: vid, CreatedTime: published}
		if s, ok := asFloat(vf.get("score.base")); ok && s > 0 && asString(vf.get("score.version")) != "" {
			vf.take("score.base")
			vul.CVE.CVSS = []ocsf.CVSS{{Version: asString(vf.take("score.version")), BaseScore: s}}
		}
		v.AddObservable("vulnerabilities[0].cve.uid", ocsf.ObservableCVE, "CVE Object: uid", vid)
	} else {
		vul.Advisory = &ocsf.Advisory{UID: vid, Desc: desc, CreatedTime: published} // the score stays in unmapped
	}
	if name != "" {
		vul.AffectedPackages = []ocsf.AffectedPackage{{Name: name, Version: version, Architecture: arch, PackageManager: pkg.str("type")}}
	}
	v.Vulnerabilities = []ocsf.Vulnerability{vul}

	if agent != nil {
		dev, res := wazuhAgent(agent)
		if dev != nil {
			if os := wazuhOS(nested(src, "host.os")); os != nil {
				dev.OS = os
			}
			v.Device = dev
		}
		if res != nil {
			v.Resources = []ocsf.ResourceDetails{*res}
			v.AddObservable("resources[0].uid", ocsf.ObservableResourceUID, "Resource UID", res.UID)
		}
	}
	for k, val := range pruneNested(src.rest()) {
		v.AddUnmapped(k, val)
	}
	return v, nil
}

// wazuhOS maps host.os (ECS) to an OCSF os; nil without a name.
func wazuhOS(o fields) *ocsf.OS {
	name := asString(o.get("full"))
	if name == "" {
		name = asString(o.get("name"))
	}
	if name == "" {
		return nil
	}
	os := &ocsf.OS{Name: name, Version: asString(o.take("version"))}
	o.take("full")
	if os.Name == asString(o.get("name")) {
		o.take("name")
	}
	switch platform := strings.ToLower(asString(o.get("platform"))); {
	case platform == "windows":
		os.TypeID, os.Type = 100, "Windows"
	case platform == "darwin" || platform == "macos":
		os.TypeID, os.Type = 300, "macOS"
	case platform == "sunos" || platform == "solaris":
		os.TypeID, os.Type = 400, "Solaris"
	case platform == "aix":
		os.TypeID, os.Type = 401, "AIX"
	case platform == "hp-ux":
		os.TypeID, os.Type = 402, "HP-UX"
	case platform != "":
		os.TypeID, os.Type = 200, "Linux"
	default:
		os.TypeID, os.Type = 0, "Unknown"
	}
	return os
}
