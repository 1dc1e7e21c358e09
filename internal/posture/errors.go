package posture

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
)

// ErrInvalidRule marks every error about a rule or a pack file; test for it
// with errors.Is.
var ErrInvalidRule = errors.New("invalid rule")

// RuleError is a problem with one rule or pack file, with its position.
// It prints as "file:line:col: rule <id>: <field>: <problem>"; parts that
// are unknown are left out.
type RuleError struct {
	File   string // the file, as named to the loader
	Line   int    // 1-based; 0 if unknown
	Col    int    // 1-based; 0 if unknown
	RuleID string // "" for a problem before the id is known or outside rules
	Field  string // e.g. "check", "lookups[1].match", "frameworks.cis-aws-3.0"
	Err    error
}

func (e *RuleError) Error() string {
	b := make([]byte, 0, 128)
	if e.File != "" {
		b = append(b, e.File...)
		if e.Line > 0 {
			b = append(b, ':')
			b = strconv.AppendInt(b, int64(e.Line), 10)
			if e.Col > 0 {
				b = append(b, ':')
				b = strconv.AppendInt(b, int64(e.Col), 10)
			}
		}
		b = append(b, ": "...)
	}
	if e.RuleID != "" {
		b = append(b, "rule "...)
		b = append(b, e.RuleID...)
		b = append(b, ": "...)
	}
	if e.Field != "" {
		b = append(b, e.Field...)
		b = append(b, ": "...)
	}
	b = append(b, fmt.Sprint(e.Err)...)
	return string(b)
}

// Unwrap returns the underlying error.
func (e *RuleError) Unwrap() error { return e.Err }

// Is makes every RuleError match [ErrInvalidRule].
func (e *RuleError) Is(target error) bool { return target == ErrInvalidRule }

// joinRuleErrors sorts errs by file and position and joins them; nil when
// there are none.
func joinRuleErrors(errs []*RuleError) error {
	if len(errs) == 0 {
		return nil
	}
	slices.SortStableFunc(errs, func(a, b *RuleError) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col))
	})
	out := make([]error, len(errs))
	for i, e := range errs {
		out[i] = e
	}
	return errors.Join(out...)
}
