package ingest

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	json "github.com/goccy/go-json"

	"github.com/canopy-sec/canopy/internal/ocsf/ocsfschema"
)

var (
	schemaOnce sync.Once
	schema     *ocsfschema.Schema
	schemaErr  error
)

func loadSchema(t testing.TB) *ocsfschema.Schema {
	t.Helper()
	schemaOnce.Do(func() {
		schema, schemaErr = ocsfschema.Load(os.DirFS(filepath.Join("..", "ocsf", "ocsfschema", "testdata", "schema")))
	})
	if schemaErr != nil {
		t.Fatal(schemaErr)
	}
	return schema
}

// TestOCSFValid runs every record decoded from testdata through the
// schema-driven OCSF 1.8 validator.
func TestOCSFValid(t *testing.T) {
	s := loadSchema(t)
	reg := Builtin()
	for _, f := range reg.Formats() {
		for _, path := range caseFiles(t, f.Name) {
			if strings.HasPrefix(filepath.Base(path), "bad-") {
				continue
			}
			t.Run(f.Name+"/"+filepath.Base(path), func(t *testing.T) {
				data, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				recs, err := decodeAll(t, f, data)
				if err != nil {
					t.Fatal(err)
				}
				bad := 0
				for i, r := range recs {
					b, err := json.Marshal(r)
					if err != nil {
						t.Fatal(err)
					}
					problems, err := s.ValidateJSON(b)
					if err != nil {
						t.Fatal(err)
					}
					for _, p := range problems {
						if bad < 20 {
							t.Errorf("record %d: %s", i+1, p)
						}
						bad++
					}
				}
			})
		}
	}
}
