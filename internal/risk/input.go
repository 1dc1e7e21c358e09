package risk

import "time"

// Tier is an asset's business criticality, as assigned by the operator's
// asset context file ([AssetContext]). The zero value is [TierUnknown].
type Tier string

// Asset criticality tiers, from most to least critical.
const (
	TierCrownJewel Tier = "crown-jewel"
	TierHigh       Tier = "high"
	TierMedium     Tier = "medium"
	TierLow        Tier = "low"
	TierUnknown    Tier = ""
)

// rank orders tiers; unknown ranks below low so that any assigned tier wins
// when several resources are compared.
func (t Tier) rank() int {
	switch t {
	case TierCrownJewel:
		return 4
	case TierHigh:
		return 3
	case TierMedium:
		return 2
	case TierLow:
		return 1
	}
	return 0
}

func (t Tier) valid() bool { return t.rank() > 0 }

// DataGrade is the grade of the data an asset holds under GB/T 43697-2024
// (core, important, general). It is a hook for internal/datagrade: nothing in
// this package derives it yet, and the zero value is [DataGradeUnknown].
type DataGrade string

// Data grades, from most to least sensitive.
const (
	DataGradeCore      DataGrade = "core"
	DataGradeImportant DataGrade = "important"
	DataGradeGeneral   DataGrade = "general"
	DataGradeUnknown   DataGrade = ""
)

// Privilege is the privilege of an identity involved in an issue or
// incident. The zero value is [PrivilegeNone].
type Privilege string

// Identity privilege levels.
const (
	PrivilegeRoot  Privilege = "root"
	PrivilegeAdmin Privilege = "admin"
	PrivilegeNone  Privilege = ""
)

// Input is everything [Score] needs about one issue or incident. The caller
// builds it from the records' findings — with [FromFindings] or by hand — so
// that this package never reads the store. The zero Input scores 0 (except
// for asset criticality, see [Score]).
type Input struct {
	// SeverityID is the highest OCSF severity_id among the findings
	// (1 Informational … 5 Critical, 6 Fatal); 0 (Unknown) and 99 (Other)
	// add nothing.
	SeverityID int
	// CVSS is the highest CVSS base score (0–10) among the findings'
	// vulnerabilities; 0 when none carries one.
	CVSS float64
	// ExploitKnown reports that an exploit is known to exist or that the
	// vulnerability is known to be exploited.
	ExploitKnown bool
	// ExploitSource says why ExploitKnown is set (for example
	// "is_exploit_available: CVE-2022-22965" or "KEV: CVE-2021-44228").
	ExploitSource string
	// EPSS is the highest EPSS probability (0–1) among the findings' CVEs.
	EPSS float64
	// InternetExposed reports that the affected resource is reachable from
	// the internet: a public IP, ingress from 0.0.0.0/0 or ::/0, or a public
	// bucket or ACL.
	InternetExposed bool
	// ExposureReason says why InternetExposed is set.
	ExposureReason string
	// AssetTier is the highest criticality tier among the affected
	// resources.
	AssetTier Tier
	// AssetMatch names the resource and rule that set AssetTier.
	AssetMatch string
	// DataGrade is the grade of the data the affected resources hold.
	DataGrade DataGrade
	// Privilege is the highest privilege among the identities involved.
	Privilege Privilege
	// Principal names the identity that set Privilege.
	Principal string
	// Tactics is the number of distinct ATT&CK tactics (kill-chain breadth)
	// of an incident; issues usually have 0 or 1.
	Tactics int
	// LastSeen is when the issue or incident was last observed; the zero
	// time means unknown and adds no recency.
	LastSeen time.Time
	// AsOf is the time recency is measured against (normally now); the
	// zero time means unknown and adds no recency.
	AsOf time.Time
}
