package yamlfile

import (
	"strconv"
	"strings"
)

// FileError is a problem in a YAML data file. It says where:
//
//	soc-override.yaml:14:15: area security_operations: matrix.IaaS.party: "custmer": want provider, customer or shared
//
// Loaders report every problem they find, joined with errors.Join in file
// order; use errors.As to get at each FileError.
type FileError struct {
	// File is the file name the caller gave the loader.
	File string
	// Line and Col locate the problem (1-based); 0 when unknown.
	Line, Col int
	// Where names the entry ("area operating_system", "entry FIN-002");
	// "" for the file as a whole.
	Where string
	// Field is the field within the entry, e.g. "matrix.IaaS.party".
	Field string
	// Err is the problem.
	Err error
}

// Error implements error.
func (e *FileError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":" + strconv.Itoa(e.Line))
		if e.Col > 0 {
			b.WriteString(":" + strconv.Itoa(e.Col))
		}
	}
	b.WriteString(": ")
	if e.Where != "" {
		b.WriteString(e.Where + ": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns the underlying problem.
func (e *FileError) Unwrap() error { return e.Err }
