package inventory

import (
	"strconv"
)

// RecordError is a problem with one record of an input: which importer,
// which record (1-based), where it starts (byte offset, JSON pointer or
// line), which field, and what is wrong. It prints like
// "aws-config: record 3 at /configurationItems/2 (byte 1234): configuration.policyText: …".
// The caller adds the file name.
type RecordError struct {
	Importer string
	Record   int    // 1-based; 0 when the error is about the whole input
	Line     int    // 1-based line, for line-oriented inputs; 0 if unknown
	Offset   int64  // byte offset of the record; -1 if unknown
	Pointer  string // JSON pointer of the record, if known
	Field    string // the field at fault, if known
	Err      error
}

func (e *RecordError) Error() string {
	b := make([]byte, 0, 96)
	b = append(b, e.Importer...)
	b = append(b, ": "...)
	if e.Record > 0 {
		b = append(b, "record "...)
		b = strconv.AppendInt(b, int64(e.Record), 10)
		if e.Line > 0 {
			b = append(b, " (line "...)
			b = strconv.AppendInt(b, int64(e.Line), 10)
			b = append(b, ')')
		}
		if e.Pointer != "" {
			b = append(b, " at "...)
			b = append(b, e.Pointer...)
		}
		if e.Offset >= 0 {
			b = append(b, " (byte "...)
			b = strconv.AppendInt(b, e.Offset, 10)
			b = append(b, ')')
		}
		b = append(b, ": "...)
	}
	if e.Field != "" {
		b = append(b, e.Field...)
		b = append(b, ": "...)
	}
	if e.Err != nil {
		b = append(b, e.Err.Error()...)
	}
	return string(b)
}

// Unwrap returns the underlying error.
func (e *RecordError) Unwrap() error { return e.Err }

// fieldError names the field of a record at fault; importers wrap it into
// a RecordError.
type fieldError struct {
	field string
	err   error
}

func (e *fieldError) Error() string { return e.field + ": " + e.err.Error() }
func (e *fieldError) Unwrap() error { return e.err }
