package datagrade

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// column builds a one-column fixture table of n values from f.
func column(name string, n int, f func(i int) string) fixtureTable {
	t := fixtureTable{name: "t", cols: []string{name}}
	for i := 0; i < n; i++ {
		t.rows = append(t.rows, []string{f(i)})
	}
	return t
}

// with adds a column to a fixture table.
func (t fixtureTable) with(name string, f func(i int) string) fixtureTable {
	t.cols = append(slices.Clone(t.cols), name)
	rows := make([][]string, len(t.rows))
	for i, r := range t.rows {
		rows[i] = append(slices.Clone(r), f(i))
	}
	t.rows = rows
	return t
}

func scanTable(t *testing.T, ft fixtureTable) TableResult {
	t.Helper()
	s, err := NewScanner(Options{Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Scan(context.Background(), &memSource{store: Store{Kind: KindSQLite, UID: "mem", Name: "mem"}, tables: []fixtureTable{ft}})
	if err != nil {
		t.Fatal(err)
	}
	return res.Tables[0]
}

// TestColumnRules checks how values and column names combine: checksums,
// masked values, free text, hints that suffice, weak hints and personal
// context, values beating names.
func TestColumnRules(t *testing.T) {
	g := newGen(7)
	type want struct {
		column, category, basis string
		minConf, maxConf        int
	}
	for _, tc := range []struct {
		name  string
		table fixtureTable
		want  []want // exactly these hits
	}{
		{"random 18-digit order numbers", column("order_no", 200, func(int) string { return g.digits(18) }), nil},
		{"masked identity numbers: the name alone, below grading",
			column("id_card", 100, func(int) string { return "110***********1234" }),
			[]want{{"id_card", "cn_resident_id", "name", 45, 45}}},
		{"one identity number in 100 notes",
			column("note", 100, func(i int) string {
				if i == 50 {
					return "客户补充资料，证件 " + g.residentID() + " 已核验"
				}
				return "客户来电咨询发货进度，已答复"
			}),
			[]want{{"note", "cn_resident_id", "text", 90, 99}}},
		{"landlines in a phone column: the hint suffices",
			column("phone", 100, func(int) string { return "010-" + g.digits(8) }),
			[]want{{"phone", "phone_number", "name", 70, 70}}},
		{"weight without personal context", column("product_id", 100, func(i int) string { return fmt.Sprint(i) }).with("weight", func(int) string { return "1.5" }), nil},
		{"weight beside a phone number",
			column("phone", 100, func(int) string { return g.mobile() }).with("weight", func(int) string { return "65.5" }),
			[]want{{"phone", "phone_number", "values+name", 90, 99}, {"weight", "health_status", "name", 55, 55}}},
		{"e-mail values beat an address-like name",
			column("邮箱地址", 100, func(int) string { return g.email() }),
			[]want{{"邮箱地址", "email", "values+name", 90, 99}}},
		{"ip_address is not a postal address",
			column("ip_address", 100, func(int) string { return g.ipv4() }),
			[]want{{"ip_address", "ip_address", "values+name", 80, 99}}},
		{"coordinates of a user's trips",
			column("user_id", 100, func(i int) string { return fmt.Sprint(i % 7) }).
				with("lat", func(int) string { return fmt.Sprintf("%.6f", 20+g.r.Float64()*30) }).
				with("lng", func(int) string { return fmt.Sprintf("%.6f", 80+g.r.Float64()*40) }),
			[]want{{"user_id", "network_account", "name", 70, 70}, {"lat", "location_track", "values+name", 65, 75}, {"lng", "location_track", "values+name", 65, 75}}},
		{"face feature vectors",
			column("face_feature", 20, func(int) string {
				var v []string
				for k := 0; k < 128; k++ {
					v = append(v, fmt.Sprintf("%.4f", g.r.Float64()))
				}
				return "[" + strings.Join(v, ",") + "]"
			}),
			[]want{{"face_feature", "biometric", "values+name", 90, 99}}},
		{"hash fingerprints are not biometrics", column("fingerprint", 50, func(int) string { return g.chars("0123456789abcdef", 64) }), nil},
		{"version strings look like IPv4 with low confidence",
			column("version", 50, func(i int) string { return fmt.Sprintf("%d.%d.%d.%d", i%3, i%5, i%7, 1) }),
			[]want{{"version", "ip_address", "values", 30, 45}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := scanTable(t, tc.table)
			if len(tr.Hits) != len(tc.want) {
				t.Fatalf("hits %+v, want %+v", tr.Hits, tc.want)
			}
			for i, w := range tc.want {
				h := tr.Hits[i]
				if h.Column != w.column || h.Category != w.category || h.Basis != w.basis || h.Confidence < w.minConf || h.Confidence > w.maxConf {
					t.Errorf("hit %d: %s/%s basis %s confidence %d; want %s/%s basis %s confidence %d–%d",
						i, h.Column, h.Category, h.Basis, h.Confidence, w.column, w.category, w.basis, w.minConf, w.maxConf)
				}
			}
		})
	}
}

func TestSplitWords(t *testing.T) {
	for in, want := range map[string][]string{
		"customerIDCard": {"customer", "id", "card"},
		"ID_NO":          {"id", "no"},
		"mobile-phone":   {"mobile", "phone"},
		"客户phone号码":      {"phone"},
		"addr2Line":      {"addr2", "line"},
	} {
		if got := splitWords(in); !slices.Equal(got, want) {
			t.Errorf("splitWords(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestDistinctEstimate(t *testing.T) {
	for _, tc := range []struct {
		name     string
		s        distinctStats
		n        int
		total    float64
		min, max float64
	}{
		{"whole table", distinctStats{d: 80, f1: 70, f2: 10}, 100, 100, 80, 80},
		{"all unique: linear", distinctStats{d: 1000, f1: 1000}, 1000, 5000, 5000, 5000},
		{"repeats: Chao1", distinctStats{d: 789, f1: 600, f2: 150}, 1000, 5000, 1900, 2100},
		{"none", distinctStats{}, 1000, 5000, 0, 0},
	} {
		if got := tc.s.estimate(tc.n, tc.total); got < tc.min || got > tc.max {
			t.Errorf("%s: %.0f, want %.0f–%.0f", tc.name, got, tc.min, tc.max)
		}
	}
}
