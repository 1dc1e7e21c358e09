package datagrade

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// benchTable returns a row generator for a customers-like table whose
// values repeat every 10,000 rows, so that a million-row table costs little
// memory while every row still goes through every detector.
func benchTable() (cols []string, row func(i int) []string) {
	g := newGen(1)
	cols = []string{"id", "身份证号", "phone", "email", "bank_card", "amount", "created_at", "note"}
	const distinct = 10_000
	rows := make([][]string, distinct)
	for i := range rows {
		rows[i] = []string{fmt.Sprint(i), g.residentID(), g.mobile(), g.email(), g.bankCard(),
			fmt.Sprintf("%d.%02d", g.r.IntN(10000), g.r.IntN(100)), "2025-03-15 10:22:33", g.pick("", "VIP", "请尽快发货", "call before delivery")}
	}
	return cols, func(i int) []string { return rows[i%distinct] }
}

// BenchmarkClassify1M classifies a 1,000,000-row, 8-column table (8M values)
// on one goroutine: the detector hot path without any I/O. The values/s
// metric is per core.
func BenchmarkClassify1M(b *testing.B) {
	cols, row := benchTable()
	cls := &classifier{cats: BuiltinCategories(), env: newEnv(testNow), maxValue: 4096}
	const n = 1_000_000
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		t := cls.newTable()
		for i := 0; i < n; i++ {
			t.row(cols, row(i))
		}
		res := t.finish("customers", "table", n, true, 0, 1)
		if len(res.Hits) < 4 {
			b.Fatalf("hits %+v", res.Hits)
		}
	}
	b.ReportMetric(float64(n*len(cols))*float64(b.N)/b.Elapsed().Seconds(), "values/s")
}

// BenchmarkSQLiteScan1M scans a 1,000,000-row, 8-column SQLite table whole
// (the budget raised to a million rows): driver, RawBytes rows and
// detectors together, on one goroutine. Creating the table takes a few
// seconds and is not timed.
func BenchmarkSQLiteScan1M(b *testing.B) {
	cols, row := benchTable()
	const n = 1_000_000
	ft := fixtureTable{name: "customers", cols: cols, types: []string{"INTEGER", "TEXT", "TEXT", "TEXT", "TEXT", "NUMERIC", "TEXT", "TEXT"}}
	for i := 0; i < n; i++ {
		ft.rows = append(ft.rows, row(i))
	}
	src, err := NewSQLiteSource(writeSQLite(b, []fixtureTable{ft}))
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	ft.rows = nil
	s, _ := NewScanner(Options{Budget: Budget{RowsPerTable: n}, Now: func() time.Time { return testNow }})
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		res, err := s.Scan(context.Background(), src)
		if err != nil {
			b.Fatal(err)
		}
		if res.Tables[0].SampledRows != n {
			b.Fatalf("%d rows read", res.Tables[0].SampledRows)
		}
	}
	b.ReportMetric(float64(n*len(cols))*float64(b.N)/b.Elapsed().Seconds(), "values/s")
}
