package store

import (
	"context"
	"strconv"
	"time"
)

// Stats is a tenant's summary, read from counters the store keeps as
// records change (triggers in the database), never from a scan of its
// findings or events. The risk distribution is counted on an index of the
// issue risks, ten index ranges (about 10 ms for 300,000 issues).
type Stats struct {
	Findings int64
	Events   int64
	// Issues counts the tenant's issues with a stored risk (issue_risks
	// rows): issues scored by correlation. An issue whose findings still
	// wait for correlation is not counted yet. It is the sum of
	// RiskBuckets.
	Issues int64
	// Incidents counts the tenant's stored incidents (they are few: one
	// per connected story, not per record).
	Incidents  int64
	BySeverity map[int]int64    // severity_id → findings
	BySource   map[string]int64 // product → findings
	ByParty    map[string]int64 // party ('' = not attributed yet) → findings
	// Days are the new findings per day of their first_seen (UTC), oldest
	// first, for days >= since only; days with none are omitted.
	Days []DayStat
	// RiskBuckets[i] counts the issues whose stored risk is in
	// [10i, 10i+9]; the last bucket includes 100 (a score outside 0..100
	// counts in the nearest bucket).
	RiskBuckets [10]int64
}

// DayStat is the new findings of one day (UTC midnight), by severity_id.
type DayStat struct {
	Day        time.Time
	BySeverity map[int]int64
}

// Summaries reads tenants' summaries.
type Summaries interface {
	// Stats returns the tenant's summary, with Days from the day of since
	// (UTC) on.
	Stats(ctx context.Context, tenant string, since time.Time) (Stats, error)
}

// RiskBucketRanges returns, for each of Stats.RiskBuckets, the condition on
// a score column that selects it: range conditions, which a (tenant,
// score) index answers by counting one range of entries each.
func RiskBucketRanges(col string) [10]string {
	var out [10]string
	for i := range out {
		switch i {
		case 0:
			out[i] = col + " < 10"
		case 9:
			out[i] = col + " >= 90"
		default:
			out[i] = col + " >= " + strconv.Itoa(10*i) + " AND " + col + " < " + strconv.Itoa(10*i+10)
		}
	}
	return out
}
