package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/canopy-sec/canopy/internal/store"
	"github.com/canopy-sec/canopy/internal/store/sqlite"
	"github.com/canopy-sec/canopy/internal/store/storetest"
)

// BenchmarkUpsert runs the shared store benchmark (storetest.BenchUpsert) on
// a fresh database file per iteration.
//
//	go test ./internal/store/sqlite -run XXX -bench Upsert -benchtime 3x
func BenchmarkUpsert(b *testing.B) {
	storetest.BenchUpsert(b, func(b *testing.B) store.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "canopy.db"))
		if err != nil {
			b.Fatal(err)
		}
		return s
	})
}

// BenchmarkConsole runs the console benchmark (storetest.BenchConsole) on
// 1M findings; building the store takes minutes.
//
//	go test ./internal/store/sqlite -run XXX -bench Console -benchtime 20x -timeout 60m
func BenchmarkConsole(b *testing.B) {
	storetest.BenchConsole(b, func(b *testing.B) store.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "canopy.db"))
		if err != nil {
			b.Fatal(err)
		}
		return s
	}, nil)
}
