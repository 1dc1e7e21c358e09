package datagrade

import (
	"context"
	"fmt"
)

// StoreKind names the kind of a data store.
type StoreKind string

// Store kinds the package can scan.
const (
	KindFiles    StoreKind = "files"    // a directory of CSV, JSON Lines and text files
	KindArchive  StoreKind = "archive"  // a .zip or .tar.gz of such files
	KindSQLite   StoreKind = "sqlite"   // an SQLite database file
	KindPostgres StoreKind = "postgres" // a PostgreSQL database
	KindMySQL    StoreKind = "mysql"    // a MySQL or MariaDB database
	KindObjects  StoreKind = "objects"  // an object-store bucket listing with sampled objects
)

// Store identifies a scanned data store. It never holds credentials.
type Store struct {
	Kind StoreKind `json:"kind"`
	// UID is a stable identifier: the absolute path of a file store, the
	// database URL without user and password, the bucket name.
	UID string `json:"uid"`
	// Name is a short display name (file name, database or bucket name).
	Name string `json:"name"`
	// Type is the product ("SQLite", "PostgreSQL", "MySQL", "S3" …).
	Type string `json:"type,omitempty"`
	// Region and Provider are set for object stores when the listing
	// gives them.
	Provider string `json:"provider,omitempty"`
	Region   string `json:"region,omitempty"`
}

// Budget bounds how much of a store a scan reads. The zero value takes every
// default.
type Budget struct {
	// RowsPerTable is the number of rows (lines, records) sampled from each
	// table or file. Default 1000.
	RowsPerTable int `json:"rows_per_table"`
	// MaxTables is the number of tables or files scanned per store; the rest
	// are listed as skipped. Default 1000.
	MaxTables int `json:"max_tables"`
	// MaxObjects is the number of objects sampled from a bucket listing.
	// Default 100.
	MaxObjects int `json:"max_objects"`
	// MaxValueBytes is the prefix of each value that detectors look at.
	// Default 4096.
	MaxValueBytes int `json:"max_value_bytes"`
	// MaxFileBytes is the number of bytes read from one file or object
	// before sampling stops. Default 64 MiB.
	MaxFileBytes int64 `json:"max_file_bytes"`
}

// withDefaults returns b with zero fields set to their defaults.
func (b Budget) withDefaults() Budget {
	if b.RowsPerTable <= 0 {
		b.RowsPerTable = 1000
	}
	if b.MaxTables <= 0 {
		b.MaxTables = 1000
	}
	if b.MaxObjects <= 0 {
		b.MaxObjects = 100
	}
	if b.MaxValueBytes <= 0 {
		b.MaxValueBytes = 4096
	}
	if b.MaxFileBytes <= 0 {
		b.MaxFileBytes = 64 << 20
	}
	return b
}

// Table describes one table, file or object of a store as a [Source]
// presents it.
type Table struct {
	// Name is the table ("public.customers"), or the file's path inside
	// the store ("exports/customers.csv"), or the object key.
	Name string
	// Kind is "table", "file" or "object".
	Kind string
	// SizeBytes is the size on disk or in the listing; 0 when unknown.
	SizeBytes int64
	// Scale multiplies the table's estimates because it stands for more of
	// the store than itself: an object sampled from a listing stands for
	// the objects of its group (see [NewObjectListingSource]). 0 means 1.
	Scale float64
}

// Rows iterates over the sampled rows of one table. Values returns the
// current row, aligned with Columns; both slices, and the strings in
// Values, are valid only until the next call to Next, and a consumer must
// not keep them (they may alias a driver's buffers). An SQL NULL is "".
type Rows interface {
	Next() bool
	// Columns returns the column names known so far: fixed for tables and
	// CSV files, growing for JSON Lines files whose records add keys.
	Columns() []string
	Values() []string
	// Err returns the error that stopped iteration, if any.
	Err() error
	// Count returns the table's row count after iteration: exact when the
	// source counted, or estimated (catalogue statistics, bytes read).
	Count() (n int64, exact bool)
}

// Source is a data store the scanner can read. Tables calls fn once per
// table (up to the budget's MaxTables), with rows limited to the budget's
// RowsPerTable; an error from fn stops it and is returned. An error reading
// one table is reported through fn's rows (Rows.Err) and does not stop the
// others; an error reaching the store does.
type Source interface {
	Store() Store
	Tables(ctx context.Context, b Budget, fn func(t Table, rows Rows) error) error
	Close() error
}

// TableError is a problem reading one table, file or object. It names the
// table, never a value.
type TableError struct {
	Table string
	Err   error
}

// Error implements error.
func (e *TableError) Error() string { return fmt.Sprintf("%s: %v", e.Table, e.Err) }

// Unwrap returns the underlying problem.
func (e *TableError) Unwrap() error { return e.Err }

// sliceRows is Rows over rows held in memory (tests, small files).
type sliceRows struct {
	cols  []string
	rows  [][]string
	i     int
	count int64
	exact bool
	err   error
}

func (r *sliceRows) Next() bool {
	if r.i >= len(r.rows) {
		return false
	}
	r.i++
	return true
}
func (r *sliceRows) Columns() []string         { return r.cols }
func (r *sliceRows) Values() []string          { return r.rows[r.i-1] }
func (r *sliceRows) Err() error                { return r.err }
func (r *sliceRows) Count() (n int64, ok bool) { return r.count, r.exact }
