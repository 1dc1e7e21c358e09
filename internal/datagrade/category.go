package datagrade

import (
	"bytes"
	_ "embed"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"
)

// CategoriesFile is the name of the embedded category catalogue.
const CategoriesFile = "categories.yaml"

//go:embed data/categories.yaml
var categoriesYAML []byte

var builtinCategories = sync.OnceValues(func() (*Categories, error) {
	return ParseCategories(CategoriesFile, bytes.NewReader(categoriesYAML), BuiltinReference())
})

// BuiltinCategories returns the embedded category catalogue
// (data/categories.yaml), checked against [BuiltinReference].
func BuiltinCategories() *Categories {
	c, err := builtinCategories()
	if err != nil {
		panic("datagrade: embedded categories: " + err.Error())
	}
	return c
}

// Data classes of categories that are not personal information; a grading
// policy gives each an impact.
const (
	ClassSensitivePI  = "sensitive_pi"
	ClassGeneralPI    = "general_pi"
	ClassCredentials  = "credentials"
	ClassOrganisation = "organisation"
)

// Category is a kind of data the scanner reports: a personal-information
// category of GB/T 43697 Appendix B (or a part of one), or a kind of
// non-personal data such as credentials.
type Category struct {
	ID     string `yaml:"id"`
	NameEN string `yaml:"name_en"`
	NameZH string `yaml:"name_zh"`
	// PICategory and PISubcategory name the Appendix B category; empty for
	// data that is not personal information.
	PICategory    string `yaml:"pi_category"`
	PISubcategory string `yaml:"pi_subcategory"`
	// Sensitive marks sensitive personal information.
	Sensitive      bool   `yaml:"sensitive"`
	SensitiveBasis string `yaml:"sensitive_basis"`
	// DataClass is set for non-PI data: "credentials" or "organisation".
	DataClass string `yaml:"data_class"`
	// Identifies reports that a value identifies one person.
	Identifies bool `yaml:"identifies"`
	// OCSFCategoryID is the data_security.category_id the category maps to.
	OCSFCategoryID int      `yaml:"ocsf_category_id"`
	Detectors      []string `yaml:"detectors"`
	Hints          []string `yaml:"hints"`
	WeakHints      []string `yaml:"weak_hints"`
	HintSuffices   bool     `yaml:"hint_suffices"`
}

// IsPI reports whether the category is personal information.
func (c *Category) IsPI() bool { return c.PICategory != "" }

// Class returns the category's data class: [ClassSensitivePI] or
// [ClassGeneralPI] for personal information, else its DataClass.
func (c *Category) Class() string {
	switch {
	case c.IsPI() && c.Sensitive:
		return ClassSensitivePI
	case c.IsPI():
		return ClassGeneralPI
	}
	return c.DataClass
}

// Categories is a checked category catalogue with its column-name hint
// index. It is read-only once parsed and safe for concurrent use.
type Categories struct {
	list     []Category
	byID     map[string]int
	detector [][]int // detector index → categories it reports
	enHints  []hint  // English hints, as word sequences
	zhHints  []hint  // Chinese hints, as substrings
}

type hint struct {
	cat    int
	words  []string // English: lower-case words
	joined string   // English: words joined ("idcard"); Chinese: the text
	weak   bool
}

type categoriesDoc struct {
	SchemaVersion int        `yaml:"schema_version"`
	Categories    []Category `yaml:"categories"`
}

// ParseCategories reads a category catalogue in the format of
// data/categories.yaml. Decoding is strict. It checks ids (unique,
// snake_case), detectors (known, each reported by one category), PI
// categories and subcategories (present in ref) and their sensitive flag
// (equal to ref's wherever ref says yes or no, with a basis where ref says
// conditional), data classes of non-PI categories, OCSF category ids, and
// that every category can be found (a detector or a hint).
func ParseCategories(name string, r io.Reader, ref *Reference) (*Categories, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("datagrade: read %s: %w", name, err)
	}
	var f categoriesDoc
	d, err := decodeYAML(name, data, &f, true)
	if err != nil {
		return nil, err
	}
	if f.SchemaVersion != 1 {
		d.add("$.schema_version", "", "schema_version", "%d; want 1", f.SchemaVersion)
	}
	cs := &Categories{byID: map[string]int{}, detector: make([][]int, len(detectors))}
	for i, c := range f.Categories {
		path := fmt.Sprintf("$.categories[%d]", i)
		where := "category " + c.ID
		add := func(field, format string, args ...any) { d.add(path+"."+field, where, field, format, args...) }
		if !snakeCase(c.ID) {
			add("id", "%q: want a snake_case id", c.ID)
		}
		if _, dup := cs.byID[c.ID]; dup {
			add("id", "defined twice")
		}
		if c.NameEN == "" || c.NameZH == "" {
			add("name_en", "want name_en and name_zh")
		}
		if c.IsPI() {
			if c.DataClass != "" {
				add("data_class", "only for data that is not personal information")
			}
			pc, ok := ref.PICategory(c.PICategory, c.PISubcategory)
			if !ok {
				add("pi_category", "%q / %q is not an Appendix B category of %s", c.PICategory, c.PISubcategory, ref.Standard)
			} else {
				switch s := pc.sensitivity(c.PISubcategory); {
				case s == "yes" && !c.Sensitive, s == "no" && c.Sensitive:
					add("sensitive", "%v, but the reference says %q", c.Sensitive, s)
				case s == "conditional" && c.SensitiveBasis == "":
					add("sensitive_basis", "missing: the reference says conditional")
				}
			}
		} else {
			if c.DataClass != ClassCredentials && c.DataClass != ClassOrganisation {
				add("data_class", "%q; want credentials or organisation (or set pi_category)", c.DataClass)
			}
			if c.Sensitive {
				add("sensitive", "only personal information is sensitive PI")
			}
		}
		switch c.OCSFCategoryID {
		case 1, 2, 3, 4, 5, 6:
		default:
			add("ocsf_category_id", "%d; want 1–6", c.OCSFCategoryID)
		}
		for j, det := range c.Detectors {
			k, ok := detectorIndex[det]
			if !ok {
				d.add(fmt.Sprintf("%s.detectors[%d]", path, j), where, "detectors", "%q is not a detector", det)
				continue
			}
			if len(cs.detector[k]) > 0 {
				d.add(fmt.Sprintf("%s.detectors[%d]", path, j), where, "detectors", "%q already reports category %s", det, f.Categories[cs.detector[k][0]].ID)
			}
			cs.detector[k] = append(cs.detector[k], i)
		}
		if len(c.Detectors) == 0 && len(c.Hints) == 0 {
			add("hints", "no detector and no hint: nothing can find the category")
		}
		for j, h := range slices.Concat(c.Hints, c.WeakHints) {
			hp := fmt.Sprintf("%s.hints[%d]", path, j)
			if j >= len(c.Hints) {
				hp = fmt.Sprintf("%s.weak_hints[%d]", path, j-len(c.Hints))
			}
			hn, ok := newHint(i, h, j >= len(c.Hints))
			if !ok {
				d.add(hp, where, "hints", "%q: want lower-case words joined by _ or Chinese text", h)
				continue
			}
			if hn.words != nil {
				cs.enHints = append(cs.enHints, hn)
			} else {
				cs.zhHints = append(cs.zhHints, hn)
			}
		}
		cs.byID[c.ID] = i
		cs.list = append(cs.list, c)
	}
	for k, det := range detectors {
		if len(cs.detector[k]) == 0 {
			d.add("$.categories", "", "detectors", "detector %s reports no category", det.ID)
		}
	}
	if err := d.err(); err != nil {
		return nil, err
	}
	return cs, nil
}

func snakeCase(s string) bool {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || isDigit(c) || c == '_') {
			return false
		}
	}
	return true
}

// newHint parses a hint: lower-case ASCII words joined by underscores, or
// text holding at least one non-ASCII character.
func newHint(cat int, s string, weak bool) (hint, bool) {
	if s == "" {
		return hint{}, false
	}
	for _, r := range s {
		if r >= utf8.RuneSelf {
			return hint{cat: cat, joined: strings.ToLower(s), weak: weak}, true
		}
	}
	words := strings.Split(s, "_")
	for _, w := range words {
		if !snakeCase(w) && !allDigits(w) {
			return hint{}, false
		}
	}
	return hint{cat: cat, words: words, joined: strings.Join(words, ""), weak: weak}, true
}

// List returns the categories in catalogue order. The slice is a copy.
func (cs *Categories) List() []Category { return slices.Clone(cs.list) }

// Get returns the category with the given id.
func (cs *Categories) Get(id string) (*Category, bool) {
	i, ok := cs.byID[id]
	if !ok {
		return nil, false
	}
	return &cs.list[i], true
}

// forDetector returns the index of the category detector k reports.
func (cs *Categories) forDetector(k int) int { return cs.detector[k][0] }

// hintMatch is a hint that matched a column name.
type hintMatch struct {
	cat        int
	weak       bool
	start, end int // span in words (English) or bytes (Chinese)
	zh         bool
}

// columnHints returns the categories a column name hints at. A hint whose
// span lies inside a longer hint of another category is dropped
// ("ip_address" hints at IP addresses, not at postal addresses). Where a
// category matches both a strong and a weak hint, strong wins.
func (cs *Categories) columnHints(column string) []hintMatch {
	words := splitWords(column)
	lower := strings.ToLower(column)
	var ms []hintMatch
	for _, h := range cs.enHints {
		for i := range words {
			switch {
			case len(h.words) > 1 && words[i] == h.joined:
				ms = append(ms, hintMatch{cat: h.cat, weak: h.weak, start: i, end: i + 1})
			case i+len(h.words) <= len(words) && slices.Equal(words[i:i+len(h.words)], h.words):
				ms = append(ms, hintMatch{cat: h.cat, weak: h.weak, start: i, end: i + len(h.words)})
			default:
				continue
			}
			break
		}
	}
	for _, h := range cs.zhHints {
		if i := strings.Index(lower, h.joined); i >= 0 {
			ms = append(ms, hintMatch{cat: h.cat, weak: h.weak, start: i, end: i + len(h.joined), zh: true})
		}
	}
	keep := ms[:0]
	for i, m := range ms {
		inside := false
		for j, o := range ms {
			if i != j && o.cat != m.cat && o.zh == m.zh && o.start <= m.start && m.end <= o.end && o.end-o.start > m.end-m.start {
				inside = true
				break
			}
		}
		if !inside {
			keep = append(keep, m)
		}
	}
	// one match per category, strong before weak
	slices.SortStableFunc(keep, func(a, b hintMatch) int {
		if a.cat != b.cat {
			return a.cat - b.cat
		}
		if a.weak == b.weak {
			return 0
		}
		if !a.weak {
			return -1
		}
		return 1
	})
	return slices.CompactFunc(keep, func(a, b hintMatch) bool { return a.cat == b.cat })
}

// splitWords splits a column name into lower-case ASCII words at
// non-alphanumeric characters and camelCase boundaries ("customerIDCard" →
// customer, id, card). Non-ASCII text separates words and is dropped.
func splitWords(s string) []string {
	var words []string
	start := -1
	flush := func(end int) {
		if start >= 0 && end > start {
			words = append(words, strings.ToLower(s[start:end]))
		}
		start = -1
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || isDigit(c)
		if !alnum {
			flush(i)
			continue
		}
		if start < 0 {
			start = i
			continue
		}
		prev := s[i-1]
		upper := c >= 'A' && c <= 'Z'
		switch {
		case upper && (prev >= 'a' && prev <= 'z' || isDigit(prev)):
			// fooBar, foo2Bar
			flush(i)
			start = i
		case upper && prev >= 'A' && prev <= 'Z' && i+1 < len(s) && s[i+1] >= 'a' && s[i+1] <= 'z':
			// IDCard: the C starts a new word
			flush(i)
			start = i
		}
	}
	flush(len(s))
	return words
}
