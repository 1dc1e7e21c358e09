package responsibility

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
// (the built-in data, a matrix override or a tenant's contract): see
// [yamlfile.FileError].
type FileError = yamlfile.FileError

// yamlDoc is a YAML file being loaded: its name and syntax tree, to put
// positions on errors found after decoding.
type yamlDoc struct {
	name string
	file *ast.File
	errs []*FileError
}

// decodeYAML strictly decodes data into v (unknown and duplicate keys are
// errors) and returns the document for positioned errors. where names the
// entry that encloses a line, for decoding errors.
func decodeYAML(name string, data []byte, v any, where func(d *yamlDoc, line int) string) (*yamlDoc, error) {
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, yamlError(name, err, nil, nil)
	}
	d := &yamlDoc{name: name, file: f}
	if err := yaml.UnmarshalWithOptions(data, v, yaml.Strict()); err != nil {
		return nil, yamlError(name, err, d, where)
	}
	return d, nil
}

func yamlError(name string, err error, d *yamlDoc, where func(*yamlDoc, int) string) error {
	fe := &FileError{File: name, Err: err}
	var ye yaml.Error
	if errors.As(err, &ye) {
		fe.Err = errors.New(ye.GetMessage())
		if tk := ye.GetToken(); tk != nil && tk.Position != nil {
			fe.Line, fe.Col = tk.Position.Line, tk.Position.Column
		}
	}
	if d != nil && where != nil && fe.Line > 0 {
		fe.Where = where(d, fe.Line)
	}
	return fe
}

// node returns the node at a YAML path ("$.areas[2].matrix.IaaS"), or nil.
func (d *yamlDoc) node(path string) ast.Node {
	p, err := yaml.PathString(path)
	if err != nil {
		return nil
	}
	n, err := p.FilterFile(d.file)
	if err != nil {
		return nil
	}
	return n
}

// pos returns the position of the node at path, or of its nearest parent
// that exists; a top-level key that is missing is placed at 1:1.
func (d *yamlDoc) pos(path string) (line, col int) {
	for path != "" && path != "$" {
		if n := d.node(path); n != nil {
			if tk := n.GetToken(); tk != nil && tk.Position != nil {
				return tk.Position.Line, tk.Position.Column
			}
		}
		path = parentPath(path)
	}
	return 1, 1
}

// parentPath drops the last element of a YAML path.
func parentPath(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i <= 0 {
		return ""
	}
	return path[:i]
}

// add records a problem at a YAML path; field is what the message names.
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

// enclosing returns the index of the element of the sequence at listPath
// that contains line, or -1.
func (d *yamlDoc) enclosing(listPath string, line int) int {
	seq, ok := d.node(listPath).(*ast.SequenceNode)
	if !ok {
		return -1
	}
	idx := -1
	for i, v := range seq.Values {
		tk := v.GetToken()
		if tk == nil || tk.Position == nil {
			continue
		}
		if tk.Position.Line <= line {
			idx = i
		}
	}
	return idx
}

// enclosingKey returns the key of the mapping at mapPath whose entry
// contains line, or "".
func (d *yamlDoc) enclosingKey(mapPath string, line int) string {
	n := d.node(mapPath)
	var values []*ast.MappingValueNode
	switch m := n.(type) {
	case *ast.MappingNode:
		values = m.Values
	case *ast.MappingValueNode:
		values = []*ast.MappingValueNode{m}
	default:
		return ""
	}
	key := ""
	for _, v := range values {
		if tk := v.Key.GetToken(); tk != nil && tk.Position != nil && tk.Position.Line <= line {
			key = tk.Value
		}
	}
	return key
}

// scalar returns the string value of the scalar at path, or "".
func (d *yamlDoc) scalar(path string) string {
	n := d.node(path)
	if n == nil {
		return ""
	}
	if tk := n.GetToken(); tk != nil {
		return tk.Value
	}
	return ""
}
