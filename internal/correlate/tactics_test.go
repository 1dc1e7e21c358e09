package correlate_test

import (
	"slices"
	"testing"

	"github.com/canopy-sec/canopy/internal/correlate"
	"github.com/canopy-sec/canopy/internal/ocsf"
)

func ids(ts []correlate.Tactic) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.ID)
	}
	return out
}

func TestKillChain(t *testing.T) {
	kc := correlate.KillChain()
	want := []string{"TA0043", "TA0042", "TA0001", "TA0002", "TA0003", "TA0004", "TA0005", "TA0006", "TA0007", "TA0008", "TA0009", "TA0011", "TA0010", "TA0040"}
	if !slices.Equal(ids(kc), want) {
		t.Fatalf("kill chain %v", ids(kc))
	}
	for i, tc := range kc {
		if tc.Order != i+1 || correlate.TacticOrder(tc.ID) != i+1 || correlate.TacticOrder(tc.Name) != i+1 {
			t.Errorf("%v: order", tc)
		}
	}
	for in, want := range map[string]int{"defense-evasion": 7, "DefenseEvasion": 7, "defense_evasion": 7, "ta0040": 14, "Command and Control": 12, "nonsense": 0, "": 0} {
		if got := correlate.TacticOrder(in); got != want {
			t.Errorf("TacticOrder(%q) = %d, want %d", in, got, want)
		}
	}
	ts := []correlate.Tactic{{ID: "X"}, kc[13], kc[2], kc[6]}
	correlate.SortByKillChain(ts)
	if got := ids(ts); !slices.Equal(got, []string{"TA0001", "TA0005", "TA0040", "X"}) {
		t.Errorf("sorted %v", got)
	}
}

func api(product, op string, data any) *ocsf.APIActivity {
	r := &ocsf.APIActivity{API: ocsf.API{Operation: op, Request: &ocsf.Request{Data: data}}}
	r.Metadata.Product.Name = product
	return r
}

func detection(product string, types ...string) *ocsf.DetectionFinding {
	r := &ocsf.DetectionFinding{}
	r.Metadata.Product.Name = product
	r.FindingInfo.Types = types
	return r
}

func TestTactics(t *testing.T) {
	withAttacks := detection("Wazuh")
	withAttacks.FindingInfo.Attacks = []ocsf.Attack{{Tactic: &ocsf.Tactic{Name: "Impact"}}, {Technique: &ocsf.Technique{UID: "T1110.001"}}, {Tactic: &ocsf.Tactic{UID: "TA0001"}}}
	tests := []struct {
		name string
		rec  ocsf.Record
		want []string
	}{
		{"source attacks win, ordered", withAttacks, []string{"TA0001", "TA0006", "TA0040"}},
		{"StopLogging", api("CloudTrail", "StopLogging", nil), []string{"TA0005"}},
		{"ActionTrail DeleteTrail", api("ActionTrail", "DeleteTrail", nil), []string{"TA0005"}},
		{"CreateAccessKey", api("CloudTrail", "CreateAccessKey", nil), []string{"TA0003"}},
		{"AttachUserPolicy", api("CloudTrail", "AttachUserPolicy", nil), []string{"TA0004"}},
		{"GetSecretValue", api("CloudTrail", "GetSecretValue", nil), []string{"TA0006"}},
		{"ListUsers", api("CloudTrail", "ListUsers", nil), []string{"TA0007"}},
		{"Describe prefix", api("CloudTrail", "DescribeInstances", nil), []string{"TA0007"}},
		{"GetObject not discovery", api("CloudTrail", "GetBucketLocation", nil), nil},
		{"open ingress", api("CloudTrail", "AuthorizeSecurityGroupIngress", map[string]any{"ipPermissions": map[string]any{"items": []any{map[string]any{"ipRanges": map[string]any{"items": []any{map[string]any{"cidrIp": "0.0.0.0/0"}}}}}}}), []string{"TA0005"}},
		{"private ingress", api("CloudTrail", "AuthorizeSecurityGroupIngress", map[string]any{"cidrIp": "10.0.0.0/8"}), nil},
		{"public bucket policy", api("CloudTrail", "PutBucketPolicy", map[string]any{"bucketPolicy": map[string]any{"Statement": []any{map[string]any{"Principal": "*"}}}}), []string{"TA0010"}},
		{"other source same op", api("Cloud Audit Logs", "StopLogging", nil), nil},
		{"GuardDuty Stealth", detection("GuardDuty", "Stealth:IAMUser/CloudTrailLoggingDisabled"), []string{"TA0005"}},
		{"GuardDuty Recon", detection("GuardDuty", "Recon:EC2/PortProbeUnprotectedPort"), []string{"TA0043"}},
		{"GuardDuty brute force exact", detection("GuardDuty", "UnauthorizedAccess:EC2/SSHBruteForce"), []string{"TA0006"}},
		{"GuardDuty UnauthorizedAccess", detection("GuardDuty", "UnauthorizedAccess:IAMUser/TorIPCaller"), []string{"TA0001"}},
		{"Security Hub GuardDuty type", detection("GuardDuty", "TTPs/Persistence/Persistence:IAMUser-AnomalousBehavior"), []string{"TA0003"}},
		{"Falco tags", detection("Falco", "container", "mitre_execution", "T1611"), []string{"TA0002", "TA0004"}},
		{"Suricata trojan", detection("Suricata", "A Network Trojan was detected"), []string{"TA0011"}},
		{"Suricata admin gain", detection("Suricata", "Attempted Administrator Privilege Gain"), []string{"TA0004"}},
		{"Suricata generic", detection("Suricata", "Potentially Bad Traffic"), nil},
	}
	for _, tc := range tests {
		if got := ids(correlate.Tactics(tc.rec)); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestTacticsFromSamples(t *testing.T) {
	tests := []struct {
		file   string
		record int
		want   []string
	}{
		{"cloudtrail/stratus-aws.defense-evasion.cloudtrail-stop.json", 0, []string{"TA0005"}},
		{"cloudtrail/stratus-aws.defense-evasion.cloudtrail-delete.json", 0, []string{"TA0005"}},
		{"cloudtrail/stratus-aws.defense-evasion.cloudtrail-event-selectors.json", 0, []string{"TA0005"}},
		{"cloudtrail/stratus-aws.initial-access.console-login-without-mfa.json", 0, []string{"TA0001"}},
		{"cloudtrail/stratus-aws.exfiltration.ec2-share-ebs-snapshot.json", 0, []string{"TA0010"}},
		{"cloudtrail/stratus-aws.exfiltration.ec2-security-group-open-port-22-ingress.json", 0, []string{"TA0005"}},
		{"cloudtrail/stratus-aws.credential-access.secretsmanager-retrieve-secrets.json", 0, []string{"TA0006"}},
		{"guardduty/eventbridge-derived-from-asff.json", 0, []string{"TA0005"}},
		{"asff/securityhub-guardduty.json", 0, []string{"TA0005"}},
	}
	for _, tc := range tests {
		recs := decode(t, tc.file)
		if got := ids(correlate.Tactics(recs[tc.record])); !slices.Equal(got, tc.want) {
			t.Errorf("%s[%d]: %v, want %v", tc.file, tc.record, got, tc.want)
		}
	}
	// A multi-tool story lands in kill-chain order.
	var all []correlate.Tactic
	for _, f := range []string{
		"cloudtrail/stratus-aws.exfiltration.ec2-share-ebs-snapshot.json",
		"cloudtrail/stratus-aws.defense-evasion.cloudtrail-stop.json",
		"cloudtrail/stratus-aws.initial-access.console-login-without-mfa.json",
		"cloudtrail/stratus-aws.persistence.iam-create-admin-user.json",
	} {
		for _, r := range decode(t, f) {
			all = append(all, correlate.Tactics(r)...)
		}
	}
	correlate.SortByKillChain(all)
	all = slices.CompactFunc(all, func(a, b correlate.Tactic) bool { return a.ID == b.ID })
	if got := ids(all); !slices.Equal(got, []string{"TA0001", "TA0003", "TA0004", "TA0005", "TA0010"}) {
		t.Errorf("story %v", got)
	}
}
