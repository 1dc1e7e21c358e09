package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/canopy-sec/canopy/internal/store"
)

// defaultCompactAfter is how many delta rows of one tenant in one counter
// table make a read compact them (see migration 00009): a read sums at
// most about this many rows more than the table's distinct keys.
const defaultCompactAfter = 2000

// compactLockClass is the first key of the advisory locks that let one
// compaction at a time run per counter table and tenant (the second key is
// a hash of both); two-key advisory locks never clash with the one-key
// migration lock.
const compactLockClass int32 = 0x0c07

// counterTables returns the delta tables of migration 00009 and their
// keys, in the order Stats reads them.
func counterTables() [3]struct{ name, keys string } {
	return [3]struct{ name, keys string }{
		{"finding_counts", "severity_id, product, party"},
		{"finding_days", "day, severity_id"},
		{"event_counts", ""},
	}
}

// Stats reads the tenant's summary by summing the delta rows the triggers
// of migration 00009 append, and the risk distribution from the score
// index of issue_risks, in one read-only snapshot. Afterwards it compacts
// the counter tables in which it summed more than compactAfter rows.
func (s *Store) Stats(ctx context.Context, tenant string, since time.Time) (store.Stats, error) {
	t := textSafe(tenant)
	st := store.Stats{BySeverity: map[int]int64{}, BySource: map[string]int64{}, ByParty: map[string]int64{}}
	var summed [3]int64 // delta rows read, per counterTables entry
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		var b pgx.Batch
		b.Queue("SELECT severity_id, product, party, sum(n)::bigint, count(*) FROM finding_counts WHERE tenant = $1 GROUP BY severity_id, product, party", t).
			Query(func(rows pgx.Rows) error {
				var sev int32
				var product, party string
				var n, k int64
				_, err := pgx.ForEachRow(rows, []any{&sev, &product, &party, &n, &k}, func() error {
					summed[0] += k
					if n != 0 {
						st.Findings += n
						st.BySeverity[int(sev)] += n
						st.BySource[product] += n
						st.ByParty[party] += n
					}
					return nil
				})
				return err
			})
		// every day, not only those since: the count of delta rows decides compaction
		b.Queue("SELECT day, severity_id, sum(n)::bigint, count(*) FROM finding_days WHERE tenant = $1 GROUP BY day, severity_id ORDER BY day, severity_id", t).
			Query(func(rows pgx.Rows) error {
				var day time.Time
				var sev int32
				var n, k int64
				from := since.UTC().Truncate(24 * time.Hour)
				_, err := pgx.ForEachRow(rows, []any{&day, &sev, &n, &k}, func() error {
					summed[1] += k
					if n == 0 || day.Before(from) {
						return nil
					}
					d := time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, time.UTC)
					if len(st.Days) == 0 || !st.Days[len(st.Days)-1].Day.Equal(d) {
						st.Days = append(st.Days, store.DayStat{Day: d, BySeverity: map[int]int64{}})
					}
					st.Days[len(st.Days)-1].BySeverity[int(sev)] += n
					return nil
				})
				return err
			})
		b.Queue("SELECT coalesce(sum(n), 0)::bigint, count(*) FROM event_counts WHERE tenant = $1", t).QueryRow(func(row pgx.Row) error {
			return row.Scan(&st.Events, &summed[2])
		})
		b.Queue("SELECT count(*) FROM incidents WHERE tenant = $1", t).QueryRow(func(row pgx.Row) error {
			return row.Scan(&st.Incidents)
		})
		// ten range counts on the (tenant, score) index (index-only scans):
		// three times faster than one pass grouping by bucket
		b.Queue(riskBucketsSQL(), t).QueryRow(func(row pgx.Row) error {
			counts := make([]any, len(st.RiskBuckets))
			for i := range st.RiskBuckets {
				counts[i] = &st.RiskBuckets[i]
			}
			if err := row.Scan(counts...); err != nil {
				return err
			}
			for _, n := range st.RiskBuckets {
				st.Issues += n
			}
			return nil
		})
		return tx.SendBatch(ctx, &b).Close()
	})
	if err != nil {
		return store.Stats{}, fmt.Errorf("postgres: stats of %s: %w", tenant, s.scrub(err))
	}
	for i, tb := range counterTables() {
		if summed[i] > s.compactAfter {
			if err := s.compact(ctx, tb.name, tb.keys, t); err != nil {
				return store.Stats{}, err
			}
		}
	}
	return st, nil
}

// compact replaces a tenant's delta rows in a counter table with one row
// per key, in one statement, unless another compaction of them is running
// (then it leaves them to it). Writers only ever insert deltas, so they
// never wait for a compaction nor a compaction for them; the DELETE takes
// only the rows its snapshot sees and the INSERT adds their sums in the
// same transaction, so every delta is counted once, before or after.
func (s *Store) compact(ctx context.Context, table, keys, tenant string) error {
	cols, group := "tenant, n", ""
	sel := "$1::text, sum(n)"
	if keys != "" {
		cols, sel, group = "tenant, "+keys+", n", "$1::text, "+keys+", sum(n)", " GROUP BY "+keys
	}
	q := "WITH d AS (DELETE FROM " + table + " WHERE tenant = $1 RETURNING " + cols + ")" +
		" INSERT INTO " + table + " (" + cols + ") SELECT " + sel + " FROM d" + group + " HAVING sum(n) <> 0"
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, func(tx pgx.Tx) error {
		// two compactions deleting the same rows could lock them in
		// different orders and deadlock; one at a time cannot
		var mine bool
		if err := tx.QueryRow(ctx, "SELECT pg_try_advisory_xact_lock($1, hashtext($2))", compactLockClass, table+"/"+tenant).Scan(&mine); err != nil || !mine {
			return err
		}
		_, err := tx.Exec(ctx, q, tenant)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: compacting %s of %s: %w", table, tenant, s.scrub(err))
	}
	return nil
}

// riskBucketsSQL counts a tenant's issue risks in each score range.
func riskBucketsSQL() string {
	var parts []string
	for _, cond := range store.RiskBucketRanges("score") {
		parts = append(parts, "(SELECT count(*) FROM issue_risks WHERE tenant = $1 AND "+cond+")")
	}
	return "SELECT " + strings.Join(parts, ", ")
}
