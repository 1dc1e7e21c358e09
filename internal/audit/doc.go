// Package audit keeps Canopy's tamper-evident record of who did what: an
// append-only hash chain of entries (finding attributed, notice sent,
// notice acknowledged, finding resolved, contract changed …), optionally
// signed, that the provider, the customer and a security vendor can each
// verify on their own, and the process KPIs computed from it.
//
// # Place in the flow
//
// Every stage that changes state — the router attributing a finding, the
// responder sending a notice, the API recording an acknowledgement — calls
// [Log.Append]. The Log writes through a [Sink]: internal/pipeline's
// AuditChain gives one over a store (internal/store keeps one chain per
// tenant), and the conformance suite in audittest states the contract.
// [Verify], [Export], [VerifyBundle] and [KPIs] read any
// iter.Seq2[Entry, error], such as a store's [Reader]. The package keeps
// no state of its own beyond a Log's mutex and does no I/O but through
// the Sink, Reader, io.Writer and io.Reader it is given.
//
// # The chain
//
// Entries are numbered 1, 2, 3 … without gaps. Each entry's Hash is the
// SHA-256 of its canonical encoding, which includes the previous entry's
// Hash as Prev (32 zero bytes for entry 1); Sig, when the log has a key,
// is the Ed25519 signature (RFC 8032, pure Ed25519) of the 32 bytes of
// Hash. Editing any field of an entry changes its hash; re-hashing it
// breaks the next entry's Prev; re-hashing everything after it needs the
// private key to re-sign. Time never goes backwards along the chain.
//
// A deployment may keep one chain for everything or one per tenant: a Log
// is one chain, over one Sink. Per-tenant chains let a tenant's bundles be
// contiguous, which evidence for other parties needs.
//
// # Canonical encoding (version 1)
//
// To verify an entry without this package, compute SHA-256 over the
// concatenation of:
//
//	16 bytes   the ASCII string "canopy-audit-v1" followed by one zero byte
//	 8 bytes   seq, unsigned big-endian
//	 8 bytes   time as microseconds since 1970-01-01T00:00:00Z, signed big-endian
//	 4+n bytes tenant: its length n in bytes (unsigned big-endian), then its UTF-8 bytes
//	 4+n bytes actor, likewise
//	 4+n bytes action, likewise
//	 4+n bytes object, likewise
//	 4+n bytes details: the stored JSON bytes exactly (n = 0 when there are none)
//	32 bytes   prev, the raw digest
//
// and compare with hash; then check sig over the 32 raw bytes of hash
// with the public key. Details are stored in compact form (encoding/json's
// Compact of what the caller gave: insignificant whitespace removed,
// nothing else changed), so JSON tools that reorder keys or re-encode
// strings must not rewrite them: stores keep them as text or bytes, not
// as a parsed JSON value. Time is truncated to the microsecond on append
// so that stores with microsecond clocks keep it exactly.
// testdata/vector.json holds an entry, its canonical bytes in hex, its
// hash, and a signature with a fixed test key.
//
// # Entries in JSON
//
// An entry's JSON (as evidence bundles carry it) has the keys seq, time
// (RFC 3339 with up to 6 fractional digits, UTC), tenant, actor, action,
// object, details (the JSON value itself, omitted when empty), prev and
// hash (64 lower-case hex digits) and sig (128 lower-case hex digits,
// omitted when unsigned).
//
// # Evidence bundles
//
// [Export] writes the entries from a given time on as JSON Lines, each
// line {"entry": {…}}, and ends with one line {"head": {"first_seq",
// "prev", "last_seq", "hash", "count", "public_key"}}. [VerifyBundle]
// checks a bundle offline; a bundle that starts mid-chain verifies from
// its first entry's prev. Its documentation says what a verified bundle
// proves and what it does not.
//
// # Verification
//
// [Verify] names the first bad entry and why, as a [*VerifyError] with a
// [Reason]: an edited entry fails its hash; a re-hashed one breaks the
// next entry's prev link or, when signed, fails its signature; a deleted
// one leaves a sequence gap; swapped ones come out of order; an inserted
// one repeats a sequence number, breaks a link or fails its signature; a
// chain signed with another key fails its first signature; a bundle cut
// short fails against its head.
//
// # KPIs
//
// [KPIs] turns the notice.sent, notice.acked and finding.resolved entries
// into time-to-acknowledge and time-to-resolve per party and severity
// (count, median, 90th percentile). The Action constants document what
// each action's Details hold.
//
// # Not its job
//
// Choosing whom to notify and sending notices (internal/respond), storing
// entries (internal/store), key management: the Log takes an
// ed25519.PrivateKey and verifiers take the ed25519.PublicKey they trust.
package audit
