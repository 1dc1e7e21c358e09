package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"iter"
	"time"

	"github.com/canopy-sec/canopy/internal/store"
)

// auditPage is how many entries AuditEntries reads per query.
const auditPage = 500

const auditColumns = "tenant, seq, time, entry_tenant, actor, action, object, details, prev, hash, sig"

func scanAudit(sc interface{ Scan(...any) error }) (store.AuditRow, error) {
	var r store.AuditRow
	var seq, us int64
	if err := sc.Scan(&r.Tenant, &seq, &us, &r.EntryTenant, &r.Actor, &r.Action, &r.Object, &r.Details, &r.Prev, &r.Hash, &r.Sig); err != nil {
		return store.AuditRow{}, err
	}
	r.Seq, r.Time = uint64(seq), time.UnixMicro(us).UTC()
	return r, nil
}

// AuditLast returns the last entry of the tenant's chain.
func (s *Store) AuditLast(ctx context.Context, tenant string) (store.AuditRow, error) {
	r, err := scanAudit(s.r.QueryRowContext(ctx, "SELECT "+auditColumns+" FROM audit_entries WHERE tenant = ? ORDER BY seq DESC LIMIT 1", tenant))
	if errors.Is(err, sql.ErrNoRows) {
		return store.AuditRow{}, nil
	}
	if err != nil {
		return store.AuditRow{}, fmt.Errorf("sqlite: reading the last audit entry: %w", err)
	}
	return r, nil
}

// AuditAppend adds an entry to its tenant's chain; the primary key
// (tenant, seq) refuses a taken sequence number.
func (s *Store) AuditAppend(ctx context.Context, r store.AuditRow) error {
	if err := store.CheckAudit(r); err != nil {
		return fmt.Errorf("sqlite: appending: %w", err)
	}
	res, err := s.w.ExecContext(ctx, "INSERT INTO audit_entries ("+auditColumns+") VALUES (?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (tenant, seq) DO NOTHING",
		r.Tenant, int64(r.Seq), r.Time.UnixMicro(), r.EntryTenant, r.Actor, r.Action, r.Object, nilIfEmpty(r.Details), r.Prev, r.Hash, nilIfEmpty(r.Sig))
	if err != nil {
		return fmt.Errorf("sqlite: appending audit entry %d: %w", r.Seq, err)
	}
	added, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlite: appending audit entry %d: %w", r.Seq, err)
	}
	if added == 0 {
		return fmt.Errorf("sqlite: appending audit entry %d: the chain has one: %w", r.Seq, store.ErrConflict)
	}
	s.kickCheckpoint()
	return nil
}

// nilIfEmpty stores an empty byte string as NULL, so that it reads back
// as nil.
func nilIfEmpty(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

// AuditEntries yields the tenant's entries from seq from on, a page at a
// time: each page is read whole before its entries are yielded.
func (s *Store) AuditEntries(ctx context.Context, tenant string, from uint64) iter.Seq2[store.AuditRow, error] {
	return func(yield func(store.AuditRow, error) bool) {
		next := from
		for {
			page, err := s.auditPage(ctx, tenant, next)
			if err != nil {
				yield(store.AuditRow{}, err)
				return
			}
			for _, r := range page {
				if !yield(r, nil) {
					return
				}
			}
			if len(page) < auditPage {
				return
			}
			next = page[len(page)-1].Seq + 1
		}
	}
}

func (s *Store) auditPage(ctx context.Context, tenant string, from uint64) ([]store.AuditRow, error) {
	if from > 1<<63-1 {
		return nil, nil
	}
	rows, err := s.r.QueryContext(ctx, "SELECT "+auditColumns+" FROM audit_entries WHERE tenant = ? AND seq >= ? ORDER BY seq LIMIT ?", tenant, int64(from), auditPage)
	if err != nil {
		return nil, fmt.Errorf("sqlite: reading audit entries from %d: %w", from, err)
	}
	defer rows.Close()
	out := make([]store.AuditRow, 0, auditPage)
	for rows.Next() {
		r, err := scanAudit(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: reading audit entries from %d: %w", from, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: reading audit entries from %d: %w", from, err)
	}
	return out, nil
}
