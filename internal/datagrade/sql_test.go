package datagrade

import (
	"strings"
	"testing"
)

// No MySQL or MariaDB server runs on the test machine: these tests cover
// the SQL the MySQL source sends and its DSN handling, not a live scan.

func TestMySQLQueries(t *testing.T) {
	d := mysqlDialect{}
	small := sqlTable{name: "customers", estimate: 5000}
	large := sqlTable{name: "order`items", estimate: 2_000_000}
	unknown := sqlTable{name: "logs", estimate: -1}
	for _, tc := range []struct{ name, got, want string }{
		{"count small", d.count(small, 1000), "SELECT COUNT(*) FROM `customers`"},
		{"count unknown", d.count(unknown, 1000), "SELECT COUNT(*) FROM `logs`"},
		{"count large uses the estimate", d.count(large, 1000), ""},
		{"sample small", d.sample(small, 1000), "SELECT * FROM `customers` LIMIT 1000"},
		{"sample large, quoted", d.sample(large, 1000), "SELECT * FROM `order``items` WHERE RAND() < 0.001500 LIMIT 1000"},
		{"fallback", d.fallback(large, 10), "SELECT * FROM `order``items` LIMIT 10"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, tc.got, tc.want)
		}
	}
	if !strings.Contains(mysqlTablesQuery, "TABLE_SCHEMA = DATABASE()") || !strings.Contains(mysqlTablesQuery, "TABLE_TYPE = 'BASE TABLE'") {
		t.Errorf("tables query %s", mysqlTablesQuery)
	}
}

func TestMySQLSource(t *testing.T) {
	src, err := NewMySQLSource("scanner:s3cret@tcp(db.internal:3306)/shop?charset=utf8mb4")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	s := src.Store()
	if s.UID != "mysql://db.internal:3306/shop" || s.Name != "shop" || s.Kind != KindMySQL {
		t.Errorf("store %+v", s)
	}
	ss := src.(*sqlSource)
	if ss.txOpts == nil || !ss.txOpts.ReadOnly {
		t.Errorf("transaction options %+v, want read-only", ss.txOpts)
	}
	for _, tc := range []struct{ dsn, err string }{
		{"scanner:pw@tcp(db:3306)/", "names no database"},
		{"scanner:s3cret@tcp(db:3306/shop", "mysql DSN"},
	} {
		_, err := NewMySQLSource(tc.dsn)
		if err == nil || !strings.Contains(err.Error(), tc.err) || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%s: error %v, want %q without the password", tc.dsn, err, tc.err)
		}
	}
}

func TestPostgresQueries(t *testing.T) {
	tb := sqlTable{schema: "shop", name: `we"ird`, columns: []string{"id", "身份证号"}, estimate: 5_000_000}
	if got, want := pgSampleQuery(tb, 1000, true), `SELECT "id"::text, "身份证号"::text FROM "shop"."we""ird" TABLESAMPLE SYSTEM (0.06) LIMIT 1000`; got != want {
		t.Errorf("sample:\n%s\nwant\n%s", got, want)
	}
	if got, want := pgSampleQuery(tb, 1000, false), `SELECT "id"::text, "身份证号"::text FROM "shop"."we""ird" LIMIT 1000`; got != want {
		t.Errorf("plain sample:\n%s\nwant\n%s", got, want)
	}
	if got := pgCountQuery(tb, 1000); got != "" {
		t.Errorf("count of a large analysed table %q, want the estimate", got)
	}
	tb.estimate = -1
	if got, want := pgCountQuery(tb, 1000), `SELECT count(*) FROM "shop"."we""ird"`; got != want {
		t.Errorf("count %q, want %q", got, want)
	}
	if _, err := NewPostgresSource("postgres://u:s3cret@db:5432/crm?sslmode=bogus"); err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("error %v: want one without the password", err)
	}
	src, err := NewPostgresSource("host=db port=6543 dbname=crm user=u password=s3cret")
	if err != nil {
		t.Fatal(err)
	}
	if s := src.Store(); s.UID != "postgres://db:6543/crm" {
		t.Errorf("store %+v", s)
	}
}

func TestSQLiteSampling(t *testing.T) {
	d := sqliteDialect{}
	if got, want := d.sample(sqlTable{name: "t", estimate: 50_000}, 1000), `SELECT * FROM "t" WHERE rowid % 50 = 0 LIMIT 1000`; got != want {
		t.Errorf("%q, want %q", got, want)
	}
	if got, want := d.sample(sqlTable{name: `a"b`, estimate: 5000}, 1000), `SELECT * FROM "a""b" LIMIT 1000`; got != want {
		t.Errorf("%q, want %q", got, want)
	}
}
