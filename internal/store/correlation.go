package store

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"strconv"
	"strings"
	"time"
)

// Ref names a stored finding or event in one number: a finding's id, or an
// event's id negated.
type Ref int64

// FindingRef and EventRef make refs.
func FindingRef(id int64) Ref { return Ref(id) }

// EventRef names the event with the given id.
func EventRef(id int64) Ref { return Ref(-id) }

// IsEvent reports whether r names an event.
func (r Ref) IsEvent() bool { return r < 0 }

// ID is the record's id in its table.
func (r Ref) ID() int64 {
	if r < 0 {
		return int64(-r)
	}
	return int64(r)
}

// String is "finding:ID" or "event:ID".
func (r Ref) String() string {
	if r.IsEvent() {
		return "event:" + strconv.FormatInt(r.ID(), 10)
	}
	return "finding:" + strconv.FormatInt(r.ID(), 10)
}

// ParseRef parses what [Ref.String] writes.
func ParseRef(s string) (Ref, error) {
	kind, num, _ := strings.Cut(s, ":")
	id, err := strconv.ParseInt(num, 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("bad record reference %q (want finding:ID or event:ID)", s)
	}
	switch kind {
	case "finding":
		return FindingRef(id), nil
	case "event":
		return EventRef(id), nil
	}
	return 0, fmt.Errorf("bad record reference %q (want finding:ID or event:ID)", s)
}

// CorrelationState is where a tenant's correlation stands. Every record an
// upsert adds is queued for correlation in the upsert's transaction; a
// correlation step takes queued records and removes them from the queue in
// the transaction that writes what it derived from them, so no record is
// correlated twice or lost, whatever order concurrent ingests commit in.
type CorrelationState struct {
	// Built is false until the tenant's first correlation, which must
	// rebuild: records stored before the queue existed are not in it.
	Built bool
	// Records counts the records correlated so far (the entity index's
	// population, which decides when an entity is too common to link).
	Records int64
}

// EntityRow indexes one entity of one record.
type EntityRow struct {
	Hash  int64 // identifies Kind and Value
	Kind  string
	Value string
	Ref   Ref
	Time  time.Time // the record's time
}

// EntityRef is a record that names an entity, as the index holds it.
type EntityRef struct {
	Hash int64
	Ref  Ref
	Time time.Time
}

// IncidentRow is a stored incident: Canopy's columns and the whole
// incident document (Doc, JSON, as the API shows it).
type IncidentRow struct {
	ID         string
	Tenant     string
	Title      string
	Risk       int
	SeverityID int
	Tactics    int    // how many ATT&CK tactics
	Party      string // the primary responsible party
	FirstSeen  time.Time
	LastSeen   time.Time
	Members    []Ref // in time order
	Doc        json.RawMessage
	UpdatedAt  time.Time
}

// IssueRisk is the stored risk of one issue: its score and the whole
// result with its factors (JSON).
type IssueRisk struct {
	Key   string
	Score int
	Doc   json.RawMessage
	// Responsibility is the issue's attribution (JSON); nil: none.
	Responsibility json.RawMessage
}

// Attribution says who must act on one finding (internal/responsibility).
type Attribution struct {
	ID    int64 // the finding's id
	Party string
	Area  string
	Doc   json.RawMessage // the whole attribution
}

// CorrelationUpdate is what one correlation step writes, in one
// transaction.
type CorrelationUpdate struct {
	Tenant string
	// Done are the records this step correlated: they leave the queue. If
	// one of them is no longer queued (another step took it), nothing is
	// written and ApplyCorrelation returns ErrConflict. On Reset, Done may
	// name records that were never queued.
	Done []Ref
	// Reset first deletes the tenant's entity index, incidents and issue
	// risks (a rebuild), and sets Records to len(Done) instead of adding.
	Reset bool
	// Entities are the index rows of the records in Done; a sequence, so
	// that a rebuild need not hold millions of rows at once.
	Entities iter.Seq[EntityRow]
	// Delete removes incidents (merged into others) before Put writes
	// incidents whole, members included.
	Delete []string
	Put    []IncidentRow
	Risks  []IssueRisk
}

// IncidentQuery selects a tenant's incidents, riskiest first.
type IncidentQuery struct {
	Tenant  string
	MinRisk int
	Party   string // only incidents whose primary party this is
	Limit   int    // 0: MaxPage
	Offset  int
}

// Correlations keeps what the correlate and score stages derive from
// records: the entity index, incidents and issue risks.
type Correlations interface {
	CorrelationState(ctx context.Context, tenant string) (CorrelationState, error)
	// Queued returns up to limit of the tenant's records waiting for
	// correlation, oldest first.
	Queued(ctx context.Context, tenant string, limit int) ([]Ref, error)
	// RecordsByRef returns the tenant's records with the given refs (those
	// that exist).
	RecordsByRef(ctx context.Context, tenant string, refs []Ref) (map[Ref]Record, error)
	// EntityCounts returns how many indexed records name each entity hash
	// (absent: none).
	EntityCounts(ctx context.Context, tenant string, hashes []int64) (map[int64]int, error)
	// EntityRefs returns the indexed records naming each entity hash whose
	// time lies in [from, to].
	EntityRefs(ctx context.Context, tenant string, hashes []int64, from, to time.Time) ([]EntityRef, error)
	// IncidentsOf returns the incident each ref belongs to (absent: none).
	IncidentsOf(ctx context.Context, tenant string, refs []Ref) (map[Ref]string, error)
	// AllIncidentMembers calls fn for every member of the tenant's
	// incidents.
	AllIncidentMembers(ctx context.Context, tenant string, fn func(Ref, string) error) error
	ApplyCorrelation(ctx context.Context, u CorrelationUpdate) error
	// Incidents lists incidents (riskiest first, then newest); Members
	// are not filled in.
	Incidents(ctx context.Context, q IncidentQuery) ([]IncidentRow, error)
	// Incident returns one incident with its members.
	Incident(ctx context.Context, tenant, id string) (IncidentRow, error)
	// IssueRisks returns the stored risk of each issue key given.
	IssueRisks(ctx context.Context, tenant string, keys []string) (map[string]IssueRisk, error)
	// IssueSizes returns how many findings carry each issue key given.
	IssueSizes(ctx context.Context, tenant string, keys []string) (map[string]int, error)
	// SetAttributions records who must act on findings (the route stage).
	SetAttributions(ctx context.Context, tenant string, rows []Attribution) error
	// PutContract stores the tenant's contract with its security vendors
	// (YAML as given); Contract returns it (ErrNotFound: none).
	PutContract(ctx context.Context, tenant, name string, doc []byte) error
	Contract(ctx context.Context, tenant string) (name string, doc []byte, err error)
}
