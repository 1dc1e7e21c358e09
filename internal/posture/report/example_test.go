package report_test

import (
	"fmt"
	"os"
	"time"

	"github.com/canopy-sec/canopy/internal/posture"
	"github.com/canopy-sec/canopy/internal/posture/report"
)

// A report from stored results: two automated controls (one failing on
// one bucket), a manual control with submitted evidence, and no data for
// the third automated control, which therefore does not count in the
// score.
func Example() {
	pack := &posture.Pack{
		ID: "demo", Title: "Demo pack", Framework: posture.Framework{Name: "Demo Benchmark", Version: "1.0"},
		Controls: []posture.ReferenceControl{
			{ID: "1.1", Title: "Buckets block public access", Section: "1 Storage"},
			{ID: "1.2", Title: "Buckets are encrypted", Section: "1 Storage"},
			{ID: "1.3", Title: "Volumes are encrypted", Section: "1 Storage"},
			{ID: "2.1", Title: "Contacts are current", Section: "2 Governance"},
		},
		Rules: []*posture.Rule{
			{ID: "s3-public", Frameworks: map[string]posture.ControlIDs{"demo": {"1.1"}}},
			{ID: "s3-encrypted", Frameworks: map[string]posture.ControlIDs{"demo": {"1.2"}}},
			{ID: "ebs-encrypted", Frameworks: map[string]posture.ControlIDs{"demo": {"1.3"}}},
		},
		Manual: []posture.ManualControl{{Control: "2.1", Evidence: "Export of the contact details", Responsible: "customer"}},
	}
	bucket := func(name string) report.ControlResult {
		return report.ControlResult{ResourceUID: "arn:aws:s3:::" + name, ResourceType: "AWS::S3::Bucket",
			ResourceName: name, Account: "111122223333", Region: "us-east-1", Status: posture.StatusPass}
	}
	r1, r2, r3 := bucket("logs"), bucket("site"), bucket("site")
	r1.Control, r1.RuleID = "1.1", "s3-public"
	r2.Control, r2.RuleID, r2.Status, r2.Message = "1.1", "s3-public", posture.StatusFail, "bucket site is public"
	r3.Control, r3.RuleID = "1.2", "s3-encrypted"

	rep, err := report.Build(report.Input{
		Pack:     pack,
		Results:  []report.ControlResult{r1, r2, r3},
		ScanTime: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		Evidence: map[string]report.Evidence{"2.1": {Status: report.EvidenceSubmitted, Reference: "DOC-7", SubmittedBy: "ops"}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("score %d%%: %d of %d evaluated controls passed\n", *rep.Score.Percent, rep.Score.Passed, rep.Score.Evaluated)
	if err := report.WriteCSV(os.Stdout, rep); err != nil {
		fmt.Println(err)
	}
	// Output:
	// score 50%: 1 of 2 evaluated controls passed
	// section,control,title,title_zh,level,status,coverage,rule_id,resource_uid,resource_type,resource_name,account,region,result,message,evidence_status,evidence_reference,evidence_submitted_by,evidence_submitted_at,responsible,note
	// 1 Storage,1.1,Buckets block public access,,,failed,automated,s3-public,arn:aws:s3:::site,AWS::S3::Bucket,site,111122223333,us-east-1,fail,bucket site is public,,,,,,
	// 1 Storage,1.2,Buckets are encrypted,,,passed,automated,,,,,,,,,,,,,,
	// 1 Storage,1.3,Volumes are encrypted,,,no_data,automated,,,,,,,,,,,,,,
	// 2 Governance,2.1,Contacts are current,,,manual,manual,,,,,,,,,submitted,DOC-7,ops,,customer,Export of the contact details
}
