package store

import (
	"context"
	"time"
)

// Table is the dialect-free name of one table a store keeps. Every backend
// keeps the same tables; [Exporter] and [Importer] copy them one by one.
type Table string

// The tables, in the order [Tables] lists them.
const (
	TableFindings    Table = "findings"        // findings without their OCSF JSON
	TableFindingDocs Table = "finding_docs"    // the OCSF JSON of each finding, by finding id
	TableEvents      Table = "events"          // events without their OCSF JSON
	TableEventDocs   Table = "event_docs"      // the OCSF JSON of each event, by event id
	TableTokens      Table = "tokens"          // API tokens
	TableJobs        Table = "jobs"            // ingest jobs
	TableBatches     Table = "applied_batches" // ids of the bus batches already applied
)

// Tables returns every table, in the order an export produces them.
func Tables() []Table {
	t := []Table{TableFindings, TableFindingDocs, TableEvents, TableEventDocs, TableTokens, TableJobs, TableBatches}
	for _, p := range PlainTables() {
		t = append(t, p.Name)
	}
	return t
}

// PlainTable is a table copied column by column as it is, with the same
// columns and values in every backend: text, integers, bytes, and JSON
// (which a backend may keep as its own JSON type). What correlation derives
// (entity index, incidents, issue risks, the correlation queue and state)
// is not copied: the first correlation on the destination rebuilds it.
// Console sessions and sign-in links ([Sessions]) are not copied either:
// they are short-lived credentials, not tenant data, and signing in again
// on the destination is cheap and safer than moving live secrets' hashes.
type PlainTable struct {
	Name    Table
	Columns []string
	Key     []string        // the export order
	JSON    map[string]bool // columns a backend may store as JSON
	Bytes   map[string]bool // columns of raw bytes
}

// PlainTables returns the plain tables, in export order.
func PlainTables() []PlainTable {
	return []PlainTable{
		{Name: "resources", Columns: []string{"tenant", "key", "provider", "account", "region", "type", "uid", "name", "source", "observed_at", "updated_at", "doc"},
			Key: []string{"tenant", "key"}, JSON: map[string]bool{"doc": true}},
		{Name: "scans", Columns: []string{"id", "tenant", "packs", "started_at", "finished_at", "resources", "evaluated", "passed", "failed", "errors", "findings"},
			Key: []string{"id"}},
		{Name: "pack_scans", Columns: []string{"tenant", "pack", "scan"}, Key: []string{"tenant", "pack"}},
		{Name: "control_results", Columns: []string{"tenant", "pack", "control", "rule_id", "resource_key", "resource_uid", "resource_type", "resource_name",
			"account", "region", "status", "severity", "message"}, Key: []string{"tenant", "pack", "control", "rule_id", "resource_key"}},
		{Name: "evidence", Columns: []string{"tenant", "pack", "control", "status", "reference", "by_whom", "note", "updated_at"}, Key: []string{"tenant", "pack", "control"}},
		{Name: "contracts", Columns: []string{"tenant", "name", "doc", "updated_at"}, Key: []string{"tenant"}, Bytes: map[string]bool{"doc": true}},
		{Name: "notices", Columns: []string{"id", "tenant", "party", "state", "severity", "contact", "created_at", "notified_at", "deadline", "delivered_at", "doc"},
			Key: []string{"id"}, JSON: map[string]bool{"doc": true}},
		{Name: "docs", Columns: []string{"kind", "tenant", "id", "seq", "doc"}, Key: []string{"kind", "tenant", "id"}, JSON: map[string]bool{"doc": true}},
		{Name: "audit_entries", Columns: []string{"tenant", "seq", "time", "entry_tenant", "actor", "action", "object", "details", "prev", "hash", "sig"},
			Key: []string{"tenant", "seq"}, Bytes: map[string]bool{"details": true, "prev": true, "hash": true, "sig": true}},
	}
}

// PlainTableOf returns the plain table named t.
func PlainTableOf(t Table) (PlainTable, bool) {
	for _, p := range PlainTables() {
		if p.Name == t {
			return p, true
		}
	}
	return PlainTable{}, false
}

// StoredRecord is a finding or event row as stored, without its OCSF JSON
// (which is copied as a [Doc]): the [Record] fields, OCSF left nil, plus the
// columns only the store itself reads.
type StoredRecord struct {
	Record
	SourceUID string
	// DocHash identifies the OCSF JSON the record was last upserted with;
	// both backends compute it the same way, so it is copied as it is.
	DocHash int64
}

// Doc is the OCSF JSON of the finding or event with the same id.
type Doc struct {
	ID   int64
	OCSF []byte
}

// AppliedBatch records that a bus batch was applied (see [Appender.Claim]).
type AppliedBatch struct {
	ID        string
	AppliedAt time.Time
}

// TableRows is a bounded batch of one table's rows. Only the slice that
// belongs to Table is set: Records for findings and events, Docs for their
// documents, and Tokens, Jobs or Batches.
type TableRows struct {
	Table   Table
	Records []StoredRecord
	Docs    []Doc
	Tokens  []Token
	Jobs    []Job
	Batches []AppliedBatch
	// Values are the rows of a plain table ([PlainTables]), one value a
	// column: nil, int64, string or []byte (JSON columns as string).
	Values [][]any
}

// Len returns the number of rows in r.
func (r TableRows) Len() int {
	return len(r.Records) + len(r.Docs) + len(r.Tokens) + len(r.Jobs) + len(r.Batches) + len(r.Values)
}

// Exporter reads a whole store, for copying it into another one.
type Exporter interface {
	// Export calls fn with every row of every table, in the order of
	// [Tables], each table in primary-key order, in batches of a bounded
	// size, all read from one consistent snapshot. It stops at fn's first
	// error and returns it.
	Export(ctx context.Context, fn func(TableRows) error) error
	// TableCounts returns how many rows each table holds.
	TableCounts(ctx context.Context) (map[Table]int64, error)
}

// Importer writes rows read by an [Exporter] of any backend.
type Importer interface {
	// Import starts one transaction that writes exported rows as they are,
	// ids included. A row whose key the store already holds is an error.
	Import(ctx context.Context) (Loader, error)
	// TableCounts returns how many rows each table holds.
	TableCounts(ctx context.Context) (map[Table]int64, error)
}

// Loader is an import in progress. It is not safe for concurrent use and
// ends with Commit or Rollback.
type Loader interface {
	// Load writes one batch of rows.
	Load(ctx context.Context, rows TableRows) error
	// Commit makes the import durable; ids assigned afterwards continue
	// after the largest imported one.
	Commit(ctx context.Context) error
	// Rollback discards the import; after Commit it is a no-op.
	Rollback(ctx context.Context) error
}
