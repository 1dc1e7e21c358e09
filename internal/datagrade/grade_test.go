package datagrade

import (
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// hit builds a graded hit for grading tests.
func hit(column, category string) Hit {
	return Hit{Column: column, Category: category, Matches: 100, Sampled: 100, Confidence: 90, Basis: "values"}
}

// TestGradeTable checks the level and the deciding steps for tables of
// known content under the default policy.
func TestGradeTable(t *testing.T) {
	g, err := NewGrader(GraderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	store := Store{Kind: KindPostgres, UID: "postgres://db:5432/crm", Name: "crm", Type: "PostgreSQL"}
	for _, tc := range []struct {
		name        string
		table       TableResult
		want        Level
		unverified  bool     // every step that yields the level is unverified
		wantRules   []string // rules of the steps that yield the level
		wantSources []string // substrings of those steps' sources
	}{
		{name: "nothing found", table: TableResult{Name: "products"},
			want: LevelGeneral1, wantRules: []string{"unclassified"}, wantSources: []string{"unclassified_level"}},
		{name: "public organisation ids only", table: TableResult{Name: "suppliers", Hits: []Hit{hit("credit_code", "org_credit_code")}},
			want: LevelGeneral1, wantRules: []string{"sublevel"}, wantSources: []string{"sublevels (general-1)"}},
		{name: "general PI", table: TableResult{Name: "contacts", Records: 500, Individuals: 500, Hits: []Hit{hit("phone", "phone_number"), hit("email", "email")}},
			want: LevelGeneral2, unverified: true, wantRules: []string{"sublevel", "floor"}, wantSources: []string{"sublevels (general-2)", "general_data_floor_rules.rules[1]"}},
		{name: "credentials", table: TableResult{Name: "config", Hits: []Hit{hit("value", "cloud_access_key")}},
			want: LevelGeneral3, wantRules: []string{"sublevel"}, wantSources: []string{"sublevels (general-3)"}},
		{name: "sensitive PI", table: TableResult{Name: "customers", Records: 900, Individuals: 900, SensitiveIndividuals: 900,
			Hits: []Hit{hit("身份证号", "cn_resident_id"), hit("phone", "phone_number")}},
			want: LevelGeneral4, wantRules: []string{"sublevel", "floor"}, wantSources: []string{"sublevels (general-4)", "general_data_floor_rules.rules[0]"}},
		{name: "general PI of 150,000 people", table: TableResult{Name: "members", Records: 150000, Individuals: 150000, Hits: []Hit{hit("phone", "phone_number")}},
			want: LevelGeneral3, wantRules: []string{"sublevel"}, wantSources: []string{"sublevels (general-3)"}},
		{name: "sensitive PI of 200,000 people", table: TableResult{Name: "patients", Records: 200000, Individuals: 200000, SensitiveIndividuals: 200000,
			Hits: []Hit{hit("diagnosis", "medical"), hit("patient_id", "network_account")}},
			want: LevelImportant, unverified: true, wantRules: []string{"decision"}, wantSources: []string{"decision_table.rows[3] (公共利益 × 严重危害)"}},
		{name: "PI of 2,000,000 people", table: TableResult{Name: "users", Records: 2000000, Individuals: 2000000, Hits: []Hit{hit("email", "email")}},
			want: LevelImportant, unverified: true, wantRules: []string{"decision"}, wantSources: []string{"decision_table.rows[3]"}},
		{name: "low-confidence hit is not graded", table: TableResult{Name: "t", Hits: []Hit{{Column: "id_card", Category: "cn_resident_id", Sampled: 10, Confidence: 45, Basis: "name"}}},
			want: LevelGeneral1, wantRules: []string{"unclassified"}},
		{name: "profiling labels", table: TableResult{Name: "tags", Hits: []Hit{hit("user_tags", "profile_tags")}},
			want: LevelGeneral2, unverified: true, wantRules: []string{"sublevel", "floor", "floor"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tg := g.gradeTable(store, &tc.table)
			if tg.Level != tc.want {
				t.Fatalf("level %s, want %s; steps:\n%s", tg.Level, tc.want, showSteps(tg.Steps))
			}
			var rules []string
			allUnverified := true
			for _, s := range tg.Steps {
				if s.Level != tc.want || s.Rule == "combine" {
					continue
				}
				rules = append(rules, s.Rule)
				allUnverified = allUnverified && s.Unverified
			}
			if !slices.Equal(rules, tc.wantRules) {
				t.Errorf("deciding rules %v, want %v; steps:\n%s", rules, tc.wantRules, showSteps(tg.Steps))
			}
			if allUnverified != tc.unverified {
				t.Errorf("all deciding steps unverified = %v, want %v; steps:\n%s", allUnverified, tc.unverified, showSteps(tg.Steps))
			}
			text := showSteps(tg.Steps)
			for _, s := range tc.wantSources {
				if !strings.Contains(text, s) {
					t.Errorf("steps lack %q:\n%s", s, text)
				}
			}
			if tg.Steps[0].Rule != "categories" {
				t.Errorf("first step %q, want categories", tg.Steps[0].Rule)
			}
		})
	}
}

func showSteps(steps []Step) string {
	var b strings.Builder
	for _, s := range steps {
		u := ""
		if s.Unverified {
			u = " [unverified]"
		}
		b.WriteString("  " + s.Rule + " → " + s.Level.String() + u + ": " + s.Detail + " (" + s.Source + ")\n")
	}
	return b.String()
}

// TestPolicy loads policy files from testdata/policies: *.yaml must load
// and change what the name says; bad-*.yaml must fail with the message in
// the matching .err file.
func TestPolicy(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "policies", "*.yaml"))
	if len(files) == 0 {
		t.Fatal("no policy test files")
	}
	for _, path := range files {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			p, err := LoadPolicy(name, f, BuiltinReference(), BuiltinCategories())
			if strings.HasPrefix(name, "bad-") {
				checkErrGolden(t, path, err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			g, err := NewGrader(GraderOptions{Policy: p})
			if err != nil {
				t.Fatal(err)
			}
			switch name {
			case "low-thresholds.yaml":
				// 5,000 people with sensitive PI reach the (lowered) rule
				tg := g.gradeTable(Store{}, &TableResult{Name: "customers", Records: 5000, Individuals: 5000, SensitiveIndividuals: 5000,
					Hits: []Hit{hit("身份证号", "cn_resident_id")}})
				if tg.Level != LevelImportant {
					t.Errorf("level %s, want important:\n%s", tg.Level, showSteps(tg.Steps))
				}
				if len(p.Impacts) != 4 {
					t.Errorf("impacts not kept from the default: %+v", p.Impacts)
				}
			case "verified-cells.yaml":
				// the override replaces the unverified cell: no unverified step decides
				tg := g.gradeTable(Store{}, &TableResult{Name: "users", Records: 2e6, Individuals: 2e6, Hits: []Hit{hit("email", "email")}})
				if tg.Level != LevelCore {
					t.Errorf("level %s, want core:\n%s", tg.Level, showSteps(tg.Steps))
				}
				for _, s := range tg.Steps {
					if s.Level == LevelCore && s.Unverified {
						t.Errorf("overridden cell still unverified: %+v", s)
					}
				}
			case "sensitive-transactions.yaml":
				tg := g.gradeTable(Store{}, &TableResult{Name: "orders", Hits: []Hit{hit("amount", "transaction")}})
				if tg.Level != LevelGeneral4 || !tg.SensitivePI {
					t.Errorf("level %s, sensitive %v, want general-4 and sensitive:\n%s", tg.Level, tg.SensitivePI, showSteps(tg.Steps))
				}
			case "no-floors.yaml":
				tg := g.gradeTable(Store{}, &TableResult{Name: "tags", Hits: []Hit{hit("user_tags", "profile_tags")}})
				for _, s := range tg.Steps {
					if s.Rule == "floor" {
						t.Errorf("floor rule applied: %+v", s)
					}
				}
			default:
				t.Fatalf("no expectation for %s", name)
			}
		})
	}
}

var update = flag.Bool("update", false, "rewrite the .err goldens under testdata/")

// checkErrGolden compares an error with path's .err file (the whole
// message, positions included).
func checkErrGolden(t *testing.T, path string, err error) {
	t.Helper()
	if err == nil {
		t.Fatal("no error")
	}
	golden := strings.TrimSuffix(path, filepath.Ext(path)) + ".err"
	if *update {
		if werr := os.WriteFile(golden, []byte(err.Error()+"\n"), 0o644); werr != nil {
			t.Fatal(werr)
		}
	}
	want, rerr := os.ReadFile(golden)
	if rerr != nil {
		t.Fatalf("%v (error was: %v)", rerr, err)
	}
	if got := err.Error(); got != strings.TrimRight(string(want), "\n") {
		t.Errorf("error:\n%s\nwant (%s):\n%s", got, golden, want)
	}
}

// TestCatalogue loads catalogues from testdata/catalogues: bad-*.yaml must
// fail with its .err message; the good one designates the tables its
// entries select.
func TestCatalogue(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "catalogues", "bad-*.yaml"))
	if len(files) < 4 {
		t.Fatalf("%d bad catalogues", len(files))
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			_, err = LoadCatalogue(filepath.Base(path), f, BuiltinCategories())
			checkErrGolden(t, path, err)
		})
	}
	c := loadCatalogue(t, "finance.yaml")
	g, err := NewGrader(GraderOptions{Catalogues: []*Catalogue{c}})
	if err != nil {
		t.Fatal(err)
	}
	crm := Store{Kind: KindPostgres, UID: "postgres://db:5432/crm", Name: "crm", Type: "PostgreSQL"}
	other := Store{Kind: KindPostgres, UID: "postgres://db:5432/shop", Name: "shop", Type: "PostgreSQL"}
	for _, tc := range []struct {
		name  string
		store Store
		table TableResult
		want  Level
		entry string
	}{
		{"accounts with cards and ids", crm, TableResult{Name: "public.accounts", Hits: []Hit{hit("card_no", "bank_card"), hit("id_no", "cn_resident_id")}}, LevelImportant, "FIN-IMP-001"},
		{"cards only: categories incomplete", crm, TableResult{Name: "public.accounts", Hits: []Hit{hit("card_no", "bank_card")}}, LevelGeneral4, ""},
		{"another store", other, TableResult{Name: "public.accounts", Hits: []Hit{hit("card_no", "bank_card"), hit("id_no", "cn_resident_id")}}, LevelGeneral4, ""},
		{"large credit table", other, TableResult{Name: "risk.credit_reports", Individuals: 600000, Hits: []Hit{hit("credit_score", "asset_credit")}}, LevelCore, "FIN-CORE-001"},
		{"small credit table", other, TableResult{Name: "risk.credit_reports", Individuals: 600, Hits: []Hit{hit("credit_score", "asset_credit")}}, LevelGeneral4, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tg := g.gradeTable(tc.store, &tc.table)
			if tg.Level != tc.want {
				t.Errorf("level %s, want %s:\n%s", tg.Level, tc.want, showSteps(tg.Steps))
			}
			if tc.entry != "" && !strings.Contains(showSteps(tg.Steps), "entry "+tc.entry) {
				t.Errorf("no step names entry %s:\n%s", tc.entry, showSteps(tg.Steps))
			}
		})
	}
	// A store-wide entry designates the whole store.
	a := g.Grade(&Result{Store: Store{Kind: KindObjects, UID: "bucket://payments-archive", Name: "payments-archive"}, Tables: []TableResult{{Name: "x.csv"}}})
	if a.Level != LevelImportant || !strings.Contains(showSteps(a.Steps), "entry FIN-IMP-002") {
		t.Errorf("store level %s:\n%s", a.Level, showSteps(a.Steps))
	}
}

func loadCatalogue(t *testing.T, name string) *Catalogue {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "catalogues", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c, err := LoadCatalogue(name, f, BuiltinCategories())
	if err != nil {
		t.Fatal(err)
	}
	return c
}
