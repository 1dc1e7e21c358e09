package storetest

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/canopy-sec/canopy/internal/store"
)

// testText: Query.Text keeps the findings whose title or resource uid
// contains it, ignoring case; LIKE's wildcards and escape are plain
// characters; it combines with the other filters, paging and issues.
func testText(t *testing.T, s store.Store) {
	ctx := context.Background()
	mk := func(tenant, fp string, sev int, title, resource, issue string) store.Row {
		r := row(tenant, fp, sev, t0)
		r.Title, r.ResourceUID, r.IssueKey = title, resource, issue
		return r
	}
	write(t, s, []store.Row{
		mk("a", "ssh", 5, "OpenSSH regreSSHion (CVE-2024-6387)", "sha256:abc", "cve"),
		mk("a", "ssh2", 3, "openssh: signal handler race", "sha256:def", "cve"),
		mk("a", "s3", 4, "Public S3 bucket", "arn:aws:s3:::My_Bucket", "s3"),
		mk("a", "pct", 2, "100% of keys exposed", "key", "pct"),
		mk("a", "under", 2, "exposed_thing", "thing", "under"),
		mk("a", "slash", 1, `path C:\Temp`, "host", "slash"),
		mk("a", "plain", 1, "Mybucket policy", "MyXBucket", "plain"),
		mk("b", "other", 5, "OpenSSH on another tenant", "x", "cve"),
	}, nil)
	fps := func(rs []store.Record) string {
		var out []string
		for _, r := range rs {
			out = append(out, r.Fingerprint)
		}
		slices.Sort(out) // ids of equal severity are in insertion order, which differs by backend
		return strings.Join(out, ",")
	}
	tests := []struct {
		name string
		q    store.Query
		want string // fingerprints, sorted
	}{
		{"title, any case", store.Query{Text: "OPENSSH"}, "ssh,ssh2"},
		{"title or resource", store.Query{Text: "s3"}, "s3"},
		{"resource, any case", store.Query{Text: "my_bucket"}, "s3"},
		{"underscore is plain", store.Query{Text: "_"}, "s3,under"},
		{"percent is plain", store.Query{Text: "0%"}, "pct"},
		{"backslash is plain", store.Query{Text: `c:\t`}, "slash"},
		{"no match", store.Query{Text: "nothing like it"}, ""},
		{"with a severity", store.Query{Text: "openssh", Severities: []int{3}}, "ssh2"},
		{"with a source", store.Query{Text: "openssh", Products: []string{"trivy"}}, "ssh,ssh2"},
		{"one a page", store.Query{Text: "e", Limit: 1}, "pct,plain,s3,slash,ssh,ssh2,under"},
		{"severities apart, one a page", store.Query{Text: "e", Severities: []int{4, 1}, Limit: 1}, "plain,s3,slash"},
	}
	for _, tt := range tests {
		tt.q.Tenant = "a"
		if got := fps(all(t, s, tt.q)); got != tt.want {
			t.Errorf("%s: findings %q, want %q", tt.name, got, tt.want)
		}
	}
	issues, err := s.Issues(ctx, store.Query{Tenant: "a", Text: "SIGNAL"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(issues) != 1 || issues[0].Key != "cve" || issues[0].Findings != 1 || !slices.Equal(issues[0].Sources, []string{"Trivy"}) {
		t.Errorf("issues with text: %+v", issues)
	}
}
