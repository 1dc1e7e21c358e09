package risk

import (
	"math"
	"sort"
	"time"
)

// Factor names, stable snake_case identifiers stored with every score.
const (
	FactorSeverity           = "severity"
	FactorCVSS               = "cvss"
	FactorExploitKnown       = "exploit_known"
	FactorEPSS               = "epss"
	FactorInternetExposure   = "internet_exposure"
	FactorAssetCriticality   = "asset_criticality"
	FactorDataGrade          = "data_grade"
	FactorPrivilegedIdentity = "privileged_identity"
	FactorKillChainBreadth   = "kill_chain_breadth"
	FactorRecency            = "recency"
)

const numFactors = 10

// MaxScore is the highest score.
const MaxScore = 100

// Result is a risk score and its explanation. It serializes as
// {"score":87,"factors":[{"name":"exploit_known","value":true,"weight":15,"contribution":15},…]}.
type Result struct {
	// Score is the risk, 0–100; it equals the sum of the factors'
	// contributions.
	Score int `json:"score"`
	// Factors lists every factor once, largest contribution first (ties in
	// the fixed factor order).
	Factors []Factor `json:"factors"`
}

// Factor is one factor of a [Result].
type Factor struct {
	// Name is the factor's stable name (FactorSeverity …).
	Name string `json:"name"`
	// Value is the factor's input as JSON-friendly data: an int, float64,
	// bool or string; nil when unknown.
	Value any `json:"value"`
	// Weight is the factor's weight from [Weights].
	Weight float64 `json:"weight"`
	// Contribution is the factor's integer share of the score.
	Contribution int `json:"contribution"`
	// Detail says where the value came from (an exposure reason, the
	// matching asset rule, the exploited CVE …), if anything.
	Detail string `json:"detail,omitempty"`
}

// Score computes the risk of in under w. Each factor's signal, between 0
// and 1, is:
//
//   - severity: by severity_id, Informational 0, Low 0.25, Medium 0.5,
//     High 0.75, Critical and Fatal 1; Unknown and Other 0;
//   - cvss: base score / 10;
//   - exploit_known, internet_exposure: 1 when true;
//   - epss: the probability;
//   - asset_criticality: crown-jewel 1, high 0.7, medium 0.4, low 0.1, and
//     unknown 0.4 (an untagged asset counts as medium, so tagging it low
//     lowers its score and tagging it high raises it);
//   - data_grade: core 1, important 0.6, general 0.2, unknown 0;
//   - privileged_identity: root 1, admin 0.7;
//   - kill_chain_breadth: (tactics − 1) / (KillChainFull − 1), capped at 1;
//   - recency: 0.5^(age / RecencyHalfLife) with age = AsOf − LastSeen (a
//     future LastSeen counts as age 0); 0 when either time is unknown.
//
// A factor's raw contribution is weight × signal. If the raw sum exceeds
// 100 every raw contribution is scaled by 100/sum. The score is the raw sum
// rounded to the nearest integer, and it is apportioned to the factors by
// largest remainder so that the contributions sum exactly to it.
// Score assumes w is valid (see [Weights.Validate]); a negative or NaN
// weight counts as 0.
func Score(in Input, w Weights) Result {
	ws := w.factors()
	facts := [numFactors]Factor{}
	var raw [numFactors]float64
	sig := signals(in, w)
	for i := range facts {
		facts[i] = Factor{Name: ws[i].key, Weight: ws[i].w}
		wt := ws[i].w
		if !(wt > 0) || math.IsInf(wt, 0) { // negative, NaN, infinite
			wt = 0
		}
		raw[i] = wt * sig[i]
	}
	describe(&facts, in)

	contrib, total := apportion(raw)
	for i := range facts {
		facts[i].Contribution = contrib[i]
	}
	out := facts[:]
	sort.SliceStable(out, func(a, b int) bool { return out[a].Contribution > out[b].Contribution })
	return Result{Score: total, Factors: out}
}

// signals returns each factor's signal in [0,1], in the fixed factor order.
func signals(in Input, w Weights) [numFactors]float64 {
	var s [numFactors]float64
	switch in.SeverityID {
	case 2:
		s[0] = 0.25
	case 3:
		s[0] = 0.5
	case 4:
		s[0] = 0.75
	case 5, 6:
		s[0] = 1
	}
	s[1] = clamp01(in.CVSS / 10)
	if in.ExploitKnown {
		s[2] = 1
	}
	s[3] = clamp01(in.EPSS)
	if in.InternetExposed {
		s[4] = 1
	}
	switch in.AssetTier {
	case TierCrownJewel:
		s[5] = 1
	case TierHigh:
		s[5] = 0.7
	case TierLow:
		s[5] = 0.1
	default: // medium, unknown
		s[5] = 0.4
	}
	switch in.DataGrade {
	case DataGradeCore:
		s[6] = 1
	case DataGradeImportant:
		s[6] = 0.6
	case DataGradeGeneral:
		s[6] = 0.2
	}
	switch in.Privilege {
	case PrivilegeRoot:
		s[7] = 1
	case PrivilegeAdmin:
		s[7] = 0.7
	}
	if full := w.KillChainFull; full >= 2 && in.Tactics > 1 {
		s[8] = clamp01(float64(in.Tactics-1) / float64(full-1))
	}
	if !in.LastSeen.IsZero() && !in.AsOf.IsZero() && w.RecencyHalfLife > 0 {
		age := max(in.AsOf.Sub(in.LastSeen), 0)
		s[9] = math.Exp2(-float64(age) / float64(w.RecencyHalfLife))
	}
	return s
}

// describe fills each factor's Value and Detail from in.
func describe(f *[numFactors]Factor, in Input) {
	f[0].Value = in.SeverityID
	if c := severityCaption(in.SeverityID); c != "" {
		f[0].Detail = c
	}
	f[1].Value = in.CVSS
	f[2].Value = in.ExploitKnown
	f[2].Detail = in.ExploitSource
	f[3].Value = in.EPSS
	f[4].Value = in.InternetExposed
	f[4].Detail = in.ExposureReason
	if in.AssetTier == TierUnknown {
		f[5].Value = "unknown"
		f[5].Detail = "no asset-context rule matched; counted as medium"
	} else {
		f[5].Value = string(in.AssetTier)
		f[5].Detail = in.AssetMatch
	}
	if in.DataGrade == DataGradeUnknown {
		f[6].Value = "unknown"
	} else {
		f[6].Value = string(in.DataGrade)
	}
	if in.Privilege == PrivilegeNone {
		f[7].Value = "none"
	} else {
		f[7].Value = string(in.Privilege)
		f[7].Detail = in.Principal
	}
	f[8].Value = in.Tactics
	if !in.LastSeen.IsZero() {
		f[9].Value = in.LastSeen.UTC().Format(time.RFC3339)
		if !in.AsOf.IsZero() {
			f[9].Detail = "age " + formatAge(max(in.AsOf.Sub(in.LastSeen), 0))
		}
	}
}

// apportion turns raw contributions into integers that sum to the rounded,
// capped total, by the largest-remainder (Hamilton) method. Ties in the
// remainder go to the earlier factor.
func apportion(raw [numFactors]float64) ([numFactors]int, int) {
	sum := 0.0
	for _, r := range raw {
		sum += r
	}
	x := raw
	if sum > MaxScore {
		k := MaxScore / sum
		sum = 0
		for i := range x {
			x[i] *= k
			sum += x[i]
		}
	}
	total := min(int(math.Round(sum)), MaxScore)
	var out [numFactors]int
	assigned := 0
	var rem [numFactors]float64
	for i, v := range x {
		fl := math.Floor(v)
		out[i] = int(fl)
		rem[i] = v - fl
		assigned += out[i]
	}
	idx := make([]int, numFactors)
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return rem[idx[a]] > rem[idx[b]] })
	// total − assigned is at most numFactors − 1 + 1 and at least 0 in exact
	// arithmetic; guard both directions against float drift.
	for k := 0; assigned < total; k = (k + 1) % numFactors {
		out[idx[k]]++
		assigned++
	}
	for k := numFactors - 1; assigned > total; k = (k + numFactors - 1) % numFactors {
		if i := idx[k]; out[i] > 0 {
			out[i]--
			assigned--
		}
	}
	return out, total
}

func clamp01(x float64) float64 {
	switch {
	case math.IsNaN(x) || x < 0:
		return 0
	case x > 1:
		return 1
	}
	return x
}

func severityCaption(id int) string {
	switch id {
	case 1:
		return "Informational"
	case 2:
		return "Low"
	case 3:
		return "Medium"
	case 4:
		return "High"
	case 5:
		return "Critical"
	case 6:
		return "Fatal"
	}
	return ""
}
