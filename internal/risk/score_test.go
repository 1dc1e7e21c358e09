package risk_test

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/canopy-sec/canopy/internal/risk"
)

var factorNames = []string{"severity", "cvss", "exploit_known", "epss", "internet_exposure", "asset_criticality", "data_grade", "privileged_identity", "kill_chain_breadth", "recency"}

// assertSums checks the Result invariants: score within 0..100, every
// factor once, contributions non-negative and summing to the score.
func assertSums(t testing.TB, r risk.Result) {
	t.Helper()
	if r.Score < 0 || r.Score > 100 {
		t.Fatalf("score %d out of range", r.Score)
	}
	seen := map[string]bool{}
	sum := 0
	for _, f := range r.Factors {
		if seen[f.Name] {
			t.Fatalf("factor %s twice", f.Name)
		}
		seen[f.Name] = true
		if f.Contribution < 0 {
			t.Fatalf("factor %s contributes %d", f.Name, f.Contribution)
		}
		sum += f.Contribution
	}
	if len(seen) != len(factorNames) {
		t.Fatalf("got %d factors, want %d", len(seen), len(factorNames))
	}
	if sum != r.Score {
		t.Fatalf("contributions sum to %d, score is %d: %+v", sum, r.Score, r.Factors)
	}
}

func contribution(r risk.Result, name string) int {
	for _, f := range r.Factors {
		if f.Name == name {
			return f.Contribution
		}
	}
	return -1
}

var asOf = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func randomInput(rng *rand.Rand) risk.Input {
	tiers := []risk.Tier{risk.TierUnknown, risk.TierLow, risk.TierMedium, risk.TierHigh, risk.TierCrownJewel}
	grades := []risk.DataGrade{risk.DataGradeUnknown, risk.DataGradeGeneral, risk.DataGradeImportant, risk.DataGradeCore}
	privs := []risk.Privilege{risk.PrivilegeNone, risk.PrivilegeAdmin, risk.PrivilegeRoot}
	in := risk.Input{
		SeverityID:      []int{0, 1, 2, 3, 4, 5, 6, 99}[rng.IntN(8)],
		CVSS:            float64(rng.IntN(101)) / 10,
		ExploitKnown:    rng.IntN(2) == 0,
		EPSS:            rng.Float64(),
		InternetExposed: rng.IntN(2) == 0,
		AssetTier:       tiers[rng.IntN(len(tiers))],
		DataGrade:       grades[rng.IntN(len(grades))],
		Privilege:       privs[rng.IntN(len(privs))],
		Tactics:         rng.IntN(12),
		AsOf:            asOf,
	}
	if rng.IntN(4) > 0 {
		in.LastSeen = asOf.Add(-time.Duration(rng.Int64N(int64(400 * 24 * time.Hour))))
	}
	return in
}

func randomWeights(rng *rand.Rand) risk.Weights {
	w := risk.DefaultWeights()
	for _, p := range []*float64{&w.Severity, &w.CVSS, &w.ExploitKnown, &w.EPSS, &w.InternetExposure, &w.AssetCriticality, &w.DataGrade, &w.PrivilegedIdentity, &w.KillChainBreadth, &w.Recency} {
		*p = rng.Float64() * 40 // sums range from far below to far above 100
	}
	return w
}

func TestScoreContributionsSum(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 2024))
	def := risk.DefaultWeights()
	for range 20000 {
		in := randomInput(rng)
		assertSums(t, risk.Score(in, def))
		assertSums(t, risk.Score(in, randomWeights(rng)))
	}
}

func TestScoreEdges(t *testing.T) {
	full := risk.Input{
		SeverityID: 5, CVSS: 10, ExploitKnown: true, EPSS: 1, InternetExposed: true,
		AssetTier: risk.TierCrownJewel, DataGrade: risk.DataGradeCore, Privilege: risk.PrivilegeRoot,
		Tactics: 14, LastSeen: asOf, AsOf: asOf,
	}
	equal := risk.Weights{RecencyHalfLife: time.Hour, KillChainFull: 5}
	tests := []struct {
		name   string
		in     risk.Input
		w      risk.Weights
		want   int
		checks map[string]int
	}{
		{"zero input, defaults: untagged asset counts as medium", risk.Input{}, risk.DefaultWeights(), 4, map[string]int{"asset_criticality": 4}},
		{"zero input, no asset weight", risk.Input{AssetTier: risk.TierLow}, func() risk.Weights { w := risk.DefaultWeights(); w.AssetCriticality = 0; return w }(), 0, nil},
		{"all max, defaults", full, risk.DefaultWeights(), 100, map[string]int{"severity": 15, "exploit_known": 15, "privileged_identity": 8, "recency": 5}},
		{"all max, weights sum 300: scaled to 100", full, func() risk.Weights {
			w := risk.DefaultWeights()
			w.Severity, w.CVSS, w.ExploitKnown, w.EPSS, w.InternetExposure = 30, 30, 30, 30, 30
			w.AssetCriticality, w.DataGrade, w.PrivilegedIdentity, w.KillChainBreadth, w.Recency = 30, 30, 30, 30, 30
			return w
		}(), 100, map[string]int{"severity": 10, "recency": 10}},
		// three factors of 0.5 each: total 1.5 rounds to 2, the tie in
		// remainders goes to the earlier factors.
		{"rounding tie", risk.Input{ExploitKnown: true, InternetExposed: true, Privilege: risk.PrivilegeRoot}, func() risk.Weights {
			w := equal
			w.ExploitKnown, w.InternetExposure, w.PrivilegedIdentity = 0.5, 0.5, 0.5
			return w
		}(), 2, map[string]int{"exploit_known": 1, "internet_exposure": 1, "privileged_identity": 0}},
		// 11 weights of 1/3 summing to ≈3.33: score 3, spread by remainder.
		{"thirds", full, risk.Weights{Severity: 1.0 / 3, CVSS: 1.0 / 3, ExploitKnown: 1.0 / 3, EPSS: 1.0 / 3, InternetExposure: 1.0 / 3,
			AssetCriticality: 1.0 / 3, DataGrade: 1.0 / 3, PrivilegedIdentity: 1.0 / 3, KillChainBreadth: 1.0 / 3, Recency: 1.0 / 3,
			RecencyHalfLife: time.Hour, KillChainFull: 2}, 3, map[string]int{"severity": 1, "cvss": 1, "exploit_known": 1, "epss": 0}},
		{"recency halves at half-life", risk.Input{LastSeen: asOf.Add(-720 * time.Hour), AsOf: asOf}, func() risk.Weights { w := equal; w.Recency = 20; w.RecencyHalfLife = 720 * time.Hour; return w }(), 10, map[string]int{"recency": 10}},
		{"future last seen counts as now", risk.Input{LastSeen: asOf.Add(time.Hour), AsOf: asOf}, func() risk.Weights { w := equal; w.Recency = 20; return w }(), 20, nil},
		{"kill chain: one tactic adds nothing", risk.Input{Tactics: 1}, func() risk.Weights { w := equal; w.KillChainBreadth = 20; return w }(), 0, nil},
		{"kill chain: three of five", risk.Input{Tactics: 3}, func() risk.Weights { w := equal; w.KillChainBreadth = 20; return w }(), 10, nil},
		{"severity other adds nothing", risk.Input{SeverityID: 99}, func() risk.Weights { w := equal; w.Severity = 20; return w }(), 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := risk.Score(tt.in, tt.w)
			assertSums(t, r)
			if r.Score != tt.want {
				t.Errorf("score = %d, want %d\n%s", r.Score, tt.want, risk.Explain(r))
			}
			for name, want := range tt.checks {
				if got := contribution(r, name); got != want {
					t.Errorf("%s contributes %d, want %d", name, got, want)
				}
			}
		})
	}
}

// TestWeightDirection: raising a factor's weight never lowers the score
// when the factor is present, and raises it when the factor has room.
func TestWeightDirection(t *testing.T) {
	in := risk.Input{SeverityID: 4, CVSS: 7.5, ExploitKnown: true, EPSS: 0.3, AssetTier: risk.TierHigh,
		Privilege: risk.PrivilegeAdmin, Tactics: 3, LastSeen: asOf.Add(-48 * time.Hour), AsOf: asOf}
	base := risk.DefaultWeights()
	baseScore := risk.Score(in, base).Score
	tests := []struct {
		name   string
		set    func(w *risk.Weights)
		higher bool
	}{
		{"exploit_known up", func(w *risk.Weights) { w.ExploitKnown = 25 }, true},
		{"exploit_known off", func(w *risk.Weights) { w.ExploitKnown = 0 }, false},
		{"severity up", func(w *risk.Weights) { w.Severity = 25 }, true},
		{"cvss off", func(w *risk.Weights) { w.CVSS = 0 }, false},
		{"asset criticality up", func(w *risk.Weights) { w.AssetCriticality = 30 }, true},
		{"privilege up", func(w *risk.Weights) { w.PrivilegedIdentity = 30 }, true},
		{"kill chain up", func(w *risk.Weights) { w.KillChainBreadth = 30 }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := base
			tt.set(&w)
			got := risk.Score(in, w).Score
			if tt.higher && got <= baseScore || !tt.higher && got >= baseScore {
				t.Errorf("score %d, base %d, want higher=%v", got, baseScore, tt.higher)
			}
		})
	}
	// A factor that is absent is unaffected by its weight.
	w := base
	w.InternetExposure = 50
	if got := risk.Score(in, w).Score; got != baseScore {
		t.Errorf("weight of an absent factor changed the score: %d vs %d", got, baseScore)
	}
}

func TestResultJSON(t *testing.T) {
	r := risk.Score(risk.Input{ExploitKnown: true, ExploitSource: "KEV: CVE-2021-44228", AsOf: asOf}, risk.DefaultWeights())
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	if !strings.HasPrefix(s, `{"score":19,"factors":[{"name":"exploit_known","value":true,"weight":15,"contribution":15,"detail":"KEV: CVE-2021-44228"},`) {
		t.Errorf("json = %s", s)
	}
	if !strings.Contains(s, `{"name":"recency","value":null,"weight":5,"contribution":0}`) {
		t.Errorf("recency without last seen: %s", s)
	}
}

func TestExplain(t *testing.T) {
	in := risk.Input{SeverityID: 5, CVSS: 9.8, ExploitKnown: true, ExploitSource: "KEV: CVE-2022-22965",
		InternetExposed: true, ExposureReason: "public IP 1.2.2.2", LastSeen: asOf.Add(-72 * time.Hour), AsOf: asOf}
	got := risk.Explain(risk.Score(in, risk.DefaultWeights()))
	want := `risk score 63/100

FACTOR               VALUE                 WEIGHT  POINTS  DETAIL
severity             5                         15      15  Critical
exploit_known        true                      15      15  KEV: CVE-2022-22965
internet_exposure    true                      15      15  public IP 1.2.2.2
cvss                 9.8                       10      10
asset_criticality    unknown                   10       4  no asset-context rule matched; counted as medium
recency              2024-12-29T00:00:00Z       5       4  age 3d
epss                 0                         10       0
data_grade           unknown                    5       0
privileged_identity  none                       8       0
kill_chain_breadth   0                          7       0
total                                                  63
`
	if got != want {
		t.Errorf("Explain:\n%s\nwant:\n%s", got, want)
	}
}

func BenchmarkScore(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	ins := make([]risk.Input, 1024)
	for i := range ins {
		ins[i] = randomInput(rng)
	}
	w := risk.DefaultWeights()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		_ = risk.Score(ins[i%len(ins)], w)
	}
}
