package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/canopy-sec/canopy/internal/store/postgres/pgtest"
)

// residentID makes a valid 18-digit resident ID (GB 11643 check digit).
func residentID(i int) string {
	body := fmt.Sprintf("110105%04d%02d%02d%03d", 1970+i%30, 1+i%12, 1+i%28, i%1000)
	weights := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for k, c := range body {
		sum += int(c-'0') * weights[k]
	}
	return body + string("10X98765432"[sum%11])
}

// unionPay makes a Luhn-valid 16-digit card number.
func unionPay(i int) string {
	body := fmt.Sprintf("622202%09d", 100000000+i)
	sum := 0
	for k := len(body) - 1; k >= 0; k-- {
		d := int(body[k] - '0')
		if (len(body)-k)%2 == 1 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return body + fmt.Sprint((10-sum%10)%10)
}

// shop fills a customers / orders / logs schema through exec and returns
// the sensitive values written.
func shop(t *testing.T, exec func(string, ...any) error, param func(int) string) []string {
	t.Helper()
	for _, q := range []string{
		"CREATE TABLE customers (id integer, name text, id_card text, phone text, email text, address text, bank_card text)",
		"CREATE TABLE orders (order_id integer, phone text, address text, amount integer)",
		"CREATE TABLE logs (at text, msg text)",
	} {
		if err := exec(q); err != nil {
			t.Fatal(err)
		}
	}
	var secrets []string
	names := []string{"张伟", "王芳", "李娜", "刘洋", "陈静"}
	for i := range 60 {
		id, card, phone := residentID(i), unionPay(i), fmt.Sprintf("138%08d", 10000000+i*7)
		email := fmt.Sprintf("user%d@example.cn", i)
		secrets = append(secrets, id, card, phone, email)
		if err := exec(fmt.Sprintf("INSERT INTO customers VALUES (%s,%s,%s,%s,%s,%s,%s)", param(1), param(2), param(3), param(4), param(5), param(6), param(7)),
			i, names[i%5], id, phone, email, fmt.Sprintf("北京市朝阳区建国路%d号", i+1), card); err != nil {
			t.Fatal(err)
		}
		if err := exec(fmt.Sprintf("INSERT INTO orders VALUES (%s,%s,%s,%s)", param(1), param(2), param(3), param(4)), 1000+i, phone, "上海市浦东新区世纪大道1号", 99); err != nil {
			t.Fatal(err)
		}
		if err := exec(fmt.Sprintf("INSERT INTO logs VALUES (%s,%s)", param(1), param(2)), "2026-01-01", "login from 10.0.0.1 by "+email); err != nil {
			t.Fatal(err)
		}
	}
	return secrets
}

// TestDataScan: a SQLite file and a PostgreSQL schema of customers,
// orders and logs are graded through the CLI; the grade feeds the risk of
// the store's issue; no raw sensitive value reaches the data directory or
// the output.
func TestDataScan(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "shop.db")
	db, err := sql.Open("sqlite", dbPath)
	if err != nil {
		t.Fatal(err)
	}
	secrets := shop(t, func(q string, args ...any) error { _, err := db.Exec(q, args...); return err }, func(int) string { return "?" })
	db.Close()

	pgURL := pgtest.NewDatabase(t)
	conn, err := pgx.Connect(context.Background(), pgURL)
	if err != nil {
		t.Fatal(err)
	}
	shop(t, func(q string, args ...any) error { _, err := conn.Exec(context.Background(), q, args...); return err }, func(n int) string { return fmt.Sprintf("$%d", n) })
	conn.Close(context.Background())

	data := filepath.Join(dir, "data")
	catalogue := filepath.Join(dir, "catalogue.yaml")
	writeFile(t, catalogue, `schema_version: 1
catalogue:
  name: 示例零售重要数据目录
  domain: 零售
  issuer: 数据安全部
  version: "2026-01"
entries:
  - id: RETAIL-IMP-001
    name: 会员身份与支付信息
    level: important
    reason: 目录第 2.1 条：会员身份与银行卡信息
    match:
      tables: ["*customers"]
      categories: [bank_card, cn_resident_id]
`)
	var printed strings.Builder // everything the commands print, logs included
	r := canopy(t, "", "datascan", "--data", data, "--output", "json", "--catalogue", catalogue, "sqlite:"+dbPath, pgURL)
	printed.WriteString(r.stdout + r.stderr)
	other := filepath.Join(dir, "other")
	printed.WriteString(canopy(t, "", "datascan", "--data", other, "sqlite:"+dbPath).stdout) // the table output too
	var res []struct {
		Target     string
		Assessment struct {
			Level       string
			SensitivePI bool `json:"sensitive_pi"`
			Categories  []string
			Tables      []struct {
				Table string
				Level string
			}
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil || r.code != 0 || len(res) != 2 {
		t.Fatalf("datascan: %v %+v", err, r)
	}
	for _, s := range res {
		a := s.Assessment
		levels := map[string]string{}
		for _, tb := range a.Tables {
			levels[tb.Table[strings.LastIndex(tb.Table, ".")+1:]] = tb.Level
		}
		if a.Level != "important" || !a.SensitivePI || levels["customers"] != "important" || levels["orders"] == "" || levels["logs"] == "" {
			t.Errorf("%s: level %s, sensitive %v, tables %v", s.Target, a.Level, a.SensitivePI, levels)
		}
		for _, want := range []string{"cn_resident_id", "bank_card", "phone_number"} {
			if !strings.Contains(strings.Join(a.Categories, " "), want) {
				t.Errorf("%s: categories %v lack %s", s.Target, a.Categories, want)
			}
		}
	}
	if strings.Contains(r.stdout+r.stderr, "password") {
		t.Errorf("a connection password shows: %s", r.stderr)
	}

	// the grade raises the store's issue risk
	r = canopy(t, "", "issues", "--data", data, "--class", "data_security", "--output", "json")
	var issues []struct {
		Key  string `json:"issue_key"`
		Risk struct {
			Factors []struct {
				Name         string
				Contribution int
			}
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &issues); err != nil || len(issues) != 2 {
		t.Fatalf("issues: %v %+v", err, r)
	}
	for _, is := range issues {
		got := 0
		for _, f := range is.Risk.Factors {
			if f.Name == "data_grade" {
				got = f.Contribution
			}
		}
		if got == 0 {
			t.Errorf("issue %s: no data_grade contribution: %+v", is.Key, is.Risk.Factors)
		}
	}
	if r := canopy(t, "", "risk", "explain", "--issue", issues[0].Key, "--data", data); r.code != 0 || !strings.Contains(r.stdout, "data_grade") || !strings.Contains(r.stdout, "important") {
		t.Errorf("risk explain --issue: %+v", r)
	}
	rep := canopy(t, "", "report", "datagrade", "--data", data)
	if rep.code != 0 || !strings.Contains(rep.stdout, "customers") {
		t.Errorf("report datagrade: %.300s", rep.stdout)
	}
	printed.WriteString(rep.stdout + canopy(t, "", "report", "datagrade", "--data", data, "--format", "json").stdout)

	// no raw value anywhere in the data directory (database, WAL) or output
	canopy(t, "", "findings", "--data", data, "--output", "json", "--limit", "0") // also checkpoints nothing away
	var blob strings.Builder
	filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if path == dbPath || strings.HasPrefix(path, dbPath) {
			return nil // the scanned database itself
		}
		if err == nil && !info.IsDir() {
			b, _ := os.ReadFile(path)
			blob.Write(b)
		}
		return nil
	})
	all := blob.String() + printed.String()
	for _, s := range secrets {
		if strings.Contains(all, s) {
			t.Fatalf("a raw sensitive value (%s…) is stored or printed", s[:4])
		}
	}
}
