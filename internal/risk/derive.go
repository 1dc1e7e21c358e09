package risk

import (
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/canopy-sec/canopy/internal/ocsf"
)

// FromFindings derives an [Input] from the OCSF records of one issue or
// incident, the operator's asset context, a KEV list and the time of
// scoring. It is conservative: a factor is set only on explicit evidence,
// never guessed from free text. Records that are not findings, and
// compliance findings whose compliance status is Pass, are ignored.
//
//   - SeverityID: the highest severity_id between 1 and 6.
//   - CVSS: the highest vulnerabilities[].cve.cvss[].base_score (any CVSS
//     version or vendor), capped to 0–10.
//   - EPSS: the highest vulnerabilities[].cve.epss.score in 0–1.
//   - ExploitKnown: a vulnerability with is_exploit_available true (the
//     ASFF decoder maps Inspector's ExploitAvailable there, the Grype
//     decoder knownExploited), or a CVE id (cve.uid or a CVE in
//     related_vulnerabilities) listed in kev.
//   - InternetExposed, first reason found: a failing check whose id
//     (finding_info.analytic.uid, metadata.event_code or compliance.control)
//     is a known internet-exposure control (Security Hub S3.2/3/8/19,
//     EC2.9/13/14/18/19/21, RDS.2, Lambda.1; check ids containing
//     "ingress_from_internet", "public_access", "publicly_accessible",
//     "not_publicly", "public_bucket", "public_ip" or "open_firewall");
//     a check title naming 0.0.0.0/0 or ::/0; a resource whose ip is a
//     public address; a resource whose data lists a public address under
//     AwsEc2Instance.IpV4Addresses / IpV6Addresses or
//     networkInterfaces[].publicIp; a resource whose data says
//     publicAccess.effectivePermission PUBLIC (GuardDuty S3).
//   - AssetTier: the highest tier ctx assigns to any resources[] entry.
//   - DataGrade: left unknown (internal/datagrade will supply it).
//   - Privilege: root when a user (resources[].owner, evidences[].user,
//     evidences[].actor.user, evidences[].process.user) has a uid or name
//     ending in ":root" or a type of "Root", or a resource's data has
//     PrincipalType Root (ASFF AwsIamAccessKey); admin when such a user has
//     type_id Admin or belongs to the Kubernetes group system:masters.
//   - Tactics: the number of distinct ATT&CK tactics in
//     finding_info.attacks[] (tactic and tactics), by uid, else name.
//   - LastSeen: the latest of finding_info.last_seen_time and time.
//   - AsOf: now.
func FromFindings(recs []ocsf.Record, ctx AssetContext, kev KEV, now time.Time) Input {
	in := Input{AsOf: now}
	tactics := map[string]struct{}{}
	var lastSeen int64
	for _, rec := range recs {
		f, vulns, comp, evs := findingOf(rec)
		if f == nil {
			continue
		}
		if comp != nil && comp.StatusID == 1 { // Pass
			continue
		}
		if id := f.SeverityID; id >= 1 && id <= 6 && id > in.SeverityID {
			in.SeverityID = id
		}
		lastSeen = max(lastSeen, f.FindingInfo.LastSeenTime, f.Time)
		for _, v := range vulns {
			deriveVuln(&in, v, kev)
		}
		if !in.InternetExposed {
			if why := exposure(f, comp); why != "" {
				in.InternetExposed, in.ExposureReason = true, why
			}
		}
		for _, res := range f.Resources {
			if t, rule := ctx.Tier(res); t.rank() > in.AssetTier.rank() {
				in.AssetTier = t
				in.AssetMatch = resourceName(res) + " (" + rule + ")"
			}
		}
		derivePrivilege(&in, f, evs)
		for _, a := range f.FindingInfo.Attacks {
			if a.Tactic != nil {
				addTactic(tactics, *a.Tactic)
			}
			for _, t := range a.Tactics {
				addTactic(tactics, t)
			}
		}
	}
	in.Tactics = len(tactics)
	if lastSeen > 0 {
		in.LastSeen = time.UnixMilli(lastSeen).UTC()
	}
	return in
}

// findingOf returns the finding part of rec, its vulnerabilities, its
// compliance object and its evidences, or a nil finding for records that are
// not findings.
func findingOf(rec ocsf.Record) (*ocsf.Finding, []ocsf.Vulnerability, *ocsf.Compliance, []ocsf.Evidence) {
	switch r := rec.(type) {
	case *ocsf.VulnerabilityFinding:
		return &r.Finding, r.Vulnerabilities, nil, nil
	case *ocsf.ComplianceFinding:
		return &r.Finding, nil, &r.Compliance, nil
	case *ocsf.DetectionFinding:
		return &r.Finding, nil, nil, r.Evidences
	case *ocsf.DataSecurityFinding:
		return &r.Finding, nil, nil, nil
	}
	return nil, nil, nil, nil
}

func deriveVuln(in *Input, v ocsf.Vulnerability, kev KEV) {
	var cves []string
	if v.CVE != nil {
		cves = append(cves, v.CVE.UID)
		for _, c := range v.CVE.CVSS {
			in.CVSS = max(in.CVSS, min(max(c.BaseScore, 0), 10))
		}
		if v.CVE.EPSS != nil {
			if p, err := strconv.ParseFloat(v.CVE.EPSS.Score, 64); err == nil && p >= 0 && p <= 1 {
				in.EPSS = max(in.EPSS, p)
			}
		}
	}
	for _, id := range v.RelatedVulns {
		if strings.HasPrefix(strings.ToUpper(id), "CVE-") {
			cves = append(cves, id)
		}
	}
	if in.ExploitKnown {
		return
	}
	label := "vulnerability"
	if len(cves) > 0 && cves[0] != "" {
		label = cves[0]
	}
	if v.IsExploitAvailable != nil && *v.IsExploitAvailable {
		in.ExploitKnown, in.ExploitSource = true, "is_exploit_available: "+label
		return
	}
	for _, id := range cves {
		if kev.Contains(id) {
			in.ExploitKnown, in.ExploitSource = true, "KEV: "+strings.ToUpper(id)
			return
		}
	}
}

// isExposureControl reports whether id names a Security Hub control whose
// failure means internet exposure.
func isExposureControl(id string) bool {
	switch strings.ToUpper(id) {
	case "S3.2", "S3.3", "S3.8", "S3.19", "EC2.9", "EC2.13", "EC2.14", "EC2.18", "EC2.19", "EC2.21", "RDS.2", "LAMBDA.1":
		return true
	}
	return false
}

// exposureCheckWord returns the substring of a check id (Prowler, GCP SCC …)
// whose failure means internet exposure, or "".
func exposureCheckWord(id string) string {
	low := strings.ToLower(id)
	for _, w := range []string{"ingress_from_internet", "public_access", "publicly_accessible", "not_publicly", "public_bucket", "public_ip", "open_firewall"} {
		if strings.Contains(low, w) {
			return w
		}
	}
	return ""
}

// exposure returns why f shows internet exposure, or "".
func exposure(f *ocsf.Finding, comp *ocsf.Compliance) string {
	ids := []string{f.Metadata.EventCode}
	if a := f.FindingInfo.Analytic; a != nil {
		ids = append(ids, a.UID)
	}
	if comp != nil {
		ids = append(ids, comp.Control)
	}
	for _, id := range ids {
		if id == "" {
			continue
		}
		if isExposureControl(id[strings.LastIndexByte(id, '/')+1:]) {
			return "failed control " + id
		}
		if exposureCheckWord(id) != "" {
			return "failed check " + id
		}
	}
	if t := f.FindingInfo.Title; strings.Contains(t, "0.0.0.0/0") || strings.Contains(t, "::/0") {
		return "ingress from 0.0.0.0/0: " + t
	}
	for _, res := range f.Resources {
		if isPublicIP(res.IP) {
			return "public IP " + res.IP + " on " + resourceName(res)
		}
		if why := dataExposure(res.Data); why != "" {
			return why + " on " + resourceName(res)
		}
	}
	return ""
}

// dataExposure inspects a resource's source-specific data.
func dataExposure(data any) string {
	m, ok := data.(map[string]any)
	if !ok {
		return ""
	}
	if ec2, ok := m["AwsEc2Instance"].(map[string]any); ok {
		for _, k := range []string{"IpV4Addresses", "IpV6Addresses"} {
			for _, ip := range strs(ec2[k]) {
				if isPublicIP(ip) {
					return "public IP " + ip
				}
			}
		}
	}
	if nis, ok := m["networkInterfaces"].([]any); ok {
		for _, ni := range nis {
			if n, ok := ni.(map[string]any); ok {
				if ip, _ := n["publicIp"].(string); isPublicIP(ip) {
					return "public IP " + ip
				}
			}
		}
	}
	if pa, ok := m["publicAccess"].(map[string]any); ok {
		if p, _ := pa["effectivePermission"].(string); strings.EqualFold(p, "PUBLIC") {
			return "public bucket (effective permission PUBLIC)"
		}
	}
	return ""
}

func strs(v any) []string {
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, x := range l {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// isPublicIP reports whether s is a globally routable unicast address:
// not private, loopback, link-local, shared (100.64/10), documentation or
// unspecified.
func isPublicIP(s string) bool {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return false
	}
	a = a.Unmap()
	if !a.IsGlobalUnicast() || a.IsPrivate() {
		return false
	}
	for _, p := range nonPublic() {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

// nonPublic lists global-unicast ranges that are still not reachable from
// the internet.
func nonPublic() []netip.Prefix {
	return []netip.Prefix{
		netip.MustParsePrefix("100.64.0.0/10"),   // shared address space (CGNAT)
		netip.MustParsePrefix("192.0.2.0/24"),    // TEST-NET-1
		netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
		netip.MustParsePrefix("198.51.100.0/24"), // TEST-NET-2
		netip.MustParsePrefix("203.0.113.0/24"),  // TEST-NET-3
		netip.MustParsePrefix("2001:db8::/32"),   // documentation
	}
}

func derivePrivilege(in *Input, f *ocsf.Finding, evs []ocsf.Evidence) {
	consider := func(u *ocsf.User) {
		if u == nil || in.Privilege == PrivilegeRoot {
			return
		}
		who := u.UID
		if who == "" {
			who = u.Name
		}
		switch {
		case strings.HasSuffix(u.UID, ":root") || strings.HasSuffix(u.Name, ":root") || strings.EqualFold(u.Type, "Root"):
			in.Privilege, in.Principal = PrivilegeRoot, who
		case in.Privilege == PrivilegeNone && (u.TypeID == ocsf.UserTypeAdmin || inGroup(u, "system:masters")):
			in.Privilege, in.Principal = PrivilegeAdmin, who
		}
	}
	for _, res := range f.Resources {
		consider(res.Owner)
		if m, ok := res.Data.(map[string]any); ok && in.Privilege != PrivilegeRoot {
			for _, v := range m {
				if d, ok := v.(map[string]any); ok {
					if t, _ := d["PrincipalType"].(string); strings.EqualFold(t, "Root") {
						name, _ := d["PrincipalName"].(string)
						if name == "" {
							name = res.UID
						}
						in.Privilege, in.Principal = PrivilegeRoot, name
					}
				}
			}
		}
	}
	for _, e := range evs {
		consider(e.User)
		if e.Actor != nil {
			consider(e.Actor.User)
		}
		if e.Process != nil {
			consider(e.Process.User)
		}
	}
}

func inGroup(u *ocsf.User, name string) bool {
	for _, g := range u.Groups {
		if g.Name == name {
			return true
		}
	}
	return false
}

func addTactic(set map[string]struct{}, t ocsf.Tactic) {
	key := strings.ToUpper(strings.TrimSpace(t.UID))
	if key == "" {
		key = strings.ToLower(strings.TrimSpace(t.Name))
	}
	if key != "" {
		set[key] = struct{}{}
	}
}

func resourceName(r ocsf.ResourceDetails) string {
	switch {
	case r.UID != "":
		return r.UID
	case r.Name != "":
		return r.Name
	}
	return "resource"
}
