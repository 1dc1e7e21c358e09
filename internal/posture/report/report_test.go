package report

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/canopy-sec/canopy/internal/posture"
	"github.com/canopy-sec/canopy/internal/posture/inventory"
)

var update = flag.Bool("update", false, "rewrite the golden files and the screenshot under testdata/")

// scanTime is the fixed clock of the scans behind the goldens.
var scanTime = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// goldenCases are the reports the goldens hold: a built-in pack, the
// misconfigured acceptance inventory of package posture scanned with it at
// scanTime, and the evidence file testdata/evidence-<pack>.json.
var goldenCases = []struct{ pack, inventory string }{
	{"cis-aws-3.0", "../testdata/acceptance/misconfigured.jsonl"},
	{"mlps2-l3", "../testdata/acceptance/misconfigured.jsonl"},
}

// scanInput scans file with the rules of pack packID and returns the
// report input, with the evidence of testdata/evidence-<pack>.json.
func scanInput(t testing.TB, packID, file string) Input {
	t.Helper()
	ps, err := posture.BuiltinPacks()
	if err != nil {
		t.Fatal(err)
	}
	p := ps.Pack(packID)
	if p == nil {
		t.Fatalf("no pack %s", packID)
	}
	rules, err := ps.RuleSet(packID)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ctx := context.Background()
	var results []ControlResult
	for res, err := range posture.Scan(ctx, rules, inventory.Builtin().Stream(ctx, "", f), posture.ScanOptions{Now: scanTime}) {
		if err != nil {
			t.Fatal(err)
		}
		results = AppendControlResults(results, packID, res)
	}
	in := Input{Pack: p, Results: results, ScanTime: scanTime}
	data, err := os.ReadFile(filepath.Join("testdata", "evidence-"+packID+".json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &in.Evidence); err != nil {
		t.Fatal(err)
	}
	return in
}

// TestGolden builds the report of each golden case and compares its JSON,
// CSV and HTML with testdata/<pack>.golden.{json,csv,html}; go test
// -update rewrites them.
func TestGolden(t *testing.T) {
	writers := []struct {
		ext   string
		write func(*bytes.Buffer, *Report) error
	}{
		{"json", func(b *bytes.Buffer, r *Report) error { return WriteJSON(b, r) }},
		{"csv", func(b *bytes.Buffer, r *Report) error { return WriteCSV(b, r) }},
		{"html", func(b *bytes.Buffer, r *Report) error { return WriteHTML(b, r) }},
	}
	for _, tc := range goldenCases {
		t.Run(tc.pack, func(t *testing.T) {
			rep, err := Build(scanInput(t, tc.pack, tc.inventory))
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range writers {
				t.Run(w.ext, func(t *testing.T) {
					var buf bytes.Buffer
					if err := w.write(&buf, rep); err != nil {
						t.Fatal(err)
					}
					checkGolden(t, filepath.Join("testdata", tc.pack+".golden."+w.ext), buf.Bytes())
				})
			}
		})
	}
}

func checkGolden(t *testing.T, file string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(file, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := range max(len(gl), len(wl)) {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("output differs from %s (run go test -update and review the diff); first at line %d:\n got: %s\nwant: %s", file, i+1, g, w)
			}
		}
	}
}

// TestGoldenContent checks, on the CIS AWS golden case, what the goldens
// must show: the failing controls of the acceptance test, the score, the
// evidence, and that the CSV has a row per finding and per control without
// findings.
func TestGoldenContent(t *testing.T) {
	rep, err := Build(scanInput(t, "cis-aws-3.0", "../testdata/acceptance/misconfigured.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var failed []string
	findings, controls := 0, 0
	for _, s := range rep.Sections {
		for _, c := range s.Controls {
			controls++
			findings += len(c.Findings)
			if c.Status == StatusFailed {
				failed = append(failed, c.ID)
			}
			if len(c.Findings) == 0 {
				findings++ // the control's own CSV row
			}
		}
	}
	if got, want := strings.Join(failed, " "), "1.5 2.1.4 2.2.1 3.1 5.2"; got != want {
		t.Errorf("failed controls %s, want %s", got, want)
	}
	if rep.Totals.Controls != 62 || controls != 62 || len(rep.Sections) != 5 {
		t.Errorf("%d controls in %d sections, want 62 in 5", controls, len(rep.Sections))
	}
	if rep.Score.Evaluated != rep.Totals.Passed+rep.Totals.Failed+rep.Totals.Unknown || rep.Score.Percent == nil {
		t.Errorf("score %+v, totals %+v", rep.Score, rep.Totals)
	}
	if e := rep.Totals.Evidence; e.Accepted != 2 || e.Submitted != 1 || e.Rejected != 1 || e.Missing != e.Tasks-4 {
		t.Errorf("evidence totals %+v", e)
	}
	if rep.Accounts[0] != "210987654321" || rep.Regions[0] != "cn-north-1" {
		t.Errorf("accounts %v, regions %v", rep.Accounts, rep.Regions)
	}
	var buf bytes.Buffer
	if err := WriteCSV(&buf, rep); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1+findings {
		t.Errorf("%d CSV rows, want a header and %d", len(rows), findings)
	}
	if strings.Join(rows[0], ",") != strings.Join(CSVHeader(), ",") {
		t.Errorf("CSV header %v", rows[0])
	}
	for _, row := range rows {
		for _, cell := range row {
			if cell != "" && strings.ContainsRune("=+-@", rune(cell[0])) {
				t.Errorf("CSV cell %q would be a spreadsheet formula", cell)
			}
		}
	}
}

// TestHTMLEscapesUntrustedText puts markup in everything an inventory or
// an evidence submitter controls and checks the page shows it as text: no
// element of it survives, and the page has no script and loads nothing.
func TestHTMLEscapesUntrustedText(t *testing.T) {
	p := testPack(t, []string{"1.1"}, []string{"2.1"}, nil)
	in := Input{Pack: p, ScanTime: scanTime,
		Results: []ControlResult{{
			Control: "1.1", RuleID: "r-1.1", Status: posture.StatusFail,
			ResourceUID:  `arn:aws:s3:::b"><svg onload=alert(1)>`,
			ResourceType: "AWS::S3::Bucket",
			ResourceName: `<script>alert("name")</script>`,
			Account:      `<b>111122223333</b>`,
			Region:       `us-east-1<iframe src="https://evil.example/">`,
			Message:      `bucket "><img src=x onerror=alert(1)> is public`,
		}},
		Evidence: map[string]Evidence{"2.1": {Status: EvidenceSubmitted,
			Reference: `<a href="javascript:alert(1)">doc</a>`, SubmittedBy: `<style>body{display:none}</style>`}},
	}
	rep, err := Build(in)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteHTML(&buf, rep); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	for _, bad := range []string{"<script", "<img", "<iframe", "<svg onload", "<b>111122223333", `<a href="javascript`, "<style>body", ` src="`, "<link", "@import", "url("} {
		if strings.Contains(page, bad) {
			t.Errorf("page contains %q", bad)
		}
	}
	for _, want := range []string{
		`&lt;script&gt;alert(&#34;name&#34;)&lt;/script&gt;`,
		`bucket &#34;&gt;&lt;img src=x onerror=alert(1)&gt; is public`,
		`&lt;b&gt;111122223333&lt;/b&gt;`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks the escaped text %s", want)
		}
	}
	if !strings.Contains(page, `<meta charset="utf-8">`) {
		t.Error("page lacks its charset")
	}
}

// TestHTMLChinese checks that the MLPS report carries its Chinese names,
// marked as Chinese for font selection, in a UTF-8 page whose font stack
// covers CJK.
func TestHTMLChinese(t *testing.T) {
	rep, err := Build(scanInput(t, "mlps2-l3", "../testdata/acceptance/misconfigured.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteHTML(&buf, rep); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	for _, want := range []string{`<meta charset="utf-8">`, `<span class="zh" lang="zh-Hans">安全物理环境</span>`,
		`lang="zh-Hans">基础设施位置</span>`, `"Noto Sans CJK SC"`, `"Microsoft YaHei"`, "云平台等保备案证明 2024.pdf", "王芳"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	if len(rep.Sections) != 7 {
		t.Errorf("%d sections, want the 7 MLPS categories", len(rep.Sections))
	}
}
