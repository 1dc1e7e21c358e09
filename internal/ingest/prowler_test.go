package ingest

import (
	"testing"

	json "github.com/goccy/go-json"

	"github.com/canopy-sec/canopy/internal/ocsf"
)

// TestProwlerEpochDT: Prowler 5 writes time as epoch seconds and time_dt as
// the scan's local time without a zone; the epoch wins, time_dt adds the
// fraction and the zone offset.
func TestProwlerEpochDT(t *testing.T) {
	tests := []struct {
		epoch, dt any
		wantMS    int64
		wantOff   *int
	}{
		{json.Number("1739539623"), "2025-02-14T14:27:03.913874", 1739539623913, prowlerIntp(60)},
		{json.Number("1739539623"), "2025-02-14T13:27:03.5", 1739539623500, prowlerIntp(0)},
		{json.Number("1739539623"), "2025-02-14T08:57:03.25", 1739539623250, prowlerIntp(-270)},
		{json.Number("1739539623"), "2025-02-14T14:27:10", 1739539623000, nil}, // not a zone offset: the epoch alone
		{json.Number("1739539623"), nil, 1739539623000, nil},
		{nil, "2025-02-14T14:27:03.913874", 1739543223913, nil}, // no epoch: taken as UTC
	}
	for _, tt := range tests {
		got, off, err := prowlerEpochDT("time", tt.epoch, tt.dt)
		if err != nil {
			t.Errorf("%v %v: %v", tt.epoch, tt.dt, err)
			continue
		}
		if got.UnixMilli() != tt.wantMS || (off == nil) != (tt.wantOff == nil) || (off != nil && *off != *tt.wantOff) {
			t.Errorf("%v %v: %d %v, want %d %v", tt.epoch, tt.dt, got.UnixMilli(), off, tt.wantMS, tt.wantOff)
		}
	}
}

func prowlerIntp(i int) *int { return &i }

func TestProwlerStatus(t *testing.T) {
	tests := []struct {
		status     string
		muted      bool
		compliance int
		finding    int
	}{
		{"PASS", false, 1, 4},
		{"FAIL", false, 3, 1},
		{"MANUAL", false, 2, 1},
		{"INFO", false, 2, 1},
		{"FAIL", true, 3, 3},
		{"ERROR", false, 99, 1},
	}
	for _, tt := range tests {
		p := &prowlerCheck{checkID: "c", status: tt.status, muted: tt.muted}
		f := p.record()
		if f.Compliance.StatusID != tt.compliance || f.StatusID != tt.finding {
			t.Errorf("%s muted=%v: compliance %d finding %d, want %d %d", tt.status, tt.muted, f.Compliance.StatusID, f.StatusID, tt.compliance, tt.finding)
		}
	}
}

func TestProwlerPlaceholderUID(t *testing.T) {
	for _, tt := range []struct{ uid, want string }{
		{"prowler-aws-x-1-eu-west-1-r", "prowler-aws-x-1-eu-west-1-r"},
		{"<finding_uid>", "prowler-aws-x-r"},
		{"", "prowler-aws-x-r"},
		{"prowler-azure-x-<subscription_uid>-global-r", "prowler-azure-x-<subscription_uid>-global-r"},
	} {
		p := &prowlerCheck{checkID: "x", provider: "aws", findingUID: tt.uid}
		p.resources = append(p.resources, prowlerResource("r"))
		if got := p.uid(); got != tt.want {
			t.Errorf("uid(%q) = %q, want %q", tt.uid, got, tt.want)
		}
	}
}

func prowlerResource(uid string) ocsf.ResourceDetails { return ocsf.ResourceDetails{UID: uid} }
