package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/canopy-sec/canopy/internal/store"
)

// TokenPrefix starts every token secret, so that leaked tokens are easy to
// recognise by secret scanners.
const TokenPrefix = "cnp_"

// NewToken makes a token for tenant with role. It returns the secret, to be
// shown once, and the record to store, which holds only the secret's
// SHA-256 (the secret has 256 random bits, so a fast hash is safe and keeps
// every request cheap).
func NewToken(name, tenant string, role store.Role, now time.Time) (secret string, t store.Token, err error) {
	if strings.TrimSpace(name) == "" {
		return "", t, errors.New("a token needs a name")
	}
	if tenant == "" {
		return "", t, errors.New("a token needs a tenant")
	}
	if _, err := store.ParseRole(string(role)); err != nil {
		return "", t, err
	}
	var raw [32]byte
	var id [6]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", t, fmt.Errorf("generating token: %w", err)
	}
	if _, err := rand.Read(id[:]); err != nil {
		return "", t, fmt.Errorf("generating token: %w", err)
	}
	secret = TokenPrefix + base64.RawURLEncoding.EncodeToString(raw[:])
	return secret, store.Token{ID: hex.EncodeToString(id[:]), Name: name, Tenant: tenant, Role: role, Hash: HashToken(secret), CreatedAt: now.UTC()}, nil
}

// HashToken returns the stored form of a token secret.
func HashToken(secret string) string {
	s := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(s[:])
}

// Principal is who is calling.
type Principal struct {
	TokenID string
	Name    string
	Tenant  string
	Role    store.Role
}

type principalKey struct{}

func withPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the caller of a request, set by the auth middleware.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// authenticate resolves the bearer token of r.
func (s *Server) authenticate(r *http.Request) (Principal, error) {
	if p, ok := r.Context().Value(inProcessKey{}).(Principal); ok {
		return p, nil // a request of [Server.Do], whose caller authenticated p
	}
	if p, ok := s.InsecurePrincipal(); ok {
		return p, nil
	}
	h := r.Header.Get("Authorization")
	scheme, secret, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || !strings.HasPrefix(secret, TokenPrefix) {
		return Principal{}, errUnauthorized
	}
	t, err := s.opts.Store.TokenByHash(r.Context(), HashToken(strings.TrimSpace(secret)))
	if errors.Is(err, store.ErrNotFound) {
		return Principal{}, errUnauthorized
	}
	if err != nil {
		return Principal{}, err
	}
	return Principal{TokenID: t.ID, Name: t.Name, Tenant: t.Tenant, Role: t.Role}, nil
}

var errUnauthorized = errors.New("a valid bearer token is required")

// inProcessKey marks the principal of a request made with [Server.Do];
// requests from the network never carry it.
type inProcessKey struct{}

// PrincipalOf returns the principal acting with token t.
func PrincipalOf(t store.Token) Principal {
	return Principal{TokenID: t.ID, Name: t.Name, Tenant: t.Tenant, Role: t.Role}
}

// InsecurePrincipal returns who every request acts as when the server runs
// without authentication; ok is false when it does not.
func (s *Server) InsecurePrincipal() (p Principal, ok bool) {
	if !s.opts.Insecure {
		return Principal{}, false
	}
	return Principal{Name: "insecure-local", Tenant: s.opts.InsecureTenant, Role: store.RoleAdmin}, true
}
