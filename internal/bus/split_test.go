package bus_test

import (
	"errors"
	"strconv"
	"testing"

	"github.com/canopy-sec/canopy/internal/bus"
	"github.com/canopy-sec/canopy/internal/bus/bustest"
	"github.com/canopy-sec/canopy/internal/store"
)

// split runs rows through a splitter (every third row an event) and
// returns the batches.
func split(t *testing.T, opts bus.SplitOptions, rows []store.Row) []bus.Batch {
	t.Helper()
	sp, err := bus.NewSplitter(opts)
	if err != nil {
		t.Fatal(err)
	}
	var out []bus.Batch
	for i, r := range rows {
		b, ok, err := sp.Add(r, i%3 != 0)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			out = append(out, b)
		}
		if sp.Batches() != len(out)+1 {
			t.Fatalf("after row %d Batches() = %d, want %d", i, sp.Batches(), len(out)+1)
		}
	}
	if b, ok := sp.Flush(); ok {
		out = append(out, b)
	}
	return out
}

func TestSplitterBounds(t *testing.T) {
	cases := []struct {
		name            string
		rows, ocsf      int
		maxRows, maxB   int
		wantMinBatches  int
		wantByRowsBound bool
	}{
		{"rows bound", 2500, 200, 1000, 0, 3, true},
		{"bytes bound", 1000, 2700, 1000, 0, 3, false},
		{"tight bytes", 300, 900, 0, 4096, 75, false},
		{"one row each", 20, 3000, 0, 3300, 20, false},
		{"seq digits grow", 150, 100, 0, 700, 150, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rows := bustest.Rows(3, "acme", c.rows, c.ocsf)
			opts := bus.SplitOptions{JobID: "job-42", Tenant: "acme", MaxRows: c.maxRows, MaxBatchBytes: c.maxB}
			bs := split(t, opts, rows)
			maxB := c.maxB
			if maxB == 0 {
				maxB = bus.DefaultMaxBatchBytes
			}
			maxRows := c.maxRows
			if maxRows == 0 {
				maxRows = bus.DefaultMaxRows
			}
			if len(bs) < c.wantMinBatches {
				t.Errorf("%d batches, want at least %d", len(bs), c.wantMinBatches)
			}
			fi, ev := 0, 0
			var gotF, gotE []store.Row
			for i, b := range bs {
				if want := "job-42/" + strconv.Itoa(i+1); b.ID != want || b.Seq != i+1 || b.JobID != "job-42" || b.Tenant != "acme" {
					t.Errorf("batch %d: id %q seq %d job %q tenant %q", i, b.ID, b.Seq, b.JobID, b.Tenant)
				}
				wantTotal := 0
				if i == len(bs)-1 {
					wantTotal = len(bs)
				}
				if b.Total != wantTotal {
					t.Errorf("batch %d: Total %d, want %d", i+1, b.Total, wantTotal)
				}
				if size := len(bus.Marshal(b)); size > maxB || b.Len() > maxRows || b.Len() == 0 {
					t.Errorf("batch %d: %d rows, %d bytes; bounds %d rows, %d bytes", i+1, b.Len(), size, maxRows, maxB)
				}
				if c.wantByRowsBound && i < len(bs)-1 && b.Len() != maxRows {
					t.Errorf("batch %d: %d rows, want full batches of %d", i+1, b.Len(), maxRows)
				}
				gotF = append(gotF, b.Findings...)
				gotE = append(gotE, b.Events...)
				fi += len(b.Findings)
				ev += len(b.Events)
			}
			for i, r := range rows {
				got := &gotF
				if i%3 == 0 {
					got = &gotE
				}
				if len(*got) == 0 || (*got)[0].Fingerprint != r.Fingerprint {
					t.Fatalf("row %d missing or out of order", i)
				}
				*got = (*got)[1:]
			}
			if fi+ev != len(rows) || ev != (len(rows)+2)/3 {
				t.Errorf("%d findings and %d events, want %d rows with %d events", fi, ev, len(rows), (len(rows)+2)/3)
			}
		})
	}
}

func TestSplitterRowTooLarge(t *testing.T) {
	rows := bustest.Rows(4, "acme", 3, 5000)
	sp, err := bus.NewSplitter(bus.SplitOptions{JobID: "j", Tenant: "acme", MaxBatchBytes: 4000})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := sp.Add(rows[0], true); !errors.Is(err, bus.ErrTooLarge) {
		t.Fatalf("Add of a row over the bound: %v, want ErrTooLarge", err)
	}
	small := rows[1]
	small.OCSF = []byte(`{}`)
	if _, _, err := sp.Add(small, true); err != nil {
		t.Fatalf("splitter unusable after a refused row: %v", err)
	}
	b, ok := sp.Flush()
	if !ok || b.Len() != 1 || b.Seq != 1 || b.Total != 1 {
		t.Errorf("Flush = %+v, %v", b, ok)
	}
	if _, _, err := sp.Add(small, true); err == nil {
		t.Error("Add after Flush accepted")
	}
}

func TestSplitterEmpty(t *testing.T) {
	sp, err := bus.NewSplitter(bus.SplitOptions{JobID: "j", Tenant: "t"})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := sp.Flush(); ok || sp.Batches() != 0 {
		t.Errorf("an empty job made a batch")
	}
	for _, o := range []bus.SplitOptions{{Tenant: "t"}, {JobID: "j"}, {JobID: "j", Tenant: "t", MaxRows: -1}} {
		if _, err := bus.NewSplitter(o); err == nil {
			t.Errorf("NewSplitter(%+v) accepted", o)
		}
	}
}
