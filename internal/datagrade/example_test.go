package datagrade_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/canopy-sec/canopy/internal/datagrade"
	"github.com/canopy-sec/canopy/internal/ocsf"
	"github.com/canopy-sec/canopy/internal/risk"
)

// Example scans a directory of exports, grades it and builds the OCSF
// finding. All values are synthetic.
func Example() {
	dir, _ := os.MkdirTemp("", "datagrade-example")
	defer os.RemoveAll(dir)
	os.WriteFile(filepath.Join(dir, "customers.csv"), []byte(
		"姓名,身份证号,手机号\n"+
			"张伟,11010519491231002X,13812345678\n"+
			"李娜,440306199003071232,+86 139 1234 5678\n"), 0o644)

	src, err := datagrade.Open(context.Background(), datagrade.Target{Kind: datagrade.KindFiles, Location: dir})
	if err != nil {
		fmt.Println(err)
		return
	}
	scanner, _ := datagrade.NewScanner(datagrade.Options{Now: func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }})
	res, err := scanner.Scan(context.Background(), src)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, h := range res.Tables[0].Hits {
		fmt.Println(h.Column, h.Category, h.Examples)
	}
	grader, _ := datagrade.NewGrader(datagrade.GraderOptions{})
	a := grader.Grade(res)
	fmt.Println(a.Level, a.Level.ZH(), a.SensitivePI)

	f := a.Finding(datagrade.FindingOptions{})
	fmt.Println(f.ClassUID, f.DataSecurity.Confidentiality)
	// Output:
	// 姓名 person_name [张* 李*]
	// 身份证号 cn_resident_id [110***********002X 440***********1232]
	// 手机号 phone_number [138****5678 +86**********5678]
	// general-4 一般数据4级 true
	// 2006 一般数据4级 (GB/T 43697-2024 general-4)
}

// ExampleGradeIndex shows how the risk engine's data-grade factor is
// filled: index the datagrade findings by resource, then look up the
// resources of the issue being scored.
func ExampleGradeIndex() {
	finding := &ocsf.DataSecurityFinding{}
	finding.Resources = []ocsf.ResourceDetails{{UID: "bucket://payments", Labels: []string{"gbt43697:important"}}}
	finding.Databucket = &ocsf.Databucket{UID: "bucket://payments", Name: "payments"}
	finding.AddUnmapped(datagrade.UnmappedKey, map[string]any{"level": "important"})

	idx := datagrade.NewGradeIndex(finding)
	// a posture finding from another tool about the same bucket
	level, key := idx.ForResources([]ocsf.ResourceDetails{{UID: "arn:aws:s3:::payments"}})
	in := risk.Input{DataGrade: risk.DataGrade(level.Class())}
	fmt.Println(level, key, in.DataGrade)
	// Output: important arn:aws:s3:::payments important
}

// TestRiskGradeValues checks that every level's Class is a risk.DataGrade
// the risk engine knows.
func TestRiskGradeValues(t *testing.T) {
	want := map[datagrade.Level]risk.DataGrade{
		datagrade.LevelUnknown: risk.DataGradeUnknown, datagrade.LevelGeneral1: risk.DataGradeGeneral, datagrade.LevelGeneral2: risk.DataGradeGeneral,
		datagrade.LevelGeneral3: risk.DataGradeGeneral, datagrade.LevelGeneral4: risk.DataGradeGeneral,
		datagrade.LevelImportant: risk.DataGradeImportant, datagrade.LevelCore: risk.DataGradeCore,
	}
	for l, g := range want {
		if got := risk.DataGrade(l.Class()); got != g {
			t.Errorf("%s: %q, want %q", l, got, g)
		}
	}
	w := risk.DefaultWeights()
	core := risk.Score(risk.Input{DataGrade: risk.DataGrade(datagrade.LevelCore.Class())}, w)
	none := risk.Score(risk.Input{}, w)
	if core.Score <= none.Score {
		t.Errorf("core data adds nothing to the score: %d vs %d", core.Score, none.Score)
	}
}
