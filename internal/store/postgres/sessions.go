package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/canopy-sec/canopy/internal/store"
)

const sessionColumns = "hash, kind, token_hash, created_at, expires_at"

func scanSession(sc pgx.Row) (store.Session, error) {
	var s store.Session
	err := sc.Scan(&s.Hash, &s.Kind, &s.TokenHash, &s.CreatedAt, &s.ExpiresAt)
	s.CreatedAt, s.ExpiresAt = s.CreatedAt.UTC(), s.ExpiresAt.UTC()
	return s, err
}

// CreateSession stores a console session or sign-in link.
func (s *Store) CreateSession(ctx context.Context, ss store.Session) error {
	if err := ss.Validate(); err != nil {
		return fmt.Errorf("postgres: creating a session: %w", err)
	}
	_, err := s.pool.Exec(ctx, "INSERT INTO sessions ("+sessionColumns+") VALUES ($1, $2, $3, $4, $5)",
		textSafe(ss.Hash), ss.Kind, textSafe(ss.TokenHash), ms(ss.CreatedAt), ms(ss.ExpiresAt))
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		return fmt.Errorf("postgres: creating a %s: %w", ss.Kind, store.ErrExists)
	}
	if err != nil {
		return fmt.Errorf("postgres: creating a %s: %w", ss.Kind, s.scrub(err))
	}
	return nil
}

// Session returns an unexpired session.
func (s *Store) Session(ctx context.Context, hash string, now time.Time) (store.Session, error) {
	ss, err := scanSession(s.pool.QueryRow(ctx, "SELECT "+sessionColumns+" FROM sessions WHERE hash = $1 AND kind = $2 AND expires_at > $3",
		textSafe(hash), store.SessionKindSession, ms(now)))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Session{}, fmt.Errorf("postgres: session: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.Session{}, fmt.Errorf("postgres: reading a session: %w", s.scrub(err))
	}
	return ss, nil
}

// ConsumeLink deletes an unexpired sign-in link and returns it, in one
// statement: of two concurrent calls, the second waits for the first's
// row lock and then finds the row gone.
func (s *Store) ConsumeLink(ctx context.Context, hash string, now time.Time) (store.Session, error) {
	ss, err := scanSession(s.pool.QueryRow(ctx, "DELETE FROM sessions WHERE hash = $1 AND kind = $2 AND expires_at > $3 RETURNING "+sessionColumns,
		textSafe(hash), store.SessionKindLink, ms(now)))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Session{}, fmt.Errorf("postgres: sign-in link: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.Session{}, fmt.Errorf("postgres: consuming a sign-in link: %w", s.scrub(err))
	}
	return ss, nil
}

// DeleteSession removes a session or link.
func (s *Store) DeleteSession(ctx context.Context, hash string) error {
	if _, err := s.pool.Exec(ctx, "DELETE FROM sessions WHERE hash = $1", textSafe(hash)); err != nil {
		return fmt.Errorf("postgres: deleting a session: %w", s.scrub(err))
	}
	return nil
}

// DeleteExpiredSessions removes what expired at now.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, "DELETE FROM sessions WHERE expires_at <= $1", ms(now))
	if err != nil {
		return 0, fmt.Errorf("postgres: deleting expired sessions: %w", s.scrub(err))
	}
	return tag.RowsAffected(), nil
}
