package audit

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"time"
)

// bundleLine is one line of an evidence bundle: exactly one of its fields
// is set.
type bundleLine struct {
	Entry *Entry `json:"entry,omitempty"`
	Head  *Head  `json:"head,omitempty"`
}

// Export writes an evidence bundle: the entries of a chain from the first
// whose Time is at or after since (all of them for the zero time) to the
// end, as JSON Lines {"entry": {…}}, then one head record {"head": {…}}
// with the first entry's Seq and Prev, the last entry's Seq and Hash, the
// count and, when pub is given, the public key.
//
// entries must be contiguous and in Seq order, from the chain's start or
// from any entry before since; Export verifies every entry it reads as
// [VerifyBundle] will (anchored at the first entry's Prev; signatures with
// pub when pub is not nil) and fails with a [*VerifyError] rather than
// export a broken chain. It returns the head it wrote. When no entry is at
// or after since, the bundle holds only a head with Count 0 whose LastSeq
// and Hash are the chain's last entry's: it attests where the chain stood.
func Export(w io.Writer, entries iter.Seq2[Entry, error], since time.Time, pub ed25519.PublicKey) (Head, error) {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false) // Details must go out byte for byte
	v := verifier{pub: pub}
	p := newPeeker(entries)
	defer p.stop()
	var head Head
	writing := false
	for {
		e, err, ok := p.get()
		if !ok {
			break
		}
		if err != nil {
			return Head{}, &VerifyError{Index: v.index, Reason: ReasonRead, Err: err}
		}
		if verr := v.check(e, p); verr != nil {
			return Head{}, verr
		}
		if !writing && !e.Time.Before(since) {
			writing = true
			head.FirstSeq, head.Prev = e.Seq, e.Prev
		}
		if writing {
			if err := enc.Encode(bundleLine{Entry: &e}); err != nil {
				return Head{}, fmt.Errorf("audit: export: %w", err)
			}
			head.LastSeq, head.Hash = e.Seq, e.Hash
			head.Count++
		}
	}
	if !writing {
		head.LastSeq, head.Hash, head.Prev = v.head.LastSeq, v.head.Hash, v.head.Hash
	}
	head.PublicKey = PublicKey(pub)
	if err := enc.Encode(bundleLine{Head: &head}); err != nil {
		return Head{}, fmt.Errorf("audit: export: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return Head{}, fmt.Errorf("audit: export: %w", err)
	}
	return head, nil
}

// VerifyBundle verifies an evidence bundle written by [Export], offline: it
// needs nothing but the bundle and, to check signatures, the public key the
// verifier trusts (not the one the bundle carries — anyone can write that).
//
// It checks every entry as [Verify] does, except that the bundle may start
// mid-chain: the first entry's Prev is taken as the anchor. It then checks
// the head record: it must be the last line, and its first and last Seq,
// last Hash and count must match the entries (a bundle whose end was cut
// off fails as [ReasonTruncated]); when pub is given, a public key in the
// head must be pub. It returns the verified head, or a [*VerifyError]
// naming the first bad entry or line.
//
// What a verified bundle proves: the entries FirstSeq to LastSeq are
// exactly as written, in order, none missing, each one hanging from the
// previous; with pub, each was signed by the holder of the private key.
// What it does not prove: that the anchor (Prev of the first entry) is the
// real hash of entry FirstSeq−1 — compare it with the live chain or an
// earlier bundle; that nothing was appended after LastSeq; or that the
// bundle was not cut short with its head rewritten to match — the head
// is not signed on its own, so compare LastSeq and Hash with a head
// obtained independently (e.g. sent to the other parties when the bundle
// was made).
func VerifyBundle(r io.Reader, pub ed25519.PublicKey) (Head, error) {
	dec := json.NewDecoder(bufio.NewReader(r))
	dec.DisallowUnknownFields()
	v := verifier{pub: pub}
	var head *Head
	line, headLine := 0, 0
	// A peeker over the bundle's entries, so that the verifier can look
	// ahead; decoding errors end the sequence and are kept here.
	var derr *VerifyError
	entries := func(yield func(Entry, error) bool) {
		for ; ; line++ {
			var l bundleLine
			if err := dec.Decode(&l); err != nil {
				if !errors.Is(err, io.EOF) {
					derr = &VerifyError{Index: line, Reason: ReasonMalformed, Err: err}
				}
				return
			}
			switch {
			case head != nil:
				derr = &VerifyError{Index: line, Reason: ReasonMalformed, Detail: "a line after the head record"}
				return
			case l.Entry != nil && l.Head != nil, l.Entry == nil && l.Head == nil:
				derr = &VerifyError{Index: line, Reason: ReasonMalformed, Detail: "want exactly one of entry and head"}
				return
			case l.Head != nil:
				head, headLine = l.Head, line
				continue
			}
			if !yield(*l.Entry, nil) {
				return
			}
		}
	}
	p := newPeeker(entries)
	defer p.stop()
	for {
		e, _, ok := p.get()
		if !ok {
			break
		}
		if verr := v.check(e, p); verr != nil {
			if derr != nil && derr.Index <= verr.Index {
				return Head{}, derr
			}
			return Head{}, verr
		}
	}
	if derr != nil {
		return Head{}, derr
	}
	if head == nil {
		return Head{}, &VerifyError{Index: line, Reason: ReasonTruncated, Detail: "no head record: the bundle is cut off"}
	}
	got := v.head
	mismatch := func(r Reason, format string, args ...any) (Head, error) {
		return Head{}, &VerifyError{Index: headLine, Reason: r, Detail: fmt.Sprintf(format, args...)}
	}
	switch {
	case head.Count == 0 && got.Count == 0:
		if head.Prev != head.Hash {
			return mismatch(ReasonHeadMismatch, "an empty bundle's head must have prev equal to hash")
		}
	case got.Count < head.Count || (got.Count == head.Count && got.LastSeq < head.LastSeq):
		return mismatch(ReasonTruncated, "the head says %d entries up to entry %d, the bundle has %d up to entry %d", head.Count, head.LastSeq, got.Count, got.LastSeq)
	case got.Count != head.Count || got.LastSeq != head.LastSeq || got.Hash != head.Hash:
		return mismatch(ReasonHeadMismatch, "the head says %d entries up to entry %d with hash %s, the bundle has %d up to entry %d with hash %s", head.Count, head.LastSeq, head.Hash, got.Count, got.LastSeq, got.Hash)
	case got.FirstSeq != head.FirstSeq || got.Prev != head.Prev:
		return mismatch(ReasonHeadMismatch, "the head says the bundle starts at entry %d after %s, it starts at entry %d after %s", head.FirstSeq, head.Prev, got.FirstSeq, got.Prev)
	}
	if pub != nil && len(head.PublicKey) > 0 && !bytes.Equal(head.PublicKey, pub) {
		return mismatch(ReasonHeadMismatch, "the head names public key %x, not the trusted %x", []byte(head.PublicKey), []byte(pub))
	}
	if got.Count == 0 {
		got = *head
		got.PublicKey = PublicKey(pub)
	}
	return got, nil
}
