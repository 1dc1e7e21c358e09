package datagrade

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// fixtureTable is a generated table: column names, SQL types and rows.
type fixtureTable struct {
	name  string
	cols  []string
	types []string
	rows  [][]string
}

// shop returns a small shop database: customers (identity numbers, bank
// cards, phones, e-mail, addresses), orders (customer ids, amounts,
// receiver phones and addresses, plates) and logs (free text with IP
// addresses, phone numbers and e-mail addresses, a client_ip column). Every
// value is synthetic.
func shop(customers, orders, logs int) []fixtureTable {
	g := newGen(2024)
	c := fixtureTable{name: "customers",
		cols:  []string{"id", "姓名", "身份证号", "phone", "email", "address", "bank_card", "created_at"},
		types: []string{"INTEGER", "TEXT", "TEXT", "TEXT", "TEXT", "TEXT", "TEXT", "TEXT"}}
	phones := make([]string, customers)
	for i := 0; i < customers; i++ {
		phones[i] = g.mobile()
		c.rows = append(c.rows, []string{fmt.Sprint(i + 1), g.name(), g.residentID(), phones[i], g.email(), g.address(), g.cardDigits(),
			fmt.Sprintf("2024-%02d-%02d 10:00:00", 1+g.r.IntN(12), 1+g.r.IntN(28))})
	}
	o := fixtureTable{name: "orders",
		cols:  []string{"order_id", "customer_id", "amount", "receiver_phone", "ship_address", "plate_no", "status"},
		types: []string{"TEXT", "INTEGER", "NUMERIC", "TEXT", "TEXT", "TEXT", "TEXT"}}
	for i := 0; i < orders; i++ {
		cust := g.r.IntN(customers)
		o.rows = append(o.rows, []string{fmt.Sprintf("2025%08d", i), fmt.Sprint(cust + 1), fmt.Sprintf("%d.%02d", 10+g.r.IntN(5000), g.r.IntN(100)),
			phones[cust], g.address(), g.plate(), g.pick("paid", "shipped", "delivered")})
	}
	l := fixtureTable{name: "logs",
		cols:  []string{"id", "ts", "level", "message", "client_ip"},
		types: []string{"INTEGER", "TEXT", "TEXT", "TEXT", "TEXT"}}
	for i := 0; i < logs; i++ {
		var msg string
		switch g.r.IntN(4) {
		case 0:
			msg = fmt.Sprintf("user login ok from %s session=%s", g.ipv4(), g.chars("abcdef0123456789", 16))
		case 1:
			msg = fmt.Sprintf("sms sent to %s for order 2025%08d", phones[g.r.IntN(customers)], g.r.IntN(orders))
		case 2:
			msg = fmt.Sprintf("password reset mail to %s queued", g.email())
		default:
			msg = fmt.Sprintf("GET /api/v1/items/%d 200 %dms", g.r.IntN(1000), g.r.IntN(300))
		}
		l.rows = append(l.rows, []string{fmt.Sprint(i + 1), fmt.Sprintf("2025-03-%02d 12:%02d:%02d", 1+g.r.IntN(28), g.r.IntN(60), g.r.IntN(60)),
			g.pick("INFO", "WARN"), msg, g.ipv4()})
	}
	return []fixtureTable{c, o, l}
}

// sensitiveValues returns every value of the fixture that is personal or
// secret (everything but ids, amounts, statuses, times and levels), for
// leak checks.
func sensitiveValues(tables []fixtureTable) []string {
	skip := map[string]bool{"id": true, "created_at": true, "order_id": true, "customer_id": true, "amount": true, "status": true, "ts": true, "level": true, "message": true}
	var out []string
	for _, t := range tables {
		for i, c := range t.cols {
			if skip[c] {
				continue
			}
			for _, r := range t.rows {
				out = append(out, r[i])
			}
		}
	}
	return out
}

// writeSQLite writes the tables into a new SQLite file.
func writeSQLite(t testing.TB, tables []fixtureTable) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "shop.db")
	db, err := sql.Open("sqlite", "file:"+url.PathEscape(path))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, ft := range tables {
		var defs, marks []string
		for i, c := range ft.cols {
			defs = append(defs, sqliteIdent(c)+" "+ft.types[i])
			marks = append(marks, "?")
		}
		if _, err := db.Exec("CREATE TABLE " + sqliteIdent(ft.name) + " (" + strings.Join(defs, ", ") + ")"); err != nil {
			t.Fatal(err)
		}
		tx, err := db.Begin()
		if err != nil {
			t.Fatal(err)
		}
		stmt, err := tx.Prepare("INSERT INTO " + sqliteIdent(ft.name) + " VALUES (" + strings.Join(marks, ", ") + ")")
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range ft.rows {
			args := make([]any, len(r))
			for i, v := range r {
				args[i] = v
			}
			if _, err := stmt.Exec(args...); err != nil {
				t.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

// writePostgres creates the tables in schema shop of the database at url
// and copies the rows in.
func writePostgres(t testing.TB, dbURL string, tables []fixtureTable) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA shop"); err != nil {
		t.Fatal(err)
	}
	for _, ft := range tables {
		var defs []string
		for i, c := range ft.cols {
			typ := ft.types[i]
			if typ == "INTEGER" {
				typ = "bigint"
			}
			defs = append(defs, pgx.Identifier{c}.Sanitize()+" "+typ)
		}
		if _, err := conn.Exec(ctx, "CREATE TABLE shop."+pgx.Identifier{ft.name}.Sanitize()+" ("+strings.Join(defs, ", ")+")"); err != nil {
			t.Fatal(err)
		}
		rows := make([][]any, len(ft.rows))
		for i, r := range ft.rows {
			rows[i] = make([]any, len(r))
			for j, v := range r {
				rows[i][j] = v
			}
		}
		// text in, cast by the server
		var cols []string
		for _, c := range ft.cols {
			cols = append(cols, pgx.Identifier{c}.Sanitize())
		}
		tx, err := conn.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			marks := make([]string, len(r))
			for i := range r {
				marks[i] = fmt.Sprintf("$%d::text::%s", i+1, pgType(ft.types[i]))
			}
			if _, err := tx.Exec(ctx, "INSERT INTO shop."+pgx.Identifier{ft.name}.Sanitize()+" ("+strings.Join(cols, ", ")+") VALUES ("+strings.Join(marks, ", ")+")", r...); err != nil {
				t.Fatal(err)
			}
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

func pgType(t string) string {
	if t == "INTEGER" {
		return "bigint"
	}
	return t
}

// memSource is a Source over tables held in memory.
type memSource struct {
	store  Store
	tables []fixtureTable
}

func (m *memSource) Store() Store { return m.store }
func (m *memSource) Close() error { return nil }
func (m *memSource) Tables(ctx context.Context, b Budget, fn func(Table, Rows) error) error {
	for _, t := range m.tables {
		if err := fn(Table{Name: t.name, Kind: "table"}, &sliceRows{cols: t.cols, rows: t.rows, count: int64(len(t.rows)), exact: true}); err != nil {
			return err
		}
	}
	return nil
}
