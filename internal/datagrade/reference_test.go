package datagrade

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReferenceIsVerbatimCopy compares the embedded reference with
// shared/reference when the checkout sits beside shared/.
func TestReferenceIsVerbatimCopy(t *testing.T) {
	var found bool
	for _, p := range []string{"../../../shared/reference", "../../../../shared/reference", "/work/shared/reference"} {
		data, err := os.ReadFile(filepath.Join(p, ReferenceFile))
		if err != nil {
			continue
		}
		found = true
		if !bytes.Equal(data, referenceYAML) {
			t.Fatalf("data/%s differs from %s: copy it again (never edit the embedded copy)", ReferenceFile, filepath.Join(p, ReferenceFile))
		}
		break
	}
	if !found {
		t.Skip("shared/reference not beside the checkout")
	}
}

func TestBuiltinReference(t *testing.T) {
	r := BuiltinReference()
	if r.Standard != "GB/T 43697-2024" {
		t.Errorf("standard %q", r.Standard)
	}
	if len(r.Objects) != 6 || len(r.Degrees) != 3 || r.NoHarm.ID != "none" {
		t.Errorf("%d objects, %d degrees, no-harm %q", len(r.Objects), len(r.Degrees), r.NoHarm.ID)
	}
	// Every cell exists; the four upper rows are unverified, the two
	// lower verified, as the reference marks them.
	for _, o := range r.Objects {
		for _, g := range r.Degrees {
			c, ok := r.Cell(o.ID, g.ID)
			if !ok {
				t.Fatalf("no cell %s × %s", o.ID, g.ID)
			}
			wantUnverified := o.ID != "organization_rights" && o.ID != "individual_rights"
			if c.Unverified != wantUnverified {
				t.Errorf("%s × %s: unverified %v", o.ID, g.ID, c.Unverified)
			}
		}
	}
	if c, _ := r.Cell("national_security", "particularly_serious"); c.Class != "core" {
		t.Errorf("national security × particularly serious → %s", c.Class)
	}
	if c, _ := r.Cell("individual_rights", "particularly_serious"); c.Class != "general" {
		t.Errorf("individual rights × particularly serious → %s", c.Class)
	}
	if len(r.Sublevels) != 4 || r.Sublevels[0].Level != LevelGeneral4 || !r.Sublevels[2].Unverified {
		t.Errorf("sublevels %+v", r.Sublevels)
	}
	if len(r.FloorRules) != 4 || !r.FloorRulesUnverified {
		t.Errorf("floor rules %+v (unverified %v)", r.FloorRules, r.FloorRulesUnverified)
	}
	if len(r.PI) != 16 {
		t.Errorf("%d PI categories, want 16", len(r.PI))
	}
}

// TestParseReferenceErrors checks that a damaged reference is refused with
// every problem named and placed.
func TestParseReferenceErrors(t *testing.T) {
	for _, tc := range []struct {
		name, old, new string
		want           []string
	}{
		{"unknown object in a row", "    - affected_object: 经济运行\n", "    - affected_object: 经济\n",
			[]string{`ref.yaml:178:24: row 1: affected_object: "经济" is not an affected object`, `no row for 经济运行 (economic_operation)`}},
		{"cell not a level", "      serious: 重要数据\n      general: 一般数据\n      unverified: true\n    - affected_object: 社会秩序", "      serious: 次要数据\n      general: 一般数据\n      unverified: true\n    - affected_object: 社会秩序",
			[]string{`row 经济运行: serious: "次要数据" is not a level name`}},
		{"renamed sublevel", "name_zh: 一般数据3级", "name_zh: 一般数据三级",
			[]string{`sublevel general-3: name_zh: "一般数据三级"; the code calls it "一般数据3级"`}},
		{"bad floor rule", "min_sublevel: general-4", "min_sublevel: general-5",
			[]string{`min_sublevel: "general-5" is not a general-data sub-level`}},
		{"bad sensitive flag", "      sensitive: 'yes'\n      sensitive_basis:\n        - PIPL art.28\n        - GB/T 45574-2025 clause 6 categories\n        - GB/T 35273-2020 Table B.1 (sensitive examples)\n    - category: 网络身份标识信息",
			"      sensitive: maybe\n      sensitive_basis:\n        - PIPL art.28\n        - GB/T 45574-2025 clause 6 categories\n        - GB/T 35273-2020 Table B.1 (sensitive examples)\n    - category: 网络身份标识信息",
			[]string{`category 个人生物识别信息: sensitive: "maybe"; want yes, no or conditional`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := string(referenceYAML)
			if !strings.Contains(src, tc.old) {
				t.Fatalf("reference lacks %q", tc.old)
			}
			_, err := ParseReference("ref.yaml", strings.NewReader(strings.Replace(src, tc.old, tc.new, 1)))
			if err == nil {
				t.Fatal("no error")
			}
			var fe *FileError
			if !errors.As(err, &fe) || fe.Line == 0 {
				t.Errorf("error %v carries no position", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n%v\nlacks %q", err, w)
				}
			}
		})
	}
}
