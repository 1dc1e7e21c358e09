package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// ErrExists is returned when a record to create has a key the store
// already holds.
var ErrExists = errors.New("already exists")

// NoticeOpen is the state of a notice that waits for acknowledgement
// (notify.StateOpen): the only state [Notices.DueNotices] selects.
const NoticeOpen = "open"

// NoticeRow is one stored notice (internal/notify): the columns the
// store selects and sorts on, and the whole notice as JSON (Doc), which
// the store keeps but does not read.
//
// Times are kept to the nanosecond between the years 1678 and 2262 (a
// time outside is clamped to those bounds: it only orders and selects,
// Doc holds the notice) and returned in UTC; a zero time stays zero.
type NoticeRow struct {
	ID          string // unique across tenants
	Tenant      string
	Party       string
	State       string // NoticeOpen, or another state of the notice
	Severity    string
	Contact     string
	CreatedAt   time.Time
	NotifiedAt  time.Time // when the current contact's level began
	Deadline    time.Time // zero: no acknowledgement deadline
	DeliveredAt time.Time // zero: the current contact was not reached yet
	Doc         json.RawMessage
}

// NoticeQuery selects notices for [Notices.ListNotices]. Empty fields
// match anything.
type NoticeQuery struct {
	Tenant string
	Party  string
	State  string
	Limit  int // at most this many; 0 (or less): all of them
}

// Notices keeps notices: messages to a party that must be acknowledged,
// and escalate when they are not (internal/notify).
type Notices interface {
	// CreateNotice stores a new notice; an error wrapping ErrExists when
	// its ID is taken.
	CreateNotice(ctx context.Context, n NoticeRow) error
	// Notice returns the notice with the given ID (ErrNotFound: none).
	Notice(ctx context.Context, id string) (NoticeRow, error)
	// UpdateNotice reads the notice, calls fn once with it and writes
	// the row fn returns in its place, all in one transaction that holds
	// the notice locked, so that concurrent updates of one notice take
	// turns and none is lost. The written row keeps the ID id, whatever
	// fn sets; UpdateNotice returns it. An error from fn writes nothing
	// and is returned as it is; a missing notice gives an error wrapping
	// ErrNotFound (fn is not called). fn must not use the store: it runs
	// while the transaction is open (on SQLite, it holds the only writer).
	UpdateNotice(ctx context.Context, id string, fn func(NoticeRow) (NoticeRow, error)) (NoticeRow, error)
	// DueNotices returns the notices of every tenant that need attention
	// at now: State NoticeOpen and either a zero DeliveredAt or a
	// non-zero Deadline at or before now; oldest NotifiedAt first, then
	// by ID.
	DueNotices(ctx context.Context, now time.Time) ([]NoticeRow, error)
	// ListNotices returns the notices q selects, newest CreatedAt first,
	// then by ID.
	ListNotices(ctx context.Context, q NoticeQuery) ([]NoticeRow, error)
}
