package datagrade

import (
	"fmt"
	"io"
	"regexp"
	"strings"
)

// Catalogue is a user-supplied domain or industry catalogue of important and
// core data (重要数据目录 / 核心数据目录): entries that designate data found
// in scanned stores as important or core. The standard leaves these
// catalogues to sector regulators and data processors; the grader applies a
// matching entry as a designation, ahead of its own impact analysis (the
// highest level wins).
//
// A catalogue file:
//
//	schema_version: 1
//	catalogue:
//	  name: 某金融机构重要数据目录        # required
//	  domain: 金融数据                     # optional: industry or domain
//	  issuer: 数据安全管理部               # optional
//	  version: "2025-01"                   # optional
//	entries:
//	  - id: FIN-IMP-001                    # required, unique in the file
//	    name: 客户身份与账户信息汇总        # required
//	    level: important                   # important or core
//	    reason: 目录第3.2条                  # required: why the data is designated
//	    match:                             # at least one selector; all that are set must hold
//	      stores: ["postgres://*/crm"]     # store uid or name patterns (any)
//	      tables: ["public.customers"]     # table, file or object patterns (any)
//	      columns: ["*card*"]              # column patterns (any column with a graded category)
//	      categories: [bank_card, cn_resident_id]   # all present in the table
//	      min_individuals: 100000          # estimated individuals in the table
//	      min_records: 0                   # estimated records with personal information
//
// Patterns match case-insensitively; '*' matches any run of characters
// ('/' and '.' included). An entry with only stores (and no other selector)
// designates whole stores; any other entry is matched per table. Loading is
// strict: unknown keys, missing fields, unknown levels and categories,
// duplicate ids and entries without selectors are errors, each with its
// line. A Catalogue is read-only once loaded.
type Catalogue struct {
	Name    string
	Domain  string
	Issuer  string
	Version string
	Entries []CatalogueEntry
	file    string
}

// CatalogueEntry is one designation.
type CatalogueEntry struct {
	ID     string `yaml:"id"`
	Name   string `yaml:"name"`
	Level  Level  `yaml:"-"`
	Reason string `yaml:"reason"`
	// LevelName is the level as written ("important", "core", "重要数据").
	LevelName string `yaml:"level"`
	Match     struct {
		Stores         []string `yaml:"stores"`
		Tables         []string `yaml:"tables"`
		Columns        []string `yaml:"columns"`
		Categories     []string `yaml:"categories"`
		MinIndividuals int64    `yaml:"min_individuals"`
		MinRecords     int64    `yaml:"min_records"`
	} `yaml:"match"`

	stores, tables, columns []*regexp.Regexp
}

type catalogueDoc struct {
	SchemaVersion int `yaml:"schema_version"`
	Catalogue     struct {
		Name    string `yaml:"name"`
		Domain  string `yaml:"domain"`
		Issuer  string `yaml:"issuer"`
		Version string `yaml:"version"`
	} `yaml:"catalogue"`
	Entries []CatalogueEntry `yaml:"entries"`
}

// LoadCatalogue reads a catalogue file; cats is used to check category ids.
func LoadCatalogue(name string, r io.Reader, cats *Categories) (*Catalogue, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("datagrade: read %s: %w", name, err)
	}
	var f catalogueDoc
	d, err := decodeYAML(name, data, &f, true)
	if err != nil {
		return nil, err
	}
	if f.SchemaVersion != 1 {
		d.add("$.schema_version", "", "schema_version", "%d; want 1", f.SchemaVersion)
	}
	if strings.TrimSpace(f.Catalogue.Name) == "" {
		d.add("$.catalogue.name", "", "catalogue.name", "missing")
	}
	if len(f.Entries) == 0 {
		d.add("$.entries", "", "entries", "no entries")
	}
	c := &Catalogue{Name: f.Catalogue.Name, Domain: f.Catalogue.Domain, Issuer: f.Catalogue.Issuer, Version: f.Catalogue.Version, file: name}
	seen := map[string]bool{}
	for i := range f.Entries {
		e := &f.Entries[i]
		path := fmt.Sprintf("$.entries[%d]", i)
		where := fmt.Sprintf("entry %d", i+1)
		if e.ID != "" {
			where = "entry " + e.ID
		}
		add := func(field, format string, args ...any) { d.add(path+"."+field, where, field, format, args...) }
		switch {
		case strings.TrimSpace(e.ID) == "":
			add("id", "missing")
		case seen[e.ID]:
			add("id", "%q given twice", e.ID)
		}
		seen[e.ID] = true
		if strings.TrimSpace(e.Name) == "" {
			add("name", "missing")
		}
		if strings.TrimSpace(e.Reason) == "" {
			add("reason", "missing: say why the data is designated (clause, decision)")
		}
		switch l, err := ParseLevel(e.LevelName); {
		case e.LevelName == "":
			add("level", "missing (important or core)")
		case err != nil:
			add("level", "%v", err)
		case l != LevelImportant && l != LevelCore:
			add("level", "%s: a catalogue designates important or core data", l)
		default:
			e.Level = l
		}
		m := &e.Match
		if len(m.Stores)+len(m.Tables)+len(m.Columns)+len(m.Categories) == 0 && m.MinIndividuals == 0 && m.MinRecords == 0 {
			add("match", "no selector: set stores, tables, columns, categories, min_individuals or min_records")
		}
		if m.MinIndividuals < 0 || m.MinRecords < 0 {
			add("match", "negative threshold")
		}
		for j, id := range m.Categories {
			if _, ok := cats.Get(id); !ok {
				d.add(fmt.Sprintf("%s.match.categories[%d]", path, j), where, fmt.Sprintf("match.categories[%d]", j), "%q is not a category", id)
			}
		}
		compile := func(field string, pats []string) []*regexp.Regexp {
			var out []*regexp.Regexp
			for j, p := range pats {
				if strings.TrimSpace(p) == "" {
					d.add(fmt.Sprintf("%s.match.%s[%d]", path, field, j), where, fmt.Sprintf("match.%s[%d]", field, j), "empty pattern")
					continue
				}
				out = append(out, globRegexp(p))
			}
			return out
		}
		e.stores, e.tables, e.columns = compile("stores", m.Stores), compile("tables", m.Tables), compile("columns", m.Columns)
	}
	if err := d.err(); err != nil {
		return nil, err
	}
	c.Entries = f.Entries
	return c, nil
}

// globRegexp compiles a pattern in which '*' matches any run of characters,
// case-insensitively.
func globRegexp(p string) *regexp.Regexp {
	parts := strings.Split(p, "*")
	for i, s := range parts {
		parts[i] = regexp.QuoteMeta(s)
	}
	return regexp.MustCompile("(?i)^" + strings.Join(parts, ".*") + "$")
}

func anyMatch(res []*regexp.Regexp, s ...string) bool {
	for _, re := range res {
		for _, x := range s {
			if re.MatchString(x) {
				return true
			}
		}
	}
	return false
}

// storeOnly reports whether the entry designates whole stores.
func (e *CatalogueEntry) storeOnly() bool {
	m := &e.Match
	return len(m.Stores) > 0 && len(m.Tables)+len(m.Columns)+len(m.Categories) == 0 && m.MinIndividuals == 0 && m.MinRecords == 0
}

// matchesStore reports whether the entry's store selector (if any) holds.
func (e *CatalogueEntry) matchesStore(s Store) bool {
	return len(e.stores) == 0 || anyMatch(e.stores, s.UID, s.Name)
}

// matchesTable reports whether a table-level entry holds for a table with
// the given graded hits and estimates.
func (e *CatalogueEntry) matchesTable(s Store, t *TableResult, graded []Hit) bool {
	if e.storeOnly() || !e.matchesStore(s) {
		return false
	}
	m := &e.Match
	if len(e.tables) > 0 && !anyMatch(e.tables, t.Name) {
		return false
	}
	if len(e.columns) > 0 {
		ok := false
		for _, h := range graded {
			if anyMatch(e.columns, h.Column) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	for _, c := range m.Categories {
		found := false
		for _, h := range graded {
			if h.Category == c {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return t.Individuals >= m.MinIndividuals && t.Records >= m.MinRecords
}
