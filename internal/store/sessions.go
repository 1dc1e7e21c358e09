package store

import (
	"context"
	"fmt"
	"time"
)

// Session is a console sign-in session, or a one-time sign-in link that
// becomes one. Only the SHA-256 of its secret is stored.
//
// A session acts as an API token: whoever checks a session must also check
// that its token is still valid (Tokens.TokenByHash), since revoking a
// token does not delete the sessions made from it.
type Session struct {
	Hash      string // hex SHA-256 of the secret held by the browser (cookie) or the link
	Kind      string // SessionKindSession or SessionKindLink
	TokenHash string // hash of the API token it acts as (see Tokens.TokenByHash)
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Session kinds.
const (
	SessionKindSession = "session" // a signed-in browser's session
	SessionKindLink    = "link"    // a one-time sign-in link
)

// Validate checks what every store requires of a new session.
func (s Session) Validate() error {
	if s.Kind != SessionKindSession && s.Kind != SessionKindLink {
		return fmt.Errorf("session kind %q (want %s or %s)", s.Kind, SessionKindSession, SessionKindLink)
	}
	if s.Hash == "" || s.TokenHash == "" {
		return fmt.Errorf("a session needs a hash and a token hash")
	}
	return nil
}

// Sessions keeps the console's sessions and sign-in links. They are not
// tenant data: an export ([Exporter]) does not copy them, so everyone signs
// in again after a store is copied (canopy migrate).
//
// A session or link has expired at a time t when its ExpiresAt is not after
// t. Times are kept to the millisecond.
type Sessions interface {
	// CreateSession stores s; an error wrapping ErrExists when the hash is taken.
	CreateSession(ctx context.Context, s Session) error
	// Session returns the session (kind session) with that hash that has
	// not expired at now; ErrNotFound otherwise.
	Session(ctx context.Context, hash string, now time.Time) (Session, error)
	// ConsumeLink deletes the sign-in link with that hash and returns it,
	// atomically, so a link works once; ErrNotFound when there is none or
	// it expired at now.
	ConsumeLink(ctx context.Context, hash string, now time.Time) (Session, error)
	// DeleteSession removes a session or link (signing out); no error when
	// there is none.
	DeleteSession(ctx context.Context, hash string) error
	// DeleteExpiredSessions removes sessions and links expired at now and
	// returns how many.
	DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error)
}
