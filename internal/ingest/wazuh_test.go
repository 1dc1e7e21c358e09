package ingest

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/canopy-sec/canopy/internal/ocsf"
)

func TestWazuhSeverity(t *testing.T) {
	tests := []struct {
		level int64
		want  int
	}{
		{0, ocsf.SeverityInformational}, {2, ocsf.SeverityInformational},
		{3, ocsf.SeverityLow}, {6, ocsf.SeverityLow},
		{7, ocsf.SeverityMedium}, {11, ocsf.SeverityMedium},
		{12, ocsf.SeverityHigh}, {14, ocsf.SeverityHigh},
		{15, ocsf.SeverityCritical}, {16, ocsf.SeverityCritical},
		{-1, ocsf.SeverityUnknown},
	}
	for _, tt := range tests {
		if got := wazuhSeverity(tt.level); got != tt.want {
			t.Errorf("wazuhSeverity(%d) = %d, want %d", tt.level, got, tt.want)
		}
	}
}

// TestNotToolOutput requires every file under testdata/not-tool-output (the
// Wazuh QA JSON Schemas among them) to be refused by the registry.
func TestNotToolOutput(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("testdata", "not-tool-output", "*"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no testdata/not-tool-output files (%v)", err)
	}
	reg := Builtin()
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = reg.Open("", f)
		f.Close()
		if !errors.Is(err, ErrNotToolOutput) {
			t.Errorf("%s: Open error = %v, want ErrNotToolOutput", p, err)
		}
	}
}
