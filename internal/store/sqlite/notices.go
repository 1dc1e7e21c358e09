package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/canopy-sec/canopy/internal/store"
)

// The bounds of a time in nanoseconds since 1970 as an int64.
var (
	minNanoTime = time.Unix(0, math.MinInt64)
	maxNanoTime = time.Unix(0, math.MaxInt64)
)

// nullNanos returns t in nanoseconds since 1970 (clamped to what an int64
// holds), or nil for the zero time.
func nullNanos(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	var n int64
	switch {
	case t.Before(minNanoTime):
		n = math.MinInt64
	case t.After(maxNanoTime):
		n = math.MaxInt64
	default:
		n = t.UnixNano()
	}
	return &n
}

func fromNullNanos(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.Unix(0, n.Int64).UTC()
}

const noticeColumns = "id, tenant, party, state, severity, contact, created_at, notified_at, deadline, delivered_at, doc"

func scanNotice(sc interface{ Scan(...any) error }) (store.NoticeRow, error) {
	var n store.NoticeRow
	var created, notified, deadline, delivered sql.NullInt64
	var doc []byte
	if err := sc.Scan(&n.ID, &n.Tenant, &n.Party, &n.State, &n.Severity, &n.Contact, &created, &notified, &deadline, &delivered, &doc); err != nil {
		return store.NoticeRow{}, err
	}
	n.CreatedAt, n.NotifiedAt = fromNullNanos(created), fromNullNanos(notified)
	n.Deadline, n.DeliveredAt = fromNullNanos(deadline), fromNullNanos(delivered)
	n.Doc = doc
	return n, nil
}

// CreateNotice stores a new notice.
func (s *Store) CreateNotice(ctx context.Context, n store.NoticeRow) error {
	res, err := s.w.ExecContext(ctx, "INSERT INTO notices ("+noticeColumns+") VALUES (?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (id) DO NOTHING",
		n.ID, n.Tenant, n.Party, n.State, n.Severity, n.Contact, nullNanos(n.CreatedAt), nullNanos(n.NotifiedAt),
		nullNanos(n.Deadline), nullNanos(n.DeliveredAt), []byte(n.Doc))
	if err != nil {
		return fmt.Errorf("sqlite: creating notice %s: %w", n.ID, err)
	}
	added, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlite: creating notice %s: %w", n.ID, err)
	}
	if added == 0 {
		return fmt.Errorf("sqlite: creating notice %s: %w", n.ID, store.ErrExists)
	}
	s.kickCheckpoint()
	return nil
}

// Notice returns one notice.
func (s *Store) Notice(ctx context.Context, id string) (store.NoticeRow, error) {
	n, err := scanNotice(s.r.QueryRowContext(ctx, "SELECT "+noticeColumns+" FROM notices WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.NoticeRow{}, fmt.Errorf("sqlite: notice %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.NoticeRow{}, fmt.Errorf("sqlite: reading notice %s: %w", id, err)
	}
	return n, nil
}

// UpdateNotice reads, changes and writes one notice in a transaction on
// the writer connection: it begins IMMEDIATE, so the database is locked
// for writing from the read on, and concurrent updates take turns.
func (s *Store) UpdateNotice(ctx context.Context, id string, fn func(store.NoticeRow) (store.NoticeRow, error)) (store.NoticeRow, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return store.NoticeRow{}, fmt.Errorf("sqlite: begin: %w", err)
	}
	defer tx.Rollback() // after Commit, a no-op
	cur, err := scanNotice(tx.QueryRowContext(ctx, "SELECT "+noticeColumns+" FROM notices WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.NoticeRow{}, fmt.Errorf("sqlite: notice %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.NoticeRow{}, fmt.Errorf("sqlite: reading notice %s: %w", id, err)
	}
	next, err := fn(cur)
	if err != nil {
		return store.NoticeRow{}, err
	}
	next.ID = id
	if _, err := tx.ExecContext(ctx, `UPDATE notices SET tenant = ?, party = ?, state = ?, severity = ?, contact = ?, created_at = ?, notified_at = ?,
		deadline = ?, delivered_at = ?, doc = ? WHERE id = ?`, next.Tenant, next.Party, next.State, next.Severity, next.Contact,
		nullNanos(next.CreatedAt), nullNanos(next.NotifiedAt), nullNanos(next.Deadline), nullNanos(next.DeliveredAt), []byte(next.Doc), id); err != nil {
		return store.NoticeRow{}, fmt.Errorf("sqlite: updating notice %s: %w", id, err)
	}
	if err := tx.Commit(); err != nil {
		return store.NoticeRow{}, fmt.Errorf("sqlite: updating notice %s: %w", id, err)
	}
	s.kickCheckpoint()
	return next, nil
}

// DueNotices returns the open notices that are undelivered or overdue.
func (s *Store) DueNotices(ctx context.Context, now time.Time) ([]store.NoticeRow, error) {
	// the state is spelt out so that the partial index notices_open applies
	return s.notices(ctx, "due notices", "SELECT "+noticeColumns+" FROM notices WHERE state = '"+store.NoticeOpen+"'"+
		" AND (delivered_at IS NULL OR deadline <= ?) ORDER BY notified_at NULLS FIRST, id", nullNanos(now))
}

// ListNotices lists notices, newest first.
func (s *Store) ListNotices(ctx context.Context, q store.NoticeQuery) ([]store.NoticeRow, error) {
	var where []string
	var args []any
	for _, f := range []struct{ col, v string }{{"tenant", q.Tenant}, {"party", q.Party}, {"state", q.State}} {
		if f.v != "" {
			where = append(where, f.col+" = ?")
			args = append(args, f.v)
		}
	}
	query := "SELECT " + noticeColumns + " FROM notices"
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY created_at DESC NULLS LAST, id"
	if q.Limit > 0 {
		query += " LIMIT ?"
		args = append(args, q.Limit)
	}
	return s.notices(ctx, "listing notices", query, args...)
}

func (s *Store) notices(ctx context.Context, what, query string, args ...any) ([]store.NoticeRow, error) {
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", what, err)
	}
	defer rows.Close()
	var out []store.NoticeRow
	for rows.Next() {
		n, err := scanNotice(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: %s: %w", what, err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", what, err)
	}
	return out, nil
}
