package datagrade

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"

	"github.com/canopy-sec/canopy/internal/yamlfile"
)

// FileError is a problem in one of the YAML files the package reads
// (the embedded reference and defaults, a grading policy or a data
// catalogue): see [yamlfile.FileError].
type FileError = yamlfile.FileError

// yamlDoc is a YAML file being loaded: its name and syntax tree, to put
// positions on problems found after decoding.
type yamlDoc struct {
	name string
	file *ast.File
	errs []*FileError
}

// decodeYAML decodes data into v and returns the document for positioned
// errors. With strict, unknown and duplicate keys are errors.
func decodeYAML(name string, data []byte, v any, strict bool) (*yamlDoc, error) {
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, yamlError(name, err)
	}
	var opts []yaml.DecodeOption
	if strict {
		opts = append(opts, yaml.Strict())
	}
	if err := yaml.UnmarshalWithOptions(data, v, opts...); err != nil {
		return nil, yamlError(name, err)
	}
	return &yamlDoc{name: name, file: f}, nil
}

func yamlError(name string, err error) error {
	fe := &FileError{File: name, Err: err}
	var ye yaml.Error
	if errors.As(err, &ye) {
		fe.Err = errors.New(ye.GetMessage())
		if tk := ye.GetToken(); tk != nil && tk.Position != nil {
			fe.Line, fe.Col = tk.Position.Line, tk.Position.Column
		}
	}
	return fe
}

// pos returns the position of the node at a YAML path ("$.entries[2].level"),
// or of its nearest parent that exists; 1:1 when none does.
func (d *yamlDoc) pos(path string) (line, col int) {
	for path != "" && path != "$" {
		if p, err := yaml.PathString(path); err == nil {
			if n, err := p.FilterFile(d.file); err == nil && n != nil {
				if tk := n.GetToken(); tk != nil && tk.Position != nil {
					return tk.Position.Line, tk.Position.Column
				}
			}
		}
		i := strings.LastIndexAny(path, ".[")
		if i <= 0 {
			break
		}
		path = path[:i]
	}
	return 1, 1
}

// add records a problem at a YAML path; where and field are what the
// message names.
func (d *yamlDoc) add(path, where, field string, format string, args ...any) {
	line, col := d.pos(path)
	d.errs = append(d.errs, &FileError{File: d.name, Line: line, Col: col, Where: where, Field: field, Err: fmt.Errorf(format, args...)})
}

// err returns the recorded problems in file order, joined.
func (d *yamlDoc) err() error {
	if len(d.errs) == 0 {
		return nil
	}
	slices.SortStableFunc(d.errs, func(a, b *FileError) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col))
	})
	errs := make([]error, len(d.errs))
	for i, e := range d.errs {
		errs[i] = e
	}
	return errors.Join(errs...)
}
