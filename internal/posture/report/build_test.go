package report

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/canopy-sec/canopy/internal/posture"
	"github.com/canopy-sec/canopy/internal/posture/inventory"
)

// testPack returns a pack "t" whose reference has the given automated
// (each checked by a rule r-<id>), manual and not-expressible controls;
// a control's section is its id's first component ("2" for "2.1").
func testPack(t testing.TB, automated, manual, notExpressible []string) *posture.Pack {
	t.Helper()
	p := &posture.Pack{ID: "t", Title: "Test pack", Framework: posture.Framework{Name: "Test", Version: "1.0"}}
	add := func(id string) {
		p.Controls = append(p.Controls, posture.ReferenceControl{ID: id, Title: "control " + id, Section: strings.Split(id, ".")[0]})
	}
	for _, id := range automated {
		add(id)
		p.Rules = append(p.Rules, &posture.Rule{ID: "r-" + id, Frameworks: map[string]posture.ControlIDs{"t": {id}}})
	}
	for _, id := range manual {
		add(id)
		p.Manual = append(p.Manual, posture.ManualControl{Control: posture.ControlID(id), Evidence: "evidence for " + id, Responsible: "customer"})
	}
	for _, id := range notExpressible {
		add(id)
		p.NotExpressible = append(p.NotExpressible, posture.NotExpressible{Control: posture.ControlID(id), Reason: "no data for " + id})
	}
	return p
}

// res is a result of rule r-<control> (or rule, when given as
// "control/rule") on resource uid.
func res(control, uid string, s posture.Status) ControlResult {
	rule := "r-" + control
	if c, r, ok := strings.Cut(control, "/"); ok {
		control, rule = c, r
	}
	return ControlResult{Control: control, RuleID: rule, ResourceUID: uid, ResourceType: "AWS::S3::Bucket", Account: "111122223333", Region: "us-east-1", Status: s}
}

const (
	pass = posture.StatusPass
	fail = posture.StatusFail
	errS = posture.StatusError
)

func pct(n int) *int { return &n }

func TestScore(t *testing.T) {
	three := []string{"1.1", "1.2", "2.1"}
	eight := []string{"1.1", "1.2", "1.3", "1.4", "1.5", "1.6", "1.7", "1.8"}
	tests := []struct {
		name                   string
		automated, manual, nex []string
		results                []ControlResult
		want                   Score
		status                 map[string]ControlStatus // expected status of some controls
		totals                 string                   // passed/failed/unknown/no data/manual/not expressible/failing resources
	}{
		{
			name: "all pass", automated: three,
			results: []ControlResult{res("1.1", "a", pass), res("1.1", "b", pass), res("1.2", "a", pass), res("2.1", "c", pass)},
			want:    Score{Passed: 3, Evaluated: 3, Percent: pct(100)},
			totals:  "3/0/0/0/0/0/0",
		},
		{
			name: "some fail", automated: three,
			results: []ControlResult{res("1.1", "a", pass), res("1.1", "b", pass), res("1.2", "a", pass), res("1.2", "b", fail), res("2.1", "c", pass)},
			want:    Score{Passed: 2, Evaluated: 3, Percent: pct(67)},
			status:  map[string]ControlStatus{"1.1": StatusPassed, "1.2": StatusFailed, "2.1": StatusPassed},
			totals:  "2/1/0/0/0/0/1",
		},
		{
			name: "all fail", automated: three,
			results: []ControlResult{res("1.1", "a", fail), res("1.2", "a", fail), res("2.1", "a", fail)},
			want:    Score{Passed: 0, Evaluated: 3, Percent: pct(0)},
			totals:  "0/3/0/0/0/0/1",
		},
		{
			name: "a resource failing one of two rules fails the control", automated: three,
			results: []ControlResult{res("1.1", "a", pass), res("1.1/r-extra", "a", fail), res("1.2", "a", pass)},
			want:    Score{Passed: 1, Evaluated: 2, Percent: pct(50)},
			status:  map[string]ControlStatus{"1.1": StatusFailed, "2.1": StatusNoData},
			totals:  "1/1/0/1/0/0/1",
		},
		{
			name: "controls without data are not counted", automated: three,
			results: []ControlResult{res("1.1", "a", pass)},
			want:    Score{Passed: 1, Evaluated: 1, Percent: pct(100)},
			status:  map[string]ControlStatus{"1.2": StatusNoData, "2.1": StatusNoData},
			totals:  "1/0/0/2/0/0/0",
		},
		{
			name: "no data at all: no score", automated: three,
			want:   Score{},
			totals: "0/0/0/3/0/0/0",
		},
		{
			name: "manual only: no score", manual: []string{"1.1", "1.2"},
			want:   Score{},
			status: map[string]ControlStatus{"1.1": StatusManual},
			totals: "0/0/0/0/2/0/0",
		},
		{
			name: "manual and not expressible are not counted", automated: []string{"1.1"}, manual: []string{"2.1"}, nex: []string{"3.1"},
			results: []ControlResult{res("1.1", "a", pass)},
			want:    Score{Passed: 1, Evaluated: 1, Percent: pct(100)},
			status:  map[string]ControlStatus{"2.1": StatusManual, "3.1": StatusNotExpressible},
			totals:  "1/0/0/0/1/1/0",
		},
		{
			name: "errors make a control unknown, which counts as evaluated", automated: three,
			results: []ControlResult{res("1.1", "a", pass), res("1.2", "a", pass), res("1.2", "b", errS), res("2.1", "a", errS)},
			want:    Score{Passed: 1, Evaluated: 3, Percent: pct(33)},
			status:  map[string]ControlStatus{"1.2": StatusUnknown, "2.1": StatusUnknown},
			totals:  "1/0/2/0/0/0/0",
		},
		{
			name: "a fail outweighs an error", automated: three,
			results: []ControlResult{res("1.1", "a", errS), res("1.1", "b", fail)},
			want:    Score{Passed: 0, Evaluated: 1, Percent: pct(0)},
			status:  map[string]ControlStatus{"1.1": StatusFailed},
			totals:  "0/1/0/2/0/0/1",
		},
		{
			name: "a repeated result counts once, with its worst status", automated: three,
			results: []ControlResult{res("1.1", "a", pass), res("1.1", "a", fail), res("1.1", "a", pass), res("1.2", "a", pass), res("1.2", "a", pass)},
			want:    Score{Passed: 1, Evaluated: 2, Percent: pct(50)},
			status:  map[string]ControlStatus{"1.1": StatusFailed, "1.2": StatusPassed},
			totals:  "1/1/0/1/0/0/1",
		},
		{
			name: "canonical control ids", automated: three,
			results: []ControlResult{res("t:1.1", "a", pass), res("1.2", "a", fail)},
			want:    Score{Passed: 1, Evaluated: 2, Percent: pct(50)},
			totals:  "1/1/0/1/0/0/1",
		},
		{
			name: "rounding: 1 of 8 is 12.5, shown 13", automated: eight,
			results: append([]ControlResult{res("1.1", "a", pass)}, failAll(eight[1:])...),
			want:    Score{Passed: 1, Evaluated: 8, Percent: pct(13)},
			totals:  "1/7/0/0/0/0/1",
		},
		{
			name: "rounding: 5 of 8 is 62.5, shown 63", automated: eight,
			results: append(passAll(eight[:5]), failAll(eight[5:])...),
			want:    Score{Passed: 5, Evaluated: 8, Percent: pct(63)},
			totals:  "5/3/0/0/0/0/1",
		},
		{
			name: "rounding: 1 of 3 is 33", automated: three,
			results: []ControlResult{res("1.1", "a", pass), res("1.2", "a", fail), res("2.1", "a", fail)},
			want:    Score{Passed: 1, Evaluated: 3, Percent: pct(33)},
			totals:  "1/2/0/0/0/0/1",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := Build(Input{Pack: testPack(t, tc.automated, tc.manual, tc.nex), Results: tc.results, ScanTime: scanTime})
			if err != nil {
				t.Fatal(err)
			}
			if got := scoreString(rep.Score); got != scoreString(tc.want) {
				t.Errorf("score %s, want %s", got, scoreString(tc.want))
			}
			tt := rep.Totals
			if got := fmt.Sprintf("%d/%d/%d/%d/%d/%d/%d", tt.Passed, tt.Failed, tt.Unknown, tt.NoData, tt.Manual, tt.NotExpressible, tt.FailingResources); got != tc.totals {
				t.Errorf("totals %s, want %s", got, tc.totals)
			}
			if tt.Controls != len(tc.automated)+len(tc.manual)+len(tc.nex) {
				t.Errorf("%d controls", tt.Controls)
			}
			for id, want := range tc.status {
				if c := findControl(rep, id); c == nil || c.Status != want {
					t.Errorf("control %s: %+v, want status %s", id, c, want)
				}
			}
		})
	}
}

func passAll(ids []string) []ControlResult { return all(ids, pass) }
func failAll(ids []string) []ControlResult { return all(ids, fail) }
func all(ids []string, s posture.Status) []ControlResult {
	var out []ControlResult
	for _, id := range ids {
		out = append(out, res(id, "a", s))
	}
	return out
}

func scoreString(s Score) string {
	p := "nil"
	if s.Percent != nil {
		p = fmt.Sprint(*s.Percent)
	}
	return fmt.Sprintf("%d/%d=%s", s.Passed, s.Evaluated, p)
}

func findControl(r *Report, id string) *Control {
	for i := range r.Sections {
		for j := range r.Sections[i].Controls {
			if c := &r.Sections[i].Controls[j]; c.ID == id {
				return c
			}
		}
	}
	return nil
}

// TestSections checks that controls are grouped by section in reference
// order, each with its own score, totals and failing resources.
func TestSections(t *testing.T) {
	p := testPack(t, []string{"1.1", "1.2", "2.1", "2.2"}, []string{"3.1"}, nil)
	rep, err := Build(Input{Pack: p, ScanTime: scanTime, Results: []ControlResult{
		res("1.1", "a", pass), res("1.2", "a", fail), res("1.2", "b", fail), res("2.1", "a", pass), res("2.2", "c", errS),
	}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range rep.Sections {
		got = append(got, fmt.Sprintf("%s:%s:%d:%d", s.Title, scoreString(s.Score), len(s.Controls), s.Totals.FailingResources))
	}
	if want := "1:1/2=50:2:2 2:1/2=50:2:0 3:0/0=nil:1:0"; strings.Join(got, " ") != want {
		t.Errorf("sections %s, want %s", strings.Join(got, " "), want)
	}
	c := findControl(rep, "1.2")
	if c.Resources != (ResourceCounts{Evaluated: 2, Failed: 2}) || len(c.Findings) != 2 || c.Findings[0].ResourceUID != "a" {
		t.Errorf("control 1.2: %+v", c)
	}
	if c := findControl(rep, "2.2"); c.Resources != (ResourceCounts{Evaluated: 1, Errors: 1}) || c.Findings[0].Status != errS {
		t.Errorf("control 2.2: %+v", c)
	}
	if c := findControl(rep, "3.1"); c.Evidence == nil || c.Evidence.Status != EvidenceMissing || c.Evidence.Task != "evidence for 3.1" || c.Evidence.Responsible != "customer" {
		t.Errorf("control 3.1: evidence %+v, want a missing task", c.Evidence)
	}
	if rep.Totals.FailingResources != 2 || rep.Totals.Evidence != (EvidenceTotals{Tasks: 1, Missing: 1}) {
		t.Errorf("totals %+v", rep.Totals)
	}
}

func TestBuildErrors(t *testing.T) {
	p := testPack(t, []string{"1.1"}, []string{"2.1"}, []string{"3.1"})
	ok := []ControlResult{res("1.1", "a", pass)}
	otherCov := posture.Coverage(testPack(t, []string{"9.9"}, nil, nil))
	otherCov.Pack = "other"
	tests := []struct {
		name  string
		in    Input
		field string
		msg   string
	}{
		{"no pack", Input{ScanTime: scanTime}, "Pack", "missing"},
		{"no scan time", Input{Pack: p, Results: ok}, "ScanTime", "missing"},
		{"another pack's coverage", Input{Pack: p, Coverage: &otherCov, ScanTime: scanTime}, "Coverage", `coverage of pack "other"`},
		{"unknown control", Input{Pack: p, ScanTime: scanTime, Results: []ControlResult{res("9.9", "a", pass)}}, "Results[0].Control", `no control "9.9" in pack t`},
		{"manual control with results", Input{Pack: p, ScanTime: scanTime, Results: append(ok, res("2.1", "a", pass))}, "Results[1].Control", "control 2.1 is manual in pack t, not automated"},
		{"not expressible control with results", Input{Pack: p, ScanTime: scanTime, Results: []ControlResult{res("3.1", "a", fail)}}, "Results[0].Control", "is not_expressible"},
		{"no control", Input{Pack: p, ScanTime: scanTime, Results: []ControlResult{res("", "a", pass)}}, "Results[0].Control", "missing"},
		{"no rule", Input{Pack: p, ScanTime: scanTime, Results: []ControlResult{{Control: "1.1", ResourceUID: "a", Status: pass}}}, "Results[0].RuleID", "missing"},
		{"no resource", Input{Pack: p, ScanTime: scanTime, Results: []ControlResult{res("1.1", "", pass)}}, "Results[0].ResourceUID", "missing"},
		{"no status", Input{Pack: p, ScanTime: scanTime, Results: []ControlResult{res("1.1", "a", 0)}}, "Results[0].Status", "want pass, fail or error"},
		{"evidence for an unknown control", Input{Pack: p, ScanTime: scanTime, Evidence: map[string]Evidence{"9.9": {}}}, `Evidence["9.9"]`, "no control"},
		{"evidence for a control without task", Input{Pack: p, ScanTime: scanTime, Evidence: map[string]Evidence{"1.1": {Status: EvidenceAccepted}}}, `Evidence["1.1"]`, "has no evidence task"},
		{"bad evidence status", Input{Pack: p, ScanTime: scanTime, Evidence: map[string]Evidence{"2.1": {Status: "approved"}}}, `Evidence["2.1"].Status`, `"approved": want missing`},
		{"evidence given twice", Input{Pack: p, ScanTime: scanTime, Evidence: map[string]Evidence{"2.1": {}, "t:2.1": {}}}, `Evidence["t:2.1"]`, "given twice"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Build(tc.in)
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("error %v, want an *InputError", err)
			}
			if ie.Field != tc.field || !strings.Contains(err.Error(), tc.msg) || !strings.HasPrefix(err.Error(), "report: input: "+tc.field+": ") {
				t.Errorf("error %q (field %s), want field %s and %q", err, ie.Field, tc.field, tc.msg)
			}
		})
	}
}

// TestBuildKeepsInput checks that Build changes nothing it is given.
func TestBuildKeepsInput(t *testing.T) {
	p := testPack(t, []string{"1.1"}, []string{"2.1"}, nil)
	in := Input{Pack: p, ScanTime: scanTime, Results: []ControlResult{res("t:1.1", "a", fail)},
		Evidence: map[string]Evidence{"2.1": {}}}
	if _, err := Build(in); err != nil {
		t.Fatal(err)
	}
	if in.Results[0].Control != "t:1.1" || in.Evidence["2.1"].Status != "" {
		t.Errorf("input changed: %+v", in)
	}
}

func TestControlResults(t *testing.T) {
	rule := &posture.Rule{ID: "r", Frameworks: map[string]posture.ControlIDs{"t": {"1.1", "1.2"}, "other": {"x"}}}
	other := &posture.Rule{ID: "o", Frameworks: map[string]posture.ControlIDs{"other": {"x"}}}
	bucket := &inventory.Resource{Provider: "aws", Account: "111122223333", Region: "us-east-1", Type: "AWS::S3::Bucket", UID: "arn:aws:s3:::b", Name: "b"}
	got := ControlResults("t", []posture.Result{
		{Rule: rule, Resource: bucket, Status: fail, Message: "public"},
		{Rule: other, Resource: bucket, Status: fail},
		{Rule: rule, Status: pass}, // no resource: skipped
	})
	want := ControlResult{Control: "1.1", RuleID: "r", ResourceUID: "arn:aws:s3:::b", ResourceType: "AWS::S3::Bucket",
		ResourceName: "b", Account: "111122223333", Region: "us-east-1", Status: fail, Message: "public"}
	if len(got) != 2 || got[0] != want || got[1].Control != "1.2" {
		t.Errorf("got %+v", got)
	}
}

func TestCSVCell(t *testing.T) {
	for in, want := range map[string]string{
		"":                   "",
		"bucket":             "bucket",
		"=HYPERLINK(\"x\")":  "'=HYPERLINK(\"x\")",
		"+1":                 "'+1",
		"-2+3":               "'-2+3",
		"@SUM(A1)":           "'@SUM(A1)",
		"\tx":                "'\tx",
		"a=b":                "a=b",
		"arn:aws:s3:::b":     "arn:aws:s3:::b",
		"云平台等保备案证明 2024.pdf": "云平台等保备案证明 2024.pdf",
	} {
		if got := cell(in); got != want {
			t.Errorf("cell(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestShorten(t *testing.T) {
	tests := []struct {
		in    string
		width float64
		want  string
	}{
		{"1 Identity and Access Management", 300, "1 Identity and Access Management"},
		{"1 Identity and Access Management", 100, "1 Identity an…"},
		{"8.2.4 Computing environment 安全计算环境", 250, "8.2.4 Computing environment 安全计…"},
		{"a b c", 28, "a b…"},
	}
	for _, tc := range tests {
		if got := shorten(tc.in, tc.width); got != tc.want {
			t.Errorf("shorten(%q, %v) = %q, want %q", tc.in, tc.width, got, tc.want)
		}
	}
}
