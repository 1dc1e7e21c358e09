package posture

import (
	"fmt"

	"github.com/goccy/go-yaml/ast"
)

// ControlIDs is a list of control ids. In YAML it is a list of scalars
// read as written, so that an unquoted 1.10 stays "1.10" instead of
// becoming the number 1.1.
type ControlIDs []string

// UnmarshalYAML reads a sequence of scalars (or one scalar) as written.
func (c *ControlIDs) UnmarshalYAML(n ast.Node) error {
	n = unwrapNode(n)
	switch v := n.(type) {
	case *ast.NullNode:
		*c = nil
		return nil
	case *ast.SequenceNode:
		out := make(ControlIDs, 0, len(v.Values))
		for _, e := range v.Values {
			s, err := scalarText(e)
			if err != nil {
				return err
			}
			out = append(out, s)
		}
		*c = out
		return nil
	}
	s, err := scalarText(n)
	if err != nil {
		return err
	}
	*c = ControlIDs{s}
	return nil
}

// ControlID is one control id, read from YAML as written (see
// [ControlIDs]).
type ControlID string

// UnmarshalYAML reads a scalar as written.
func (c *ControlID) UnmarshalYAML(n ast.Node) error {
	s, err := scalarText(n)
	*c = ControlID(s)
	return err
}

func scalarText(n ast.Node) (string, error) {
	n = unwrapNode(n)
	switch v := n.(type) {
	case *ast.StringNode:
		return v.Value, nil
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode:
		return v.GetToken().Value, nil
	}
	return "", fmt.Errorf("[%d:%d] want a control id, got %s", n.GetToken().Position.Line, n.GetToken().Position.Column, n.Type())
}
