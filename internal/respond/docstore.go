package respond

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/canopy-sec/canopy/internal/store"
)

// Document kinds of the response engine's state in the store.
const (
	docRun      = "respond.run"
	docApproval = "respond.approval"
	docCase     = "respond.case"
	docRecord   = "respond.record"
)

// DocStore keeps the engine's runs, approvals, cases and record states as
// JSON documents in the store (store.Docs, on SQLite or PostgreSQL). It
// implements [RunStore], [ApprovalStore], [CaseStore] and [RecordStore].
type DocStore struct{ st store.Docs }

// NewDocStore returns the engine's state kept in st.
func NewDocStore(st store.Docs) *DocStore { return &DocStore{st: st} }

func notFound(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	return err
}

func docCreate[T any](ctx context.Context, st store.Docs, kind, tenant, id string, v T) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if err := st.CreateDoc(ctx, kind, tenant, id, b); err != nil {
		if errors.Is(err, store.ErrExists) {
			return fmt.Errorf("%w: %w", ErrConflict, err)
		}
		return err
	}
	return nil
}

func docGet[T any](ctx context.Context, st store.Docs, kind, tenant, id string) (T, error) {
	var v T
	b, err := st.Doc(ctx, kind, tenant, id)
	if err != nil {
		return v, notFound(err)
	}
	return v, json.Unmarshal(b, &v)
}

func docUpdate[T any](ctx context.Context, st store.Docs, kind, tenant, id string, create bool, fn func(*T) error) (T, error) {
	var out T
	_, err := st.UpdateDoc(ctx, kind, tenant, id, create, func(cur []byte) ([]byte, error) {
		var v T
		if cur != nil {
			if err := json.Unmarshal(cur, &v); err != nil {
				return nil, fmt.Errorf("%s %s: %w", kind, id, err)
			}
		}
		if err := fn(&v); err != nil {
			return nil, err
		}
		b, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		// what is returned is what a later read gives back
		out = *new(T)
		return b, json.Unmarshal(b, &out)
	})
	if err != nil {
		return *new(T), notFound(err)
	}
	return out, nil
}

func docList[T any](ctx context.Context, st store.Docs, kind, tenant string, keep func(T) bool) ([]T, error) {
	docs, err := st.ListDocs(ctx, kind, tenant)
	if err != nil {
		return nil, err
	}
	var out []T
	for _, b := range docs {
		var v T
		if err := json.Unmarshal(b, &v); err != nil {
			return nil, fmt.Errorf("%s: %w", kind, err)
		}
		if keep(v) {
			out = append(out, v)
		}
	}
	return out, nil
}

// CreateRun implements [RunStore].
func (d *DocStore) CreateRun(ctx context.Context, r Run) error {
	return docCreate(ctx, d.st, docRun, r.Tenant, r.ID, r)
}

// GetRun implements [RunStore].
func (d *DocStore) GetRun(ctx context.Context, tenant, id string) (Run, error) {
	return docGet[Run](ctx, d.st, docRun, tenant, id)
}

// UpdateRun implements [RunStore].
func (d *DocStore) UpdateRun(ctx context.Context, tenant, id string, fn func(*Run) error) (Run, error) {
	return docUpdate(ctx, d.st, docRun, tenant, id, false, fn)
}

// ListRuns implements [RunStore]; a filter needs its tenant.
func (d *DocStore) ListRuns(ctx context.Context, f RunFilter) ([]Run, error) {
	return docList(ctx, d.st, docRun, f.Tenant, func(r Run) bool {
		return (f.Record == Ref{} || r.Record == f.Record) && (f.Playbook == "" || r.Playbook == f.Playbook) && (f.State == "" || r.State == f.State)
	})
}

// CreateApproval implements [ApprovalStore].
func (d *DocStore) CreateApproval(ctx context.Context, a Approval) error {
	return docCreate(ctx, d.st, docApproval, a.Tenant, a.ID, a)
}

// GetApproval implements [ApprovalStore].
func (d *DocStore) GetApproval(ctx context.Context, tenant, id string) (Approval, error) {
	return docGet[Approval](ctx, d.st, docApproval, tenant, id)
}

// UpdateApproval implements [ApprovalStore].
func (d *DocStore) UpdateApproval(ctx context.Context, tenant, id string, fn func(*Approval) error) (Approval, error) {
	return docUpdate(ctx, d.st, docApproval, tenant, id, false, fn)
}

// ListApprovals implements [ApprovalStore]; a filter needs its tenant.
func (d *DocStore) ListApprovals(ctx context.Context, f ApprovalFilter) ([]Approval, error) {
	return docList(ctx, d.st, docApproval, f.Tenant, func(a Approval) bool {
		return (f.Record == Ref{} || a.Record.Ref() == f.Record) && (f.Playbook == "" || a.Playbook == f.Playbook) && (f.State == "" || a.State == f.State)
	})
}

// CreateCase implements [CaseStore].
func (d *DocStore) CreateCase(ctx context.Context, c Case) error {
	return docCreate(ctx, d.st, docCase, c.Tenant, c.ID, c)
}

// GetCase implements [CaseStore].
func (d *DocStore) GetCase(ctx context.Context, tenant, id string) (Case, error) {
	return docGet[Case](ctx, d.st, docCase, tenant, id)
}

// UpdateCase implements [CaseStore].
func (d *DocStore) UpdateCase(ctx context.Context, tenant, id string, fn func(*Case) error) (Case, error) {
	return docUpdate(ctx, d.st, docCase, tenant, id, false, fn)
}

// ListCases implements [CaseStore]; a filter needs its tenant.
func (d *DocStore) ListCases(ctx context.Context, f CaseFilter) ([]Case, error) {
	return docList(ctx, d.st, docCase, f.Tenant, func(c Case) bool {
		return (f.Record == Ref{} || slices.Contains(c.Records, f.Record)) && (f.Status == "" || c.Status == f.Status) && (!f.Open || c.Status.Open())
	})
}

// UpdateRecord implements [RecordStore]; every record is known.
func (d *DocStore) UpdateRecord(ctx context.Context, tenant string, ref Ref, fn func(*RecordState) error) (RecordState, error) {
	return docUpdate(ctx, d.st, docRecord, tenant, ref.String(), true, fn)
}

// RecordState returns a record's state (the zero state if none).
func (d *DocStore) RecordState(ctx context.Context, tenant string, ref Ref) (RecordState, error) {
	st, err := docGet[RecordState](ctx, d.st, docRecord, tenant, ref.String())
	if errors.Is(err, ErrNotFound) {
		return RecordState{}, nil
	}
	return st, err
}

// Tenants returns the tenants that have runs or cases, sorted: those a
// periodic SLA check or stale-run resume must visit.
func (d *DocStore) Tenants(ctx context.Context) ([]string, error) {
	var out []string
	for _, kind := range []string{docRun, docCase} {
		ts, err := d.st.DocTenants(ctx, kind)
		if err != nil {
			return nil, err
		}
		for _, t := range ts {
			if !slices.Contains(out, t) {
				out = append(out, t)
			}
		}
	}
	slices.Sort(out)
	return out, nil
}
