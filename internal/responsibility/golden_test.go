package responsibility

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestAttributeGolden attributes every record of the corpus files and of
// records.json, with and without the tenant's contract, and compares the
// result with testdata/golden/attributions.golden.json. Records whose
// attributions are identical to an earlier record's of the same file are
// listed once. Rewrite with go test -update and review the diff.
func TestAttributeGolden(t *testing.T) {
	a := mustAttributor(t, Options{})
	contract := mustContract(t, "contracts/acme.yaml")
	files, err := filepath.Glob("testdata/corpus/*/*")
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range files {
		files[i] = strings.TrimPrefix(filepath.ToSlash(f), "testdata/")
	}
	slices.Sort(files)
	files = append(files, "records.json")

	type entry struct {
		File           string       `json:"file"`
		UID            string       `json:"uid"`
		Title          string       `json:"title"`
		Responsibility Attribution  `json:"responsibility"`
		WithContract   *Attribution `json:"with_contract,omitempty"`
	}
	var out []entry
	for _, file := range files {
		seen := map[string]bool{}
		for _, rec := range loadRecords(t, file) {
			e := entry{File: file, UID: rec.SourceUID(), Title: rec.Title(), Responsibility: a.Attribute(rec, Context{})}
			if c := a.Attribute(rec, Context{Contract: contract}); !equalAttribution(c, e.Responsibility) {
				e.WithContract = &c
			}
			key, _ := json.Marshal([]any{e.Responsibility, e.WithContract})
			if seen[string(key)] {
				continue
			}
			seen[string(key)] = true
			out = append(out, e)
		}
	}
	golden(t, "golden/attributions.golden.json", indentJSON(t, out))
}
