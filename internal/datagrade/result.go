package datagrade

import "time"

// Result is what a scan found in one store. It holds counts, column names,
// estimates and masked examples, never a sensitive value.
type Result struct {
	Store    Store     `json:"store"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	Budget   Budget    `json:"budget"`
	// Tables are the tables, files or objects scanned, in the order the
	// source gave them.
	Tables []TableResult `json:"tables"`
	// Skipped counts tables beyond the budget's MaxTables.
	Skipped int `json:"skipped,omitempty"`
	// Problems are per-table read errors (table names and causes only).
	Problems []string `json:"problems,omitempty"`
}

// Complete reports whether every table was read without error and none was
// skipped. Sampling does not make a result incomplete.
func (r *Result) Complete() bool { return r.Skipped == 0 && len(r.Problems) == 0 }

// TableResult is what was found in one table, file or object.
type TableResult struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
	// Columns is the number of columns (JSON keys) seen.
	Columns int `json:"columns"`
	// SampledRows is the number of rows read.
	SampledRows int `json:"sampled_rows"`
	// EstimatedRows is the table's row count; RowsExact says whether it was
	// counted rather than estimated.
	EstimatedRows int64 `json:"estimated_rows"`
	RowsExact     bool  `json:"rows_exact"`
	SizeBytes     int64 `json:"size_bytes,omitempty"`
	// Scale is the factor applied to the estimates because the table stands
	// for more of the store (sampled objects); 1 otherwise.
	Scale float64 `json:"scale"`
	// Records estimates the rows that hold personal information.
	Records int64 `json:"records"`
	// Individuals estimates the distinct persons the table's personal
	// information is about: the distinct share of the best identifying
	// column in the sample times the row count (an upper bound when a
	// person's rows are spread thinly), else Records.
	Individuals int64 `json:"individuals"`
	// SensitiveIndividuals estimates the persons with sensitive PI.
	SensitiveIndividuals int64 `json:"sensitive_individuals"`
	// Hits are the categories found, per column.
	Hits []Hit `json:"hits,omitempty"`
	// Error is set when the table could not be read completely.
	Error string `json:"error,omitempty"`
}

// Hit is one category found in one column.
type Hit struct {
	Column   string `json:"column"`
	Category string `json:"category"`
	// Detectors lists the value detectors that matched.
	Detectors []string `json:"detectors,omitempty"`
	// Matches counts the sampled values that matched; Sampled the column's
	// non-empty sampled values.
	Matches int `json:"matches"`
	Sampled int `json:"sampled"`
	// Distinct counts distinct matched values in the sample (identifying
	// categories only).
	Distinct int `json:"distinct,omitempty"`
	// Confidence is 1–100.
	Confidence int `json:"confidence"`
	// Basis says what found the category: "values", "values+name" (values
	// in a column whose name hints at the category), "text" (inside free
	// text), "name" (the column name alone).
	Basis string `json:"basis"`
	// Examples are at most two masked examples (see [Mask]).
	Examples []string `json:"masked_examples,omitempty"`
	// EstimatedRecords scales Matches (or Sampled, for a name-only hit) to
	// the whole table.
	EstimatedRecords int64 `json:"estimated_records"`
}
