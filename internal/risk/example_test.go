package risk_test

import (
	"fmt"
	"strings"
	"time"

	"github.com/canopy-sec/canopy/internal/risk"
)

func ExampleScore() {
	w, err := risk.LoadWeights(strings.NewReader("exploit_known: 20\n"))
	if err != nil {
		fmt.Println(err)
		return
	}
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	r := risk.Score(risk.Input{
		SeverityID: 5, CVSS: 9.8, ExploitKnown: true, ExploitSource: "KEV: CVE-2022-22965",
		AssetTier: risk.TierHigh, LastSeen: now, AsOf: now,
	}, w)
	fmt.Println(r.Score, r.Factors[0].Name, r.Factors[0].Contribution)
	// Output: 57 exploit_known 20
}
