package postgres

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

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

func fromNullNanos(n *int64) time.Time {
	if n == nil {
		return time.Time{}
	}
	return time.Unix(0, *n).UTC()
}

// fail adds context to err, marks deadlocks and serialization failures as
// store.ErrConflict, and removes any password from the message.
func (s *Store) fail(err error, format string, args ...any) error {
	err = s.scrub(err)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001") {
		return fmt.Errorf("postgres: "+format+": %w: %w", append(args, store.ErrConflict, err)...)
	}
	return fmt.Errorf("postgres: "+format+": %w", append(args, err)...)
}

const noticeColumns = "id, tenant, party, state, severity, contact, created_at, notified_at, deadline, delivered_at, doc"

func scanNotice(sc interface{ Scan(...any) error }) (store.NoticeRow, error) {
	var n store.NoticeRow
	var created, notified, deadline, delivered *int64
	var doc []byte
	if err := sc.Scan(&n.ID, &n.Tenant, &n.Party, &n.State, &n.Severity, &n.Contact, &created, &notified, &deadline, &delivered, &doc); err != nil {
		return store.NoticeRow{}, err
	}
	n.CreatedAt, n.NotifiedAt = fromNullNanos(created), fromNullNanos(notified)
	n.Deadline, n.DeliveredAt = fromNullNanos(deadline), fromNullNanos(delivered)
	n.Doc = doc
	return n, nil
}

// noticeArgs returns n's columns after id, text made safe for PostgreSQL.
func noticeArgs(n store.NoticeRow) []any {
	return []any{textSafe(n.Tenant), textSafe(n.Party), textSafe(n.State), textSafe(n.Severity), textSafe(n.Contact),
		nullNanos(n.CreatedAt), nullNanos(n.NotifiedAt), nullNanos(n.Deadline), nullNanos(n.DeliveredAt), string(jsonbSafe(n.Doc))}
}

// CreateNotice stores a new notice.
func (s *Store) CreateNotice(ctx context.Context, n store.NoticeRow) error {
	tag, err := s.pool.Exec(ctx, "INSERT INTO notices ("+noticeColumns+") VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11::json) ON CONFLICT (id) DO NOTHING",
		append([]any{textSafe(n.ID)}, noticeArgs(n)...)...)
	if err != nil {
		return s.fail(err, "creating notice %s", n.ID)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: creating notice %s: %w", n.ID, store.ErrExists)
	}
	return nil
}

// Notice returns one notice.
func (s *Store) Notice(ctx context.Context, id string) (store.NoticeRow, error) {
	n, err := scanNotice(s.pool.QueryRow(ctx, "SELECT "+noticeColumns+" FROM notices WHERE id = $1", textSafe(id)))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.NoticeRow{}, fmt.Errorf("postgres: notice %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.NoticeRow{}, s.fail(err, "reading notice %s", id)
	}
	return n, nil
}

// UpdateNotice reads the notice with SELECT … FOR UPDATE, changes it and
// writes it back in one transaction: the row stays locked until the
// transaction ends, so concurrent updates of one notice take turns.
func (s *Store) UpdateNotice(ctx context.Context, id string, fn func(store.NoticeRow) (store.NoticeRow, error)) (store.NoticeRow, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return store.NoticeRow{}, s.fail(err, "begin")
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) // after Commit, a no-op
	cur, err := scanNotice(tx.QueryRow(ctx, "SELECT "+noticeColumns+" FROM notices WHERE id = $1 FOR UPDATE", textSafe(id)))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.NoticeRow{}, fmt.Errorf("postgres: notice %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.NoticeRow{}, s.fail(err, "reading notice %s", id)
	}
	next, err := fn(cur)
	if err != nil {
		return store.NoticeRow{}, err
	}
	next.ID = id
	if _, err := tx.Exec(ctx, `UPDATE notices SET tenant = $2, party = $3, state = $4, severity = $5, contact = $6, created_at = $7, notified_at = $8,
		deadline = $9, delivered_at = $10, doc = $11::json WHERE id = $1`, append([]any{textSafe(id)}, noticeArgs(next)...)...); err != nil {
		return store.NoticeRow{}, s.fail(err, "updating notice %s", id)
	}
	if err := tx.Commit(ctx); err != nil {
		return store.NoticeRow{}, s.fail(err, "updating notice %s", id)
	}
	return next, nil
}

// DueNotices returns the open notices that are undelivered or overdue.
func (s *Store) DueNotices(ctx context.Context, now time.Time) ([]store.NoticeRow, error) {
	// the state is spelt out so that the partial index notices_open applies
	return s.notices(ctx, "due notices", "SELECT "+noticeColumns+" FROM notices WHERE state = '"+store.NoticeOpen+"'"+
		" AND (delivered_at IS NULL OR deadline <= $1) ORDER BY notified_at NULLS FIRST, id", nullNanos(now))
}

// ListNotices lists notices, newest first.
func (s *Store) ListNotices(ctx context.Context, q store.NoticeQuery) ([]store.NoticeRow, error) {
	c := &conds{}
	for _, f := range []struct{ col, v string }{{"tenant", q.Tenant}, {"party", q.Party}, {"state", q.State}} {
		if f.v != "" {
			c.add(f.col+" = $1?", textSafe(f.v))
		}
	}
	query := "SELECT " + noticeColumns + " FROM notices"
	if len(c.where) > 0 {
		query += " WHERE " + strings.Join(c.where, " AND ")
	}
	query += " ORDER BY created_at DESC NULLS LAST, id"
	if q.Limit > 0 {
		query += fmt.Sprintf(" LIMIT %d", q.Limit)
	}
	return s.notices(ctx, "listing notices", query, c.args...)
}

func (s *Store) notices(ctx context.Context, what, query string, args ...any) ([]store.NoticeRow, error) {
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, s.fail(err, "%s", what)
	}
	defer rows.Close()
	var out []store.NoticeRow
	for rows.Next() {
		n, err := scanNotice(rows)
		if err != nil {
			return nil, s.fail(err, "%s", what)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail(err, "%s", what)
	}
	return out, nil
}
