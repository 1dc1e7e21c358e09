package dedup

import (
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/canopy-sec/canopy/internal/ocsf"
)

// DetectionWindow is the time bucket within which repeated alerts of one
// rule about one entity are the same issue.
const DetectionWindow = time.Hour

var digestRE = regexp.MustCompile(`sha256:[0-9a-f]{64}`)

// IssueKey returns the canonical key that joins what different tools say
// about the same thing, or "" when the record has none (events):
//
//   - vulnerabilities: "vuln|" vulnerability id (the CVE, else the advisory
//     id) | package name @ installed version (epoch dropped, Debian-style
//     release joined) | artifact (the image digest when one is named
//     anywhere in the resource, else the resource uid);
//   - compliance: "control|" the control ([CanonicalControl]: Security Hub
//     and Prowler controls become the CIS control they check) | the
//     resource uid;
//   - detections: "detect|" product | rule | entity | the hour of the alert,
//     so that repeated alerts collapse into one issue with a count;
//   - sensitive data: "data|" the data store's uid, so that every scanner's
//     word on one store is one issue.
//
// Parts are lower-cased and trimmed. Findings that share a key are one issue
// with several sources, while each finding stays intact.
func IssueKey(rec ocsf.Record) string {
	switch f := rec.(type) {
	case *ocsf.VulnerabilityFinding:
		return vulnKey(f)
	case *ocsf.ComplianceFinding:
		control := f.Compliance.Control
		if control == "" && f.FindingInfo.Analytic != nil {
			control = f.FindingInfo.Analytic.UID
		}
		if control == "" {
			return ""
		}
		return join("control", CanonicalControl(control), resourceUID(f.Resources))
	case *ocsf.DataSecurityFinding:
		if uid := resourceUID(f.Resources); uid != "" {
			return join("data", uid)
		}
		return ""
	case *ocsf.DetectionFinding:
		rule := f.FindingInfo.Title
		if a := f.FindingInfo.Analytic; a != nil && a.UID != "" {
			rule = a.UID
		}
		bucket := time.UnixMilli(f.Time).UTC().Truncate(DetectionWindow).Unix()
		return join("detect", f.Metadata.Product.Name, rule, detectionEntity(f), strconv.FormatInt(bucket, 10))
	}
	return ""
}

func vulnKey(f *ocsf.VulnerabilityFinding) string {
	if len(f.Vulnerabilities) == 0 {
		return ""
	}
	v := f.Vulnerabilities[0]
	id := ""
	switch {
	case v.CVE != nil:
		id = v.CVE.UID
	case v.Advisory != nil:
		id = v.Advisory.UID
	case v.CWE != nil:
		id = v.CWE.UID
	}
	if id == "" {
		return ""
	}
	pkg := ""
	if len(v.AffectedPackages) > 0 {
		p := v.AffectedPackages[0]
		pkg = p.Name + "@" + packageVersion(p.Version, p.Release)
	} else if len(v.AffectedCode) > 0 {
		c := v.AffectedCode[0]
		pkg = c.File.Path + ":" + strconv.Itoa(c.StartLine)
	}
	return join("vuln", id, pkg, artifact(f.Resources))
}

// packageVersion normalizes an installed version: an "0:" style epoch is
// dropped and a separate release (ASFF's VulnerablePackages) is joined the
// way Debian and RPM write it.
func packageVersion(version, release string) string {
	if i := strings.IndexByte(version, ':'); i > 0 && isDigits(version[:i]) {
		version = version[i+1:]
	}
	if release != "" && !strings.HasSuffix(version, "-"+release) {
		version += "-" + release
	}
	return version
}

// artifact identifies what a vulnerability was found in: the image digest
// when any resource names one (Trivy's RepoDigests, ECR image ARNs and
// ImageDigest, Grype's manifest digest), else the first resource uid.
func artifact(resources []ocsf.ResourceDetails) string {
	for _, r := range resources {
		for _, s := range []string{r.UID, r.UIDAlt, r.Name} {
			if d := digestRE.FindString(strings.ToLower(s)); d != "" {
				return d
			}
		}
		if m, ok := r.Data.(map[string]any); ok {
			for _, v := range m {
				if d := digestIn(v); d != "" {
					return d
				}
			}
		}
	}
	return resourceUID(resources)
}

func digestIn(v any) string {
	switch x := v.(type) {
	case string:
		return digestRE.FindString(strings.ToLower(x))
	case map[string]any:
		if d, ok := x["ImageDigest"].(string); ok {
			return digestRE.FindString(strings.ToLower(d))
		}
	}
	return ""
}

func resourceUID(resources []ocsf.ResourceDetails) string {
	for _, r := range resources {
		if r.UID != "" {
			return r.UID
		}
		if r.Name != "" {
			return r.Name
		}
	}
	return ""
}

// detectionEntity is what an alert is about: the first resource, else the
// device, else the source endpoint of its first evidence.
func detectionEntity(f *ocsf.DetectionFinding) string {
	if uid := resourceUID(f.Resources); uid != "" {
		return uid
	}
	if d := f.Device; d != nil {
		return firstNonEmpty(d.UID, d.Hostname, d.IP, d.Name)
	}
	for _, e := range f.Evidences {
		if e.SrcEndpoint != nil {
			return firstNonEmpty(e.SrcEndpoint.IP, e.SrcEndpoint.Hostname)
		}
	}
	return ""
}

func join(parts ...string) string {
	for i, p := range parts {
		parts[i] = strings.ToLower(strings.TrimSpace(p))
	}
	return strings.Join(parts, "|")
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
