package store

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ErrNotFound is returned when a record or token does not exist (or belongs
// to another tenant).
var ErrNotFound = errors.New("not found")

// ErrConflict marks an error of a write transaction that lost to a
// concurrent one (a deadlock or a serialization failure): nothing of the
// transaction is written, and running it again may succeed.
var ErrConflict = errors.New("write conflict with a concurrent transaction")

// Row is one record as the pipeline writes it.
type Row struct {
	Tenant      string
	Fingerprint string
	ClassUID    int
	SeverityID  int
	Product     string // metadata.product.name
	Format      string // "name/version" of the decoder that produced it
	SourceUID   string
	ResourceUID string
	IssueKey    string // canonical key across tools (internal/dedup); "" for events
	Title       string
	Time        time.Time // the source's own time of the record
	Seen        time.Time // when Canopy ingested it
	OCSF        []byte    // the record's OCSF JSON
}

// UpsertResult counts what an upsert did.
type UpsertResult struct {
	New     int // rows whose fingerprint was not stored before
	Updated int // rows that updated a stored record
}

// Add adds o to r.
func (r *UpsertResult) Add(o UpsertResult) { r.New += o.New; r.Updated += o.Updated }

// Appender writes batches inside one transaction. It is not safe for
// concurrent use and not reusable: it ends with Commit or Rollback.
type Appender interface {
	UpsertFindings(ctx context.Context, rows []Row) (UpsertResult, error)
	UpsertEvents(ctx context.Context, rows []Row) (UpsertResult, error)
	// Claim records, inside this transaction, that the batch with the given
	// id is applied. It returns false when a batch with that id was already
	// committed: the caller must then roll back, since the batch is a
	// redelivery and applying it again would count its records twice.
	Claim(ctx context.Context, batchID string) (bool, error)
	// AddToJob adds one committed batch's counts to an ingest job, inside
	// this transaction; the job is done when all its batches are.
	AddToJob(ctx context.Context, jobID string, p JobProgress) error
	Commit() error
	// Rollback discards the transaction; after Commit it is a no-op.
	Rollback() error
}

// Record is a stored finding or event.
type Record struct {
	ID          int64     `json:"id"`
	Tenant      string    `json:"-"`
	Fingerprint string    `json:"fingerprint"`
	ClassUID    int       `json:"-"`
	SeverityID  int       `json:"-"`
	Product     string    `json:"-"`
	Format      string    `json:"-"`
	Title       string    `json:"-"`
	ResourceUID string    `json:"-"`
	IssueKey    string    `json:"issue_key,omitempty"`
	Time        time.Time `json:"-"`
	RiskScore   int       `json:"-"` // the issue's stored risk; set only by listings ByRisk (-1: unscored)
	// Party and Area say who must act on a finding, and Responsibility is
	// the whole attribution (JSON); empty until the route stage ran, and
	// for events.
	Party          string          `json:"-"`
	Area           string          `json:"-"`
	Responsibility json.RawMessage `json:"-"`
	Count          int             `json:"count"`
	FirstSeen      time.Time       `json:"first_seen"`
	LastSeen       time.Time       `json:"last_seen"`
	OCSF           []byte          `json:"-"`
}

// Query selects findings or events of one tenant. Zero fields select all.
type Query struct {
	Tenant     string
	Severities []int    // severity ids
	Products   []string // product names, compared case-insensitively
	Classes    []int    // class uids
	IssueKey   string   // only findings with this issue key
	Party      string   // only findings attributed to this party
	// Text keeps only records whose title or resource uid contains it,
	// case-insensitively (SQLite folds ASCII letters only); % and _ are
	// plain characters. It is no index lookup: a rare text makes a listing
	// read every record of the tenant that the other filters leave.
	Text string
	// ByRisk lists findings (and issues) by their issue's stored risk,
	// riskiest first (unscored last), instead of by severity.
	ByRisk bool
	Limit  int    // at most this many; 0 means the implementation's page size (1000)
	After  Cursor // start after this position (zero: from the start)
}

// MaxText is the longest Query.Text the API accepts.
const MaxText = 200

// MaxPage is the largest page a query returns.
const MaxPage = 1000

// Cursor is a position in a listing. Findings are listed by severity (most
// severe first) or by risk, events by time (newest first); ties by id.
type Cursor struct {
	Key int64 // severity id or risk score (findings), time in ms (events)
	ID  int64
}

// IsZero reports whether c is the start of a listing.
func (c Cursor) IsZero() bool { return c.ID == 0 }

// String encodes c for an API client; the empty cursor encodes as "".
func (c Cursor) String() string {
	if c.IsZero() {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(c.Key, 10) + ":" + strconv.FormatInt(c.ID, 10)))
}

// ParseCursor decodes a cursor made by [Cursor.String].
func ParseCursor(s string) (Cursor, error) {
	if s == "" {
		return Cursor{}, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return Cursor{}, fmt.Errorf("bad cursor: %w", err)
	}
	k, id, ok := strings.Cut(string(b), ":")
	if !ok {
		return Cursor{}, errors.New("bad cursor")
	}
	var c Cursor
	if c.Key, err = strconv.ParseInt(k, 10, 64); err != nil {
		return Cursor{}, errors.New("bad cursor")
	}
	if c.ID, err = strconv.ParseInt(id, 10, 64); err != nil || c.ID <= 0 {
		return Cursor{}, errors.New("bad cursor")
	}
	return c, nil
}

// Page is one page of a listing; Next is zero on the last page.
type Page struct {
	Records []Record
	Next    Cursor
}

// Querier reads findings and events.
type Querier interface {
	Findings(ctx context.Context, q Query) (Page, error)
	Events(ctx context.Context, q Query) (Page, error)
	// Finding returns one finding of the tenant by id.
	Finding(ctx context.Context, tenant string, id int64) (Record, error)
	// Event returns one event of the tenant by id.
	Event(ctx context.Context, tenant string, id int64) (Record, error)
	// Sources returns, for each of the tenant's issue keys given, the
	// products whose findings share it, sorted.
	Sources(ctx context.Context, tenant string, issueKeys []string) (map[string][]string, error)
	// Issues lists the tenant's issues: findings grouped by issue key, most
	// severe first, then by key. Filters apply to the findings; Limit and
	// Offset page through the issues.
	Issues(ctx context.Context, q Query, offset int) ([]Issue, error)
	// Counts returns how many findings and events the tenant has.
	Counts(ctx context.Context, tenant string) (findings, events int64, err error)
}

// Issue is what several findings, from one tool or several, say about the
// same weakness, control failure or repeated alert.
type Issue struct {
	Key        string    `json:"issue_key"`
	Title      string    `json:"title"`
	SeverityID int       `json:"-"`
	Severity   string    `json:"severity"`
	Findings   int       `json:"findings"` // findings with this key
	Count      int       `json:"count"`    // times they were reported, in all
	Sources    []string  `json:"sources"`  // products, sorted
	FirstSeen  time.Time `json:"first_seen"`
	LastSeen   time.Time `json:"last_seen"`
	FindingIDs []int64   `json:"finding_ids"` // at most 100
	// RiskScore and Risk are the issue's stored risk (-1 and nil when it
	// has not been scored yet).
	RiskScore int             `json:"-"`
	Risk      json.RawMessage `json:"-"`
	// Responsibility is the stored attribution of the issue (of its most
	// severe finding), nil before the route stage ran.
	Responsibility json.RawMessage `json:"-"`
}

// Role is what a token may do.
type Role string

// Roles, from least to most privileged.
const (
	RoleViewer  Role = "viewer"
	RoleAnalyst Role = "analyst"
	RoleAdmin   Role = "admin"
)

// Allows reports whether r includes the rights of need.
func (r Role) Allows(need Role) bool { return r.rank() >= need.rank() && r.rank() > 0 }

func (r Role) rank() int {
	switch r {
	case RoleViewer:
		return 1
	case RoleAnalyst:
		return 2
	case RoleAdmin:
		return 3
	}
	return 0
}

// ParseRole parses a role name.
func ParseRole(s string) (Role, error) {
	r := Role(strings.ToLower(strings.TrimSpace(s)))
	if r.rank() == 0 {
		return "", fmt.Errorf("unknown role %q (want viewer, analyst or admin)", s)
	}
	return r, nil
}

// Token is an API token. Only a hash of its secret is stored.
type Token struct {
	ID        string
	Name      string
	Tenant    string
	Role      Role
	Hash      string // hex SHA-256 of the secret
	CreatedAt time.Time
	RevokedAt time.Time // zero while valid
}

// Tokens keeps API tokens.
type Tokens interface {
	CreateToken(ctx context.Context, t Token) error
	// TokenByHash returns the unrevoked token with the given hash.
	TokenByHash(ctx context.Context, hash string) (Token, error)
	ListTokens(ctx context.Context) ([]Token, error)
	// RevokeToken revokes the token with the given id.
	RevokeToken(ctx context.Context, id string) error
}

// JobStatus is the state of an ingest job.
type JobStatus string

// Job states.
const (
	JobQueued JobStatus = "queued" // batches are on the bus, not all applied yet
	JobDone   JobStatus = "done"   // every batch is applied
)

// JobProgress is what one batch contributes to its job.
type JobProgress struct {
	Records         int `json:"records"`
	FindingsNew     int `json:"findings_new"`
	FindingsUpdated int `json:"findings_updated"`
	Events          int `json:"events"`
}

// Job is one input ingested through the bus: its batches are applied by
// workers, and the job sums what they did.
type Job struct {
	ID          string    `json:"id"`
	Tenant      string    `json:"-"`
	Name        string    `json:"path"`
	Format      string    `json:"format"`
	Status      JobStatus `json:"status"`
	Batches     int       `json:"batches"`
	BatchesDone int       `json:"batches_done"`
	JobProgress
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Jobs keeps ingest jobs.
type Jobs interface {
	// CreateJob stores a new job: status queued, no batch done; a job of
	// no batches is done at once.
	CreateJob(ctx context.Context, j Job) error
	// Job returns the tenant's job with the given id.
	Job(ctx context.Context, tenant, id string) (Job, error)
}

// Store is everything a backend provides; only cmd/canopy needs it whole.
type Store interface {
	// Begin starts a write transaction.
	Begin(ctx context.Context) (Appender, error)
	Querier
	Correlations
	Posture
	Docs
	Notices
	AuditLog
	Tokens
	Jobs
	Sessions
	Summaries
	// Ping checks that the backend is reachable.
	Ping(ctx context.Context) error
	Close() error
}
