package correlate_test

import (
	"slices"
	"testing"

	"github.com/canopy-sec/canopy/internal/correlate"
	"github.com/canopy-sec/canopy/internal/ocsf"
)

func has(es []correlate.Entity, k correlate.Kind, v string) bool {
	return slices.ContainsFunc(es, func(e correlate.Entity) bool { return e.Kind == k && e.Value == v })
}

func TestEntitiesFromSamples(t *testing.T) {
	type ent struct {
		kind  correlate.Kind
		value string
	}
	tests := []struct {
		file   string
		record int
		want   []ent
		not    []ent
	}{
		{"cloudtrail/stratus-aws.defense-evasion.cloudtrail-stop.json", 0,
			[]ent{{correlate.KindIdentity, "arn:aws:iam::143434273843:user/christophe"}, {correlate.KindIdentity, "AKIAGGWFBBHBE7D3M9WI"},
				{correlate.KindIdentity, "AIDAOC1SYDVN0AF0FMMR"}, {correlate.KindIP, "86.245.153.234"}},
			[]ent{{correlate.KindResource, "143434273843"}}},
		{"cloudtrail/stratus-aws.persistence.iam-create-admin-user.json", 0,
			[]ent{{correlate.KindIdentity, "malicious-iam-user"}, {correlate.KindIP, "75.50.255.67"}}, nil},
		{"cloudtrail/stratus-aws.exfiltration.ec2-share-ebs-snapshot.json", 0,
			[]ent{{correlate.KindResource, "snap-041993b54a9b3af6f"}}, nil},
		{"cloudtrail/panther-cloudtrail-rule-tests.jsonl", 2, // assumed role → its role ARN too
			[]ent{{correlate.KindIdentity, "arn:aws:iam::123456789012:role/AWSReservedSSO_DevAdmin_abc123"}}, nil},
		{"guardduty/derived-resource-types.jsonl", 0,
			[]ent{{correlate.KindIdentity, "ASIAEXAMPLEKEY"}, {correlate.KindResource, "arn:aws:s3:::example-bucket"}, {correlate.KindIP, "198.51.100.7"}}, nil},
		{"guardduty/derived-resource-types.jsonl", 1,
			[]ent{{correlate.KindHost, "i-0abc1234def567890"}}, nil},
		{"falco/derived-extra-fields.jsonl", 0,
			[]ent{{correlate.KindContainer, "ee97d9c4186f"}, {correlate.KindContainer, "pod/default/kubecon"},
				{correlate.KindImage, "sha256:7e01a0d0a1dcd9e539f8e9bbd80106d59efbdf97293b3d38f5d7a34501526cdb"}, {correlate.KindHost, "falco-xczjd"}}, nil},
		{"falco/falcosidekick-readme-example.jsonl", 0, nil, []ent{{correlate.KindResource, "localhost"}, {correlate.KindHost, "localhost"}}},
		{"suricata-eve/sv-alert-testmyids.eve.jsonl", 0,
			[]ent{{correlate.KindIP, "82.165.177.154"}, {correlate.KindIP, "10.16.1.11"}, {correlate.KindDomain, "www.testmyids.com"}},
			[]ent{{correlate.KindHost, "www.testmyids.com"}}},
		{"asff/securityhub-inspector-ecr.json", 0,
			[]ent{{correlate.KindImage, "sha256:af965ef68c78374a5f987fce98c0ddfa45801df2395bf012c50b863e65978d74"}, {correlate.KindCVE, "CVE-2023-2650"},
				{correlate.KindResource, "arn:aws:ecr:eu-central-1:123456789012:repository/repo-os/sha256:af965ef68c78374a5f987fce98c0ddfa45801df2395bf012c50b863e65978d74"}}, nil},
		{"trivy/image-alpine-3.10.json", 0, []ent{{correlate.KindCVE, "CVE-2019-1549"}}, nil},
		{"k8s-audit/falco-exec_pod.json", 0,
			[]ent{{correlate.KindContainer, "pod/default/nginx-deployment-7998647bdf-phvq7"}, {correlate.KindIdentity, "minikube-user"}, {correlate.KindIP, "192.168.99.1"}},
			[]ent{{correlate.KindIdentity, "system:masters"}}},
		{"prowler/prowler5-aws.ocsf.json", 1, nil, []ent{{correlate.KindIdentity, "arn:aws:iam::<account_uid>:root"}}},
	}
	for _, tc := range tests {
		recs := decode(t, tc.file)
		if tc.record >= len(recs) {
			t.Fatalf("%s: only %d records", tc.file, len(recs))
		}
		got := correlate.Entities(recs[tc.record])
		for _, w := range tc.want {
			if !has(got, w.kind, w.value) {
				t.Errorf("%s[%d]: missing %s %q in %v", tc.file, tc.record, w.kind, w.value, got)
			}
		}
		for _, n := range tc.not {
			if has(got, n.kind, n.value) {
				t.Errorf("%s[%d]: unwanted %s %q", tc.file, tc.record, n.kind, n.value)
			}
		}
		seen := map[correlate.Entity]bool{}
		for _, e := range got {
			e.Common = false
			if seen[e] {
				t.Errorf("%s[%d]: %v listed twice", tc.file, tc.record, e)
			}
			seen[e] = true
		}
	}
}

// TestSameEntityAcrossTools: the same image digest from Trivy (ASFF) and
// Inspector, the same pod from Falco and the Kubernetes audit log, the same
// IP and ARN written differently, give identical entities.
func TestSameEntityAcrossTools(t *testing.T) {
	digest := "sha256:af965ef68c78374a5f987fce98c0ddfa45801df2395bf012c50b863e65978d74"
	inspector := correlate.Entities(decode(t, "asff/securityhub-inspector-ecr.json")[0])
	trivy := &ocsf.VulnerabilityFinding{}
	trivy.Resources = []ocsf.ResourceDetails{{UID: "123456789012.dkr.ecr.eu-central-1.amazonaws.com/repo-os@SHA256:AF965EF68C78374A5F987FCE98C0DDFA45801DF2395BF012C50B863E65978D74", Type: "Container Image"}}
	if !has(inspector, correlate.KindImage, digest) || !has(correlate.Entities(trivy), correlate.KindImage, digest) {
		t.Errorf("digest differs: %v / %v", inspector, correlate.Entities(trivy))
	}

	falco := correlate.Entities(decode(t, "falco/falco-docs-alert-examples.jsonl")[3])
	k8s := &ocsf.APIActivity{Resources: []ocsf.ResourceDetails{{Name: "nginx-676b6c5bbc-4xc6t", Type: "pods", Namespace: "hello-app"}}}
	if pod := "pod/hello-app/nginx-676b6c5bbc-4xc6t"; !has(falco, correlate.KindContainer, pod) || !has(correlate.Entities(k8s), correlate.KindContainer, pod) {
		t.Errorf("pod differs: %v / %v", falco, correlate.Entities(k8s))
	}

	suricata := &ocsf.DetectionFinding{Evidences: []ocsf.Evidence{{SrcEndpoint: &ocsf.NetworkEndpoint{IP: "::ffff:198.51.100.7", Hostname: "EVIL.Example.COM."}}}}
	guardduty := correlate.Entities(decode(t, "guardduty/derived-resource-types.jsonl")[0])
	s := correlate.Entities(suricata)
	if !has(s, correlate.KindIP, "198.51.100.7") || !has(guardduty, correlate.KindIP, "198.51.100.7") {
		t.Errorf("IPv4-mapped address not unmapped: %v", s)
	}
	if !has(s, correlate.KindDomain, "evil.example.com") {
		t.Errorf("domain not normalized: %v", s)
	}

	ct := correlate.Entities(decode(t, "cloudtrail/stratus-aws.defense-evasion.cloudtrail-stop.json")[0])
	gd := &ocsf.DetectionFinding{}
	gd.Resources = []ocsf.ResourceDetails{{UID: "ARN:AWS:IAM::143434273843:user/christophe"}}
	gd.Evidences = []ocsf.Evidence{{Actor: &ocsf.Actor{Session: &ocsf.Session{CredentialUID: "akiaggwfbbhbe7d3m9wi"}}}}
	g := correlate.Entities(gd)
	for _, v := range []string{"arn:aws:iam::143434273843:user/christophe", "AKIAGGWFBBHBE7D3M9WI"} {
		if !has(ct, correlate.KindIdentity, v) || !has(g, correlate.KindIdentity, v) {
			t.Errorf("identity %q differs: %v / %v", v, ct, g)
		}
	}
}

func TestNormalize(t *testing.T) {
	rec := &ocsf.NetworkActivity{}
	rec.SrcEndpoint = &ocsf.NetworkEndpoint{IP: "2001:DB8:0:0::1"}
	rec.DstEndpoint = &ocsf.NetworkEndpoint{IP: "0.0.0.0", Hostname: "unknown"}
	rec.Device = &ocsf.Device{Hostname: "Web-01.Corp.Example.", IP: "127.0.0.1", Container: &ocsf.Container{UID: "containerd://AB12CD34EF56AB12CD34EF56AB12CD34EF56AB12CD34EF56AB12CD34EF56AB12"}}
	rec.Actor = &ocsf.Actor{User: &ocsf.User{UID: "arn:aws-cn:iam::123456789012:user/Bob", EmailAddr: "Bob@Example.COM", Name: "-"}}
	rec.Observables = []ocsf.Observable{{TypeID: ocsf.ObservableIP, Value: "::"}, {TypeID: ocsf.ObservableCVE, Value: "cve-2024-6387"},
		{TypeID: ocsf.ObservableResourceUID, Value: "<resource_arn>"}, {TypeID: ocsf.ObservableIP, Value: "::1"}}
	got := correlate.Entities(rec)
	want := []correlate.Entity{
		{Kind: correlate.KindIP, Value: "2001:db8::1"},
		{Kind: correlate.KindIdentity, Value: "arn:aws-cn:iam::123456789012:user/Bob"},
		{Kind: correlate.KindIdentity, Value: "bob@example.com"},
		{Kind: correlate.KindHost, Value: "web-01.corp.example"},
		{Kind: correlate.KindContainer, Value: "ab12cd34ef56"},
		{Kind: correlate.KindCVE, Value: "CVE-2024-6387"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("got  %v\nwant %v", got, want)
	}
}

func TestCommon(t *testing.T) {
	rec := decode(t, "cloudtrail/stratus-aws.persistence.iam-create-admin-user.json")[0]
	got := correlate.Entities(rec)
	for _, e := range got {
		switch e.Value {
		case "arn:aws:iam::aws:policy/AdministratorAccess", "iam.amazonaws.com":
			if !e.Common {
				t.Errorf("%v should be Common", e)
			}
		case "arn:aws:iam::229654561268:user/christophe":
			if e.Common {
				t.Errorf("%v should not be Common", e)
			}
		}
	}
}

// TestZeroRecords: no record class panics when empty, and empty records
// name nothing.
func TestZeroRecords(t *testing.T) {
	recs := []ocsf.Record{
		&ocsf.Base{}, &ocsf.VulnerabilityFinding{}, &ocsf.ComplianceFinding{}, &ocsf.DetectionFinding{},
		&ocsf.DataSecurityFinding{}, &ocsf.APIActivity{}, &ocsf.Authentication{}, &ocsf.NetworkActivity{},
		&ocsf.HTTPActivity{}, &ocsf.DNSActivity{}, &ocsf.ProcessActivity{},
		&ocsf.DetectionFinding{Evidences: []ocsf.Evidence{{}, {Actor: &ocsf.Actor{}, API: &ocsf.API{Request: &ocsf.Request{}}, Process: &ocsf.Process{ParentProcess: &ocsf.Process{}}, Container: &ocsf.Container{Image: &ocsf.Image{}}}}},
		&ocsf.VulnerabilityFinding{Vulnerabilities: []ocsf.Vulnerability{{}, {CVE: &ocsf.CVE{}, Advisory: &ocsf.Advisory{}}}},
		&ocsf.DNSActivity{Query: &ocsf.DNSQuery{}, Answers: []ocsf.DNSAnswer{{}}},
	}
	for _, r := range recs {
		if es := correlate.Entities(r); len(es) != 0 {
			t.Errorf("%T: %v", r, es)
		}
		if ts := correlate.Tactics(r); len(ts) != 0 {
			t.Errorf("%T: tactics %v", r, ts)
		}
	}
	if correlate.Entities(nil) != nil || correlate.Tactics(nil) != nil {
		t.Error("nil record")
	}
}
