package postgres_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/canopy-sec/canopy/internal/store"
	"github.com/canopy-sec/canopy/internal/store/postgres"
	"github.com/canopy-sec/canopy/internal/store/postgres/pgtest"
	"github.com/canopy-sec/canopy/internal/store/storetest"
)

func open(t testing.TB) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestStore(t *testing.T) {
	tests := []struct{ name, params string }{
		{"default", ""},
		// what a pooler in transaction mode (PgBouncer) needs: no named
		// prepared statements, parameter types from the Go values
		{"exec-mode", "&default_query_exec_mode=exec"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) store.Store {
				s, err := postgres.Open(context.Background(), pgtest.NewDatabase(t)+tt.params)
				if err != nil {
					t.Fatal(err)
				}
				return s
			})
		})
	}
}

// TestRiskListingBounded runs the listings by risk with walks of a few
// issues, so that pages cross from the walk to the one-pass rest.
func TestRiskListingBounded(t *testing.T) {
	for _, n := range []int{1, 2, 3} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			defer postgres.SetRiskWalk(n)()
			storetest.RunRiskListing(t, func(t *testing.T) store.Store {
				s, err := postgres.Open(context.Background(), pgtest.NewDatabase(t))
				if err != nil {
					t.Fatal(err)
				}
				return s
			})
		})
	}
}

func TestReopenKeepsData(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabase(t)
	s, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateToken(ctx, store.Token{ID: "x", Name: "n", Tenant: "t", Role: store.RoleViewer, Hash: "h"}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	// a second Open finds the schema current and migrates nothing
	s, err = postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.TokenByHash(ctx, "h"); err != nil {
		t.Errorf("after reopen: %v", err)
	}
}

// TestConcurrentOpen opens one new database from several processes' worth
// of goroutines at once: the migration lock lets exactly one migrate.
func TestConcurrentOpen(t *testing.T) {
	url := pgtest.NewDatabase(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			s, err := postgres.Open(context.Background(), url)
			if err == nil {
				err = s.Ping(context.Background())
				s.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Open %d: %v", i, err)
		}
	}
}

// TestOpenErrorsHidePasswords checks that no error quotes a password.
func TestOpenErrorsHidePasswords(t *testing.T) {
	tests := []struct {
		name, conn string
	}{
		{"wrong port", "postgres://canopy:s3cr%2Ft-pw@127.0.0.1:1/canopy?sslmode=disable&connect_timeout=2"},
		{"password parameter", "postgres://canopy@127.0.0.1:1/canopy?password=s3cr%2Ft-pw&sslmode=disable&connect_timeout=2"},
		{"bad parameter", "postgres://canopy:s3cr%2Ft-pw@127.0.0.1:1/canopy?sslmode=bogus"},
		{"bad port", "postgres://canopy:s3cr%2Ft-pw@127.0.0.1:notaport/canopy"},
		{"keyword/value", "host=127.0.0.1 port=1 user=canopy password='s3cr/t-pw' connect_timeout=2 sslmode=disable"},
		{"unknown database", "postgres://postgres:s3cr%2Ft-pw@127.0.0.1:5432/canopy_no_such_database?sslmode=disable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := postgres.Open(context.Background(), tt.conn)
			if err == nil {
				s.Close()
				t.Skip("connected") // trust authentication ignores the password
			}
			for _, secret := range []string{"s3cr/t-pw", "s3cr%2Ft-pw", "s3cr%2ft-pw"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error quotes the password: %v", err)
				}
			}
		})
	}
}

// TestConcurrentWorkers applies the same 10,000 findings from two workers
// at once, each in its own batches (different batch ids, sizes and order,
// rows shuffled), as two bus workers given overlapping reports would. Every
// finding must end with count 2, be new exactly once, and its document must
// match its columns.
func TestConcurrentWorkers(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	defer s.Close()
	const n = 10_000
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	mk := func(worker string, sev int) []store.Row {
		rows := make([]store.Row, n)
		for i := range rows {
			sv := 2
			if i%2 == 0 {
				sv = sev // half the rows differ between the workers, so their documents change
			}
			rows[i] = store.Row{Tenant: "t", Fingerprint: fmt.Sprintf("fp%05d", i), ClassUID: 2002, SeverityID: sv, Product: "Trivy",
				Format: "trivy/1", SourceUID: fmt.Sprint(i), Title: "x", Time: t0, Seen: t0,
				OCSF: fmt.Appendf(nil, `{"severity_id":%d,"worker":%q,"i":%d}`, sv, worker, i)}
		}
		return rows
	}
	split := func(rows []store.Row, size int, reverse bool, seed uint64) [][]store.Row {
		var out [][]store.Row
		for i := 0; i < len(rows); i += size {
			b := slices.Clone(rows[i:min(i+size, len(rows))])
			if seed != 0 {
				r := rand.New(rand.NewPCG(seed, uint64(i)))
				r.Shuffle(len(b), func(i, j int) { b[i], b[j] = b[j], b[i] })
			}
			out = append(out, b)
		}
		if reverse {
			slices.Reverse(out)
		}
		return out
	}
	rowsA, rowsB := mk("a", 3), mk("b", 4)
	workers := []struct {
		name    string
		batches [][]store.Row
	}{
		{"a", split(rowsA, 500, false, 0)},
		{"b", split(rowsB, 700, true, 42)},
	}
	results := make([]store.UpsertResult, len(workers))
	errs := make([]error, len(workers))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for w, wk := range workers {
		wg.Go(func() {
			<-start
			for i, b := range wk.batches {
				r, err := applyBatch(ctx, s, fmt.Sprintf("%s-%d", wk.name, i), b)
				if err != nil {
					errs[w] = fmt.Errorf("worker %s batch %d: %w", wk.name, i, err)
					return
				}
				results[w].Add(r)
			}
		})
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	var total store.UpsertResult
	for _, r := range results {
		total.Add(r)
	}
	if total.New != n || total.Updated != n {
		t.Errorf("new+updated over both workers = %+v, want %d new and %d updated", total, n, n)
	}
	check := func(wantWorker string) {
		t.Helper()
		recs := listAll(t, s)
		if len(recs) != n {
			t.Fatalf("%d findings, want %d", len(recs), n)
		}
		bad := 0
		for _, r := range recs {
			var doc struct {
				Severity int    `json:"severity_id"`
				Worker   string `json:"worker"`
			}
			if err := json.Unmarshal(r.OCSF, &doc); err != nil {
				t.Fatalf("%s: %v", r.Fingerprint, err)
			}
			if r.Count != 2 || doc.Severity != r.SeverityID || (wantWorker != "" && doc.Worker != wantWorker) {
				if bad++; bad <= 5 {
					t.Errorf("%s: count %d, severity %d, document %s (want count 2, the document of the last write, worker %q)",
						r.Fingerprint, r.Count, r.SeverityID, r.OCSF, wantWorker)
				}
			}
		}
	}
	check("")
	if f, _, err := s.Counts(ctx, "t"); err != nil || f != n {
		t.Errorf("Counts = %d, %v; want %d", f, err, n)
	}
	// Applying worker a's rows again must leave every document a's: a
	// stored hash that disagreed with its document would skip the rewrite.
	if _, err := applyBatch(ctx, s, "a-again", rowsA); err != nil {
		t.Fatal(err)
	}
	recs := listAll(t, s)
	for _, r := range recs {
		var doc struct{ Worker string }
		json.Unmarshal(r.OCSF, &doc)
		if doc.Worker != "a" || r.Count != 3 {
			t.Fatalf("%s after re-applying a's rows: count %d, document %s", r.Fingerprint, r.Count, r.OCSF)
		}
	}
}

func applyBatch(ctx context.Context, s store.Store, id string, rows []store.Row) (store.UpsertResult, error) {
	a, err := s.Begin(ctx)
	if err != nil {
		return store.UpsertResult{}, err
	}
	defer a.Rollback()
	ok, err := a.Claim(ctx, id)
	if err != nil {
		return store.UpsertResult{}, err
	}
	if !ok {
		return store.UpsertResult{}, fmt.Errorf("batch %s already claimed", id)
	}
	r, err := a.UpsertFindings(ctx, rows)
	if err != nil {
		return r, err
	}
	return r, a.Commit()
}

func listAll(t *testing.T, s store.Store) []store.Record {
	t.Helper()
	var out []store.Record
	q := store.Query{Tenant: "t"}
	for {
		p, err := s.Findings(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p.Records...)
		if p.Next.IsZero() {
			return out
		}
		q.After = p.Next
	}
}
