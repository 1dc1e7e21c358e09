package datagrade

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// writeShopFiles writes the shop fixture as files under dir: customers as
// CSV, orders as JSON Lines (nested objects), logs as a text file, plus a
// JSON array, a malformed JSON Lines file and a file of another format.
// It returns the files' contents by name, for archives.
func writeShopFiles(t *testing.T, dir string, tables []fixtureTable) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	var b strings.Builder
	w := csv.NewWriter(&b)
	w.Write(tables[0].cols)
	w.WriteAll(tables[0].rows)
	files["exports/customers.csv"] = []byte("\ufeff" + b.String())

	var jl strings.Builder
	for _, r := range tables[1].rows {
		obj := map[string]any{"order_id": r[0], "customer_id": r[1], "amount": json.Number(r[2]),
			"receiver": map[string]any{"receiver_phone": r[3], "ship_address": r[4]}, "plate_no": r[5], "status": r[6]}
		line, _ := json.Marshal(obj)
		jl.Write(line)
		jl.WriteByte('\n')
	}
	files["exports/orders.jsonl"] = []byte(jl.String())

	var logs strings.Builder
	for _, r := range tables[2].rows {
		fmt.Fprintf(&logs, "%s %s %s client=%s\n", r[1], r[2], r[3], r[4])
	}
	files["logs/app.log"] = []byte(logs.String())

	arr, _ := json.Marshal([]map[string]any{{"email": tables[0].rows[0][4], "tags": []any{"vip", "new"}}, {"email": tables[0].rows[1][4]}})
	files["exports/small.json"] = arr
	files["exports/broken.jsonl"] = []byte(`{"phone": "` + tables[0].rows[2][3] + `"}` + "\n" + `{"phone": "` + tables[0].rows[3][3] + `", oops}` + "\n")
	files["README.md"] = []byte("not scanned: " + tables[0].rows[0][2])
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return files
}

func writeZip(t *testing.T, path string, files map[string][]byte) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	for _, name := range sortedKeys(files) {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(files[name])
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

func writeTarGz(t *testing.T, path string, files map[string][]byte) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	gz := gzip.NewWriter(f)
	tw := tar.NewWriter(gz)
	for _, name := range sortedKeys(files) {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(files[name])), Typeflag: tar.TypeReg})
		tw.Write(files[name])
	}
	tw.Close()
	gz.Close()
	f.Close()
}

func sortedKeys(m map[string][]byte) []string {
	var k []string
	for n := range m {
		k = append(k, n)
	}
	slices.Sort(k)
	return k
}

// TestFileSources scans the same files as a directory, a zip and a
// tar.gz, and checks tables, categories, row counts, the malformed file's
// error, the OCSF finding and that no raw value leaks.
func TestFileSources(t *testing.T) {
	tables := shop(shopCustomers, shopOrders, shopLogs)
	dir := filepath.Join(t.TempDir(), "files")
	files := writeShopFiles(t, dir, tables)
	zipPath := filepath.Join(t.TempDir(), "export.zip")
	writeZip(t, zipPath, files)
	tgzPath := filepath.Join(t.TempDir(), "export.tar.gz")
	writeTarGz(t, tgzPath, files)
	values := append(sensitiveValues(tables), tables[0].rows[2][3], tables[0].rows[3][3])

	wantTables := map[string]struct {
		level      Level
		categories []string
		rows       int64
		exact      bool
	}{
		"exports/broken.jsonl":  {LevelGeneral2, []string{"phone_number"}, 1, false},
		"exports/customers.csv": {LevelGeneral4, []string{"cn_resident_id", "phone_number", "email", "person_name", "address", "bank_card"}, shopCustomers, false},
		"exports/orders.jsonl":  {LevelGeneral2, []string{"phone_number", "address", "transaction", "vehicle_plate", "network_account"}, shopOrders, false},
		"exports/small.json":    {LevelGeneral2, []string{"email", "profile_tags"}, 2, true}, // "tags" beside an e-mail: a weak hint with personal context
		"logs/app.log":          {LevelGeneral2, []string{"phone_number", "email", "ip_address"}, shopLogs, false},
	}
	for _, tc := range []struct {
		name string
		open func() (Source, error)
		kind StoreKind
	}{
		{"dir", func() (Source, error) { return NewDirSource(dir) }, KindFiles},
		{"zip", func() (Source, error) { return NewArchiveSource(zipPath) }, KindArchive},
		{"tar.gz", func() (Source, error) { return NewArchiveSource(tgzPath) }, KindArchive},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, err := tc.open()
			if err != nil {
				t.Fatal(err)
			}
			logs := &logCapture{}
			sc := scanAndGrade(t, src, logs, Budget{})
			if sc.a.Store.Kind != tc.kind || sc.a.Level != LevelGeneral4 {
				t.Errorf("store %+v level %s", sc.a.Store, sc.a.Level)
			}
			var names []string
			for _, tr := range sc.res.Tables {
				names = append(names, tr.Name)
			}
			if want := sortedKeys(map[string][]byte{"exports/broken.jsonl": nil, "exports/customers.csv": nil, "exports/orders.jsonl": nil, "exports/small.json": nil, "logs/app.log": nil}); !slices.Equal(names, want) {
				t.Errorf("tables %v, want %v", names, want)
			}
			for i, tg := range sc.a.Tables {
				w := wantTables[tg.Table]
				tr := sc.res.Tables[i]
				if tg.Level != w.level || !slices.Equal(tg.Categories, w.categories) {
					t.Errorf("%s: %s %v, want %s %v", tg.Table, tg.Level, tg.Categories, w.level, w.categories)
				}
				// more rows than the budget: estimated from the bytes read, within 10 %
				if tr.RowsExact != w.exact || float64(tr.EstimatedRows) < 0.9*float64(w.rows) || float64(tr.EstimatedRows) > 1.1*float64(w.rows) {
					t.Errorf("%s: %d rows (exact %v), want about %d (exact %v)", tg.Table, tr.EstimatedRows, tr.RowsExact, w.rows, w.exact)
				}
			}
			if len(sc.res.Problems) != 1 || !strings.Contains(sc.res.Problems[0], "exports/broken.jsonl: line 2: not a JSON object: JSON syntax error at byte") {
				t.Errorf("problems %q", sc.res.Problems)
			}
			validateOCSF(t, sc.finding)
			if sc.finding.File == nil || sc.finding.Database != nil {
				t.Errorf("file %+v database %+v", sc.finding.File, sc.finding.Database)
			}
			checkNoLeak(t, tc.name+" output", sc.output, values)
			checkNoLeak(t, tc.name+" logs", logs.buf.Bytes(), values)
		})
	}
}

// TestObjectListing scans a bucket listing whose sampled objects were
// copied to a local directory.
func TestObjectListing(t *testing.T) {
	tables := shop(300, 600, 400)
	objects := t.TempDir()
	files := writeShopFiles(t, filepath.Join(objects, "shop-exports"), tables)
	// The listing: the local files plus many more of the same kinds that
	// were not copied, and objects of formats that are not read.
	var entries []map[string]any
	for name, data := range files {
		entries = append(entries, map[string]any{"bucket": "shop-exports", "key": name, "size": len(data), "provider": "aws", "region": "cn-north-1"})
	}
	for i := 0; i < 30; i++ {
		entries = append(entries, map[string]any{"bucket": "shop-exports", "key": fmt.Sprintf("archive/2024/%02d/customers.csv", i), "size": len(files["exports/customers.csv"])})
		entries = append(entries, map[string]any{"bucket": "shop-exports", "key": fmt.Sprintf("images/%02d.png", i), "size": 1 << 20})
	}
	entries = append(entries, map[string]any{"bucket": "other-bucket", "key": "a.csv", "size": 10})
	listing := filepath.Join(t.TempDir(), "listing.json")
	data, _ := json.Marshal(entries)
	os.WriteFile(listing, data, 0o644)

	// several buckets: the target must choose
	target, err := ParseTarget("objects:" + listing + "?dir=" + objects)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(context.Background(), target); err == nil || !strings.Contains(err.Error(), "choose a bucket with bucket=NAME: other-bucket, shop-exports") {
		t.Fatalf("error %v", err)
	}
	target.Bucket = "shop-exports"
	src, err := Open(context.Background(), target)
	if err != nil {
		t.Fatal(err)
	}
	sc := scanAndGrade(t, src, &logCapture{}, Budget{MaxObjects: 6})
	if sc.a.Store.UID != "bucket://shop-exports" || sc.a.Store.Type != "S3" || sc.a.Level != LevelGeneral4 {
		t.Errorf("store %+v level %s", sc.a.Store, sc.a.Level)
	}
	// the csv group is 31 files; its sampled objects stand for all of them
	var csvScale float64
	missing := 0
	for _, tr := range sc.res.Tables {
		if strings.HasSuffix(tr.Name, ".csv") && tr.Error == "" {
			csvScale = tr.Scale
		}
		if strings.Contains(tr.Error, "not in the local sample directory") {
			missing++
		}
		if strings.HasSuffix(tr.Name, ".png") {
			t.Errorf("image object %s read", tr.Name)
		}
	}
	if csvScale < 2 || missing == 0 {
		t.Errorf("csv scale %.1f, %d sampled objects missing locally; tables %+v", csvScale, missing, sc.res.Tables)
	}
	if sc.finding.Databucket == nil || sc.finding.Databucket.TypeID != 1 || sc.finding.Cloud == nil || sc.finding.Cloud.Region != "cn-north-1" {
		t.Errorf("databucket %+v cloud %+v", sc.finding.Databucket, sc.finding.Cloud)
	}
	validateOCSF(t, sc.finding)
	checkNoLeak(t, "objects output", sc.output, sensitiveValues(tables))
}

func TestParseListingsFormats(t *testing.T) {
	for _, tc := range []struct{ name, in, err string }{
		{"json lines", `{"bucket":"b","key":"a.csv","size":1}` + "\n" + `{"Bucket":"b","Key":"c.csv","Size":2}`, ""},
		{"s3api", `{"Name":"b","Contents":[{"Key":"a.csv","Size":1},{"Key":"c.csv","Size":2}]}`, ""},
		{"array", `[{"bucket":"b","key":"a.csv","size":1},{"bucket":"b","key":"c.csv","size":2}]`, ""},
		{"missing size", `[{"bucket":"b","key":"a.csv"}]`, "entry 1 (a.csv): size missing or negative"},
		{"missing key", `[{"bucket":"b","size":3}]`, "entry 1: key missing"},
		{"syntax", `[{"bucket":"b",}]`, "JSON syntax error at byte"},
		{"empty", ``, "listing is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ls, err := ParseListings(strings.NewReader(tc.in))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(ls) != 1 || ls[0].Bucket != "b" || len(ls[0].Objects) != 2 || ls[0].Objects[1].Size != 2 {
				t.Errorf("%+v", ls)
			}
		})
	}
}

func TestParseTarget(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		in   string
		want Target
		err  string
	}{
		{dir, Target{Kind: KindFiles, Location: dir}, ""},
		{"exports.tar.gz", Target{Kind: KindArchive, Location: "exports.tar.gz"}, ""},
		{"x.ZIP", Target{Kind: KindArchive, Location: "x.ZIP"}, ""},
		{"shop.sqlite3", Target{Kind: KindSQLite, Location: "shop.sqlite3"}, ""},
		{"sqlite:/data/app", Target{Kind: KindSQLite, Location: "/data/app"}, ""},
		{"postgres://u:p@db:5432/crm?sslmode=disable", Target{Kind: KindPostgres, Location: "postgres://u:p@db:5432/crm?sslmode=disable"}, ""},
		{"mysql:u:p@tcp(db:3306)/shop", Target{Kind: KindMySQL, Location: "u:p@tcp(db:3306)/shop"}, ""},
		{"objects:l.json?dir=/tmp/o&bucket=b", Target{Kind: KindObjects, Location: "l.json", ObjectsDir: "/tmp/o", Bucket: "b"}, ""},
		{"objects:l.json", Target{}, "want objects:LISTING?dir=DIR"},
		{"nothing-here", Target{}, "not a directory, archive"},
	} {
		got, err := ParseTarget(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: error %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s: %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}
