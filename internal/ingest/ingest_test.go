package ingest

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	json "github.com/goccy/go-json"

	"github.com/canopy-sec/canopy/internal/ocsf"
)

var update = flag.Bool("update", false, "rewrite golden files")

// caseFiles lists the input files under testdata/<format>/, excluding
// goldens and expected-error files.
func caseFiles(t testing.TB, format string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join("testdata", format))
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || strings.HasSuffix(n, ".golden.json") || strings.HasSuffix(n, ".err") {
			continue
		}
		out = append(out, filepath.Join("testdata", format, n))
	}
	return out
}

func decodeAll(t testing.TB, f Format, data []byte) ([]ocsf.Record, error) {
	t.Helper()
	var recs []ocsf.Record
	err := f.Decode(context.Background(), bytes.NewReader(data), func(r ocsf.Record) error {
		recs = append(recs, r)
		return nil
	})
	return recs, err
}

// TestDecode decodes every testdata input with its format and compares the
// records with the golden file; bad-* inputs must fail with the message in
// their .err file.
func TestDecode(t *testing.T) {
	reg := Builtin()
	for _, f := range reg.Formats() {
		files := caseFiles(t, f.Name)
		if len(files) == 0 {
			t.Errorf("format %s has no testdata", f.Name)
		}
		for _, path := range files {
			name := filepath.Base(path)
			t.Run(f.Name+"/"+name, func(t *testing.T) {
				data, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				recs, err := decodeAll(t, f, data)
				if strings.HasPrefix(name, "bad-") {
					checkErrGolden(t, path, err)
					return
				}
				if err != nil {
					t.Fatalf("decode: %v", err)
				}
				if len(recs) == 0 {
					t.Fatal("no records")
				}
				for i, r := range recs {
					if r.SourceUID() == "" {
						t.Errorf("record %d has no source uid", i+1)
					}
				}
				checkGolden(t, path, recs)
			})
		}
	}
}

func goldenPath(path string) string {
	return strings.TrimSuffix(path, filepath.Ext(path)) + ".golden.json"
}

func checkGolden(t *testing.T, path string, recs []ocsf.Record) {
	t.Helper()
	got, err := json.MarshalIndent(recs, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	gp := goldenPath(path)
	if *update {
		if err := os.WriteFile(gp, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(gp)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/ingest -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s; run go test ./internal/ingest -update and review the diff", gp)
	}
}

func checkErrGolden(t *testing.T, path string, err error) {
	t.Helper()
	if err == nil {
		t.Fatal("want an error, got none")
	}
	var re *RecordError
	if !errors.As(err, &re) {
		t.Errorf("error %v is %T, want *RecordError", err, err)
	}
	ep := strings.TrimSuffix(path, filepath.Ext(path)) + ".err"
	if *update {
		os.WriteFile(ep, []byte(err.Error()+"\n"), 0o644)
		return
	}
	want, rerr := os.ReadFile(ep)
	if rerr != nil {
		t.Fatalf("%v (run -update)", rerr)
	}
	if strings.TrimSpace(string(want)) != err.Error() {
		t.Errorf("error = %q\nwant    %q", err.Error(), strings.TrimSpace(string(want)))
	}
}

// TestSniffConfusion requires every testdata input to sniff as its own
// format and no other.
func TestSniffConfusion(t *testing.T) {
	reg := Builtin()
	for _, f := range reg.Formats() {
		for _, path := range caseFiles(t, f.Name) {
			if strings.HasPrefix(filepath.Base(path), "bad-") {
				continue
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			got, err := reg.Sniff(data[:min(len(data), SniffBytes)])
			if err != nil {
				t.Errorf("%s: %v", path, err)
				continue
			}
			if got.Name != f.Name {
				t.Errorf("%s sniffed as %s, want %s", path, got.Name, f.Name)
			}
		}
	}
}

// TestTruncated cuts every valid testdata input short and requires a
// positioned *RecordError, never a panic or silent success with all records.
func TestTruncated(t *testing.T) {
	reg := Builtin()
	for _, f := range reg.Formats() {
		for _, path := range caseFiles(t, f.Name) {
			if strings.HasPrefix(filepath.Base(path), "bad-") {
				continue
			}
			data, _ := os.ReadFile(path)
			trimmed := bytes.TrimRight(data, " \n\r\t")
			cut := trimmed[:len(trimmed)*2/3]
			if bytes.HasPrefix(bytes.TrimSpace(data), []byte("{")) && bytes.Count(trimmed, []byte("\n{")) > 0 && !bytes.HasPrefix(bytes.TrimSpace(data), []byte("{\n")) {
				// JSON Lines: cut inside a line
			}
			_, err := decodeAll(t, f, cut)
			if err == nil {
				t.Errorf("%s: truncated input decoded without error", path)
				continue
			}
			var re *RecordError
			if !errors.As(err, &re) {
				t.Errorf("%s: error %v is %T, want *RecordError", path, err, err)
			} else if re.Record < 1 {
				t.Errorf("%s: error %v names no record", path, err)
			}
		}
	}
}

func TestRegistry(t *testing.T) {
	reg := Builtin()
	if _, err := NewRegistry(reg.Formats()[0], reg.Formats()[0]); err == nil {
		t.Error("duplicate format accepted")
	}
	if _, _, err := reg.Open("nope", strings.NewReader("{}")); !errors.Is(err, ErrUnknownFormat) || !strings.Contains(err.Error(), "trivy") {
		t.Errorf("unknown format error = %v, want ErrUnknownFormat listing known formats", err)
	}
	if _, _, err := reg.Open("", strings.NewReader(`{"hello":"world"}`)); !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("unrecognised content error = %v", err)
	}
	schema := `{"$schema":"http://json-schema.org/draft-07/schema#","type":"object","properties":{}}`
	if _, _, err := reg.Open("", strings.NewReader(schema)); !errors.Is(err, ErrNotToolOutput) {
		t.Errorf("JSON Schema error = %v, want ErrNotToolOutput", err)
	}
	f, r, err := reg.Open("", strings.NewReader(`{"SchemaVersion":2,"ArtifactName":"x","Results":[]}`))
	if err != nil || f.Name != "trivy" {
		t.Fatalf("Open = %v, %v", f.Name, err)
	}
	if b, _ := io.ReadAll(r); !bytes.HasPrefix(b, []byte(`{"SchemaVersion"`)) {
		t.Error("Open did not replay the sniffed bytes")
	}
}

func TestParseTime(t *testing.T) {
	tests := []struct{ in, want string }{
		{"2022-05-11T12:29:19.905+0000", "2022-05-11T12:29:19.905Z"},
		{"2015-07-14T17:45:56.279980+0000", "2015-07-14T17:45:56.27998Z"},
		{"2024-01-02T03:04:05Z", "2024-01-02T03:04:05Z"},
		{"2024-01-02T03:04:05.1234567Z", "2024-01-02T03:04:05.1234567Z"},
		{"2024-01-02T03:04:05.123456789+02:00", "2024-01-02T01:04:05.123456789Z"},
		{"2024-06-03T12:30:44.123456", "2024-06-03T12:30:44.123456Z"},
		{"2025-02-14 14:27:03.913874", "2025-02-14T14:27:03.913874Z"},
		{"1718010000", "2024-06-10T09:00:00Z"},
		{"1718010000123", "2024-06-10T09:00:00.123Z"},
		{"1718010000123456789", "2024-06-10T09:00:00.123456789Z"},
	}
	for _, tt := range tests {
		got, err := parseTime(tt.in)
		if err != nil {
			t.Errorf("parseTime(%q): %v", tt.in, err)
			continue
		}
		if s := got.Format("2006-01-02T15:04:05.999999999Z07:00"); s != tt.want {
			t.Errorf("parseTime(%q) = %s, want %s", tt.in, s, tt.want)
		}
	}
	if _, err := parseTime("2016-11-02T09:01:20Z+2"); err == nil {
		t.Error("bad time accepted")
	}
}
