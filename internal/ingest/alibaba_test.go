package ingest

import (
	json "github.com/goccy/go-json"

	"testing"

	"github.com/canopy-sec/canopy/internal/ocsf"
)

func TestActionTrailActivity(t *testing.T) {
	tests := []struct {
		name, rw string
		want     int
	}{
		{"CreateInstance", "Write", apiCreate},
		{"AddUserToGroup", "Write", apiCreate},
		{"DescribeInstances", "Read", apiRead},
		{"ListAccessKeys", "Read", apiRead},
		{"GetAccountSummary", "Read", apiRead},
		{"QueryMetricList", "Read", apiRead},
		{"ModifyInstanceAttribute", "Write", apiUpdate},
		{"UpdateLoginProfile", "Write", apiUpdate},
		{"SetSecurityPreference", "Write", apiUpdate},
		{"DeleteInstance", "Write", apiDelete},
		{"ReleaseEipAddress", "Write", apiDelete},
		{"StartInstance", "Write", ocsf.ActivityOther},
		{"CheckEnvironment", "Read", apiRead},
	}
	for _, tt := range tests {
		raw := []byte(`{"eventId":"E","eventName":"` + tt.name + `","eventRW":"` + tt.rw + `","acsRegion":"cn-hangzhou","eventTime":"2023-01-01T00:00:00Z"}`)
		rec, err := mapActionTrail(raw)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got := rec.Common().ActivityID; got != tt.want {
			t.Errorf("%s (%s): activity %d, want %d", tt.name, tt.rw, got, tt.want)
		}
	}
}

// The Log Service envelope variants: contents.event or a flat event, as a
// JSON string or an object.
func TestActionTrailEnvelopes(t *testing.T) {
	const ev = `{"eventId":"E9","eventName":"DescribeRegions","acsRegion":"cn-beijing","eventTime":"2023-01-01T00:00:00Z"}`
	inputs := []string{
		`{"timestamp":1672531200,"contents":{"event":` + quoteJSON(ev) + `,"__topic__":"actiontrail_audit_event"}}`,
		`{"__time__":1672531200,"__topic__":"actiontrail_audit_event","event":` + quoteJSON(ev) + `}`,
		`{"__time__":1672531200,"event":` + ev + `}`,
		ev,
	}
	for _, in := range inputs {
		rec, err := mapActionTrail([]byte(in))
		if err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if rec.SourceUID() != "E9" || rec.Common().Cloud.Region != "cn-beijing" {
			t.Errorf("%s: uid %q region %q", in, rec.SourceUID(), rec.Common().Cloud.Region)
		}
	}
	if _, err := mapActionTrail([]byte(`{"event":"{not json"}`)); err == nil {
		t.Error("a broken event string was accepted")
	}
}

func quoteJSON(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
