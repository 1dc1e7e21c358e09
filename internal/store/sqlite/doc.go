// Package sqlite is the embedded, default implementation of store.Store: one
// SQLite database file in Canopy's data directory (pure Go, no cgo).
//
// It runs in WAL mode with one writer connection (transactions begin
// IMMEDIATE, so writers queue instead of deadlocking) and a separate pool of
// read-only connections, so listings never wait for an ingest. Commits are
// durable (synchronous=FULL): an accepted file survives a crash. Batches are
// written as multi-row upserts. The schema is created and upgraded by the
// embedded goose migrations in migrations/ when the store is opened. Export
// reads one WAL snapshot; Import writes in one transaction (store.Exporter,
// store.Importer).
package sqlite
