package datagrade

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testNow is the fixed date detectors compare birth dates with.
var testNow = time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC)

type detectorCase struct {
	valid      bool
	value, why string
	line       int
}

// readDetectorCases reads testdata/detectors/<id>.tsv: expectation (valid or
// invalid), value ("\n" stands for a newline) and why, tab-separated.
func readDetectorCases(t *testing.T, path string) []detectorCase {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []detectorCase
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		parts := strings.SplitN(line, "\t", 3)
		if len(parts) < 2 || parts[0] != "valid" && parts[0] != "invalid" {
			t.Fatalf("%s:%d: want valid|invalid<TAB>value<TAB>why", path, n)
		}
		c := detectorCase{valid: parts[0] == "valid", value: strings.ReplaceAll(parts[1], `\n`, "\n"), line: n}
		if len(parts) == 3 {
			c.why = parts[2]
		}
		out = append(out, c)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestDetectors runs every detector over its valid and invalid values in
// testdata/detectors, and checks that every detector has such a file with
// both kinds of value.
func TestDetectors(t *testing.T) {
	for _, d := range Detectors() {
		t.Run(d.ID, func(t *testing.T) {
			path := filepath.Join("testdata", "detectors", d.ID+".tsv")
			cases := readDetectorCases(t, path)
			var valid, invalid int
			for _, c := range cases {
				conf, ok := d.Match(c.value, testNow)
				if ok != c.valid {
					t.Errorf("%s:%d: Match(%q) = %v (confidence %d), want %v (%s)", path, c.line, c.value, ok, conf, c.valid, c.why)
				}
				if ok && (conf < 1 || conf > 100) {
					t.Errorf("%s:%d: confidence %d out of 1–100", path, c.line, conf)
				}
				if c.valid {
					valid++
					if m := Mask(d.ID, c.value); strings.Contains(m, c.value) || m == "" {
						t.Errorf("%s:%d: Mask(%q) = %q reveals the value", path, c.line, c.value, m)
					}
				} else {
					invalid++
				}
			}
			if valid == 0 || invalid == 0 {
				t.Errorf("%s: %d valid and %d invalid cases; want both", path, valid, invalid)
			}
		})
	}
}

func TestMask(t *testing.T) {
	for _, tc := range []struct{ det, in, want string }{
		{"cn_resident_id", "11010519491231002X", "110***********002X"},
		{"cn_mobile", "13812345678", "138****5678"},
		{"bank_card", "6222021234567890128", "622************0128"},
		{"email", "zhang.san@example.com", "z***@example.com"},
		{"ipv4", "203.0.113.45", "203.0.*.*"},
		{"ipv6", "2001:db8::1", "2001:*"},
		{"mac_address", "00:1A:2B:3C:4D:5E", "00:1A:2B*********"},
		{"aws_access_key", "AKIAIOSFODNN7EXAMPLE", "AKIA****************"},
		{"cn_name", "王小明", "王**"},
		{"cn_name", "张三", "张*"},
		{"cn_address", "北京市朝阳区建国路88号", "北京市朝阳区******"},
		{"cn_plate", "京A12345", "京A****5"},
		{"geo_pair", "39.908722,116.397499", "39.*,116.*"},
		{"passport_cn", "E12345678", "E******78"},
		{"private_key", "-----BEGIN PRIVATE KEY-----\nMIIE", "[PEM private key]"},
		{"medical_text", "诊断：高血压", "[clinical text, 6 characters]"},
		{"unknown", "abc", "***"},
	} {
		if got := Mask(tc.det, tc.in); got != tc.want {
			t.Errorf("Mask(%s, %q) = %q, want %q", tc.det, tc.in, got, tc.want)
		}
	}
}

func TestDetectorsDoNotAllocate(t *testing.T) {
	e := newEnv(testNow)
	values := []string{"11010519491231002X", "6222021234567890128", "13812345678", "zhang.san@example.com",
		"203.0.113.45", "2001:db8::8a2e:370:7334", "京A12345", "王小明", "北京市朝阳区建国路88号SOHO现代城A座1201室", "plain text"}
	allocs := testing.AllocsPerRun(100, func() {
		for _, v := range values {
			for k := range detectors {
				detectors[k].matchValue(v, e)
			}
		}
	})
	if allocs != 0 {
		t.Errorf("detectors allocate %.1f times per run, want 0", allocs)
	}
}
