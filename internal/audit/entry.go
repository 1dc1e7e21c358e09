package audit

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"
)

// Entry is one record of the chain. Hash covers every other field but Sig
// (see the package documentation for the exact bytes); Sig, when present,
// is an Ed25519 signature of Hash.
type Entry struct {
	// Seq numbers the entries from 1 without gaps.
	Seq uint64 `json:"seq"`
	// Time is when the entry was appended: UTC, microsecond precision,
	// never earlier than the previous entry's.
	Time time.Time `json:"time"`
	// Tenant is the tenant the action concerns; "" for system-wide ones.
	Tenant string `json:"tenant"`
	// Actor is who acted: a user, a token's principal, "system", or a
	// party's name for acknowledgements ("vendor:example-mssp").
	Actor string `json:"actor"`
	// Action is what happened, e.g. [ActionNoticeSent].
	Action string `json:"action"`
	// Object is what it happened to, e.g. "finding:8f14…", "incident:42".
	Object string `json:"object"`
	// Details is the action's data as compact JSON (see each action's
	// documentation); empty when the action has none.
	Details json.RawMessage `json:"details,omitempty"`
	// Prev is the previous entry's Hash; all zero for the first entry.
	Prev Digest `json:"prev"`
	// Hash is the SHA-256 of the entry's canonical encoding.
	Hash Digest `json:"hash"`
	// Sig is the Ed25519 signature of Hash by the log's key; empty when
	// the log is not signed.
	Sig Signature `json:"sig,omitempty"`
}

// Digest is a SHA-256 digest. Its text form is 64 lower-case hex digits.
type Digest [sha256.Size]byte

// String returns the digest in hex.
func (d Digest) String() string { return hex.EncodeToString(d[:]) }

// IsZero reports whether d is all zero (the Prev of the first entry).
func (d Digest) IsZero() bool { return d == Digest{} }

// MarshalText implements encoding.TextMarshaler.
func (d Digest) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler: exactly 64 hex digits.
func (d *Digest) UnmarshalText(b []byte) error {
	if len(b) != 2*sha256.Size {
		return fmt.Errorf("audit: digest: want %d hex digits, got %d", 2*sha256.Size, len(b))
	}
	_, err := hex.Decode(d[:], b)
	if err != nil {
		return fmt.Errorf("audit: digest: %w", err)
	}
	return nil
}

// Signature is an Ed25519 signature. Its text form is lower-case hex.
type Signature []byte

// MarshalText implements encoding.TextMarshaler.
func (s Signature) MarshalText() ([]byte, error) { return []byte(hex.EncodeToString(s)), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *Signature) UnmarshalText(b []byte) error {
	v, err := hex.DecodeString(string(b))
	if err != nil {
		return fmt.Errorf("audit: signature: %w", err)
	}
	*s = v
	return nil
}

// PublicKey is an Ed25519 public key whose text form is lower-case hex, as
// bundles carry it.
type PublicKey ed25519.PublicKey

// MarshalText implements encoding.TextMarshaler.
func (k PublicKey) MarshalText() ([]byte, error) { return []byte(hex.EncodeToString(k)), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (k *PublicKey) UnmarshalText(b []byte) error {
	v, err := hex.DecodeString(string(b))
	if err != nil {
		return fmt.Errorf("audit: public key: %w", err)
	}
	if len(v) != ed25519.PublicKeySize {
		return fmt.Errorf("audit: public key: want %d bytes, got %d", ed25519.PublicKeySize, len(v))
	}
	*k = v
	return nil
}

// domain starts every canonical encoding; it names the format version.
const domain = "canopy-audit-v1\x00"

// Canonical returns the bytes Hash is the SHA-256 of:
//
//	"canopy-audit-v1" 0x00
//	Seq                      8 bytes, big-endian unsigned
//	Time                     8 bytes, big-endian signed: microseconds since 1970-01-01T00:00:00Z
//	Tenant, Actor, Action,   each: 4-byte big-endian length, then the UTF-8 bytes
//	Object, Details          (Details: its compact JSON bytes exactly as stored; length 0 when empty)
//	Prev                     32 bytes
//
// Sig and Hash itself are not part of it.
func (e *Entry) Canonical() []byte {
	var b bytes.Buffer
	b.Grow(len(domain) + 8 + 8 + 5*4 + len(e.Tenant) + len(e.Actor) + len(e.Action) + len(e.Object) + len(e.Details) + 32)
	b.WriteString(domain)
	b.Write(binary.BigEndian.AppendUint64(nil, e.Seq))
	b.Write(binary.BigEndian.AppendUint64(nil, uint64(e.Time.UnixMicro())))
	for _, s := range [][]byte{[]byte(e.Tenant), []byte(e.Actor), []byte(e.Action), []byte(e.Object), e.Details} {
		b.Write(binary.BigEndian.AppendUint32(nil, uint32(len(s))))
		b.Write(s)
	}
	b.Write(e.Prev[:])
	return b.Bytes()
}

// ComputeHash returns the SHA-256 of the entry's canonical encoding: what
// Hash must be.
func (e *Entry) ComputeHash() Digest { return sha256.Sum256(e.Canonical()) }

// VerifySig reports whether Sig is a valid signature of Hash by pub.
func (e *Entry) VerifySig(pub ed25519.PublicKey) bool {
	return len(pub) == ed25519.PublicKeySize && len(e.Sig) == ed25519.SignatureSize && ed25519.Verify(pub, e.Hash[:], e.Sig)
}

// Event is what a caller records; [Log.Append] makes it an [Entry].
type Event struct {
	// Tenant is the tenant concerned; "" for system-wide actions.
	Tenant string
	// Actor is who acted. Required.
	Actor string
	// Action names what happened. Required; see the Action constants.
	Action string
	// Object is what it happened to, e.g. "finding:<id>".
	Object string
	// Details is any JSON value, or nil. It is stored compacted.
	Details json.RawMessage
}

// ErrInvalid marks an event that cannot be recorded.
var ErrInvalid = errors.New("audit: invalid event")

// canonicalDetails returns details in their stored form: compact JSON
// (encoding/json's Compact, which keeps everything but insignificant
// whitespace), or nil when empty.
func canonicalDetails(d json.RawMessage) (json.RawMessage, error) {
	if len(bytes.TrimSpace(d)) == 0 {
		return nil, nil
	}
	if !json.Valid(d) {
		return nil, fmt.Errorf("%w: details: not valid JSON", ErrInvalid)
	}
	var b bytes.Buffer
	if err := json.Compact(&b, d); err != nil {
		return nil, fmt.Errorf("%w: details: %v", ErrInvalid, err)
	}
	return b.Bytes(), nil
}

func (ev Event) validate() error {
	switch {
	case ev.Action == "":
		return fmt.Errorf("%w: action: missing", ErrInvalid)
	case ev.Actor == "":
		return fmt.Errorf("%w: actor: missing", ErrInvalid)
	}
	for name, s := range map[string]string{"tenant": ev.Tenant, "actor": ev.Actor, "action": ev.Action, "object": ev.Object} {
		if !utf8.ValidString(s) {
			return fmt.Errorf("%w: %s: not valid UTF-8", ErrInvalid, name)
		}
	}
	return nil
}
