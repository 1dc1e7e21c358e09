package posture

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the .err goldens under testdata/bad")

// TestLoadErrors loads each testdata/bad/<case>.yaml and compares every
// error, positions included, with <case>.err.
func TestLoadErrors(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "bad", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no cases: %v", err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			rules, err := ParseRules(filepath.Base(file), data)
			if err == nil {
				t.Fatalf("no error; %d rules", len(rules))
			}
			if !errors.Is(err, ErrInvalidRule) {
				t.Errorf("errors.Is(err, ErrInvalidRule) = false")
			}
			for _, e := range ruleErrors(err) {
				if e.File == "" {
					t.Errorf("error without a file: %v", e)
				}
			}
			got := err.Error() + "\n"
			golden := strings.TrimSuffix(file, ".yaml") + ".err"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to write it)", err)
			}
			if got != string(want) {
				t.Errorf("errors differ from %s:\ngot:\n%s\nwant:\n%s", golden, got, want)
			}
		})
	}
}

// FuzzParseRules feeds arbitrary rule files to the loader: it must not
// panic, and every error must be a *RuleError.
func FuzzParseRules(f *testing.F) {
	for _, pattern := range []string{"testdata/rules/*.yaml", "testdata/bad/*.yaml", "packs/*/*.yaml"} {
		files, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := ParseRules("fuzz.yaml", data)
		for _, e := range ruleErrors(err) {
			if e.File != "fuzz.yaml" {
				t.Errorf("error without the file: %v", e)
			}
		}
	})
}
