package correlate_test

import (
	"os"

	json "github.com/goccy/go-json"

	"fmt"
	"github.com/canopy-sec/canopy/internal/ocsf/ocsfschema"
	"strings"
	"testing"
	"time"

	"github.com/canopy-sec/canopy/internal/correlate"
	"github.com/canopy-sec/canopy/internal/ocsf"
)

var t0 = time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)

func incAPICall(op, userARN, ip string, at time.Time) correlate.Member {
	a := &ocsf.APIActivity{}
	a.SetClass(ocsf.ClassAPIActivity, ocsf.ActivityOther, op)
	a.Metadata.Product = ocsf.Product{Name: "CloudTrail", VendorName: "AWS"}
	a.API = ocsf.API{Operation: op, Service: &ocsf.Service{Name: "iam.amazonaws.com"}}
	a.Actor = ocsf.Actor{User: &ocsf.User{UID: userARN, Name: userARN[strings.LastIndexByte(userARN, '/')+1:]}}
	a.SrcEndpoint = ocsf.NetworkEndpoint{IP: ip}
	a.Time = at.UnixMilli()
	return correlate.Member{Time: at, Record: a}
}

func incDetection(rule, tactic, srcIP, instance string, at time.Time) correlate.Member {
	f := &ocsf.DetectionFinding{}
	f.SetClass(ocsf.ClassDetectionFinding, ocsf.ActivityCreate, "")
	f.Metadata.Product = ocsf.Product{Name: "GuardDuty", VendorName: "AWS"}
	f.FindingInfo = ocsf.FindingInfo{UID: rule + instance, Title: rule, Attacks: []ocsf.Attack{{Tactic: &ocsf.Tactic{UID: tactic}}}}
	f.Resources = []ocsf.ResourceDetails{{UID: instance, Type: "AwsEc2Instance"}}
	f.Evidences = []ocsf.Evidence{{SrcEndpoint: &ocsf.NetworkEndpoint{IP: srcIP}}}
	f.Time = at.UnixMilli()
	return correlate.Member{Time: at, Record: f}
}

// TestBuildIntrusion: one attacker's steps across tools become one incident
// in kill-chain order; unrelated activity stays out, and an address shared by
// everyone (a NAT gateway) glues nothing together.
func TestBuildIntrusion(t *testing.T) {
	alice := "arn:aws:iam::111122223333:user/alice"
	attacker := "203.0.113.50"
	nat := "198.51.100.1"
	members := []correlate.Member{
		incDetection("UnauthorizedAccess:EC2/SSHBruteForce", "TA0006", attacker, "i-0abc1234def567890", t0),
		incAPICall("ConsoleLogin", alice, attacker, t0.Add(20*time.Minute)),
		incAPICall("CreateAccessKey", alice, attacker, t0.Add(25*time.Minute)),
		incAPICall("StopLogging", alice, attacker, t0.Add(40*time.Minute)),
	}
	// noise: 60 users calling read-only APIs through one NAT address
	for i := 0; i < 60; i++ {
		members = append(members, incAPICall("DescribeInstances", fmt.Sprintf("arn:aws:iam::111122223333:user/dev%02d", i), nat, t0.Add(time.Duration(i)*time.Minute)))
	}
	// a second, separate pair: bob twice, two days later
	bob := "arn:aws:iam::111122223333:user/bob"
	members = append(members, incAPICall("CreateUser", bob, "192.0.2.77", t0.Add(48*time.Hour)), incAPICall("AttachUserPolicy", bob, "192.0.2.77", t0.Add(49*time.Hour)))
	for i := range members {
		members[i].ID = int64(i + 1)
	}
	incs := correlate.Build(members, correlate.Options{})
	if len(incs) != 2 {
		for _, in := range incs {
			t.Logf("incident %v: %s", in.Members, in.Title)
		}
		t.Fatalf("%d incidents, want 2 (the intrusion, bob's pair)", len(incs))
	}
	in := incs[0]
	if fmt.Sprint(in.Members) != "[1 2 3 4]" {
		t.Errorf("intrusion members = %v, want [1 2 3 4]", in.Members)
	}
	var ids []string
	for _, tc := range in.Tactics {
		ids = append(ids, tc.ID)
	}
	if len(ids) < 4 {
		t.Errorf("intrusion tactics = %v, want at least 4", ids)
	}
	for i := 1; i < len(in.Tactics); i++ {
		if in.Tactics[i-1].Order > in.Tactics[i].Order {
			t.Errorf("tactics not in kill-chain order: %v", ids)
		}
	}
	if !strings.Contains(in.Title, attacker) && !strings.Contains(in.Title, "alice") {
		t.Errorf("title %q names neither the attacker nor the user", in.Title)
	}
	for _, e := range in.Entities {
		if e.Value == nat {
			t.Error("the NAT address links the intrusion")
		}
	}
	if fmt.Sprint(incs[1].Members) != "[65 66]" {
		t.Errorf("second incident = %v", incs[1].Members)
	}
}

// TestBuildWindow: the same entity a week apart links nothing.
func TestBuildWindow(t *testing.T) {
	alice := "arn:aws:iam::111122223333:user/alice"
	ms := []correlate.Member{incAPICall("CreateAccessKey", alice, "203.0.113.9", t0), incAPICall("StopLogging", alice, "203.0.113.10", t0.Add(7*24*time.Hour))}
	ms[0].ID, ms[1].ID = 1, 2
	if incs := correlate.Build(ms, correlate.Options{}); len(incs) != 0 {
		t.Errorf("records a week apart formed %d incidents", len(incs))
	}
	if incs := correlate.Build(ms, correlate.Options{Window: 8 * 24 * time.Hour}); len(incs) != 1 {
		t.Errorf("with an 8-day window: %d incidents, want 1", len(incs))
	}
}

// BenchmarkBuild correlates n synthetic API calls: 1,000 users, each with a
// handful of addresses, spread over a week.
//
//	go test ./internal/correlate -run XXX -bench Build -benchtime 1x
func BenchmarkBuild(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			ms := make([]correlate.Member, n)
			for i := range ms {
				user := fmt.Sprintf("arn:aws:iam::111122223333:user/u%04d", i%1000)
				ip := fmt.Sprintf("10.%d.%d.%d", i%7, (i/7)%250, i%250+1)
				ms[i] = incAPICall("DescribeInstances", user, ip, t0.Add(time.Duration(i)*6*time.Second))
				ms[i].ID = int64(i + 1)
			}
			for b.Loop() {
				correlate.Build(ms, correlate.Options{})
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

func TestToOCSFIsValid(t *testing.T) {
	alice := "arn:aws:iam::111122223333:user/alice"
	ms := []correlate.Member{
		incDetection("UnauthorizedAccess:EC2/SSHBruteForce", "TA0006", "203.0.113.50", "i-0abc1234def567890", t0),
		incAPICall("ConsoleLogin", alice, "203.0.113.50", t0.Add(time.Minute)),
	}
	recs := map[int64]ocsf.Record{}
	for i := range ms {
		ms[i].ID = int64(i + 1)
		recs[ms[i].ID] = ms[i].Record
	}
	incs := correlate.Build(ms, correlate.Options{})
	if len(incs) != 1 {
		t.Fatalf("%d incidents", len(incs))
	}
	f := correlate.ToOCSF(incs[0], recs, "inc-1")
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ocsfschema.Load(os.DirFS("../ocsf/ocsfschema/testdata/schema"))
	if err != nil {
		t.Fatal(err)
	}
	problems, err := s.ValidateJSON(b)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("%s", p)
	}
	if len(f.FindingInfoList) != 2 || f.SeverityID != 0 && f.Severity == "" {
		t.Errorf("incident %s", b)
	}
}

// TestPostureAloneIsNoIncident: weaknesses sharing an entity form no
// incident by themselves; with one activity record they join it.
func TestPostureAloneIsNoIncident(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	cve := []correlate.Entity{{Kind: correlate.KindCVE, Value: "CVE-2024-6387"}}
	members := []correlate.Member{
		{ID: 1, Time: t0, Entities: cve, Tactics: []correlate.Tactic{}, Posture: true},
		{ID: 2, Time: t0.Add(time.Minute), Entities: cve, Tactics: []correlate.Tactic{}, Posture: true},
	}
	if incs := correlate.Build(members, correlate.Options{}); len(incs) != 0 {
		t.Fatalf("weaknesses alone made %d incidents", len(incs))
	}
	members = append(members, correlate.Member{ID: 3, Time: t0.Add(time.Hour), Entities: cve, Tactics: []correlate.Tactic{}})
	incs := correlate.Build(members, correlate.Options{})
	if len(incs) != 1 || len(incs[0].Members) != 3 {
		t.Fatalf("with an activity record: %+v", incs)
	}
}
