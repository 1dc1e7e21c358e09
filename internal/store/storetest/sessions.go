package storetest

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/canopy-sec/canopy/internal/store"
)

// testSessions: sessions are found by hash until they expire; a sign-in
// link is consumed once, even by concurrent callers; signing out and
// removing what expired.
func testSessions(t *testing.T, s store.Store) {
	ctx := context.Background()
	exp := t0.Add(time.Hour)
	sess := store.Session{Hash: "s1", Kind: store.SessionKindSession, TokenHash: "tok", CreatedAt: t0, ExpiresAt: exp}
	link := store.Session{Hash: "l1", Kind: store.SessionKindLink, TokenHash: "tok", CreatedAt: t0, ExpiresAt: t0.Add(10 * time.Minute)}
	for _, x := range []store.Session{sess, link} {
		if err := s.CreateSession(ctx, x); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CreateSession(ctx, store.Session{Hash: "s1", Kind: store.SessionKindLink, TokenHash: "other", CreatedAt: t0, ExpiresAt: exp}); !errors.Is(err, store.ErrExists) {
		t.Fatalf("a taken hash: %v, want ErrExists", err)
	}
	if err := s.CreateSession(ctx, store.Session{Hash: "s9", Kind: "cookie", TokenHash: "tok", CreatedAt: t0, ExpiresAt: exp}); err == nil {
		t.Fatal("an unknown kind was accepted")
	}

	lookups := []struct {
		name string
		hash string
		now  time.Time
		want bool
	}{
		{"valid", "s1", t0.Add(time.Minute), true},
		{"a millisecond before expiry", "s1", exp.Add(-time.Millisecond), true},
		{"at expiry", "s1", exp, false},
		{"expired", "s1", exp.Add(time.Hour), false},
		{"a link is no session", "l1", t0, false},
		{"unknown", "nope", t0, false},
	}
	for _, tt := range lookups {
		got, err := s.Session(ctx, tt.hash, tt.now)
		switch {
		case tt.want && (err != nil || got != sess):
			t.Errorf("%s: Session = %+v, %v; want %+v", tt.name, got, err, sess)
		case !tt.want && !errors.Is(err, store.ErrNotFound):
			t.Errorf("%s: Session = %+v, %v; want ErrNotFound", tt.name, got, err)
		}
	}

	if _, err := s.ConsumeLink(ctx, "s1", t0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("consuming a session as a link: %v, want ErrNotFound", err)
	}
	if _, err := s.Session(ctx, "s1", t0); err != nil {
		t.Errorf("the session after a refused ConsumeLink: %v", err)
	}
	if _, err := s.ConsumeLink(ctx, "l1", link.ExpiresAt); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("consuming an expired link: %v, want ErrNotFound", err)
	}
	got, err := s.ConsumeLink(ctx, "l1", t0)
	if err != nil || got != link {
		t.Fatalf("ConsumeLink = %+v, %v; want %+v", got, err, link)
	}
	if _, err := s.ConsumeLink(ctx, "l1", t0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("consuming a link twice: %v, want ErrNotFound", err)
	}

	// of concurrent consumers, exactly one gets the link
	if err := s.CreateSession(ctx, store.Session{Hash: "l2", Kind: store.SessionKindLink, TokenHash: "tok", CreatedAt: t0, ExpiresAt: exp}); err != nil {
		t.Fatal(err)
	}
	var won, lost atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			_, err := s.ConsumeLink(ctx, "l2", t0)
			switch {
			case err == nil:
				won.Add(1)
			case errors.Is(err, store.ErrNotFound):
				lost.Add(1)
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if won.Load() != 1 || lost.Load() != 7 {
		t.Errorf("8 concurrent ConsumeLink: %d won, %d not found; want 1 and 7", won.Load(), lost.Load())
	}

	if err := s.DeleteSession(ctx, "s1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Session(ctx, "s1", t0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("after signing out: %v, want ErrNotFound", err)
	}
	if err := s.DeleteSession(ctx, "s1"); err != nil {
		t.Errorf("deleting a missing session: %v", err)
	}

	// DeleteExpiredSessions counts sessions and links expired at now
	for i, x := range []store.Session{
		{Hash: "e1", Kind: store.SessionKindSession, ExpiresAt: t0.Add(time.Minute)},
		{Hash: "e2", Kind: store.SessionKindLink, ExpiresAt: t0.Add(2 * time.Minute)},
		{Hash: "e3", Kind: store.SessionKindSession, ExpiresAt: t0.Add(3 * time.Minute)},
		{Hash: "live", Kind: store.SessionKindSession, ExpiresAt: t0.Add(time.Hour)},
	} {
		x.TokenHash, x.CreatedAt = "tok", t0.Add(time.Duration(i)*time.Second)
		if err := s.CreateSession(ctx, x); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		now  time.Time
		want int64
	}{
		{t0, 0},
		{t0.Add(2 * time.Minute), 2}, // e1, e2 (expired at exactly now)
		{t0.Add(2 * time.Minute), 0},
		{t0.Add(30 * time.Minute), 1}, // e3
	} {
		if n, err := s.DeleteExpiredSessions(ctx, tt.now); err != nil || n != tt.want {
			t.Errorf("DeleteExpiredSessions(%v) = %d, %v; want %d", tt.now, n, err, tt.want)
		}
	}
	if _, err := s.Session(ctx, "live", t0); err != nil {
		t.Errorf("an unexpired session after DeleteExpiredSessions: %v", err)
	}
	if _, err := s.Session(ctx, "e3", t0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a removed session: %v", err)
	}
}
