package datagrade

import (
	"fmt"
	"strings"
	"testing"
)

// TestDetectorPrecisionRecall measures every detector on a generated,
// labelled data set: 600 values per detector and 8,000 look-alikes (broken
// check digits, impossible dates, Luhn failures, order and reference
// numbers, hashes, UUIDs, timestamps, codes, versions, Chinese words …),
// 18,800 values in all. Each value is tried whole against every detector,
// without column names; a match of a detector on a value labelled for
// another detector, or on noise, is a false positive. The table is printed
// with -v. Checksum-backed detectors must reach precision 0.98 and recall
// 0.98; the others have floors that document what shape alone achieves.
func TestDetectorPrecisionRecall(t *testing.T) {
	g := newGen(43697)
	data := g.dataset(600, 8000)
	if len(data) < 10_000 {
		t.Fatalf("%d values, want at least 10,000", len(data))
	}
	e := newEnv(testNow)
	type counts struct{ tp, fp, fn int }
	got := map[string]*counts{}
	fpExamples := map[string][]string{}
	for _, d := range detectors {
		got[d.ID] = &counts{}
	}
	for _, l := range data {
		for k := range detectors {
			d := &detectors[k]
			m := d.matchValue(l.value, e) > 0
			c := got[d.ID]
			switch {
			case m && l.label == d.ID:
				c.tp++
			case m:
				c.fp++
				if len(fpExamples[d.ID]) < 3 {
					fpExamples[d.ID] = append(fpExamples[d.ID], fmt.Sprintf("%q (%s)", l.value, cmpLabel(l.label)))
				}
			case l.label == d.ID:
				c.fn++
			}
		}
	}
	// floors: precision, recall
	floors := map[string][2]float64{
		"cn_resident_id": {0.98, 0.98}, "cn_uscc": {0.98, 0.98}, "bank_card": {0.98, 0.98}, "imei": {0.98, 0.98},
		"cn_mobile": {0.95, 0.98}, "email": {0.98, 0.98}, "ipv4": {0.98, 0.98}, "ipv6": {0.98, 0.98},
		"mac_address": {0.98, 0.98}, "aws_access_key": {0.98, 0.98}, "alibaba_access_key": {0.98, 0.98},
		"private_key": {0.98, 0.98}, "cn_plate": {0.98, 0.95}, "cn_address": {0.95, 0.95}, "geo_pair": {0.98, 0.98},
		"passport_cn": {0.6, 0.98}, "hk_macao_permit": {0.6, 0.98}, "cn_name": {0.9, 0.95},
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d values (%d noise)\n%-20s %9s %9s %6s %6s %6s  %s\n", len(data), 8000, "detector", "precision", "recall", "TP", "FP", "FN", "kind")
	for _, d := range detectors {
		c := got[d.ID]
		fl, measured := floors[d.ID]
		if !measured {
			continue
		}
		p := ratio(c.tp, c.tp+c.fp)
		r := ratio(c.tp, c.tp+c.fn)
		kind := "shape"
		if d.Checksum {
			kind = "checksum"
		}
		fmt.Fprintf(&b, "%-20s %9.4f %9.4f %6d %6d %6d  %s\n", d.ID, p, r, c.tp, c.fp, c.fn, kind)
		if p < fl[0] || r < fl[1] {
			t.Errorf("%s: precision %.4f recall %.4f, want at least %.2f and %.2f; false positives: %s", d.ID, p, r, fl[0], fl[1], strings.Join(fpExamples[d.ID], ", "))
		}
	}
	t.Log("\n" + b.String())
}

func cmpLabel(l string) string {
	if l == "" {
		return "noise"
	}
	return l
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}
