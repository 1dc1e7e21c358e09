package ocsf_test

import (
	"testing"

	json "github.com/goccy/go-json"

	"github.com/canopy-sec/canopy/internal/ocsf"
)

func TestDecodeRoundTrip(t *testing.T) {
	v := &ocsf.VulnerabilityFinding{}
	v.SetClass(ocsf.ClassVulnerabilityFinding, ocsf.ActivityCreate, "")
	v.FindingInfo.UID = "f1"
	v.Vulnerabilities = []ocsf.Vulnerability{{CVE: &ocsf.CVE{UID: "CVE-2024-1"}}}
	a := &ocsf.APIActivity{}
	a.SetClass(ocsf.ClassAPIActivity, ocsf.ActivityOther, "ConsoleLogin")
	a.API.Operation = "ConsoleLogin"
	a.Metadata.OriginalEventUID = "e1"
	for _, rec := range []ocsf.Record{v, a} {
		b, _ := json.Marshal(rec)
		got, err := ocsf.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		again, _ := json.Marshal(got)
		if string(again) != string(b) || got.SourceUID() != rec.SourceUID() {
			t.Errorf("round trip of %T:\n%s\n%s", rec, b, again)
		}
	}
	if _, err := ocsf.Decode([]byte(`{"class_uid":"x"}`)); err == nil {
		t.Error("bad JSON decoded")
	}
}
