package posture

import (
	"strings"

	"github.com/canopy-sec/canopy/internal/ocsf"
	"github.com/canopy-sec/canopy/internal/posture/inventory"
)

// ProductName is metadata.product.name of the findings posture emits.
const ProductName = "Canopy Posture"

// FindingOptions tune [NewFindings]. The zero value is ready to use.
type FindingOptions struct {
	// ProductVersion is metadata.product.version (Canopy's version).
	ProductVersion string
	// TenantUID is metadata.tenant_uid.
	TenantUID string
	// OmitAttributes leaves the resource's attributes out of
	// resources[0].data. Default: they are included, as the evidence of
	// the result.
	OmitAttributes bool
}

// NewFindings converts a result to OCSF Compliance Findings (class 2003):
// one per framework control the rule maps to, with compliance.control the
// canonical "<pack id>:<control id>" (e.g. "cis-aws-3.0:2.1.4"), or one
// with the rule id as control when the rule maps to none.
//
// compliance.standards names the framework of the control (the pack's
// framework name and version for a built-in pack, else the pack id);
// compliance.requirements lists every canonical control of the rule;
// finding_info.analytic is the rule; resources[0] is the checked resource
// with its uid (for AWS, the ARN) and, unless omitted, its attributes as
// data. A pass is compliance Pass and finding status Resolved, a failure
// is Fail and New, an error is compliance Other ("Error") and New with the
// reason in status_detail. finding_info.uid is stable across scans:
// "canopy-posture|<rule id>|<control>|<resource key>".
func NewFindings(res Result, opts FindingOptions) []*ocsf.ComplianceFinding {
	if res.Rule == nil || res.Resource == nil {
		return nil
	}
	controls := res.Rule.Controls()
	if len(controls) == 0 {
		return []*ocsf.ComplianceFinding{newFinding(res, opts, res.Rule.ID, "", controls)}
	}
	out := make([]*ocsf.ComplianceFinding, 0, len(controls))
	for _, c := range controls {
		pack, _, _ := strings.Cut(c, ":")
		out = append(out, newFinding(res, opts, c, pack, controls))
	}
	return out
}

func newFinding(res Result, opts FindingOptions, control, pack string, controls []string) *ocsf.ComplianceFinding {
	r, rs := res.Rule, res.Resource
	f := &ocsf.ComplianceFinding{}
	f.SetClass(ocsf.ClassComplianceFinding, ocsf.ActivityCreate, "")
	f.SetTime(res.Time)
	f.Metadata.Product = ocsf.Product{Name: ProductName, VendorName: "Canopy", UID: "canopy-posture", Version: opts.ProductVersion}
	f.Metadata.EventCode = r.ID
	f.Metadata.TenantUID = opts.TenantUID
	f.SetSeverity(severityID(r.Severity), "")

	f.Compliance = ocsf.Compliance{Control: control, Requirements: controls, Desc: r.Description, Category: r.ResponsibilityArea}
	if pack != "" {
		f.Compliance.Standards = []string{StandardName(pack)}
	}
	f.Compliance.StatusCode = res.Status.String()
	switch res.Status {
	case StatusPass:
		f.Compliance.SetStatus(ocsf.ComplianceStatusPass)
		f.SetStatus(ocsf.FindingStatusResolved, "")
	case StatusFail:
		f.Compliance.SetStatus(ocsf.ComplianceStatusFail)
		f.SetStatus(ocsf.FindingStatusNew, "")
	default:
		f.Compliance.StatusID, f.Compliance.Status = 99, "Error"
		f.SetStatus(ocsf.FindingStatusNew, "")
	}
	if res.Message != "" {
		f.Message = res.Message
		f.Compliance.StatusDetails = []string{res.Message}
		if res.Status != StatusPass {
			f.StatusDetail = res.Message
		}
	}
	if f.Message == "" {
		f.Message = r.Title
	}

	f.FindingInfo = ocsf.FindingInfo{
		UID:      "canopy-posture|" + r.ID + "|" + control + "|" + rs.Key(),
		Title:    r.Title,
		Desc:     r.Description,
		Types:    []string{"Posture"},
		Analytic: ocsf.NewAnalytic(ocsf.AnalyticTypeRule, r.ID, r.Title),
	}
	if !rs.ObservedAt.IsZero() {
		f.FindingInfo.LastSeenTime = ocsf.Millis(rs.ObservedAt)
	}
	f.SetCloud(cloudOf(rs))
	f.Resources = []ocsf.ResourceDetails{resourceDetails(rs, opts)}
	f.AddObservable("resources[0].uid", ocsf.ObservableResourceUID, "Resource UID", rs.UID)
	if r.Remediation != "" || len(r.References) > 0 {
		f.Remediation = &ocsf.Remediation{Desc: strings.TrimSpace(r.Remediation), References: r.References}
		if f.Remediation.Desc == "" {
			f.Remediation.Desc = r.Title
		}
	}
	if rs.Source != "" {
		f.AddUnmapped("resource_source", rs.Source)
	}
	return f
}

func severityID(s Severity) int {
	switch s {
	case SeverityInformational:
		return ocsf.SeverityInformational
	case SeverityLow:
		return ocsf.SeverityLow
	case SeverityMedium:
		return ocsf.SeverityMedium
	case SeverityHigh:
		return ocsf.SeverityHigh
	case SeverityCritical:
		return ocsf.SeverityCritical
	}
	return ocsf.SeverityUnknown
}

// cloudOf returns the cloud profile of a resource, or nil for providers
// that are not clouds.
func cloudOf(r *inventory.Resource) *ocsf.Cloud {
	var c *ocsf.Cloud
	switch r.Provider {
	case "aws":
		c = &ocsf.Cloud{Provider: "AWS"}
		if r.Account != "" {
			c.Account = &ocsf.Account{UID: r.Account, TypeID: ocsf.AccountTypeAWS, Type: "AWS Account"}
		}
	case "alicloud":
		c = &ocsf.Cloud{Provider: "Alibaba Cloud"}
		if r.Account != "" {
			c.Account = &ocsf.Account{UID: r.Account, TypeID: ocsf.AccountTypeOther, Type: "Alibaba Cloud Account"}
		}
	case "gcp":
		c = &ocsf.Cloud{Provider: "GCP"}
		if r.Account != "" {
			c.Account = &ocsf.Account{UID: r.Account, TypeID: 11, Type: "GCP Project"}
		}
	case "azure":
		c = &ocsf.Cloud{Provider: "Azure"}
		if r.Account != "" {
			c.Account = &ocsf.Account{UID: r.Account, TypeID: 13, Type: "Azure Subscription"}
		}
	default:
		return nil
	}
	c.Region = r.Region
	return c
}

func resourceDetails(r *inventory.Resource, opts FindingOptions) ocsf.ResourceDetails {
	d := ocsf.ResourceDetails{
		UID:    r.UID,
		Name:   r.Name,
		Type:   r.Type,
		RoleID: ocsf.ResourceRoleTarget,
		Role:   "Target",
	}
	if r.Provider == "kubernetes" {
		if ns, _, ok := strings.Cut(r.UID, "/"); ok {
			d.Namespace = ns
		}
	}
	for _, k := range sortedKeys(r.Tags) {
		d.Tags = append(d.Tags, ocsf.KeyValue{Name: k, Value: r.Tags[k]})
	}
	if !opts.OmitAttributes && len(r.Attributes) > 0 {
		d.Data = map[string]any{"attributes": r.Attributes}
	}
	return d
}
