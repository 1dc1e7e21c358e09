package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/canopy-sec/canopy/internal/store"
)

const sessionColumns = "hash, kind, token_hash, created_at, expires_at"

func scanSession(sc interface{ Scan(...any) error }) (store.Session, error) {
	var s store.Session
	var created, expires int64
	err := sc.Scan(&s.Hash, &s.Kind, &s.TokenHash, &created, &expires)
	s.CreatedAt, s.ExpiresAt = time.UnixMilli(created).UTC(), time.UnixMilli(expires).UTC()
	return s, err
}

// CreateSession stores a console session or sign-in link.
func (s *Store) CreateSession(ctx context.Context, ss store.Session) error {
	if err := ss.Validate(); err != nil {
		return fmt.Errorf("sqlite: creating a session: %w", err)
	}
	_, err := s.w.ExecContext(ctx, "INSERT INTO sessions ("+sessionColumns+") VALUES (?,?,?,?,?)",
		ss.Hash, ss.Kind, ss.TokenHash, ss.CreatedAt.UnixMilli(), ss.ExpiresAt.UnixMilli())
	if err != nil {
		if strings.Contains(err.Error(), "UNIQUE") || strings.Contains(err.Error(), "PRIMARY KEY") {
			return fmt.Errorf("sqlite: creating a %s: %w", ss.Kind, store.ErrExists)
		}
		return fmt.Errorf("sqlite: creating a %s: %w", ss.Kind, err)
	}
	s.kickCheckpoint()
	return nil
}

// Session returns an unexpired session.
func (s *Store) Session(ctx context.Context, hash string, now time.Time) (store.Session, error) {
	ss, err := scanSession(s.r.QueryRowContext(ctx, "SELECT "+sessionColumns+" FROM sessions WHERE hash = ? AND kind = ? AND expires_at > ?",
		hash, store.SessionKindSession, now.UnixMilli()))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Session{}, fmt.Errorf("sqlite: session: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.Session{}, fmt.Errorf("sqlite: reading a session: %w", err)
	}
	return ss, nil
}

// ConsumeLink deletes an unexpired sign-in link and returns it, in one
// statement on the single writer connection.
func (s *Store) ConsumeLink(ctx context.Context, hash string, now time.Time) (store.Session, error) {
	ss, err := scanSession(s.w.QueryRowContext(ctx, "DELETE FROM sessions WHERE hash = ? AND kind = ? AND expires_at > ? RETURNING "+sessionColumns,
		hash, store.SessionKindLink, now.UnixMilli()))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Session{}, fmt.Errorf("sqlite: sign-in link: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.Session{}, fmt.Errorf("sqlite: consuming a sign-in link: %w", err)
	}
	s.kickCheckpoint()
	return ss, nil
}

// DeleteSession removes a session or link.
func (s *Store) DeleteSession(ctx context.Context, hash string) error {
	if _, err := s.w.ExecContext(ctx, "DELETE FROM sessions WHERE hash = ?", hash); err != nil {
		return fmt.Errorf("sqlite: deleting a session: %w", err)
	}
	s.kickCheckpoint()
	return nil
}

// DeleteExpiredSessions removes what expired at now.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.w.ExecContext(ctx, "DELETE FROM sessions WHERE expires_at <= ?", now.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("sqlite: deleting expired sessions: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlite: deleting expired sessions: %w", err)
	}
	if n > 0 {
		s.kickCheckpoint()
	}
	return n, nil
}
