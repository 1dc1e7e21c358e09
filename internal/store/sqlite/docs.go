package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/canopy-sec/canopy/internal/store"
)

// CreateDoc stores a new document.
func (s *Store) CreateDoc(ctx context.Context, kind, tenant, id string, doc []byte) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO docs (kind, tenant, id, seq, doc)
		VALUES (?, ?, ?, (SELECT coalesce(max(seq), 0) + 1 FROM docs), ?)`, kind, tenant, id, doc)
	if err != nil {
		if strings.Contains(err.Error(), "UNIQUE") || strings.Contains(err.Error(), "PRIMARY KEY") {
			return fmt.Errorf("sqlite: %s %s: %w", kind, id, store.ErrExists)
		}
		return fmt.Errorf("sqlite: storing %s %s: %w", kind, id, err)
	}
	s.kickCheckpoint()
	return nil
}

// Doc returns a document.
func (s *Store) Doc(ctx context.Context, kind, tenant, id string) ([]byte, error) {
	var doc []byte
	err := s.r.QueryRowContext(ctx, "SELECT doc FROM docs WHERE kind = ? AND tenant = ? AND id = ?", kind, tenant, id).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlite: %s %s: %w", kind, id, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: reading %s %s: %w", kind, id, err)
	}
	return doc, nil
}

// UpdateDoc updates a document atomically in the writer's transaction.
func (s *Store) UpdateDoc(ctx context.Context, kind, tenant, id string, create bool, fn func([]byte) ([]byte, error)) ([]byte, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("sqlite: begin: %w", err)
	}
	defer tx.Rollback() // after Commit, a no-op
	var cur []byte
	err = tx.QueryRowContext(ctx, "SELECT doc FROM docs WHERE kind = ? AND tenant = ? AND id = ?", kind, tenant, id).Scan(&cur)
	exists := err == nil
	switch {
	case errors.Is(err, sql.ErrNoRows) && !create:
		return nil, fmt.Errorf("sqlite: %s %s: %w", kind, id, store.ErrNotFound)
	case err != nil && !errors.Is(err, sql.ErrNoRows):
		return nil, fmt.Errorf("sqlite: reading %s %s: %w", kind, id, err)
	}
	next, err := fn(cur)
	if err != nil {
		return nil, err
	}
	if exists {
		_, err = tx.ExecContext(ctx, "UPDATE docs SET doc = ? WHERE kind = ? AND tenant = ? AND id = ?", next, kind, tenant, id)
	} else {
		_, err = tx.ExecContext(ctx, "INSERT INTO docs (kind, tenant, id, seq, doc) VALUES (?, ?, ?, (SELECT coalesce(max(seq), 0) + 1 FROM docs), ?)", kind, tenant, id, next)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: updating %s %s: %w", kind, id, err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("sqlite: updating %s %s: %w", kind, id, err)
	}
	s.kickCheckpoint()
	return next, nil
}

// ListDocs returns the tenant's documents of a kind, oldest first.
func (s *Store) ListDocs(ctx context.Context, kind, tenant string) ([][]byte, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT doc FROM docs WHERE kind = ? AND tenant = ? ORDER BY seq", kind, tenant)
	if err != nil {
		return nil, fmt.Errorf("sqlite: listing %s: %w", kind, err)
	}
	defer rows.Close()
	var out [][]byte
	for rows.Next() {
		var d []byte
		if err := rows.Scan(&d); err != nil {
			return nil, fmt.Errorf("sqlite: listing %s: %w", kind, err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// DocTenants implements store.Docs.
func (s *Store) DocTenants(ctx context.Context, kind string) ([]string, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT DISTINCT tenant FROM docs WHERE kind = ? ORDER BY tenant", kind)
	if err != nil {
		return nil, fmt.Errorf("sqlite: tenants of %s: %w", kind, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, fmt.Errorf("sqlite: tenants of %s: %w", kind, err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}
