// Package pgtest gives tests a throw-away PostgreSQL database: a uniquely
// named database created through the maintenance database and dropped when
// the test ends.
//
// The maintenance database's URL is $CANOPY_TEST_POSTGRES, default
// [DefaultURL]. When PostgreSQL cannot be reached the test is skipped, or
// fails if $CI is set, so that CI never passes by skipping. Only tests use
// this package.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/canopy-sec/canopy/internal/store/postgres"
)

// DefaultURL is the maintenance database used when $CANOPY_TEST_POSTGRES is
// not set.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// BaseURL returns the maintenance database's URL.
func BaseURL() string {
	if u := os.Getenv("CANOPY_TEST_POSTGRES"); u != "" {
		return u
	}
	return DefaultURL
}

// NewDatabase creates an empty database (UTF8) and returns its URL; the
// database is dropped, connections and all, when tb ends.
func NewDatabase(tb testing.TB) string {
	tb.Helper()
	base := BaseURL()
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		tb.Fatalf("$CANOPY_TEST_POSTGRES must be a postgres:// URL, got %s", postgres.Redact(base))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := connect(ctx, base)
	if err != nil {
		msg := "PostgreSQL is unreachable at " + postgres.Redact(base) + " (set $CANOPY_TEST_POSTGRES to the URL of a maintenance database): " + err.Error()
		if os.Getenv("CI") != "" {
			tb.Fatal(msg)
		}
		tb.Skip(msg)
	}
	defer admin.Close(context.Background())
	var b [8]byte
	rand.Read(b[:])
	name := "canopy_test_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name+" TEMPLATE template0 ENCODING 'UTF8'"); err != nil {
		tb.Fatalf("creating test database %s: %v", name, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		admin, err := connect(ctx, base)
		if err != nil {
			tb.Errorf("dropping test database %s: %v", name, err)
			return
		}
		defer admin.Close(context.Background())
		if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			tb.Errorf("dropping test database %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	return u.String()
}

func connect(ctx context.Context, conn string) (*pgx.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return pgx.Connect(ctx, conn)
}
