package datagrade

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzDetectors runs every detector, the free-text tokeniser and Mask over
// arbitrary values: no panic, confidences in 1–100, and a mask never equal
// to the value it masks. Seeds are the detector test values.
func FuzzDetectors(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "detectors", "*.tsv"))
	if len(files) == 0 {
		f.Fatal("no seeds")
	}
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			if parts := strings.SplitN(line, "\t", 3); len(parts) >= 2 && !strings.HasPrefix(line, "#") {
				f.Add(strings.ReplaceAll(parts[1], `\n`, "\n"))
			}
		}
	}
	cls := &classifier{cats: BuiltinCategories(), env: newEnv(testNow), maxValue: 4096}
	f.Fuzz(func(t *testing.T, v string) {
		for k := range detectors {
			d := &detectors[k]
			c := d.matchValue(v, cls.env)
			if c > 100 {
				t.Fatalf("%s: confidence %d", d.ID, c)
			}
			if c > 0 && len(v) >= 6 {
				if m := Mask(d.ID, v); m == v {
					t.Fatalf("%s: Mask(%q) returned the value", d.ID, v)
				}
			}
		}
		acc := cls.newTable()
		acc.row([]string{"note"}, []string{v})
		acc.finish("t", "table", 1, true, 0, 1)
	})
}

// FuzzLoadCatalogue feeds arbitrary files to the catalogue loader: it
// returns a catalogue or an error, never panics. Seeds are the test
// catalogues.
func FuzzLoadCatalogue(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "catalogues", "*.yaml"))
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	cats := BuiltinCategories()
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := LoadCatalogue("fuzz.yaml", bytes.NewReader(data), cats)
		if err == nil && c == nil {
			t.Fatal("nil catalogue without an error")
		}
	})
}
