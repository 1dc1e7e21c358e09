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
