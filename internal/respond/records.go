package respond

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// RecordState is Canopy's working state of a record, which the record
// actions change: its status, assignee, tags, suppression and cases.
type RecordState struct {
	// Status is new, in_progress, suppressed, resolved or archived (the
	// OCSF finding statuses); "" means new.
	Status   string   `json:"status,omitempty"`
	Assignee string   `json:"assignee,omitempty"`
	Tags     []string `json:"tags,omitempty"`
	// SuppressedUntil and SuppressReason: the record is hidden from
	// queues and notifications until then.
	SuppressedUntil time.Time `json:"suppressed_until,omitzero"`
	SuppressReason  string    `json:"suppress_reason,omitempty"`
	// Cases are the cases the record is linked to.
	Cases []string `json:"cases,omitempty"`
}

// RecordStore persists record states. Store backends implement it (as
// columns beside the record); respondtest has an in-memory one.
//
// UpdateRecord applies fn atomically to the state of the tenant's record
// (the zero state if it has none yet) and returns the new state; when fn
// returns an error nothing is written and the error is returned. A record
// the store does not know is [ErrNotFound].
type RecordStore interface {
	UpdateRecord(ctx context.Context, tenant string, ref Ref, fn func(*RecordState) error) (RecordState, error)
}

// ErrConflict is returned by a rollback when what it would restore was
// changed again since (by a person or another run): the rollback leaves it
// alone rather than overwrite the newer change.
var ErrConflict = errors.New("respond: changed since the action; not rolled back")

// The built-in record action names.
const (
	NameSetStatus = "record.set_status"
	NameAssign    = "record.assign"
	NameTag       = "record.tag"
	NameSuppress  = "record.suppress"
	NameLinkCase  = "record.link_case"
)

// RecordStatuses are the statuses record.set_status accepts.
func RecordStatuses() []string {
	return []string{"new", "in_progress", "suppressed", "resolved", "archived"}
}

// MaxSuppress is the longest suppression record.suppress accepts.
const MaxSuppress = 90 * 24 * time.Hour

// RecordActionOptions configures [RecordActions].
type RecordActionOptions struct {
	// Records holds the record states. Required.
	Records RecordStore
	// Cases, when set, also gets the record linked by record.link_case
	// (Case.Records); the case must exist.
	Cases CaseStore
}

// RecordActions returns the built-in record actions: record.set_status,
// record.assign, record.tag, record.suppress and record.link_case. They
// change only Canopy's state of the call's record, disrupt nothing and are
// reversible: each rollback restores what it changed unless it was changed
// again since ([ErrConflict]).
func RecordActions(opts RecordActionOptions) ([]Action, error) {
	if opts.Records == nil {
		return nil, errors.New("respond: record actions: Records is required")
	}
	return []Action{
		&recordAction{name: NameSetStatus, opts: opts, schema: Schema{
			{Name: "status", Required: true, Enum: RecordStatuses(), Doc: "the new status"},
			{Name: "note", MaxLen: 2000, Doc: "why, for the audit trail"},
		}},
		&recordAction{name: NameAssign, opts: opts, schema: Schema{
			{Name: "assignee", Required: true, MaxLen: 256, Doc: "user or team the record is assigned to"},
		}},
		&recordAction{name: NameTag, opts: opts, schema: Schema{
			{Name: "tags", Type: ParamStrings, Required: true, Pattern: `[A-Za-z0-9][A-Za-z0-9_.:/=-]{0,127}`, Doc: "tags to add"},
		}},
		&recordAction{name: NameSuppress, opts: opts, schema: Schema{
			{Name: "for", Type: ParamDuration, Required: true, Doc: "how long, at most 90d"},
			{Name: "reason", Required: true, MaxLen: 2000, Doc: "why the record is suppressed"},
		}},
		&recordAction{name: NameLinkCase, opts: opts, schema: Schema{
			{Name: "case", Required: true, Pattern: `[A-Za-z0-9][A-Za-z0-9_.-]{0,127}`, Doc: "the case id"},
		}},
	}, nil
}

type recordAction struct {
	name   string
	opts   RecordActionOptions
	schema Schema
}

func (a *recordAction) Name() string   { return a.name }
func (a *recordAction) Params() Schema { return a.schema }

func (a *recordAction) Impact(_ context.Context, rec Record, p Params, _ World) (Impact, error) {
	ref := rec.Ref().String()
	imp := Impact{Targets: []Asset{{UID: ref, Type: "record:" + string(rec.Kind), Name: rec.Title}},
		Disruption: DisruptionNone, Reversible: true}
	switch a.name {
	case NameSetStatus:
		imp.Summary = fmt.Sprintf("set the status of %s to %s", ref, p.String("status"))
		imp.Rollback = "restore the previous status"
	case NameAssign:
		imp.Summary = fmt.Sprintf("assign %s to %s", ref, p.String("assignee"))
		imp.Rollback = "restore the previous assignee"
	case NameTag:
		imp.Summary = fmt.Sprintf("tag %s with %s", ref, strings.Join(p.Strings("tags"), ", "))
		imp.Rollback = "remove the tags that were added"
	case NameSuppress:
		imp.Summary = fmt.Sprintf("suppress %s for %s: %s", ref, p.Duration("for"), p.String("reason"))
		imp.Rollback = "restore the previous suppression (none, usually)"
		imp.Notes = append(imp.Notes, "a suppressed record is hidden from queues and notifications until it expires")
	case NameLinkCase:
		imp.Summary = fmt.Sprintf("link %s to case %s", ref, p.String("case"))
		imp.Rollback = "unlink the record from the case"
	}
	return imp, nil
}

func (a *recordAction) Do(ctx context.Context, call Call) (Result, error) {
	p := call.Params
	res := Result{Action: a.name, Changed: []string{call.Record.String()}}
	undo := map[string]any{"tenant": call.Tenant, "kind": string(call.Record.Kind), "id": call.Record.ID}
	var fn func(*RecordState) error
	switch a.name {
	case NameSetStatus:
		fn = func(s *RecordState) error {
			undo["previous"], undo["set"] = s.Status, p.String("status")
			s.Status = p.String("status")
			return nil
		}
		res.Summary = fmt.Sprintf("set the status of %s to %s", call.Record, p.String("status"))
	case NameAssign:
		fn = func(s *RecordState) error {
			undo["previous"], undo["set"] = s.Assignee, p.String("assignee")
			s.Assignee = p.String("assignee")
			return nil
		}
		res.Summary = fmt.Sprintf("assigned %s to %s", call.Record, p.String("assignee"))
	case NameTag:
		fn = func(s *RecordState) error {
			var added []string
			for _, t := range p.Strings("tags") {
				if !slices.Contains(s.Tags, t) {
					s.Tags = append(s.Tags, t)
					added = append(added, t)
				}
			}
			undo["added"] = added
			return nil
		}
		res.Summary = fmt.Sprintf("tagged %s with %s", call.Record, strings.Join(p.Strings("tags"), ", "))
	case NameSuppress:
		d := p.Duration("for")
		if d <= 0 || d > MaxSuppress {
			return Result{}, fmt.Errorf("for: %s: want more than 0 and at most %s", d, MaxSuppress)
		}
		until := call.Now.Add(d).UTC()
		fn = func(s *RecordState) error {
			undo["previous_until"], undo["previous_reason"] = formatTime(s.SuppressedUntil), s.SuppressReason
			undo["set_until"] = formatTime(until)
			s.SuppressedUntil, s.SuppressReason = until, p.String("reason")
			return nil
		}
		res.Summary = fmt.Sprintf("suppressed %s until %s", call.Record, until.Format(time.RFC3339))
		res.Output = map[string]any{"until": until.Format(time.RFC3339)}
	case NameLinkCase:
		id := p.String("case")
		if a.opts.Cases != nil {
			added := false
			if _, err := a.opts.Cases.UpdateCase(ctx, call.Tenant, id, func(c *Case) error {
				if !slices.Contains(c.Records, call.Record) {
					c.Records = append(c.Records, call.Record)
					added = true
				}
				return nil
			}); err != nil {
				return Result{}, fmt.Errorf("case %s: %w", id, err)
			}
			undo["case_added"] = added
		}
		fn = func(s *RecordState) error {
			undo["added"] = !slices.Contains(s.Cases, id)
			if !slices.Contains(s.Cases, id) {
				s.Cases = append(s.Cases, id)
			}
			return nil
		}
		undo["case"] = id
		res.Summary = fmt.Sprintf("linked %s to case %s", call.Record, id)
		res.Changed = append(res.Changed, "case:"+id)
	}
	if _, err := a.opts.Records.UpdateRecord(ctx, call.Tenant, call.Record, fn); err != nil {
		if a.name == NameLinkCase && undo["case_added"] == true {
			// the case was changed, the record was not: say so, so the
			// engine keeps the part that was done for rollback
			partial := res
			partial.Undo = map[string]any{"tenant": call.Tenant, "kind": string(call.Record.Kind), "id": call.Record.ID,
				"case": p.String("case"), "case_added": true, "added": false}
			partial.Summary = fmt.Sprintf("linked case %s to %s, but not %s to the case", p.String("case"), call.Record, call.Record)
			return Result{}, &PartialError{Result: partial, Err: err}
		}
		return Result{}, fmt.Errorf("%s: %w", call.Record, err)
	}
	res.Undo = undo
	return res, nil
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return time.Parse(time.RFC3339Nano, s)
}

func (a *recordAction) Rollback(ctx context.Context, res Result) error {
	u := res.Undo
	if u == nil {
		return ErrNotReversible
	}
	str := func(k string) string { s, _ := u[k].(string); return s }
	tenant := str("tenant")
	ref := Ref{Kind: Kind(str("kind")), ID: str("id")}
	if tenant == "" || !ref.Kind.valid() || ref.ID == "" {
		return errors.New("rollback: undo data names no record")
	}
	var fn func(*RecordState) error
	switch a.name {
	case NameSetStatus:
		fn = func(s *RecordState) error {
			if s.Status != str("set") {
				return fmt.Errorf("%w: status is %q now", ErrConflict, s.Status)
			}
			s.Status = str("previous")
			return nil
		}
	case NameAssign:
		fn = func(s *RecordState) error {
			if s.Assignee != str("set") {
				return fmt.Errorf("%w: assignee is %q now", ErrConflict, s.Assignee)
			}
			s.Assignee = str("previous")
			return nil
		}
	case NameTag:
		added := stringsOf(u["added"])
		fn = func(s *RecordState) error {
			s.Tags = slices.DeleteFunc(s.Tags, func(t string) bool { return slices.Contains(added, t) })
			if len(s.Tags) == 0 {
				s.Tags = nil
			}
			return nil
		}
	case NameSuppress:
		set, err := parseTime(str("set_until"))
		if err != nil {
			return fmt.Errorf("rollback: %w", err)
		}
		prev, err := parseTime(str("previous_until"))
		if err != nil {
			return fmt.Errorf("rollback: %w", err)
		}
		fn = func(s *RecordState) error {
			if !s.SuppressedUntil.Equal(set) {
				return fmt.Errorf("%w: suppressed until %s now", ErrConflict, formatTime(s.SuppressedUntil))
			}
			s.SuppressedUntil, s.SuppressReason = prev, str("previous_reason")
			return nil
		}
	case NameLinkCase:
		id := str("case")
		if u["case_added"] == true && a.opts.Cases != nil {
			if _, err := a.opts.Cases.UpdateCase(ctx, tenant, id, func(c *Case) error {
				c.Records = slices.DeleteFunc(c.Records, func(r Ref) bool { return r == ref })
				return nil
			}); err != nil {
				return fmt.Errorf("case %s: %w", id, err)
			}
		}
		if u["added"] != true {
			return nil
		}
		fn = func(s *RecordState) error {
			s.Cases = slices.DeleteFunc(s.Cases, func(c string) bool { return c == id })
			if len(s.Cases) == 0 {
				s.Cases = nil
			}
			return nil
		}
	}
	if _, err := a.opts.Records.UpdateRecord(ctx, tenant, ref, fn); err != nil {
		return fmt.Errorf("%s: %w", ref, err)
	}
	return nil
}

// stringsOf reads a []string that went through JSON ([]any) or not.
func stringsOf(v any) []string {
	switch x := v.(type) {
	case []string:
		return x
	case []any:
		out := make([]string, 0, len(x))
		for _, s := range x {
			if str, ok := s.(string); ok {
				out = append(out, str)
			}
		}
		return out
	}
	return nil
}
