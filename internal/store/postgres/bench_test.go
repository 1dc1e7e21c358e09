package postgres_test

import (
	"testing"

	"github.com/canopy-sec/canopy/internal/store"
	"github.com/canopy-sec/canopy/internal/store/storetest"
)

// BenchmarkUpsert runs the shared store benchmark (storetest.BenchUpsert) on
// a fresh database per iteration.
//
//	go test ./internal/store/postgres -run XXX -bench Upsert -benchtime 3x
func BenchmarkUpsert(b *testing.B) {
	storetest.BenchUpsert(b, func(b *testing.B) store.Store { return open(b) })
}
