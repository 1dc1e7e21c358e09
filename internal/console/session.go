package console

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/canopy-sec/canopy/internal/api"
	"github.com/canopy-sec/canopy/internal/store"
)

// sessionCookie holds the session secret; the store holds its SHA-256.
const sessionCookie = "canopy_session"

// linkTTL is how long a sign-in link works (once).
const linkTTL = 15 * time.Minute

// session is the signed-in caller of a request.
type session struct {
	p    api.Principal
	hash string // "" in insecure mode
	csrf string // the token every form of the session carries
}

// newSecret returns 256 random bits, URL-safe, and their stored hash.
func newSecret() (secret, hash string, err error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", "", fmt.Errorf("generating a session secret: %w", err)
	}
	secret = base64.RawURLEncoding.EncodeToString(b[:])
	return secret, hashSecret(secret), nil
}

func hashSecret(secret string) string {
	s := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(s[:])
}

// csrfToken derives a session's CSRF token from its secret, so that it
// needs no storage and only the holder of the cookie can know it.
func csrfToken(secret string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("canopy console csrf"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// insecureCSRF is the CSRF token of an insecure server's forms: there is
// no session to derive it from, and cross-origin forms are refused anyway.
const insecureCSRF = "insecure-local"

// current returns the request's session, or nil when it has none (or it
// expired, or its token was revoked).
func (c *Console) current(r *http.Request) (*session, error) {
	if p, ok := c.opts.API.InsecurePrincipal(); ok {
		return &session{p: p, csrf: insecureCSRF}, nil
	}
	ck, err := r.Cookie(sessionCookie)
	if err != nil || ck.Value == "" {
		return nil, nil
	}
	hash := hashSecret(ck.Value)
	s, err := c.opts.Store.Session(r.Context(), hash, c.opts.Now())
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	t, err := c.opts.Store.TokenByHash(r.Context(), s.TokenHash)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil // the token was revoked: so is every session of it
	}
	if err != nil {
		return nil, err
	}
	return &session{p: api.PrincipalOf(t), hash: hash, csrf: csrfToken(ck.Value)}, nil
}

// signedIn wraps a page that needs a session: without one a GET goes to
// the sign-in page and anything else is refused; a POST must carry the
// session's CSRF token. It also handles the language switch.
func (c *Console) signedIn(h func(http.ResponseWriter, *http.Request, *session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if c.cat.switchLang(w, r) {
			return
		}
		s, err := c.current(r)
		if err != nil {
			c.opts.Logger.Error("reading the session", "err", err)
			c.fail(w, r, nil, http.StatusInternalServerError, c.cat.lang(r).T("error.internal"))
			return
		}
		if s == nil {
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				to := "/login"
				if r.URL.Path != "/" {
					to += "?next=" + url.QueryEscape(r.URL.RequestURI())
				}
				http.Redirect(w, r, to, http.StatusSeeOther)
				return
			}
			c.fail(w, r, nil, http.StatusUnauthorized, c.cat.lang(r).T("error.signin_required"))
			return
		}
		if r.Method == http.MethodPost {
			got := r.Header.Get("X-CSRF-Token")
			if got == "" {
				got = r.PostFormValue("csrf")
			}
			if subtle.ConstantTimeCompare([]byte(got), []byte(s.csrf)) != 1 {
				c.fail(w, r, s, http.StatusForbidden, c.cat.lang(r).T("error.csrf"))
				return
			}
		}
		h(w, r, s)
	}
}

// loginPage shows the token form.
func (c *Console) loginPage(w http.ResponseWriter, r *http.Request) {
	if c.cat.switchLang(w, r) {
		return
	}
	if s, err := c.current(r); err == nil && s != nil {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	c.render(w, r, nil, http.StatusOK, "login", "login.title", map[string]string{"Next": safeNext(r.URL.Query().Get("next"))})
}

// login exchanges an API token for a session.
func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<14)
	token := strings.TrimSpace(r.PostFormValue("token"))
	next := safeNext(r.PostFormValue("next"))
	t, err := c.opts.Store.TokenByHash(r.Context(), api.HashToken(token))
	if errors.Is(err, store.ErrNotFound) || token == "" {
		c.opts.Logger.Info("console sign-in refused", "remote", r.RemoteAddr)
		lg := c.cat.lang(r)
		c.render(w, r, nil, http.StatusUnauthorized, "login", "login.title", map[string]string{"Next": next, "Error": lg.T("login.bad_token")})
		return
	}
	if err != nil {
		c.opts.Logger.Error("console sign-in", "err", err)
		c.fail(w, r, nil, http.StatusInternalServerError, c.cat.lang(r).T("error.internal"))
		return
	}
	if err := c.startSession(w, r, t); err != nil {
		c.opts.Logger.Error("console sign-in", "err", err)
		c.fail(w, r, nil, http.StatusInternalServerError, c.cat.lang(r).T("error.internal"))
		return
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// signinLink exchanges a one-time sign-in link for a session.
func (c *Console) signinLink(w http.ResponseWriter, r *http.Request) {
	l, err := c.opts.Store.ConsumeLink(r.Context(), hashSecret(r.PathValue("code")), c.opts.Now())
	var t store.Token
	if err == nil {
		t, err = c.opts.Store.TokenByHash(r.Context(), l.TokenHash)
	}
	if errors.Is(err, store.ErrNotFound) {
		lg := c.cat.lang(r)
		c.render(w, r, nil, http.StatusUnauthorized, "login", "login.title", map[string]string{"Next": "/", "Error": lg.T("login.bad_link")})
		return
	}
	if err == nil {
		err = c.startSession(w, r, t)
	}
	if err != nil {
		c.opts.Logger.Error("console sign-in link", "err", err)
		c.fail(w, r, nil, http.StatusInternalServerError, c.cat.lang(r).T("error.internal"))
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// startSession stores a new session acting as t and sets its cookie.
func (c *Console) startSession(w http.ResponseWriter, r *http.Request, t store.Token) error {
	now := c.opts.Now().UTC()
	if _, err := c.opts.Store.DeleteExpiredSessions(r.Context(), now); err != nil {
		c.opts.Logger.Warn("removing expired console sessions", "err", err)
	}
	secret, hash, err := newSecret()
	if err != nil {
		return err
	}
	if err := c.opts.Store.CreateSession(r.Context(), store.Session{Hash: hash, Kind: store.SessionKindSession, TokenHash: t.Hash, CreatedAt: now, ExpiresAt: now.Add(c.opts.SessionTTL)}); err != nil {
		return fmt.Errorf("storing the session: %w", err)
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: secret, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: r.TLS != nil, MaxAge: int(c.opts.SessionTTL / time.Second)})
	c.opts.Logger.Info("console sign-in", "token", t.ID, "tenant", t.Tenant, "role", t.Role)
	return nil
}

// logout ends the session.
func (c *Console) logout(w http.ResponseWriter, r *http.Request, s *session) {
	if s.hash != "" {
		if err := c.opts.Store.DeleteSession(r.Context(), s.hash); err != nil {
			c.apiFail(w, r, s, err)
			return
		}
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil, MaxAge: -1})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// SignInLink makes a one-time sign-in link for the token with the given
// hash, valid for 15 minutes, and returns its path ("/signin/…").
func (c *Console) SignInLink(ctx context.Context, tokenHash string) (string, error) {
	secret, hash, err := newSecret()
	if err != nil {
		return "", err
	}
	now := c.opts.Now().UTC()
	if err := c.opts.Store.CreateSession(ctx, store.Session{Hash: hash, Kind: store.SessionKindLink, TokenHash: tokenHash, CreatedAt: now, ExpiresAt: now.Add(linkTTL)}); err != nil {
		return "", fmt.Errorf("storing the sign-in link: %w", err)
	}
	return "/signin/" + secret, nil
}

// safeNext keeps a post-sign-in target only when it is a path of this
// site, so the sign-in form cannot send anyone elsewhere.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") || strings.ContainsAny(next, "\r\n") {
		return "/"
	}
	return next
}
