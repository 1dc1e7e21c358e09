package main

import (
	"context"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	json "github.com/goccy/go-json"

	"github.com/canopy-sec/canopy/internal/api"
	"github.com/canopy-sec/canopy/internal/store"
	"github.com/canopy-sec/canopy/internal/store/postgres/pgtest"
	"github.com/canopy-sec/canopy/internal/store/sqlite"
	"github.com/canopy-sec/canopy/internal/store/storetest"
)

// TestMigrateRoundTrip copies a SQLite store to PostgreSQL and back to a new
// SQLite store: the findings listing, every table's count and the tokens
// survive.
func TestMigrateRoundTrip(t *testing.T) {
	ctx := context.Background()
	const password = "hunter2-not-needed"
	pg := strings.Replace(pgtest.NewDatabase(t), "postgres@", "postgres:"+password+"@", 1) // trust auth ignores it
	data1, data2 := t.TempDir(), t.TempDir()
	db1, db2 := filepath.Join(data1, "canopy.db"), filepath.Join(data2, "canopy.db")

	if r := canopy(t, "", "ingest", "--data", data1, "testdata/image-alpine-3.10.json"); r.code != 0 {
		t.Fatalf("ingest: %+v", r)
	}
	r := canopy(t, "", "token", "create", "--data", data1, "--name", "ci", "--role", "admin")
	if r.code != 0 {
		t.Fatalf("token create: %+v", r)
	}
	secret := strings.TrimSpace(r.stdout)
	// events, jobs, applied batches and a revoked token too
	s1, err := sqlite.Open(ctx, db1)
	if err != nil {
		t.Fatal(err)
	}
	storetest.Fill(t, s1)
	s1.Close()

	r = canopy(t, "", "migrate", "--from", "sqlite:"+db1, "--to", pg)
	if r.code != 0 || !strings.Contains(r.stdout, "every table's row count verified") {
		t.Fatalf("migrate to postgres: %+v", r)
	}
	if strings.Contains(r.stdout+r.stderr, password) {
		t.Errorf("migrate printed the password:\n%s\n%s", r.stdout, r.stderr)
	}
	// a non-empty destination is refused, and with --force the clashing
	// keys fail the copy, which leaves the destination as it was
	r = canopy(t, "", "migrate", "--from", "sqlite:"+db1, "--to", pg)
	if r.code != exitError || !strings.Contains(r.stderr, "not empty") || !strings.Contains(r.stderr, "--force") {
		t.Errorf("migrate into a non-empty store: %+v", r)
	}
	r = canopy(t, "", "migrate", "--force", "--from", "sqlite:"+db1, "--to", pg)
	if r.code != exitError || !strings.Contains(r.stderr, "destination is unchanged") || strings.Contains(r.stderr, password) {
		t.Errorf("migrate --force over the same rows: %+v", r)
	}

	r = canopy(t, "", "migrate", "--from", pg, "--to", "sqlite:"+db2)
	if r.code != 0 {
		t.Fatalf("migrate back to sqlite: %+v", r)
	}

	list := func(data string) []any {
		t.Helper()
		r := canopy(t, "", "findings", "--data", data, "--output", "json", "--limit", "0")
		if r.code != 0 {
			t.Fatalf("findings: %+v", r)
		}
		var out []any
		if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	l1, l2 := list(data1), list(data2)
	if len(l1) == 0 || !reflect.DeepEqual(l1, l2) {
		t.Errorf("findings differ after the round trip: %d, then %d", len(l1), len(l2))
	}

	s1, err = sqlite.Open(ctx, db1)
	if err != nil {
		t.Fatal(err)
	}
	defer s1.Close()
	s2, err := sqlite.Open(ctx, db2)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	c1, _ := s1.TableCounts(ctx)
	c2, _ := s2.TableCounts(ctx)
	if !reflect.DeepEqual(c1, c2) {
		t.Errorf("table counts %v, then %v", c1, c2)
	}
	storetest.SameContents(t, s1, s2)
	if tok, err := s2.TokenByHash(ctx, api.HashToken(secret)); err != nil || tok.Name != "ci" || tok.Role != store.RoleAdmin {
		t.Errorf("the token does not authenticate after the round trip: %+v, %v", tok, err)
	}
}

func TestMigrateUsage(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"no flags", nil, exitUsage, "needs --from and --to"},
		{"no to", []string{"--from", "sqlite:x.db"}, exitUsage, "needs --from and --to"},
		{"unknown store", []string{"--from", "mysql://h/db", "--to", "sqlite:x.db"}, exitUsage, `unknown store "mysql"`},
		{"bare path", []string{"--from", "x.db", "--to", "sqlite:y.db"}, exitUsage, "want sqlite:PATH"},
		{"empty path", []string{"--from", "sqlite:", "--to", "sqlite:y.db"}, exitUsage, "needs a path"},
		{"same store", []string{"--from", "sqlite:" + dir + "/a.db", "--to", "sqlite:" + dir + "/../" + filepath.Base(dir) + "/a.db"}, exitUsage, "same store"},
		{"missing source", []string{"--from", "sqlite:" + dir + "/missing.db", "--to", "sqlite:" + dir + "/b.db"}, exitError, "no SQLite database at"},
		{"argument", []string{"extra", "--from", "sqlite:a", "--to", "sqlite:b"}, exitUsage, "takes 0 argument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := canopy(t, "", append([]string{"migrate"}, tt.args...)...)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.msg) {
				t.Errorf("got code %d, stderr %q; want %d and %q", r.code, r.stderr, tt.code, tt.msg)
			}
			if strings.Contains(r.stderr, "pw-secret") {
				t.Errorf("printed a password: %s", r.stderr)
			}
		})
	}
}

func TestMigrateUnreachableDestination(t *testing.T) {
	src := filepath.Join(t.TempDir(), "canopy.db")
	s, err := sqlite.Open(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	r := canopy(t, "", "migrate", "--from", "sqlite:"+src, "--to", "postgres://u:pw-secret@127.0.0.1:1/db?connect_timeout=2")
	if r.code != exitError || !strings.Contains(r.stderr, "postgres://u:xxxxx@127.0.0.1:1/db") || strings.Contains(r.stderr, "pw-secret") {
		t.Errorf("unreachable destination: %+v", r)
	}
}

func TestVerifyCounts(t *testing.T) {
	tests := []struct {
		name   string
		counts []tableCount
		msg    string // "" for no error
	}{
		{"equal", []tableCount{{table: "findings", source: 5, copied: 5, after: 5}, {table: "tokens"}}, ""},
		{"into a non-empty store", []tableCount{{table: "tokens", source: 2, copied: 2, before: 3, after: 5}}, ""},
		{"lost rows", []tableCount{{table: "findings", source: 5, copied: 5, after: 4}}, "findings: 5 rows copied but the destination gained 4"},
		{"source changed", []tableCount{{table: "events", source: 7, copied: 6, after: 6}}, "events: the source holds 7 rows but 6 were read"},
		{"several", []tableCount{{table: "findings", source: 1, copied: 1}, {table: "jobs", source: 1, copied: 1}}, "findings: 1 rows copied but the destination gained 0; jobs:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := verifyCounts(tt.counts)
			if (err == nil) != (tt.msg == "") || (err != nil && !strings.Contains(err.Error(), tt.msg)) {
				t.Errorf("verifyCounts = %v, want %q", err, tt.msg)
			}
		})
	}
}
