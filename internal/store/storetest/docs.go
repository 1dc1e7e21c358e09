package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/canopy-sec/canopy/internal/store"
)

// testDocs: documents are created once, read, updated atomically (also
// created by an update), listed in creation order, per kind and tenant;
// the tenants with documents of a kind are listed.
func testDocs(t *testing.T, s store.Store) {
	ctx := context.Background()
	if err := s.CreateDoc(ctx, "run", "t1", "r1", []byte(`{"n":0}`)); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateDoc(ctx, "run", "t1", "r1", []byte(`{"n":9}`)); !errors.Is(err, store.ErrExists) {
		t.Fatalf("creating twice: %v", err)
	}
	if _, err := s.Doc(ctx, "run", "t2", "r1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another tenant's doc: %v", err)
	}
	if _, err := s.Doc(ctx, "case", "t1", "r1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another kind's doc: %v", err)
	}
	if _, err := s.UpdateDoc(ctx, "run", "t1", "missing", false, func(b []byte) ([]byte, error) { return b, nil }); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("updating a missing doc: %v", err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 80)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 10 {
				_, err := s.UpdateDoc(ctx, "run", "t1", "r1", false, func(b []byte) ([]byte, error) {
					var d struct{ N int }
					if err := json.Unmarshal(b, &d); err != nil {
						return nil, err
					}
					return []byte(fmt.Sprintf(`{"n":%d}`, d.N+1)), nil
				})
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	b, err := s.Doc(ctx, "run", "t1", "r1")
	if err != nil || !sameJSON(b, []byte(`{"n":80}`)) {
		t.Fatalf("after 80 concurrent increments: %s, %v", b, err)
	}
	boom := errors.New("boom")
	if _, err := s.UpdateDoc(ctx, "run", "t1", "r1", false, func([]byte) ([]byte, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Fatalf("fn's error: %v", err)
	}
	got, err := s.UpdateDoc(ctx, "state", "t1", "finding:1", true, func(b []byte) ([]byte, error) {
		if b != nil {
			t.Errorf("a missing doc came as %s", b)
		}
		return []byte(`{"tags":["x"]}`), nil
	})
	if err != nil || !sameJSON(got, []byte(`{"tags":["x"]}`)) {
		t.Fatalf("create by update: %s, %v", got, err)
	}
	for i := 2; i <= 3; i++ {
		if err := s.CreateDoc(ctx, "run", "t1", fmt.Sprintf("r%d", i), []byte(fmt.Sprintf(`{"n":%d}`, i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CreateDoc(ctx, "run", "t2", "r9", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	list, err := s.ListDocs(ctx, "run", "t1")
	if err != nil || len(list) != 3 || !sameJSON(list[0], []byte(`{"n":80}`)) || !sameJSON(list[2], []byte(`{"n":3}`)) {
		t.Fatalf("ListDocs = %q, %v", list, err)
	}
	if ts, err := s.DocTenants(ctx, "run"); err != nil || strings.Join(ts, ",") != "t1,t2" {
		t.Fatalf("DocTenants(run) = %q, %v", ts, err)
	}
	if ts, err := s.DocTenants(ctx, "nothing"); err != nil || len(ts) != 0 {
		t.Fatalf("DocTenants(nothing) = %q, %v", ts, err)
	}
}
