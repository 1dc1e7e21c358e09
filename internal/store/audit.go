package store

import (
	"context"
	"fmt"
	"iter"
	"math"
	"strings"
	"time"
	"unicode/utf8"
)

// AuditRow is one entry of a tenant's audit chain (internal/audit), every
// field stored exactly as given: text and bytes byte for byte, Time to the
// microsecond (returned in UTC).
type AuditRow struct {
	// Tenant is whose chain the entry belongs to: Canopy keeps one chain
	// per tenant ("" for the system-wide chain).
	Tenant string
	// Seq numbers the chain's entries from 1.
	Seq  uint64
	Time time.Time
	// EntryTenant is the tenant the entry itself names (part of what its
	// hash covers): normally Tenant, or "" for a system-wide action
	// recorded in a tenant's chain.
	EntryTenant string
	Actor       string
	Action      string
	Object      string
	Details     []byte // compact JSON bytes, kept as they are; nil when none
	Prev        []byte // the previous entry's Hash: 32 bytes
	Hash        []byte // 32 bytes
	Sig         []byte // nil when the chain is not signed
}

// AuditDigestSize is the size of AuditRow.Prev and AuditRow.Hash.
const AuditDigestSize = 32

// CheckAudit reports why r cannot be appended: a Seq of 0 or beyond what
// a signed 64-bit column holds, a Prev or Hash that is not
// AuditDigestSize bytes, or text that is not valid UTF-8 or holds a NUL
// character (PostgreSQL text refuses both, and replacing a character
// would break the entry's hash). Both backends refuse the same rows.
func CheckAudit(r AuditRow) error {
	if r.Seq == 0 || r.Seq > math.MaxInt64 {
		return fmt.Errorf("audit entry %d: seq out of range", r.Seq)
	}
	if len(r.Prev) != AuditDigestSize || len(r.Hash) != AuditDigestSize {
		return fmt.Errorf("audit entry %d: prev and hash must be %d bytes, got %d and %d", r.Seq, AuditDigestSize, len(r.Prev), len(r.Hash))
	}
	for _, f := range []struct{ name, v string }{
		{"tenant", r.Tenant}, {"entry tenant", r.EntryTenant}, {"actor", r.Actor}, {"action", r.Action}, {"object", r.Object},
	} {
		if !utf8.ValidString(f.v) || strings.IndexByte(f.v, 0) >= 0 {
			return fmt.Errorf("audit entry %d: %s: not valid UTF-8 without NUL characters", r.Seq, f.name)
		}
	}
	return nil
}

// AuditLog keeps the audit chains, one per tenant. Entries are only
// appended: nothing updates or deletes them.
type AuditLog interface {
	// AuditLast returns the tenant's entry with the highest Seq, or the
	// zero row (Seq 0) when the chain is empty.
	AuditLast(ctx context.Context, tenant string) (AuditRow, error)
	// AuditAppend stores r in r.Tenant's chain. When the chain has an
	// entry with r.Seq already (another writer appended first) it stores
	// nothing and returns an error wrapping ErrConflict: read the last
	// entry again and build the next one. A row [CheckAudit] refuses is
	// an error too.
	AuditAppend(ctx context.Context, r AuditRow) error
	// AuditEntries yields the tenant's entries whose Seq is at least
	// from, in Seq order, then stops; a read error is yielded once and
	// ends the sequence. It reads in pages of a bounded size, so a chain
	// of any length streams in bounded memory, and holds no connection
	// or transaction while the caller handles an entry.
	AuditEntries(ctx context.Context, tenant string, from uint64) iter.Seq2[AuditRow, error]
}
