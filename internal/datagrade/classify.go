package datagrade

import (
	"math"
	"slices"

	"github.com/cespare/xxhash/v2"
)

// Hot path: every sampled value goes through [tableAcc.value]. Detectors
// reject most values on their length window, the free-text tokeniser runs
// only on long values that no detector matched whole, and the only
// allocations are the first two masked examples per column and detector and
// the growth of distinct-value sets (hashes, never values).

// Detection thresholds.
const (
	maxExamples     = 2
	minTokenLen     = 6
	freeTextMinLen  = 20
	confNameOnly    = 45 // a hint, but values that do not match the category's detectors
	confNameStrong  = 70 // a strong hint on a category found by name (or hint_suffices)
	confNameWeak    = 55 // the same with a weak hint, in a table with personal information
	valuesBeatNames = 0.5
	// minEstimateConf is the confidence a hit needs to count in a table's
	// record and individual estimates: the default policy's
	// min_confidence, so that name-only hits (45) and version-like IP
	// addresses (40) do not inflate them.
	minEstimateConf  = 50
	hintedMinRatio   = 0.1 // share of matches a hinted column needs for a shape-only detector
	distinctCapacity = 1 << 16
)

// detStat counts one detector's matches in one column.
type detStat struct {
	matches  int
	inText   int
	confSum  int
	distinct freq
	examples []string
}

// freq counts how often each value (by hash) was seen.
type freq map[uint64]uint32

func (f freq) add(v string) {
	if len(f) < distinctCapacity {
		f[xxhash.Sum64String(v)]++
	}
}

// distinctStats returns the number of distinct values and of values seen
// once and twice.
type distinctStats struct{ d, f1, f2 int }

func (f freq) stats() distinctStats {
	s := distinctStats{d: len(f)}
	for _, n := range f {
		switch n {
		case 1:
			s.f1++
		case 2:
			s.f2++
		}
	}
	return s
}

// estimate scales the distinct count of a sample of n rows to a table of
// total rows: the bias-corrected Chao1 estimate d + f1(f1−1)/(2(f2+1)),
// capped by linear scaling d·total/n (right when every value is unique) and
// by total. A sample that is the whole table gives d.
func (s distinctStats) estimate(n int, total float64) float64 {
	if s.d == 0 || n <= 0 {
		return 0
	}
	if total <= float64(n) {
		return float64(s.d)
	}
	linear := float64(s.d) * total / float64(n)
	chao := float64(s.d) + float64(s.f1)*float64(s.f1-1)/(2*float64(s.f2+1))
	return min(linear, chao, total)
}

// columnAcc accumulates one column.
type columnAcc struct {
	name       string
	hints      []hintMatch
	hinted     []int8 // per category: 0 none, 1 weak, 2 strong
	dets       []int  // detectors tried on whole values
	textDets   []int  // detectors tried on free-text tokens
	identHint  bool   // the column's name hints at an identifying category
	nonEmpty   int
	freeText   int
	stats      []detStat // per detector
	allDistinc freq      // every value, for columns named like identifiers
}

// tableAcc accumulates one table.
type tableAcc struct {
	cls  *classifier
	cols []*columnAcc
	rows int
}

// classifier holds what is fixed for one scan.
type classifier struct {
	cats     *Categories
	env      *env
	maxValue int
}

func (c *classifier) newTable() *tableAcc { return &tableAcc{cls: c} }

// column returns the accumulator of column i, creating it (and those before
// it) from names.
func (t *tableAcc) column(i int, names []string) *columnAcc {
	for len(t.cols) <= i {
		j := len(t.cols)
		name := ""
		if j < len(names) {
			name = names[j]
		}
		t.cols = append(t.cols, t.cls.newColumn(name))
	}
	return t.cols[i]
}

func (c *classifier) newColumn(name string) *columnAcc {
	a := &columnAcc{name: name, hinted: make([]int8, len(c.cats.list)), stats: make([]detStat, len(detectors))}
	a.hints = c.cats.columnHints(name)
	for _, h := range a.hints {
		s := int8(2)
		if h.weak {
			s = 1
		}
		a.hinted[h.cat] = max(a.hinted[h.cat], s)
		if c.cats.list[h.cat].Identifies {
			a.identHint = true
		}
	}
	for k := range detectors {
		d := &detectors[k]
		if d.NeedsHint && a.hinted[c.cats.forDetector(k)] == 0 {
			continue
		}
		a.dets = append(a.dets, k)
		if d.InText {
			a.textDets = append(a.textDets, k)
		}
	}
	if a.identHint {
		a.allDistinc = freq{}
	}
	return a
}

// row adds one row.
func (t *tableAcc) row(cols, vals []string) {
	t.rows++
	for i, v := range vals {
		t.column(i, cols).value(t.cls, v)
	}
}

// trimSpace trims ASCII white space without allocating.
func trimSpace(s string) string {
	i, j := 0, len(s)
	for i < j && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	for j > i && (s[j-1] == ' ' || s[j-1] == '\t' || s[j-1] == '\n' || s[j-1] == '\r') {
		j--
	}
	return s[i:j]
}

// value adds one value.
func (a *columnAcc) value(c *classifier, v string) {
	v = trimSpace(v)
	if v == "" {
		return
	}
	if len(v) > c.maxValue {
		v = v[:c.maxValue]
	}
	a.nonEmpty++
	if a.allDistinc != nil {
		a.allDistinc.add(v)
	}
	matched := false
	for _, k := range a.dets {
		if conf := detectors[k].matchValue(v, c.env); conf > 0 {
			a.hit(c, k, conf, v, false)
			matched = true
		}
	}
	if matched || len(v) < freeTextMinLen || len(a.textDets) == 0 {
		return
	}
	a.scanText(c, v)
}

// tokenByte marks bytes that belong to tokens of free text.
var tokenByte = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = byteClass[c]&(cDigit|cAlpha) != 0
	}
	for _, c := range "@._%+-:" {
		t[c] = true
	}
	return t
}()

// scanText runs the in-text detectors over the tokens of v. A detector
// counts at most once per value.
func (a *columnAcc) scanText(c *classifier, v string) {
	var seen uint64
	found := false
	for i := 0; i < len(v); {
		for i < len(v) && !tokenByte[v[i]] {
			i++
		}
		j := i
		colon := false
		for j < len(v) && tokenByte[v[j]] {
			colon = colon || v[j] == ':'
			j++
		}
		tok := trimToken(v[i:j])
		i = j
		if len(tok) < minTokenLen || len(tok) == len(v) {
			continue
		}
		if colon {
			// IPv6 and MAC addresses keep their colons; other tokens
			// ("ip:10.0.0.1", "mailto:x@y.cn") split at them.
			if a.textToken(c, tok, &seen) {
				found = true
				continue
			}
			for k := 0; k < len(tok); {
				e := k
				for e < len(tok) && tok[e] != ':' {
					e++
				}
				if sub := trimToken(tok[k:e]); len(sub) >= minTokenLen && a.textToken(c, sub, &seen) {
					found = true
				}
				k = e + 1
			}
			continue
		}
		if a.textToken(c, tok, &seen) {
			found = true
		}
	}
	if found {
		a.freeText++
	}
}

// textToken runs the in-text detectors over one token.
func (a *columnAcc) textToken(c *classifier, tok string, seen *uint64) bool {
	hit := false
	for _, k := range a.textDets {
		if *seen&(1<<k) != 0 {
			continue
		}
		if conf := detectors[k].matchValue(tok, c.env); conf > 0 {
			*seen |= 1 << k
			a.hit(c, k, conf, tok, true)
			hit = true
		}
	}
	return hit
}

// trimToken trims punctuation that ends sentences or joins words.
func trimToken(s string) string {
	for len(s) > 0 && (s[0] == '.' || s[0] == '-' || s[0] == '_' || s[0] == ':' || s[0] == '%' || s[0] == '@') {
		s = s[1:]
	}
	for len(s) > 0 {
		switch s[len(s)-1] {
		case '.', '-', '_', ':', '%', '@', '+':
			s = s[:len(s)-1]
			continue
		}
		break
	}
	return s
}

// hit records a match of detector k.
func (a *columnAcc) hit(c *classifier, k int, conf uint8, v string, inText bool) {
	s := &a.stats[k]
	s.matches++
	s.confSum += int(conf)
	if inText {
		s.inText++
	}
	if len(s.examples) < maxExamples {
		s.examples = append(s.examples, Mask(detectors[k].ID, v))
	}
	if c.cats.list[c.cats.forDetector(k)].Identifies {
		if s.distinct == nil {
			s.distinct = freq{}
		}
		s.distinct.add(v)
	}
}

// candidate is a category found in one column before table-level rules.
type candidate struct {
	Hit
	cat          int
	byValues     bool
	ratio        float64
	needsContext bool // stands only on a weak hint
	distinct     distinctStats
}

// finish turns the accumulated counts into the table's result.
func (t *tableAcc) finish(name, kind string, count int64, exact bool, size int64, scale float64) TableResult {
	cats := t.cls.cats
	if scale <= 0 {
		scale = 1
	}
	res := TableResult{Name: name, Kind: kind, Columns: len(t.cols), SampledRows: t.rows, EstimatedRows: count, RowsExact: exact, SizeBytes: size, Scale: scale}
	if count < int64(t.rows) {
		res.EstimatedRows = int64(t.rows)
	}
	var cands []candidate
	for _, a := range t.cols {
		cands = append(cands, a.candidates(cats)...)
	}
	// Personal context: personal information found by values or by a
	// strong hint.
	context := false
	for _, cd := range cands {
		if cats.list[cd.cat].IsPI() && !cd.needsContext {
			context = true
			break
		}
	}
	// Values beat names: a column whose values are mostly of one category
	// is not also of another category by name alone.
	valueCol := map[string]int{}
	for _, cd := range cands {
		if cd.byValues && cd.ratio >= valuesBeatNames {
			valueCol[cd.Column] = cd.cat
		}
	}
	rows := float64(max(t.rows, 1))
	est := float64(res.EstimatedRows) * scale
	var records, individuals, sensitiveFrac, sensitiveIdent float64
	for _, cd := range cands {
		if cd.needsContext && !context {
			continue
		}
		if vc, ok := valueCol[cd.Column]; ok && !cd.byValues && vc != cd.cat {
			continue
		}
		cat := &cats.list[cd.cat]
		n := cd.Matches
		if !cd.byValues {
			n = cd.Sampled
		}
		frac := math.Min(float64(n)/rows, 1)
		cd.EstimatedRecords = int64(math.Round(frac * est))
		res.Hits = append(res.Hits, cd.Hit)
		if cd.Confidence < minEstimateConf || !cat.IsPI() {
			continue
		}
		records = math.Max(records, frac*est)
		if cat.Identifies {
			individuals = math.Max(individuals, cd.distinct.estimate(t.rows, est))
		}
		if cat.Sensitive {
			sensitiveFrac = math.Max(sensitiveFrac, frac)
			if cat.Identifies {
				sensitiveIdent = math.Max(sensitiveIdent, cd.distinct.estimate(t.rows, est))
			}
		}
	}
	if individuals == 0 {
		individuals = records
	}
	sensitive := math.Max(sensitiveIdent, sensitiveFrac*individuals)
	res.Records = int64(math.Round(records))
	res.Individuals = int64(math.Round(individuals))
	res.SensitiveIndividuals = int64(math.Round(math.Min(sensitive, individuals)))
	return res
}

// candidates returns the categories found in the column.
func (a *columnAcc) candidates(cats *Categories) []candidate {
	if a.nonEmpty == 0 {
		return nil
	}
	var out []candidate
	done := make([]bool, len(cats.list))
	for k := range detectors {
		if a.stats[k].matches == 0 {
			continue
		}
		ci := cats.forDetector(k)
		if done[ci] {
			continue
		}
		done[ci] = true
		if cd, ok := a.valueCandidate(cats, ci); ok {
			out = append(out, cd)
		}
	}
	for ci, h := range a.hinted {
		if h == 0 || done[ci] && hasValueCandidate(out, ci) {
			continue
		}
		cat := &cats.list[ci]
		conf := confNameOnly
		if len(cat.Detectors) == 0 || cat.HintSuffices {
			conf = confNameStrong
			if h == 1 {
				conf = confNameWeak
			}
		} else if h == 1 {
			continue // a weak hint that the values contradict
		}
		cd := candidate{Hit: Hit{Column: a.name, Category: cat.ID, Sampled: a.nonEmpty, Confidence: conf, Basis: "name"}, cat: ci, needsContext: h == 1}
		if cat.Identifies && a.allDistinc != nil {
			cd.distinct = a.allDistinc.stats()
			cd.Distinct = cd.distinct.d
		}
		out = append(out, cd)
	}
	return out
}

func hasValueCandidate(cs []candidate, ci int) bool {
	return slices.ContainsFunc(cs, func(c candidate) bool { return c.cat == ci })
}

// valueCandidate decides whether the matches of category ci's detectors
// make the column hold the category.
func (a *columnAcc) valueCandidate(cats *Categories, ci int) (candidate, bool) {
	cat := &cats.list[ci]
	hint := a.hinted[ci]
	cd := candidate{Hit: Hit{Column: a.name, Category: cat.ID, Sampled: a.nonEmpty}, cat: ci, byValues: true}
	confSum, inText, confirmed, weakOnly := 0, 0, false, false
	distinct := freq{}
	for _, name := range cat.Detectors {
		k := detectorIndex[name]
		s := &a.stats[k]
		if s.matches == 0 {
			continue
		}
		d := &detectors[k]
		ratio := float64(s.matches) / float64(a.nonEmpty)
		avg := s.confSum / s.matches
		ok := false
		switch {
		case d.NeedsHint:
			// ran only because the column is hinted
			ok = ratio >= d.MinRatio
			weakOnly = weakOnly || hint == 1
		case ratio >= d.MinRatio:
			ok = true
		case hint > 0 && (d.Checksum || ratio >= hintedMinRatio):
			ok = true
			weakOnly = weakOnly || hint == 1
		case s.inText > 0 && (d.Checksum || avg >= 85):
			ok = true
		}
		if !ok {
			continue
		}
		confirmed = true
		cd.Detectors = append(cd.Detectors, d.ID)
		cd.Matches += s.matches
		confSum += s.confSum
		inText += s.inText
		for h, n := range s.distinct {
			distinct[h] += n
		}
		for _, ex := range s.examples {
			if len(cd.Examples) < maxExamples {
				cd.Examples = append(cd.Examples, ex)
			}
		}
	}
	if !confirmed {
		return candidate{}, false
	}
	cd.Matches = min(cd.Matches, a.nonEmpty)
	cd.ratio = float64(cd.Matches) / float64(a.nonEmpty)
	cd.distinct = distinct.stats()
	cd.Distinct = cd.distinct.d
	conf := confSum / max(cd.Matches, 1)
	switch {
	case hint > 0:
		conf += 10
		cd.Basis = "values+name"
	case inText == cd.Matches:
		cd.Basis = "text"
	default:
		cd.Basis = "values"
		if cd.ratio < 0.5 {
			conf -= 10
		}
	}
	cd.Confidence = min(max(conf, 1), 99)
	cd.needsContext = weakOnly
	return cd, true
}
