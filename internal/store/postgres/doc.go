// Package postgres implements store.Store on PostgreSQL, for running Canopy
// as any number of stateless processes over one database.
//
// # Place in the flow
//
// cmd/canopy opens it from a postgres:// URL with [Open]. Ingest (the
// pipeline, or bus workers applying one batch per transaction) writes
// through store.Appender; the API and the CLI read through store.Querier;
// tokens and ingest jobs live here too. `canopy migrate` copies whole stores
// between backends through [Store.Export] and [Store.Import], which
// implement store.Exporter and store.Importer. It passes the shared suite in
// store/storetest, as the SQLite store does.
//
// # Schema
//
// The logical schema is SQLite's (store/sqlite): findings and events carry
// Canopy's columns and doc_hash; their OCSF JSON lives in finding_docs and
// event_docs (ocsf json: the exact bytes, validated as JSON), written only
// when a record is new or its document's hash changed, so re-ingesting an
// unchanged report rewrites only the small rows. Times are timestamptz kept to the millisecond; keys
// compare byte-wise (COLLATE "C"). The embedded goose migrations in
// migrations/ run when the store is opened, on a connection of their own
// and under a session advisory lock, before the connection pool opens: so
// several processes may start at once, and no pooled connection caches a
// statement described against an older schema.
//
// # Writes
//
// Each upsert call first groups its rows by fingerprint (a fingerprint
// repeated in one call behaves as that many upserts in a row) and sorts
// them, then sends chunks of 1,000 as column arrays: one INSERT … ON
// CONFLICT (fingerprint) DO UPDATE … RETURNING updates the rows whose
// stored doc_hash is unchanged and inserts the new ones; an UPDATE then
// handles the rows whose document changed (the INSERT already locked them);
// new documents are written with COPY, changed ones with an upsert by id.
// doc_hash is xxhash64 of the document as given, the SQLite store's
// function, so hashes survive a copy between backends.
//
// # Concurrency
//
// A [Store] is safe for concurrent use, and any number of processes may
// write to one database. Transactions run at READ COMMITTED. INSERT … ON
// CONFLICT either inserts a row or updates its latest committed version
// (waiting for a concurrent inserter of the same fingerprint to finish),
// and every row stays locked until its transaction ends; so count equals
// the number of times a record was applied, and a record is counted new
// exactly once, however many workers apply it at the same time. Documents
// are written under the same row lock, so a document always matches its
// doc_hash. Rows are locked in fingerprint order, so transactions that
// upsert each table once (one bus batch) never deadlock. A transaction that
// makes several upsert calls (a whole file ingested directly) can deadlock
// against another writing overlapping fingerprints in a different order;
// PostgreSQL then aborts one of them, whose error wraps store.ErrConflict,
// and nothing of it is written: run it again. No advisory lock serializes
// writers: per-tenant locking would forfeit what several workers are for.
//
// # Differences from SQLite
//
// Documents are stored as json, so they come back byte for byte as written,
// as from SQLite. PostgreSQL refuses NUL characters and invalid UTF-8 in
// text, and \u0000 and unpaired surrogate escapes once converted to jsonb;
// those are replaced by U+FFFD when written, so that one odd record cannot
// fail its batch forever. Notices' documents are json as well. Audit
// entries are the exception: their details, digests and signatures are
// bytea, and text PostgreSQL cannot hold is refused (store.CheckAudit),
// never replaced, since a replaced character would break the entry's
// hash; the SQLite store refuses the same rows.
//
// # Not its job
//
// Choosing the store (cmd/canopy), creating the database or its role,
// high availability and backups (PostgreSQL's own tooling), and retrying
// transactions that failed with store.ErrConflict (the caller, or the bus
// by redelivering). Passwords in the connection string never appear in its
// errors; [Redact] removes them for anyone else who shows the string. Behind
// a pooler in transaction mode (PgBouncer), add
// default_query_exec_mode=exec to the URL so that no named prepared
// statement is kept on a server connection (the suite runs in that mode
// too). [Store.Close] waits for open transactions to end.
package postgres
