package respond_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/canopy-sec/canopy/internal/respond"
	"github.com/canopy-sec/canopy/internal/respond/respondtest"
)

// FuzzParsePlaybooks: the loader never panics, and every error is a
// *PlaybookError. Seeds: the built-in playbooks and testdata/bad.
// Longer: go test ./internal/respond -fuzz=FuzzParsePlaybooks -fuzztime=60s
func FuzzParsePlaybooks(f *testing.F) {
	seeds := 0
	_ = fs.WalkDir(respond.BuiltinFS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := fs.ReadFile(respond.BuiltinFS(), p)
			f.Add(b)
			seeds++
		}
		return nil
	})
	bad, _ := filepath.Glob("testdata/bad/*.yaml")
	for _, p := range bad {
		b, _ := os.ReadFile(p)
		f.Add(b)
		seeds++
	}
	if seeds < 5 {
		f.Fatalf("only %d seeds", seeds)
	}
	reg := registry(f, respondtest.NewMemory(), &respondtest.Notifier{}, &respondtest.Calls{})
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := respond.ParsePlaybooks("fuzz.yaml", data, reg)
		for _, pe := range respond.PlaybookErrors(err) {
			if !errors.Is(pe, respond.ErrInvalidPlaybook) || pe.File != "fuzz.yaml" {
				t.Fatalf("bad error %#v", pe)
			}
		}
	})
}
