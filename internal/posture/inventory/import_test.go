package inventory

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// awsImporters are the importers whose inputs and goldens this file
// tests (other importers have their own tests).
var awsImporters = []string{AWSConfigFormat, TerraformFormat, JSONLFormat, CredentialReportFormat}

var updateGoldens = flag.Bool("update-goldens", false, "rewrite the AWS, Terraform and JSON Lines goldens under testdata/")

// caseFiles returns the input files of an importer's testdata folder.
func caseFiles(t testing.TB, importer string) []string {
	t.Helper()
	all, err := filepath.Glob(filepath.Join("testdata", importer, "*"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range all {
		if strings.HasSuffix(f, ".golden.jsonl") || strings.HasSuffix(f, ".err") {
			continue
		}
		out = append(out, f)
	}
	if len(out) == 0 {
		t.Fatalf("no test inputs for %s", importer)
	}
	return out
}

func importAll(imp Importer, data []byte) ([]Resource, error) {
	var out []Resource
	err := imp.Import(context.Background(), bytes.NewReader(data), func(r Resource) error {
		out = append(out, r)
		return nil
	})
	return out, err
}

// TestImport imports every testdata/<importer>/<case> file and compares
// the resources with <case>.golden.jsonl; bad-<case> files must fail with
// the error of <case>.err.
func TestImport(t *testing.T) {
	reg := Builtin()
	for _, name := range awsImporters {
		imp, ok := reg.Lookup(name)
		if !ok {
			t.Fatalf("no importer %s", name)
		}
		for _, file := range caseFiles(t, imp.Name) {
			name := filepath.Base(file)
			t.Run(imp.Name+"/"+name, func(t *testing.T) {
				data, err := os.ReadFile(file)
				if err != nil {
					t.Fatal(err)
				}
				base := strings.TrimSuffix(file, filepath.Ext(file))
				res, err := importAll(imp, data)
				if strings.HasPrefix(name, "bad-") {
					if err == nil {
						t.Fatalf("no error; %d resources", len(res))
					}
					var re *RecordError
					if !errors.As(err, &re) {
						t.Errorf("error %T is not a *RecordError: %v", err, err)
					}
					golden(t, base+".err", []byte(err.Error()+"\n"))
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				var buf bytes.Buffer
				for i := range res {
					if err := res[i].Validate(); err != nil {
						t.Errorf("resource %d: %v", i+1, err)
					}
					if err := WriteJSONL(&buf, &res[i]); err != nil {
						t.Fatal(err)
					}
				}
				golden(t, base+".golden.jsonl", buf.Bytes())
			})
		}
	}
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *updateGoldens {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update-goldens to write it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (go test -update-goldens rewrites it):\n%s", path, firstDiff(got, want))
	}
}

func firstDiff(got, want []byte) string {
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := range max(len(g), len(w)) {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return "line " + itoa(i+1) + ":\n got: " + gl + "\nwant: " + wl
		}
	}
	return ""
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

// TestImportSniff sniffs every good test input of the AWS, Terraform and
// JSON Lines importers with the whole registry: it must be recognised as
// its own format and no other.
func TestImportSniff(t *testing.T) {
	reg := Builtin()
	for _, name := range awsImporters {
		imp, _ := reg.Lookup(name)
		for _, file := range caseFiles(t, imp.Name) {
			if strings.HasPrefix(filepath.Base(file), "bad-") {
				continue
			}
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			got, err := reg.Sniff(data[:min(len(data), SniffBytes)])
			if err != nil {
				t.Errorf("%s: %v", file, err)
				continue
			}
			if got.Name != imp.Name {
				t.Errorf("%s: sniffed as %s", file, got.Name)
			}
		}
	}
}

// TestStream checks the iterator the scanner reads, and that stopping it
// stops the importer.
func TestStream(t *testing.T) {
	data, err := os.ReadFile("testdata/aws-config/snapshot.json")
	if err != nil {
		t.Fatal(err)
	}
	reg := Builtin()
	n := 0
	for r, err := range reg.Stream(context.Background(), "", bytes.NewReader(data)) {
		if err != nil {
			t.Fatal(err)
		}
		if r.Provider != "aws" {
			t.Errorf("provider %q", r.Provider)
		}
		n++
		if n == 3 {
			break
		}
	}
	if n != 3 {
		t.Errorf("%d resources", n)
	}
	var last error
	for _, err := range reg.Stream(context.Background(), "nope", bytes.NewReader(data)) {
		last = err
	}
	if !errors.Is(last, ErrUnknownFormat) {
		t.Errorf("unknown format: %v", last)
	}
}

// fuzzImporter runs one importer over arbitrary input: it must not panic,
// every error must be a *RecordError, and every resource must be valid.
func fuzzImporter(f *testing.F, name string) {
	imp, ok := Builtin().Lookup(name)
	if !ok {
		f.Fatalf("no importer %s", name)
	}
	files := caseFiles(f, name)
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		err := imp.Import(context.Background(), bytes.NewReader(data), func(r Resource) error {
			if err := r.Validate(); err != nil {
				t.Errorf("invalid resource: %v", err)
			}
			if _, err := json.Marshal(r); err != nil {
				t.Errorf("resource does not marshal: %v", err)
			}
			return nil
		})
		var re *RecordError
		if err != nil && !errors.As(err, &re) {
			t.Errorf("error %T is not a *RecordError: %v", err, err)
		}
	})
}

func FuzzAWSConfig(f *testing.F) { fuzzImporter(f, AWSConfigFormat) }
func FuzzTerraform(f *testing.F) { fuzzImporter(f, TerraformFormat) }
func FuzzJSONL(f *testing.F)     { fuzzImporter(f, JSONLFormat) }

func FuzzCredentialReport(f *testing.F) { fuzzImporter(f, CredentialReportFormat) }
