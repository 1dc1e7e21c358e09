package pipeline_test

import (
	"bytes"
	"database/sql"
	stdjson "encoding/json"
	"github.com/canopy-sec/canopy/internal/ingest/ingesttest"
	"path/filepath"
	"testing"

	_ "modernc.org/sqlite"
)

// BenchmarkNaiveBaseline is the yardstick for BenchmarkIngestTrivy100k: the
// same generated report decoded with encoding/json (streaming, one
// vulnerability at a time), each re-encoded as JSON and inserted row by row
// into SQLite (WAL, one transaction), without mapping or deduplication.
//
//	go test ./internal/pipeline -run XXX -bench NaiveBaseline -benchtime 3x
func BenchmarkNaiveBaseline(b *testing.B) {
	var buf bytes.Buffer
	ingesttest.TrivyReport(&buf, 100_000)
	data := buf.Bytes()
	for b.Loop() {
		b.StopTimer()
		db, err := sql.Open("sqlite", "file:"+filepath.Join(b.TempDir(), "naive.db")+"?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)")
		if err != nil {
			b.Fatal(err)
		}
		db.SetMaxOpenConns(1)
		if _, err := db.Exec("CREATE TABLE findings (id INTEGER PRIMARY KEY, vuln_id TEXT, pkg TEXT, severity TEXT, doc BLOB)"); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		tx, _ := db.Begin()
		st, _ := tx.Prepare("INSERT INTO findings (vuln_id, pkg, severity, doc) VALUES (?,?,?,?)")
		dec := stdjson.NewDecoder(bytes.NewReader(data))
		n := 0
		// walk to Results[0].Vulnerabilities
		for depth := 0; ; {
			tok, err := dec.Token()
			if err != nil {
				b.Fatal(err)
			}
			if d, ok := tok.(stdjson.Delim); ok {
				if d == '{' || d == '[' {
					depth++
				} else {
					depth--
				}
			}
			if s, ok := tok.(string); ok && s == "Vulnerabilities" && depth == 3 {
				dec.Token() // [
				break
			}
		}
		for dec.More() {
			var v map[string]any
			if err := dec.Decode(&v); err != nil {
				b.Fatal(err)
			}
			doc, _ := stdjson.Marshal(v)
			if _, err := st.Exec(v["VulnerabilityID"], v["PkgName"], v["Severity"], doc); err != nil {
				b.Fatal(err)
			}
			n++
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if n != 100_000 {
			b.Fatalf("%d rows", n)
		}
		db.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(100_000*b.N)/b.Elapsed().Seconds(), "findings/s")
}
