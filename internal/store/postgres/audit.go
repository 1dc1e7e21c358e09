package postgres

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"time"

	"github.com/jackc/pgx/v5"

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
	r, err := scanAudit(s.pool.QueryRow(ctx, "SELECT "+auditColumns+" FROM audit_entries WHERE tenant = $1 ORDER BY seq DESC LIMIT 1", textSafe(tenant)))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.AuditRow{}, nil
	}
	if err != nil {
		return store.AuditRow{}, s.fail(err, "reading the last audit entry")
	}
	return r, nil
}

// AuditAppend adds an entry to its tenant's chain; the primary key
// (tenant, seq) refuses a taken sequence number. Text is stored as it is
// (store.CheckAudit refuses what PostgreSQL would not keep), details as
// bytea, never as jsonb.
func (s *Store) AuditAppend(ctx context.Context, r store.AuditRow) error {
	if err := store.CheckAudit(r); err != nil {
		return fmt.Errorf("postgres: appending: %w", err)
	}
	tag, err := s.pool.Exec(ctx, "INSERT INTO audit_entries ("+auditColumns+") VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11) ON CONFLICT (tenant, seq) DO NOTHING",
		r.Tenant, int64(r.Seq), r.Time.UnixMicro(), r.EntryTenant, r.Actor, r.Action, r.Object, nilIfEmpty(r.Details), r.Prev, r.Hash, nilIfEmpty(r.Sig))
	if err != nil {
		return s.fail(err, "appending audit entry %d", r.Seq)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: appending audit entry %d: the chain has one: %w", r.Seq, store.ErrConflict)
	}
	return nil
}

// nilIfEmpty stores an empty byte string as NULL, so that it reads back
// as nil.
func nilIfEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// AuditEntries yields the tenant's entries from seq from on, a page at a
// time: each page is read whole, and its connection returned to the pool,
// before its entries are yielded.
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
	rows, err := s.pool.Query(ctx, fmt.Sprintf("SELECT %s FROM audit_entries WHERE tenant = $1 AND seq >= $2 ORDER BY seq LIMIT %d", auditColumns, auditPage),
		textSafe(tenant), int64(from))
	if err != nil {
		return nil, s.fail(err, "reading audit entries from %d", from)
	}
	defer rows.Close()
	out := make([]store.AuditRow, 0, auditPage)
	for rows.Next() {
		r, err := scanAudit(rows)
		if err != nil {
			return nil, s.fail(err, "reading audit entries from %d", from)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail(err, "reading audit entries from %d", from)
	}
	return out, nil
}
