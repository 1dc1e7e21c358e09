// Package store defines how Canopy keeps its state: findings and events (the
// OCSF JSON with Canopy's own columns beside it), what correlation and
// posture derive from them, notices ([Notices]), the audit chains
// ([AuditLog], one per tenant), and API tokens.
//
// Every stage of the flow reads and writes through these interfaces. The
// pipeline writes through an [Appender]: a batch of upserts inside one
// transaction that ends in Commit or Rollback, so a file lands whole or not
// at all. Readers use [Querier]. Implementations live in sub-packages:
// store/sqlite (the embedded default) and, for scale-out, store/postgres;
// both must pass the same behavioural suite (store/storetest), and dialect
// differences stay inside them.
//
// Identity: a record's fingerprint (internal/dedup) is unique per table.
// Upserting an existing fingerprint keeps first_seen, sets last_seen, adds
// one to count and replaces the OCSF JSON with the newer one. The JSON read
// back holds the same values, not necessarily the same bytes (a backend may
// reorder keys). A write transaction that loses to a concurrent one fails
// with an error wrapping [ErrConflict] and may be run again.
//
// [Exporter] and [Importer] copy a whole store, table by table in a
// dialect-free form, between backends (`canopy migrate`).
package store
