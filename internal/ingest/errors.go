package ingest

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/canopy-sec/canopy/internal/ingest/jsonstream"
)

// RecordError is a problem with one record of an input.
type RecordError struct {
	Format  string // format name
	Record  int    // 1-based record number; 0 when the error is not in a record
	Pointer string // JSON pointer of the record or field, when known
	Offset  int64  // byte offset in the input, -1 when unknown
	Field   string // the source field at fault, when known
	Err     error
}

// Error prints "FORMAT: record N at /ptr (byte B): FIELD: reason".
func (e *RecordError) Error() string {
	var b strings.Builder
	b.WriteString(e.Format)
	b.WriteString(": ")
	if e.Record > 0 {
		fmt.Fprintf(&b, "record %d", e.Record)
	} else {
		b.WriteString("input")
	}
	switch {
	case e.Pointer != "" && e.Offset >= 0:
		fmt.Fprintf(&b, " at %s (byte %d)", e.Pointer, e.Offset)
	case e.Pointer != "":
		fmt.Fprintf(&b, " at %s", e.Pointer)
	case e.Offset >= 0:
		fmt.Fprintf(&b, " (byte %d)", e.Offset)
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns the cause.
func (e *RecordError) Unwrap() error { return e.Err }

// recordErr builds a RecordError for record n of an item; a jsonstream
// syntax error contributes its own position and is marked ErrSyntax.
func recordErr(format string, n int, ptr string, off int64, field string, err error) *RecordError {
	var re *RecordError
	if errors.As(err, &re) {
		return re
	}
	var se *jsonstream.SyntaxError
	if errors.As(err, &se) {
		cause := ErrSyntax
		if errors.Is(err, io.ErrUnexpectedEOF) {
			cause = fmt.Errorf("%w: %w", ErrSyntax, io.ErrUnexpectedEOF)
		}
		return &RecordError{Format: format, Record: n, Pointer: se.Pointer, Offset: se.Offset, Field: field, Err: fmt.Errorf("%w: %s", cause, se.Msg)}
	}
	return &RecordError{Format: format, Record: n, Pointer: ptr, Offset: off, Field: field, Err: err}
}

// missing returns an ErrMissingField error for a field.
func missing(field string) error { return fmt.Errorf("%s: %w", field, ErrMissingField) }

// fieldError marks err as being about field.
type fieldError struct {
	field string
	err   error
}

func (e *fieldError) Error() string { return e.field + ": " + e.err.Error() }
func (e *fieldError) Unwrap() error { return e.err }
