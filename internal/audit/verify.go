package audit

import (
	"crypto/ed25519"
	"fmt"
	"iter"
	"time"
)

// Reason says what is wrong with the first bad entry.
type Reason string

// The reasons [Verify] and [VerifyBundle] give.
const (
	// ReasonHashMismatch: the entry's fields do not hash to its Hash — a
	// field was edited after the entry was written.
	ReasonHashMismatch Reason = "hash mismatch"
	// ReasonBrokenLink: the entry's Prev is not the previous entry's Hash
	// — an entry before it was replaced (edited and re-hashed), or the
	// chain was spliced.
	ReasonBrokenLink Reason = "broken prev link"
	// ReasonSeqGap: the entry's Seq is higher than the next expected one
	// — the entries between were deleted.
	ReasonSeqGap Reason = "sequence gap"
	// ReasonReordered: the entry comes before one with a lower Seq — the
	// two were swapped or moved.
	ReasonReordered Reason = "out of order"
	// ReasonDuplicate: the entry's Seq was already seen — an entry was
	// inserted with a taken number, or copied.
	ReasonDuplicate Reason = "duplicate sequence number"
	// ReasonBadSignature: the entry has no signature, or its signature
	// does not verify with the public key — it was forged, re-signed with
	// another key, or edited and re-hashed.
	ReasonBadSignature Reason = "bad signature"
	// ReasonTimeReversed: the entry's Time is before the previous
	// entry's, which Log.Append never writes.
	ReasonTimeReversed Reason = "time goes backwards"
	// ReasonTruncated: a bundle ends before its head record says it does,
	// or has no head record — entries at the end were removed.
	ReasonTruncated Reason = "truncated"
	// ReasonHeadMismatch: a bundle's head record disagrees with its
	// entries (first entry, last hash, public key).
	ReasonHeadMismatch Reason = "head mismatch"
	// ReasonMalformed: a bundle line is not an entry or head record.
	ReasonMalformed Reason = "malformed"
	// ReasonRead: reading the entries failed.
	ReasonRead Reason = "read error"
)

// VerifyError names the first bad entry of a chain and what is wrong.
type VerifyError struct {
	// Seq is the Seq the bad entry carries; 0 when the problem is not one
	// entry's (a bundle's head, a read error).
	Seq uint64
	// Index is the position of the entry (or bundle line) in the input,
	// from 0.
	Index int
	// Reason is what is wrong.
	Reason Reason
	// Detail says more, in words.
	Detail string
	// Err is the underlying error of ReasonRead and ReasonMalformed.
	Err error
}

// Error implements error, e.g. "audit: entry 3 (position 2): hash
// mismatch: stored 5e1c…, computed 9a07…".
func (e *VerifyError) Error() string {
	s := "audit: "
	if e.Seq > 0 {
		s += fmt.Sprintf("entry %d (position %d): ", e.Seq, e.Index)
	} else {
		s += fmt.Sprintf("position %d: ", e.Index)
	}
	s += string(e.Reason)
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the underlying error, if any.
func (e *VerifyError) Unwrap() error { return e.Err }

// Head describes a verified run of entries: where it starts, where it
// ends, how many, and the key that signed them.
type Head struct {
	// FirstSeq and Prev are the first entry's Seq and Prev: the anchor
	// the run hangs from (Prev all zero when it starts the chain).
	FirstSeq uint64 `json:"first_seq"`
	Prev     Digest `json:"prev"`
	// LastSeq and Hash are the last entry's Seq and Hash.
	LastSeq uint64 `json:"last_seq"`
	Hash    Digest `json:"hash"`
	// Count is the number of entries.
	Count uint64 `json:"count"`
	// PublicKey is the key the entries' signatures verify with; empty
	// when they were not checked.
	PublicKey PublicKey `json:"public_key,omitempty"`
}

// Verify reads a whole chain, from its first entry, and checks that no
// entry was edited, deleted, inserted or reordered: each entry's Seq is
// the previous one's plus one (starting at 1), its Hash is the SHA-256 of
// its canonical encoding, its Prev is the previous entry's Hash (all zero
// for the first), its Time is not before the previous entry's, and — when
// pub is not nil — its Sig verifies with pub. It stops at the first bad
// entry and returns a [*VerifyError] naming it; an empty chain verifies.
//
// Without pub, whoever can write the store can rewrite the chain from any
// point on and re-hash it consistently: only a Head obtained earlier (its
// LastSeq and Hash, compared with the entry of that Seq) or the signatures
// reveal that. Deleting entries from the end is only seen by comparing
// with such a Head.
func Verify(entries iter.Seq2[Entry, error], pub ed25519.PublicKey) (Head, error) {
	v := verifier{pub: pub, genesis: true}
	p := newPeeker(entries)
	defer p.stop()
	for {
		e, err, ok := p.get()
		if !ok {
			return v.head, nil
		}
		if err != nil {
			return Head{}, &VerifyError{Index: v.index, Reason: ReasonRead, Err: err}
		}
		if verr := v.check(e, p); verr != nil {
			return Head{}, verr
		}
	}
}

// verifier checks entries one at a time.
type verifier struct {
	pub      ed25519.PublicKey
	genesis  bool // the first entry must start the chain
	started  bool
	expected uint64
	prev     Digest
	prevTime time.Time
	index    int
	head     Head
}

// check verifies the next entry; p lets it look one entry ahead to tell a
// swap from a gap.
func (v *verifier) check(e Entry, p *peeker) *VerifyError {
	bad := func(r Reason, format string, args ...any) *VerifyError {
		return &VerifyError{Seq: e.Seq, Index: v.index, Reason: r, Detail: fmt.Sprintf(format, args...)}
	}
	if !v.started {
		v.started = true
		if v.genesis {
			v.expected = 1
		} else {
			v.expected, v.prev = e.Seq, e.Prev
			if e.Seq == 0 {
				return bad(ReasonSeqGap, "sequence numbers start at 1")
			}
		}
		v.head = Head{FirstSeq: v.expected, Prev: v.prev, PublicKey: PublicKey(v.pub)}
	}
	switch {
	case e.Seq > v.expected:
		if n, err, ok := p.peek(); ok && err == nil && n.Seq >= v.expected && n.Seq < e.Seq {
			return bad(ReasonReordered, "entry %d comes before entry %d", e.Seq, n.Seq)
		}
		missing := fmt.Sprintf("entries %d to %d", v.expected, e.Seq-1)
		if e.Seq-1 == v.expected {
			missing = fmt.Sprintf("entry %d", v.expected)
		}
		return bad(ReasonSeqGap, "expected entry %d: %s missing", v.expected, missing)
	case e.Seq < v.expected:
		return bad(ReasonDuplicate, "expected entry %d, entry %d was already seen", v.expected, e.Seq)
	}
	if h := e.ComputeHash(); h != e.Hash {
		return bad(ReasonHashMismatch, "stored %s, computed %s", e.Hash, h)
	}
	if e.Prev != v.prev {
		if v.index == 0 && v.genesis {
			return bad(ReasonBrokenLink, "the first entry's prev must be all zero, got %s", e.Prev)
		}
		return bad(ReasonBrokenLink, "prev %s, previous entry's hash %s", e.Prev, v.prev)
	}
	if v.pub != nil {
		switch {
		case len(e.Sig) == 0:
			return bad(ReasonBadSignature, "the entry is not signed")
		case !e.VerifySig(v.pub):
			return bad(ReasonBadSignature, "the signature does not verify with public key %x", []byte(v.pub))
		}
	}
	if e.Time.Before(v.prevTime) {
		return bad(ReasonTimeReversed, "%s is before the previous entry's %s", e.Time.Format(time.RFC3339Nano), v.prevTime.Format(time.RFC3339Nano))
	}
	v.prev, v.prevTime = e.Hash, e.Time
	v.expected++
	v.index++
	v.head.LastSeq, v.head.Hash = e.Seq, e.Hash
	v.head.Count++
	return nil
}

// peeker reads a sequence with one entry of look-ahead.
type peeker struct {
	next   func() (Entry, error, bool)
	stop   func()
	buf    *peeked
	bufEnd bool
}

type peeked struct {
	e   Entry
	err error
}

func newPeeker(seq iter.Seq2[Entry, error]) *peeker {
	next, stop := iter.Pull2(seq)
	return &peeker{next: next, stop: stop}
}

func (p *peeker) get() (Entry, error, bool) {
	if p.buf != nil {
		b := p.buf
		p.buf = nil
		return b.e, b.err, true
	}
	if p.bufEnd {
		return Entry{}, nil, false
	}
	return p.next()
}

func (p *peeker) peek() (Entry, error, bool) {
	if p.buf != nil {
		return p.buf.e, p.buf.err, true
	}
	if p.bufEnd {
		return Entry{}, nil, false
	}
	e, err, ok := p.next()
	if !ok {
		p.bufEnd = true
		return Entry{}, nil, false
	}
	p.buf = &peeked{e, err}
	return e, err, true
}
