package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/canopy-sec/canopy/internal/ocsf"
)

func TestSARIFSeverity(t *testing.T) {
	rule := func(level string, props map[string]any) *sarifRuleInfo {
		r := &sarifRule{ID: "R1", Properties: props}
		r.DefaultConfiguration.Level = level
		return &sarifRuleInfo{rule: r}
	}
	tests := []struct {
		name     string
		res      sarifResult
		ri       *sarifRuleInfo
		wantID   int
		wantWord string
	}{
		{"no level anywhere is warning", sarifResult{}, nil, ocsf.SeverityMedium, "warning"},
		{"result level", sarifResult{Level: "error"}, rule("note", nil), ocsf.SeverityHigh, "error"},
		{"rule default level", sarifResult{}, rule("note", nil), ocsf.SeverityLow, "note"},
		{"level none", sarifResult{Level: "none"}, nil, ocsf.SeverityInformational, "none"},
		{"kind other than fail defaults to none", sarifResult{Kind: "pass"}, rule("error", nil), ocsf.SeverityInformational, "none"},
		{"security-severity score wins over level", sarifResult{Level: "note"}, rule("", map[string]any{"security-severity": "8.2"}), ocsf.SeverityHigh, "8.2"},
		{"security-severity 9.0 is critical", sarifResult{}, rule("", map[string]any{"security-severity": "9.0"}), ocsf.SeverityCritical, "9.0"},
		{"security-severity 0 is informational", sarifResult{}, rule("", map[string]any{"security-severity": "0.0"}), ocsf.SeverityInformational, "0.0"},
		{"security-severity as a label", sarifResult{}, rule("warning", map[string]any{"security-severity": "CRITICAL"}), ocsf.SeverityCritical, "CRITICAL"},
		{"result property over rule property", sarifResult{Properties: map[string]any{"security-severity": "3.1"}}, rule("", map[string]any{"security-severity": "9.8"}), ocsf.SeverityLow, "3.1"},
		{"unusable security-severity falls through", sarifResult{Level: "error"}, rule("", map[string]any{"security-severity": "n/a"}), ocsf.SeverityHigh, "error"},
		{"out of range score falls through", sarifResult{Level: "note"}, rule("", map[string]any{"security-severity": "42"}), ocsf.SeverityLow, "note"},
		{"severity label property", sarifResult{Level: "error", Properties: map[string]any{"severity": "low"}}, nil, ocsf.SeverityLow, "low"},
		{"issue_severity property", sarifResult{Level: "note", Properties: map[string]any{"issue_severity": "HIGH"}}, nil, ocsf.SeverityHigh, "HIGH"},
		{"cvss score with its severity word", sarifResult{Level: "error", Properties: map[string]any{"cvssv3_baseScore": 6.1, "cvssv3_baseSeverity": "MEDIUM"}}, nil, ocsf.SeverityMedium, "MEDIUM"},
		{"cvss v2 score", sarifResult{Properties: map[string]any{"cvssv2_score": 9.3}}, nil, ocsf.SeverityCritical, "9.3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, word, _ := sarifSeverity(&tt.res, tt.ri)
			if id != tt.wantID || word != tt.wantWord {
				t.Errorf("got %d %q, want %d %q", id, word, tt.wantID, tt.wantWord)
			}
		})
	}
}

func TestParseCWE(t *testing.T) {
	tests := []struct{ in, uid, caption string }{
		{"external/cwe/cwe-79", "CWE-79", ""},
		{"external/cwe/cwe-079", "CWE-79", ""},
		{"CWE-346", "CWE-346", ""},
		{"CWE-327: Use of a Broken or Risky Cryptographic Algorithm", "CWE-327", "Use of a Broken or Risky Cryptographic Algorithm"},
		{"cwe_89", "CWE-89", ""},
		{"CWE 22", "CWE-22", ""},
		{"cwe", "", ""},
		{"security", "", ""},
		{"CWE-12ab", "", ""},
	}
	for _, tt := range tests {
		c, ok := parseCWE(tt.in)
		if ok != (tt.uid != "") || c.UID != tt.uid || c.Caption != tt.caption {
			t.Errorf("parseCWE(%q) = %+v, %v; want %q %q", tt.in, c, ok, tt.uid, tt.caption)
		}
	}
}

func TestFindCVE(t *testing.T) {
	tests := []struct{ in, want string }{
		{"CVE-2019-1549", "CVE-2019-1549"},
		{"CVE-1999-0001-package-1", "CVE-1999-0001"},
		{"see CVE-2021-44228 for details", "CVE-2021-44228"},
		{"XCVE-2021-44228", ""},
		{"CVE-21-1", ""},
		{"CVE-2021-123", ""},
		{"GHSA-29mw-wpgm-hmr9", ""},
	}
	for _, tt := range tests {
		if got := findCVE(tt.in); got != tt.want {
			t.Errorf("findCVE(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestFillPlaceholders(t *testing.T) {
	tests := []struct {
		in   string
		args []string
		want string
	}{
		{"Hard coded reference in {0}.", []string{"Boot.main"}, "Hard coded reference in Boot.main."},
		{"{1} then {0}", []string{"a", "b"}, "b then a"},
		{"{2} is missing", []string{"a"}, "{2} is missing"},
		{"literal {{braces}} and {0}", []string{"x"}, "literal {braces} and x"},
		{"unterminated {0", []string{"x"}, "unterminated {0"},
		{"no placeholders", []string{"x"}, "no placeholders"},
	}
	for _, tt := range tests {
		if got := fillPlaceholders(tt.in, tt.args); got != tt.want {
			t.Errorf("fillPlaceholders(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParsePURL(t *testing.T) {
	tests := []struct{ in, typ, name, version string }{
		{"pkg:javascript/jquery@1.8.0.min", "javascript", "jquery", "1.8.0.min"},
		{"pkg:deb/debian/curl@7.88.1-10%2Bdeb12u1?distro=debian-12", "deb", "curl", "7.88.1-10+deb12u1"},
		{"pkg:npm/%40babel/core@7.0.0", "npm", "core", "7.0.0"},
		{"pkg:golang/github.com/a/b@v1.2.3#sub", "golang", "b", "v1.2.3"},
		{"pkg:broken", "", "", ""},
	}
	for _, tt := range tests {
		p := parsePURL(tt.in)
		if p.typ != tt.typ || p.name != tt.name || p.version != tt.version || p.purl != tt.in {
			t.Errorf("parsePURL(%q) = %+v", tt.in, p)
		}
	}
}

func TestSARIFURIs(t *testing.T) {
	run := &sarifRun{
		baseIDs: map[string]sarifArtifactLocation{
			"REPO":    {URI: "file:///home/ci/repo"},
			"SRCROOT": {URI: "src/", URIBaseID: "REPO"},
			"LOOP":    {URI: "x/", URIBaseID: "LOOP"},
		},
		artifacts: []sarifArtifact{{uri: "lib/a.js", baseID: "SRCROOT"}},
	}
	idx := 0
	bad := 7
	tests := []struct {
		loc      sarifArtifactLocation
		uri, ubi string
	}{
		{sarifArtifactLocation{URI: "main.go", URIBaseID: "SRCROOT"}, "file:///home/ci/repo/src/main.go", ""},
		{sarifArtifactLocation{URI: "main.go", URIBaseID: "%SRCROOT%"}, "main.go", "%SRCROOT%"},
		{sarifArtifactLocation{URI: "file:///abs/x.c", URIBaseID: "SRCROOT"}, "file:///abs/x.c", ""},
		{sarifArtifactLocation{Index: &idx}, "file:///home/ci/repo/src/lib/a.js", ""},
		{sarifArtifactLocation{Index: &bad, URI: "k.py"}, "k.py", ""},
		{sarifArtifactLocation{URI: "y", URIBaseID: "LOOP"}, "x/x/x/x/x/x/x/x/y", ""},
	}
	for _, tt := range tests {
		uri, ubi := run.resolveURI(&tt.loc)
		if uri != tt.uri || ubi != tt.ubi {
			t.Errorf("resolveURI(%+v) = %q %q, want %q %q", tt.loc, uri, ubi, tt.uri, tt.ubi)
		}
	}
	paths := []struct{ in, want string }{
		{"file:///src/index.js", "/src/index.js"},
		{"file:////src/.venv/x.js", "/src/.venv/x.js"},
		{"file:///C:/work/a.cs", "C:/work/a.cs"},
		{"src/app%20main.js", "src/app main.js"},
		{"https://example.com/a.js", "https://example.com/a.js"},
	}
	for _, tt := range paths {
		if got := filePath(tt.in); got != tt.want {
			t.Errorf("filePath(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestSARIFLargeRun decodes a run bigger than the in-memory spool, with its
// tool after its results, so that results go through a temporary file.
func TestSARIFLargeRun(t *testing.T) {
	const n = 3000
	pad := strings.Repeat("x", 3000)
	var b bytes.Buffer
	b.WriteString(`{"version":"2.1.0","runs":[{"results":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"ruleId":"R%d","message":{"text":"finding %d %s"},"locations":[{"physicalLocation":{"artifactLocation":{"uri":"f%d.go"},"region":{"startLine":%d}}}]}`, i%3, i, pad, i, i+1)
	}
	b.WriteString(`],"tool":{"driver":{"name":"Big","rules":[{"id":"R0"},{"id":"R1","properties":{"security-severity":"9.5"}},{"id":"R2","defaultConfiguration":{"level":"note"}}]}}}]}`)
	if b.Len() <= spoolMemBytes {
		t.Fatalf("input of %d bytes does not exceed the spool's memory", b.Len())
	}
	f, _ := Builtin().Lookup("sarif")
	var got []ocsf.Record
	err := f.Decode(context.Background(), &b, func(r ocsf.Record) error {
		got = append(got, r)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != n {
		t.Fatalf("got %d records, want %d", len(got), n)
	}
	uids := make(map[string]bool)
	for i, r := range got {
		vf := r.(*ocsf.VulnerabilityFinding)
		if vf.Metadata.Product.Name != "Big" {
			t.Fatalf("record %d: product %q", i, vf.Metadata.Product.Name)
		}
		want := []int{ocsf.SeverityMedium, ocsf.SeverityCritical, ocsf.SeverityLow}[i%3]
		if vf.SeverityID != want {
			t.Fatalf("record %d: severity %d, want %d", i, vf.SeverityID, want)
		}
		uids[vf.FindingInfo.UID] = true
	}
	if len(uids) != n {
		t.Errorf("%d distinct finding uids, want %d", len(uids), n)
	}
}

func TestSpool(t *testing.T) {
	var s spool
	defer s.reset()
	big := bytes.Repeat([]byte("y"), 1<<20)
	for i := 1; i <= 10; i++ {
		rec := append([]byte(fmt.Sprintf("%d:", i)), big...)
		if err := s.add(i, int64(i*100), fmt.Sprintf("/r/%d", i-1), rec); err != nil {
			t.Fatal(err)
		}
	}
	if s.f == nil {
		t.Skip("no temporary file could be created; the spool stayed in memory")
	}
	name := s.f.Name()
	n := 0
	err := s.replay(context.Background(), func(r spooled) error {
		n++
		prefix := fmt.Sprintf("%d:", n)
		if r.index != n || r.offset != int64(n*100) || r.pointer != fmt.Sprintf("/r/%d", n-1) || !bytes.HasPrefix(r.raw, []byte(prefix)) || len(r.raw) != len(prefix)+len(big) {
			return fmt.Errorf("record %d read back as index %d offset %d pointer %q (%d bytes)", n, r.index, r.offset, r.pointer, len(r.raw))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != 10 {
		t.Errorf("replayed %d records, want 10", n)
	}
	if _, err := os.Stat(name); !os.IsNotExist(err) {
		t.Errorf("temporary file %s still exists after replay", name)
	}
	if s.len() != 0 {
		t.Errorf("spool holds %d records after replay", s.len())
	}
}

// TestSARIFOddInputs feeds shapes the corpus lacks: every one must decode or
// fail with a *RecordError, never panic.
func TestSARIFOddInputs(t *testing.T) {
	inputs := []string{
		`{"runs":null}`,
		`{"runs":[]}`,
		`{"version":"2.1.0"}`,
		`{"runs":[{}]}`,
		`{"runs":[{"results":null,"tool":null}]}`,
		`{"runs":[{"results":[{"ruleId":"A","message":{"text":"x"}}]}]}`,
		`{"runs":[{"tool":{"driver":{"name":"T"}},"results":[{"ruleIndex":-1,"message":{"text":"x"}}]}]}`,
		`{"runs":[{"tool":{"driver":{"name":"T","rules":[{"id":"A"}]}},"results":[{"ruleIndex":99,"ruleId":"A"}]}]}`,
		`{"runs":[{"tool":{"driver":{"name":"T","rules":[{"id":"A"}]}},"results":[{"rule":{"index":0,"toolComponent":{"index":-5}}}]}]}`,
		`{"runs":[{"tool":{"driver":{"name":"T","rules":[{"id":"A"}]},"extensions":[{"name":"E"}]},"results":[{"rule":{"index":3,"toolComponent":{"index":0}},"ruleId":"A"}]}]}`,
		`{"runs":[{"tool":{"driver":{"name":"T"}},"results":[{"ruleId":"A","locations":[null,{},{"physicalLocation":{}},{"physicalLocation":{"artifactLocation":{"index":-2}}}]}]}]}`,
		`{"runs":[{"tool":{"driver":{"name":"T"}},"artifacts":[null,{"location":null}],"results":[{"ruleId":"A","locations":[{"physicalLocation":{"artifactLocation":{"index":1}}}]}]}]}`,
		`{"runs":[{"tool":{"driver":{"name":"T"}},"originalUriBaseIds":{"A":{"uriBaseId":"A","uri":"x/"}},"results":[{"ruleId":"A","locations":[{"physicalLocation":{"artifactLocation":{"uri":"f","uriBaseId":"A"}}}]}]}]}`,
		`{"runs":[{"tool":{"driver":{"name":"T","rules":[{"id":"A","messageStrings":{"m":{"text":"{0}{1}{"}}}}]}},"results":[{"ruleId":"A","message":{"id":"m","arguments":["a"]}}]}]}`,
		`{"runs":[{"tool":{"driver":{"name":"T","rules":[{"id":"CVE-2020-0001","properties":{"tags":"CWE-1","cwe":["CWE-2",3]}}]}},"results":[{"ruleId":"CVE-2020-0001","message":{"text":"Package: x"},"properties":{"p":"pkg:"}}]}]}`,
		`{"runs":[{"tool":{"driver":{"name":"T"}},"results":[{"ruleId":"A","properties":null,"fingerprints":{},"suppressions":[{}],"provenance":{"firstDetectionTimeUtc":"nope"}}]}]}`,
		`{"runs":[{"tool":{"driver":{"name":"T"}},"invocations":[{"startTimeUtc":"bad"}],"properties":{"imageName":"","repoDigests":"x"},"results":[{"ruleId":"A"}]}]}`,
		`{"runs":[{"tool":{"driver":{"name":"T"}},"results":[{"ruleId":"A"}]}],"runs":[{"tool":{"driver":{"name":"U"}},"results":[{"ruleId":"B"}]}]}`,
		`{"runs":[{"tool":{"driver":{"name":"T"}},"results":[{"ruleId":"A"}]},{"results":[{"ruleId":"B"}]}]}`,
		`{"runs":[1]}`,
		`[{"runs":[]}]`,
		`{"runs":[{"tool":{"driver":{"name":"T"}},"results":[{"ruleId":"A"}]}]} trailing`,
	}
	f, _ := Builtin().Lookup("sarif")
	for _, in := range inputs {
		_, err := decodeAll(t, f, []byte(in))
		if err != nil {
			var re *RecordError
			if !errors.As(err, &re) {
				t.Errorf("%s: error %v is %T, want *RecordError", in, err, err)
			}
		}
	}
}
