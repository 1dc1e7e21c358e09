// Package ingesttest generates tool outputs of any size for benchmarks and
// load tests (real samples are too small for them). It is used only by tests.
package ingesttest

import (
	"fmt"
	"io"
	"time"
)

// TrivyReport writes a Trivy JSON report of one container image with n
// vulnerabilities spread over packages, shaped like real reports (CVSS, CWE,
// references, layer, data source; about 1.1 KB per vulnerability). Every
// vulnerability has its own identity, so n findings result.
func TrivyReport(w io.Writer, n int) {
	fmt.Fprintf(w, `{"SchemaVersion":2,"Trivy":{"Version":"0.69.1"},"CreatedAt":"2026-11-01T10:00:00Z","ArtifactName":"registry.example.com/shop/api:1.4.2","ArtifactType":"container_image","Metadata":{"ImageID":"sha256:9f2c","RepoDigests":["registry.example.com/shop/api@sha256:9f2c5e3d"],"OS":{"Family":"debian","Name":"12.5"}},"Results":[{"Target":"registry.example.com/shop/api:1.4.2 (debian 12.5)","Class":"os-pkgs","Type":"debian","Vulnerabilities":[`)
	sev := []string{"LOW", "MEDIUM", "HIGH", "CRITICAL", "UNKNOWN"}
	for i := 0; i < n; i++ {
		if i > 0 {
			w.Write([]byte{','})
		}
		fmt.Fprintf(w, `{"VulnerabilityID":"CVE-2024-%05d","PkgID":"lib%d@1.%d.0-1","PkgName":"lib%d","PkgIdentifier":{"PURL":"pkg:deb/debian/lib%d@1.%d.0-1?distro=debian-12","UID":"%x"},"InstalledVersion":"1.%d.0-1","FixedVersion":"1.%d.1-1","Status":"fixed","Layer":{"DiffID":"sha256:03901b4a2ea88eeaad62dbe59b072b28b6efa00491962b8741081c5df50c65e0"},"SeveritySource":"nvd","PrimaryURL":"https://avd.aquasec.com/nvd/cve-2024-%05d","DataSource":{"ID":"debian","Name":"Debian Security Tracker","URL":"https://salsa.debian.org/security-tracker-team/security-tracker"},"Title":"lib%d: heap overflow in parser","Description":"A heap-based buffer overflow in the parser of lib%d allows a remote attacker to execute code via a crafted input. Versions before 1.%d.1 are affected.","Severity":"%s","CweIDs":["CWE-787"],"VendorSeverity":{"nvd":3,"redhat":2},"CVSS":{"nvd":{"V3Vector":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H","V3Score":9.8}},"References":["https://security-tracker.debian.org/tracker/CVE-2024-%05d","https://nvd.nist.gov/vuln/detail/CVE-2024-%05d"],"PublishedDate":"2024-03-01T15:15:00Z","LastModifiedDate":"2024-06-10T09:00:00Z"}`,
			i%90000, i%5000, i%97, i%5000, i%5000, i%97, i, i%97, i%97, i%90000, i%5000, i%5000, i%97, sev[i%len(sev)], i%90000, i%90000)
	}
	fmt.Fprint(w, `]}]}`)
}

// CloudTrailEvents writes n CloudTrail records as JSON Lines: 2,000 users
// calling a mix of read and write APIs from 5,000 addresses over a week, so
// that correlation has many entities to weigh.
func CloudTrailEvents(w io.Writer, n int) {
	ops := []struct{ source, name string }{
		{"ec2.amazonaws.com", "DescribeInstances"}, {"s3.amazonaws.com", "ListBuckets"}, {"iam.amazonaws.com", "ListUsers"},
		{"sts.amazonaws.com", "GetCallerIdentity"}, {"iam.amazonaws.com", "CreateAccessKey"}, {"ec2.amazonaws.com", "RunInstances"},
		{"s3.amazonaws.com", "PutBucketPolicy"}, {"cloudtrail.amazonaws.com", "LookupEvents"},
	}
	for i := 0; i < n; i++ {
		op := ops[i%len(ops)]
		user := i % 2000
		ip := i % 5000
		sec := int64(i) * 604800 / int64(max(n, 1))
		fmt.Fprintf(w, `{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDAUSER%05d","arn":"arn:aws:iam::111122223333:user/u%05d","accountId":"111122223333","userName":"u%05d","accessKeyId":"AKIAUSER%08d"},"eventTime":"%s","eventSource":"%s","eventName":"%s","awsRegion":"us-east-1","sourceIPAddress":"10.%d.%d.%d","userAgent":"aws-cli/2.15.0","requestParameters":null,"responseElements":null,"requestID":"r%d","eventID":"e%012d","readOnly":true,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111122223333"}`+"\n",
			user, user, user, user, time.Unix(1777600000+sec, 0).UTC().Format(time.RFC3339), op.source, op.name, ip/250%250, ip%250, 1+ip%200, i, i)
	}
}
