package postgres_test

import (
	"context"
	"testing"

	"github.com/canopy-sec/canopy/internal/store"
	"github.com/canopy-sec/canopy/internal/store/postgres"
	"github.com/canopy-sec/canopy/internal/store/storetest"
)

// BenchmarkUpsert runs the shared store benchmark (storetest.BenchUpsert) on
// a fresh database per iteration.
//
//	go test ./internal/store/postgres -run XXX -bench Upsert -benchtime 3x
func BenchmarkUpsert(b *testing.B) {
	storetest.BenchUpsert(b, func(b *testing.B) store.Store { return open(b) })
}

// BenchmarkConsole runs the console benchmark (storetest.BenchConsole) on
// 1M findings; building the store takes minutes.
//
//	go test ./internal/store/postgres -run XXX -bench Console -benchtime 20x -timeout 60m
func BenchmarkConsole(b *testing.B) {
	storetest.BenchConsole(b, func(b *testing.B) store.Store { return open(b) }, func(b *testing.B, s store.Store) {
		// autovacuum would analyse the new rows within minutes; without
		// statistics the planner takes the tenant for a handful of rows
		if err := postgres.VacuumAnalyze(context.Background(), s.(*postgres.Store)); err != nil {
			b.Fatal(err)
		}
	})
}
