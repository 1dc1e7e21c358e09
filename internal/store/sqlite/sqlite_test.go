package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/canopy-sec/canopy/internal/store"
	"github.com/canopy-sec/canopy/internal/store/sqlite"
	"github.com/canopy-sec/canopy/internal/store/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "canopy.db"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// TestRiskListingBounded runs the listings by risk with walks of a few
// issues, so that pages cross from the walk to the one-pass rest.
func TestRiskListingBounded(t *testing.T) {
	for _, n := range []int{1, 2, 3} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			defer sqlite.SetRiskWalk(n)()
			storetest.RunRiskListing(t, func(t *testing.T) store.Store {
				s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "canopy.db"))
				if err != nil {
					t.Fatal(err)
				}
				return s
			})
		})
	}
}

func TestReopenKeepsData(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "canopy.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateToken(ctx, store.Token{ID: "x", Name: "n", Tenant: "t", Role: store.RoleViewer, Hash: "h"}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.TokenByHash(ctx, "h"); err != nil {
		t.Errorf("after reopen: %v", err)
	}
}
