package respond

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
)

// Sentinel errors; test for them with errors.Is.
var (
	// ErrInvalidPlaybook marks every [*PlaybookError].
	ErrInvalidPlaybook = errors.New("invalid playbook")
	// ErrNotFound is returned by stores and by the engine for an ID that
	// does not exist (in that tenant).
	ErrNotFound = errors.New("respond: not found")
	// ErrState is returned when an operation does not fit the current
	// state: approving a decided approval, resuming a completed run,
	// moving a case from closed, rolling back twice.
	ErrState = errors.New("respond: invalid state")
	// ErrUnknownOption is returned by Approve for an option the approval
	// does not offer.
	ErrUnknownOption = errors.New("respond: unknown option")
)

// PlaybookError is a problem with a playbook file, with its position. It
// prints as "file:line:col: playbook <id>: step <id>: <field>: <problem>";
// parts that are unknown are left out.
type PlaybookError struct {
	File     string // the file, as named to the loader
	Line     int    // 1-based; 0 if unknown
	Col      int    // 1-based; 0 if unknown
	Playbook string // the playbook's id; "" before it is known
	Step     string // the step, e.g. "notify-owner (steps[1])", "options[0].steps[2]"; "" outside steps
	Field    string // e.g. "trigger", "params.tags", "approval.threshold"
	Err      error
}

func (e *PlaybookError) Error() string {
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
	if e.Playbook != "" {
		b = append(b, "playbook "...)
		b = append(b, e.Playbook...)
		b = append(b, ": "...)
	}
	if e.Step != "" {
		b = append(b, "step "...)
		b = append(b, e.Step...)
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
func (e *PlaybookError) Unwrap() error { return e.Err }

// Is makes every PlaybookError match [ErrInvalidPlaybook].
func (e *PlaybookError) Is(target error) bool { return target == ErrInvalidPlaybook }

// PlaybookErrors unpacks an error returned by the loaders into its
// [*PlaybookError]s, in order.
func PlaybookErrors(err error) []*PlaybookError {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []*PlaybookError
		for _, e := range j.Unwrap() {
			out = append(out, PlaybookErrors(e)...)
		}
		return out
	}
	var pe *PlaybookError
	if errors.As(err, &pe) {
		return []*PlaybookError{pe}
	}
	return []*PlaybookError{{Err: err}}
}

// joinPlaybookErrors sorts errs by file and position and joins them; nil
// when there are none.
func joinPlaybookErrors(errs []*PlaybookError) error {
	if len(errs) == 0 {
		return nil
	}
	slices.SortStableFunc(errs, func(a, b *PlaybookError) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col))
	})
	out := make([]error, len(errs))
	for i, e := range errs {
		out[i] = e
	}
	return errors.Join(out...)
}

// joinErrors joins errs; nil when there are none.
func joinErrors(errs []error) error { return errors.Join(errs...) }
