package audit_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/canopy-sec/canopy/internal/audit"
)

// step is one event at a time (minutes after t0).
type step struct {
	min     int
	action  string
	object  string
	details string
}

// record appends the steps through a Log whose clock reads each step's time.
func record(t *testing.T, steps []step) []audit.Entry {
	t.Helper()
	sink := &memSink{}
	var now time.Time
	log, err := audit.New(audit.Options{Sink: sink, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range steps {
		now = t0.Add(time.Duration(s.min) * time.Minute)
		var d json.RawMessage
		if s.details != "" {
			d = json.RawMessage(s.details)
		}
		if _, err := log.Append(context.Background(), audit.Event{Tenant: "acme", Actor: "test", Action: s.action, Object: s.object, Details: d}); err != nil {
			t.Fatal(err)
		}
	}
	return sink.entries
}

func TestKPIs(t *testing.T) {
	const (
		sent     = audit.ActionNoticeSent
		acked    = audit.ActionNoticeAcked
		resolved = audit.ActionFindingResolved
	)
	m := time.Minute
	for _, tc := range []struct {
		name  string
		steps []step
		want  []audit.KPI
	}{
		{
			name: "per party and severity",
			steps: []step{
				{0, sent, "finding:1", `{"notice":"n1","party":"customer","severity":"High"}`},
				{0, sent, "finding:4", `{"notice":"n4","party":"vendor","name":"example-mssp","severity":"critical"}`},
				{0, sent, "finding:5", `{"notice":"n6","party":"customer","severity":"medium"}`},
				{0, sent, "finding:6", `{"notice":"n7","party":"customer"}`},
				{1, sent, "finding:4", `{"notice":"n5","party":"provider","name":"AWS","severity":"critical"}`},
				{1, acked, "finding:6", `{"notice":"n7"}`},
				{2, acked, "finding:4", `{"notice":"n4","party":"vendor","name":"example-mssp"}`},
				{5, sent, "finding:2", `{"notice":"n2","party":"customer","severity":"high"}`},
				{10, sent, "finding:3", `{"notice":"n3","party":"customer","severity":"high"}`},
				{10, acked, "finding:1", `{"notice":"n1"}`},
				{20, sent, "finding:3", `{"notice":"n3","party":"customer","severity":"high"}`}, // resent: the first send counts
				{30, resolved, "finding:4", `{"resolution":"fixed"}`},
				{35, acked, "finding:2", `{"party":"customer"}`}, // no notice id: matched by object and party
				{40, acked, "finding:9", `{"notice":"n99"}`},     // no such notice
				{70, acked, "finding:3", `{"notice":"n3"}`},
				{80, acked, "finding:3", `{"notice":"n3"}`}, // a second acknowledgement does not count
				{120, resolved, "finding:1", ``},
				{200, resolved, "finding:9", ``}, // nothing was sent about it
				{245, resolved, "finding:2", ``},
				{300, audit.ActionFindingAttributed, "finding:7", `{"party":"customer"}`},
			},
			want: []audit.KPI{
				{Party: "provider", Name: "AWS", Severity: "critical", Notices: 1, Resolve: audit.Stats{Count: 1, Median: 29 * m, P90: 29 * m}, Unacknowledged: 1},
				{Party: "customer", Severity: "high", Notices: 3,
					Acknowledge: audit.Stats{Count: 3, Median: 30 * m, P90: 60 * m},
					Resolve:     audit.Stats{Count: 2, Median: 120 * m, P90: 240 * m}, Unresolved: 1},
				{Party: "customer", Severity: "medium", Notices: 1, Unacknowledged: 1, Unresolved: 1},
				{Party: "customer", Severity: "unknown", Notices: 1, Acknowledge: audit.Stats{Count: 1, Median: m, P90: m}, Unresolved: 1},
				{Party: "vendor", Name: "example-mssp", Severity: "critical", Notices: 1,
					Acknowledge: audit.Stats{Count: 1, Median: 2 * m, P90: 2 * m}, Resolve: audit.Stats{Count: 1, Median: 30 * m, P90: 30 * m}},
			},
		},
		{
			name: "percentiles by nearest rank over ten notices",
			steps: func() []step {
				var s []step
				for i := 1; i <= 10; i++ {
					s = append(s, step{0, sent, "finding:" + string(rune('a'+i)), `{"notice":"k` + string(rune('a'+i)) + `","party":"customer","severity":"low"}`})
				}
				for i := 1; i <= 10; i++ {
					s = append(s, step{i * i, acked, "finding:" + string(rune('a'+i)), `{"notice":"k` + string(rune('a'+i)) + `"}`})
				}
				return s
			}(),
			want: []audit.KPI{{Party: "customer", Severity: "low", Notices: 10, Acknowledge: audit.Stats{Count: 10, Median: 25 * m, P90: 81 * m}, Unresolved: 10}},
		},
		{
			name:  "a resolution before the notice does not count",
			steps: []step{{0, resolved, "finding:1", ``}, {5, sent, "finding:1", `{"notice":"n1","party":"customer","severity":"low"}`}},
			want:  []audit.KPI{{Party: "customer", Severity: "low", Notices: 1, Unacknowledged: 1, Unresolved: 1}},
		},
		{name: "no notices", steps: []step{{0, resolved, "finding:1", ``}}, want: []audit.KPI{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := audit.KPIs(audit.All(record(t, tc.steps)))
			if err != nil {
				t.Fatal(err)
			}
			g, _ := json.MarshalIndent(got, "", "  ")
			w, _ := json.MarshalIndent(tc.want, "", "  ")
			if string(g) != string(w) {
				t.Errorf("got\n%s\nwant\n%s", g, w)
			}
		})
	}
}

func TestKPIErrors(t *testing.T) {
	for _, tc := range []struct {
		steps []step
		want  string
	}{
		{[]step{{0, audit.ActionNoticeSent, "finding:1", `[1]`}}, "entry 1 (notice.sent): details: json: cannot unmarshal array"},
		{[]step{{0, audit.ActionNoticeSent, "finding:1", ``}}, "entry 1 (notice.sent): details: missing"},
		{[]step{{0, audit.ActionNoticeSent, "finding:1", `{"notice":"n1"}`}}, "entry 1 (notice.sent): details: party: missing"},
		{[]step{{0, audit.ActionNoticeSent, "finding:1", `{"notice":"n1","party":"customer"}`}, {1, audit.ActionNoticeAcked, "finding:1", `{"notice":1}`}}, "entry 2 (notice.acked): details: json: cannot unmarshal number"},
	} {
		_, err := audit.KPIs(audit.All(record(t, tc.steps)))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("got %v, want an error containing %q", err, tc.want)
		}
	}
}
