package pipeline

import (
	"context"
	"errors"
	"fmt"
	"iter"

	"github.com/canopy-sec/canopy/internal/audit"
	"github.com/canopy-sec/canopy/internal/store"
)

// TenantChain is one tenant's audit chain in a store: the audit.Sink an
// audit.Log appends to, and the audit.Reader that audit.Verify,
// audit.Export and audit.KPIs read. Canopy keeps one chain per tenant
// ("" names the system-wide chain); an entry keeps the Tenant it was
// given, so a system-wide action may be recorded in a tenant's chain. It
// is safe for concurrent use, as its store is; several processes may
// append to one chain, the store's ErrConflict keeping them apart.
type TenantChain struct {
	st     store.AuditLog
	tenant string
}

var (
	_ audit.Sink   = TenantChain{}
	_ audit.Reader = TenantChain{}
)

// AuditChain returns the tenant's chain in st.
func AuditChain(st store.AuditLog, tenant string) TenantChain {
	return TenantChain{st: st, tenant: tenant}
}

// Tenant returns whose chain c is.
func (c TenantChain) Tenant() string { return c.tenant }

// Last implements audit.Sink.
func (c TenantChain) Last(ctx context.Context) (audit.Entry, error) {
	r, err := c.st.AuditLast(ctx, c.tenant)
	if err != nil {
		return audit.Entry{}, fmt.Errorf("pipeline: audit chain %q: %w", c.tenant, err)
	}
	if r.Seq == 0 {
		return audit.Entry{}, nil
	}
	e, err := auditEntry(r)
	if err != nil {
		return audit.Entry{}, fmt.Errorf("pipeline: audit chain %q: %w", c.tenant, err)
	}
	return e, nil
}

// Append implements audit.Sink: a taken sequence number gives an error
// wrapping audit.ErrConflict (and store.ErrConflict).
func (c TenantChain) Append(ctx context.Context, e audit.Entry) error {
	err := c.st.AuditAppend(ctx, store.AuditRow{
		Tenant: c.tenant, Seq: e.Seq, Time: e.Time, EntryTenant: e.Tenant, Actor: e.Actor, Action: e.Action, Object: e.Object,
		Details: e.Details, Prev: e.Prev[:], Hash: e.Hash[:], Sig: e.Sig,
	})
	switch {
	case errors.Is(err, store.ErrConflict):
		return fmt.Errorf("pipeline: audit chain %q: %w: %w", c.tenant, audit.ErrConflict, err)
	case err != nil:
		return fmt.Errorf("pipeline: audit chain %q: %w", c.tenant, err)
	}
	return nil
}

// Entries implements audit.Reader. It streams: the store reads a page at
// a time.
func (c TenantChain) Entries(ctx context.Context, from uint64) iter.Seq2[audit.Entry, error] {
	return func(yield func(audit.Entry, error) bool) {
		for r, err := range c.st.AuditEntries(ctx, c.tenant, from) {
			if err != nil {
				yield(audit.Entry{}, fmt.Errorf("pipeline: audit chain %q: %w", c.tenant, err))
				return
			}
			e, err := auditEntry(r)
			if err != nil {
				yield(audit.Entry{}, fmt.Errorf("pipeline: audit chain %q: %w", c.tenant, err))
				return
			}
			if !yield(e, nil) {
				return
			}
		}
	}
}

// auditEntry maps a stored row back to its entry; a digest of the wrong
// size (the row was altered) is an error naming the entry.
func auditEntry(r store.AuditRow) (audit.Entry, error) {
	e := audit.Entry{Seq: r.Seq, Time: r.Time, Tenant: r.EntryTenant, Actor: r.Actor, Action: r.Action, Object: r.Object}
	if len(r.Prev) != len(e.Prev) || len(r.Hash) != len(e.Hash) {
		return audit.Entry{}, fmt.Errorf("entry %d: stored prev and hash are %d and %d bytes, want %d", r.Seq, len(r.Prev), len(r.Hash), len(e.Hash))
	}
	copy(e.Prev[:], r.Prev)
	copy(e.Hash[:], r.Hash)
	if len(r.Details) > 0 {
		e.Details = r.Details
	}
	if len(r.Sig) > 0 {
		e.Sig = r.Sig
	}
	return e, nil
}
