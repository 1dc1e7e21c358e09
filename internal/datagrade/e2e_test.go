package datagrade

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/canopy-sec/canopy/internal/ocsf"
	"github.com/canopy-sec/canopy/internal/ocsf/ocsfschema"
	"github.com/canopy-sec/canopy/internal/store/postgres/pgtest"
)

// expectation is testdata/e2e/shop.json: the grade and categories each
// store and table must get.
type expectation struct {
	Level      string                      `json:"level"`
	Categories []string                    `json:"categories"`
	Tables     map[string]tableExpectation `json:"tables"`
}

type tableExpectation struct {
	Level       string   `json:"level"`
	Categories  []string `json:"categories"`
	SensitivePI bool     `json:"sensitive_pi"`
	// Individuals is the true number of distinct people; the estimate must
	// be within 25 %.
	Individuals int64 `json:"individuals"`
}

func readExpectation(t *testing.T, name string) expectation {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "e2e", name))
	if err != nil {
		t.Fatal(err)
	}
	var e expectation
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		t.Fatal(err)
	}
	return e
}

// Fixture sizes: more rows than the default budget, so that sampling and
// scaling are exercised.
const (
	shopCustomers = 1500
	shopOrders    = 4000
	shopLogs      = 2500
)

// logCapture is a slog handler writing JSON at debug level into a buffer.
type logCapture struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logCapture) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logCapture) logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// scanned is everything one end-to-end run produced, for checks and for
// the leak test.
type scanned struct {
	res     *Result
	a       *Assessment
	finding *ocsf.DataSecurityFinding
	output  []byte // result, assessment and finding as JSON
}

func scanAndGrade(t *testing.T, src Source, logs *logCapture, budget Budget) scanned {
	t.Helper()
	s, err := NewScanner(Options{Budget: budget, Logger: logs.logger(), Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Scan(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	g, err := NewGrader(GraderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a := g.Grade(res)
	f := a.Finding(FindingOptions{ProductVersion: "test"})
	var out bytes.Buffer
	for _, v := range []any{res, a, f} {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		out.Write(b)
		out.WriteByte('\n')
	}
	return scanned{res: res, a: a, finding: f, output: out.Bytes()}
}

// checkExpectation compares an assessment with the expectation; strip is
// a prefix of table names to drop ("shop." for PostgreSQL).
func checkExpectation(t *testing.T, sc scanned, want expectation, strip string) {
	t.Helper()
	a := sc.a
	if a.Level.String() != want.Level {
		t.Errorf("store level %s, want %s", a.Level, want.Level)
	}
	if !slices.Equal(a.Categories, want.Categories) {
		t.Errorf("store categories %v, want %v", a.Categories, want.Categories)
	}
	got := map[string]TableGrade{}
	for _, tg := range a.Tables {
		got[strings.TrimPrefix(tg.Table, strip)] = tg
	}
	for name, w := range want.Tables {
		tg, ok := got[name]
		if !ok {
			t.Errorf("table %s not graded", name)
			continue
		}
		if tg.Level.String() != w.Level {
			t.Errorf("%s: level %s, want %s:\n%s", name, tg.Level, w.Level, showSteps(tg.Steps))
		}
		if !slices.Equal(tg.Categories, w.Categories) {
			t.Errorf("%s: categories %v, want %v", name, tg.Categories, w.Categories)
		}
		if tg.SensitivePI != w.SensitivePI {
			t.Errorf("%s: sensitive PI %v, want %v", name, tg.SensitivePI, w.SensitivePI)
		}
		if w.Individuals > 0 && (float64(tg.Individuals) < 0.75*float64(w.Individuals) || float64(tg.Individuals) > 1.25*float64(w.Individuals)) {
			t.Errorf("%s: %d individuals estimated, want %d ± 25%%", name, tg.Individuals, w.Individuals)
		}
	}
	if len(got) != len(want.Tables) {
		t.Errorf("%d tables graded, want %d", len(got), len(want.Tables))
	}
}

var (
	schemaOnce sync.Once
	schema     *ocsfschema.Schema
	schemaErr  error
)

// validateOCSF runs a record through the schema-driven OCSF validator used
// by internal/ingest.
func validateOCSF(t *testing.T, rec any) {
	t.Helper()
	schemaOnce.Do(func() {
		schema, schemaErr = ocsfschema.Load(os.DirFS(filepath.Join("..", "ocsf", "ocsfschema", "testdata", "schema")))
	})
	if schemaErr != nil {
		t.Fatal(schemaErr)
	}
	b, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	problems, err := schema.ValidateJSON(b)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("OCSF: %s", p)
	}
	// and it decodes back into the same class
	back, err := ocsf.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if l, ok := GradeOf(back); !ok || l.String() == "" {
		t.Errorf("grade not readable from the decoded finding")
	}
}

// checkNoLeak fails when any sensitive value occurs in the output.
func checkNoLeak(t *testing.T, what string, output []byte, values []string) {
	t.Helper()
	leaks := 0
	for _, v := range values {
		if len(v) < 5 {
			continue
		}
		if bytes.Contains(output, []byte(v)) {
			if leaks < 5 {
				t.Errorf("%s contains the raw value %q", what, v)
			}
			leaks++
		}
	}
	if leaks > 0 {
		t.Errorf("%s: %d raw values leaked", what, leaks)
	}
}

// TestSQLiteEndToEnd scans the shop database in an SQLite file, grades it,
// and checks grades, categories, the OCSF finding and that no raw value
// reaches the output or the logs.
func TestSQLiteEndToEnd(t *testing.T) {
	tables := shop(shopCustomers, shopOrders, shopLogs)
	src, err := NewSQLiteSource(writeSQLite(t, tables))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	logs := &logCapture{}
	sc := scanAndGrade(t, src, logs, Budget{})
	checkExpectation(t, sc, readExpectation(t, "shop.json"), "")
	validateOCSF(t, sc.finding)
	if sc.finding.Database == nil || sc.finding.Database.Name != "shop.db" || sc.finding.Table == nil || sc.finding.Table.Name != "customers" {
		t.Errorf("database %+v table %+v", sc.finding.Database, sc.finding.Table)
	}
	for _, tr := range sc.res.Tables {
		if !tr.RowsExact || tr.SampledRows != 1000 {
			t.Errorf("%s: %d rows sampled, exact count %v", tr.Name, tr.SampledRows, tr.RowsExact)
		}
	}
	checkNoLeak(t, "SQLite output", sc.output, sensitiveValues(tables))
	checkNoLeak(t, "SQLite logs", logs.buf.Bytes(), sensitiveValues(tables))
	if logs.buf.Len() == 0 {
		t.Error("nothing logged at debug level")
	}
}

// TestPostgresEndToEnd creates the shop schema in a fresh PostgreSQL
// database, scans it through a role that may read two of the three
// tables, then as the owner with a small budget after ANALYZE (planner
// estimates and TABLESAMPLE).
func TestPostgresEndToEnd(t *testing.T) {
	dbURL := pgtest.NewDatabase(t)
	tables := shop(shopCustomers, shopOrders, shopLogs)
	writePostgres(t, dbURL, tables)
	want := readExpectation(t, "shop.json")
	values := sensitiveValues(tables)

	t.Run("owner", func(t *testing.T) {
		src, err := NewPostgresSource(dbURL)
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		logs := &logCapture{}
		sc := scanAndGrade(t, src, logs, Budget{})
		checkExpectation(t, sc, want, "shop.")
		validateOCSF(t, sc.finding)
		checkNoLeak(t, "PostgreSQL output", sc.output, values)
		checkNoLeak(t, "PostgreSQL logs", logs.buf.Bytes(), values)
		if want := "postgres://127.0.0.1:5432/" + dbName(dbURL); sc.a.Store.UID != want {
			t.Errorf("store uid %q, want %q", sc.a.Store.UID, want)
		}
	})

	t.Run("sampled after analyze", func(t *testing.T) {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, dbURL)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Exec(ctx, "ANALYZE"); err != nil {
			t.Fatal(err)
		}
		conn.Close(ctx)
		src, _ := NewPostgresSource(dbURL)
		sc := scanAndGrade(t, src, &logCapture{}, Budget{RowsPerTable: 100})
		for _, tr := range sc.res.Tables {
			if tr.RowsExact || tr.SampledRows == 0 || tr.SampledRows > 100 {
				t.Errorf("%s: %d rows sampled, exact %v; want 1–100 from an estimate", tr.Name, tr.SampledRows, tr.RowsExact)
			}
			if n := map[string]int64{"shop.customers": shopCustomers, "shop.orders": shopOrders, "shop.logs": shopLogs}[tr.Name]; tr.EstimatedRows != n {
				t.Errorf("%s: estimate %d rows, want %d", tr.Name, tr.EstimatedRows, n)
			}
		}
		if sc.a.Level != LevelGeneral4 {
			t.Errorf("level %s with a 100-row budget", sc.a.Level)
		}
	})

	t.Run("role without access to logs", func(t *testing.T) {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, dbURL)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		role := "dg_" + strings.TrimPrefix(dbName(dbURL), "canopy_test_")
		for _, q := range []string{"CREATE ROLE " + role + " LOGIN", "GRANT USAGE ON SCHEMA shop TO " + role,
			"GRANT SELECT ON shop.customers, shop.orders TO " + role} {
			if _, err := conn.Exec(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		t.Cleanup(func() {
			conn, err := pgx.Connect(ctx, dbURL)
			if err != nil {
				return
			}
			defer conn.Close(ctx)
			conn.Exec(ctx, "DROP OWNED BY "+role)
			conn.Exec(ctx, "DROP ROLE "+role)
		})
		u := strings.Replace(dbURL, "postgres@", role+"@", 1)
		src, _ := NewPostgresSource(u)
		logs := &logCapture{}
		sc := scanAndGrade(t, src, logs, Budget{})
		if len(sc.res.Problems) != 1 || !strings.Contains(sc.res.Problems[0], "shop.logs") || !strings.Contains(sc.res.Problems[0], "permission denied") {
			t.Errorf("problems %v, want permission denied on shop.logs", sc.res.Problems)
		}
		if len(sc.a.Tables) != 3 || sc.a.Level != LevelGeneral4 {
			t.Errorf("%d tables, level %s", len(sc.a.Tables), sc.a.Level)
		}
		if sc.finding.DataSecurity.StatusID != ocsf.ClassificationStatusPartial {
			t.Errorf("data_security.status_id %d, want Partial", sc.finding.DataSecurity.StatusID)
		}
		validateOCSF(t, sc.finding)
		checkNoLeak(t, "PostgreSQL output", sc.output, values)
		if !strings.Contains(logs.buf.String(), "permission denied") {
			t.Errorf("permission problem not logged: %s", logs.buf.String())
		}
	})
}

// dbName returns the database name of a postgres:// URL.
func dbName(u string) string {
	u, _, _ = strings.Cut(u, "?")
	return u[strings.LastIndexByte(u, '/')+1:]
}
