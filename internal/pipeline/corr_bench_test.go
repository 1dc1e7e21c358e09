package pipeline_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/canopy-sec/canopy/internal/pipeline"
	"github.com/canopy-sec/canopy/internal/store/sqlite"
)

// BenchmarkRebuildStore rebuilds the correlation of what a data directory
// holds (named by $CANOPY_CORR_DATA; skipped otherwise), e.g. the 1M
// generated events of TestWriteGeneratedEvents after `canopy ingest --data
// DIR`:
//
//	CANOPY_CORR_DATA=/tmp/corr go test ./internal/pipeline -run XXX -bench RebuildStore -benchtime 1x
func BenchmarkRebuildStore(b *testing.B) {
	dir := os.Getenv("CANOPY_CORR_DATA")
	if dir == "" {
		b.Skip("CANOPY_CORR_DATA not set")
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "canopy.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	for b.Loop() {
		if _, err := pipeline.Correlate(context.Background(), st, "default", pipeline.CorrelateOptions{Rebuild: true}); err != nil {
			b.Fatal(err)
		}
	}
}
