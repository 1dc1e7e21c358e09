package bus_test

import (
	stdjson "encoding/json"
	"errors"
	"testing"
	"time"

	json "github.com/goccy/go-json"

	"github.com/canopy-sec/canopy/internal/bus"
	"github.com/canopy-sec/canopy/internal/bus/bustest"
	"github.com/canopy-sec/canopy/internal/store"
)

func sample() bus.Batch {
	rows := bustest.Rows(1, "acme", 5, 400)
	rows[1].Time, rows[1].Seen, rows[1].OCSF = time.Time{}, time.Time{}, nil
	rows[2].ClassUID, rows[2].SeverityID, rows[2].Title = -7, 1<<40, "Ünïcode ✓"
	rows[3].Time = time.Date(1960, 1, 1, 0, 0, 0, 999_999_999, time.UTC)
	return bus.Batch{ID: "job/3", JobID: "job", Tenant: "acme", Seq: 3, Total: 9, Findings: rows[:3], Events: rows[3:]}
}

func TestRoundTrip(t *testing.T) {
	for name, b := range map[string]bus.Batch{
		"rows":  sample(),
		"empty": {ID: "j/1", JobID: "j", Tenant: "t", Seq: 1},
		"zero":  {},
	} {
		t.Run(name, func(t *testing.T) {
			data := bus.Marshal(b)
			if len(data) != bus.EncodedSize(b) {
				t.Errorf("EncodedSize = %d, Marshal made %d bytes", bus.EncodedSize(b), len(data))
			}
			got, err := bus.Unmarshal(data)
			if err != nil {
				t.Fatal(err)
			}
			if d := bustest.Diff(got, b); d != "" {
				t.Error(d)
			}
			if name == "rows" && !got.Findings[1].Time.IsZero() {
				t.Errorf("zero time decoded as %v", got.Findings[1].Time)
			}
		})
	}
}

func TestUnmarshalRejects(t *testing.T) {
	good := bus.Marshal(sample())
	cases := map[string][]byte{
		"empty":       nil,
		"magic":       append([]byte{'{'}, good[1:]...),
		"version":     append([]byte{good[0], 2}, good[2:]...),
		"truncated":   good[:len(good)-1],
		"trailing":    append(append([]byte{}, good...), 0),
		"header only": good[:20],
		"huge count":  {0xCB, 1, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0},
	}
	for name, data := range cases {
		if _, err := bus.Unmarshal(data); !errors.Is(err, bus.ErrCorrupt) {
			t.Errorf("%s: err = %v, want ErrCorrupt", name, err)
		}
	}
}

func TestUnmarshalSharesOCSF(t *testing.T) {
	data := bus.Marshal(sample())
	b, err := bus.Unmarshal(data)
	if err != nil {
		t.Fatal(err)
	}
	o := b.Findings[0].OCSF
	if cap(o) != len(o) {
		t.Errorf("OCSF slice has spare capacity %d: an append would overwrite the next row", cap(o)-len(o))
	}
}

func FuzzUnmarshal(f *testing.F) {
	f.Add(bus.Marshal(sample()))
	f.Add(bus.Marshal(bus.Batch{ID: "a"}))
	f.Add([]byte{0xCB, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := bus.Unmarshal(data)
		if err != nil {
			if !errors.Is(err, bus.ErrCorrupt) {
				t.Fatalf("error does not wrap ErrCorrupt: %v", err)
			}
			return
		}
		again, err := bus.Unmarshal(bus.Marshal(b))
		if err != nil {
			t.Fatalf("re-encoded batch does not decode: %v", err)
		}
		if d := bustest.Diff(again, b); d != "" {
			t.Fatal(d)
		}
	})
}

// jsonBatch is the JSON encoding the binary one was measured against: the
// OCSF stays raw (json.RawMessage), not a JSON string.
type jsonBatch struct {
	V        int       `json:"v"`
	ID       string    `json:"id"`
	JobID    string    `json:"job_id"`
	Tenant   string    `json:"tenant"`
	Seq      int       `json:"seq"`
	Total    int       `json:"total"`
	Findings []jsonRow `json:"findings"`
	Events   []jsonRow `json:"events"`
}

type jsonRow struct {
	Tenant      string             `json:"tenant"`
	Fingerprint string             `json:"fingerprint"`
	ClassUID    int                `json:"class_uid"`
	SeverityID  int                `json:"severity_id"`
	Product     string             `json:"product"`
	Format      string             `json:"format"`
	SourceUID   string             `json:"source_uid"`
	ResourceUID string             `json:"resource_uid"`
	Title       string             `json:"title"`
	Time        time.Time          `json:"time"`
	Seen        time.Time          `json:"seen"`
	OCSF        stdjson.RawMessage `json:"ocsf"`
}

func toJSON(b bus.Batch) jsonBatch {
	conv := func(rs []store.Row) []jsonRow {
		out := make([]jsonRow, len(rs))
		for i, r := range rs {
			out[i] = jsonRow{r.Tenant, r.Fingerprint, r.ClassUID, r.SeverityID, r.Product, r.Format, r.SourceUID, r.ResourceUID, r.Title, r.Time, r.Seen, r.OCSF}
		}
		return out
	}
	return jsonBatch{1, b.ID, b.JobID, b.Tenant, b.Seq, b.Total, conv(b.Findings), conv(b.Events)}
}

// BenchmarkCodec compares the binary encoding with JSON (encoding/json and
// goccy/go-json, OCSF as raw JSON) on a batch of 360 rows of about 2.7 KB
// of OCSF each, the most that fits DefaultMaxBatchBytes:
//
//	go test ./internal/bus -run '^$' -bench Codec -benchmem -count 6
func BenchmarkCodec(b *testing.B) {
	batch := bus.Batch{ID: "job/1", JobID: "job", Tenant: "acme", Seq: 1, Findings: bustest.Rows(1, "acme", 360, 2700)}
	bin := bus.Marshal(batch)
	js, err := stdjson.Marshal(toJSON(batch))
	if err != nil {
		b.Fatal(err)
	}
	rows := float64(batch.Len())
	report := func(b *testing.B, size int) {
		b.SetBytes(int64(size))
		b.ReportMetric(rows*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		b.ReportMetric(float64(size), "encoded-bytes")
	}
	b.Run("binary/marshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			bus.Marshal(batch)
		}
		report(b, len(bin))
	})
	b.Run("binary/unmarshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := bus.Unmarshal(bin); err != nil {
				b.Fatal(err)
			}
		}
		report(b, len(bin))
	})
	b.Run("encoding-json/marshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := stdjson.Marshal(toJSON(batch)); err != nil {
				b.Fatal(err)
			}
		}
		report(b, len(js))
	})
	b.Run("encoding-json/unmarshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var v jsonBatch
			if err := stdjson.Unmarshal(js, &v); err != nil {
				b.Fatal(err)
			}
		}
		report(b, len(js))
	})
	b.Run("goccy-json/marshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(toJSON(batch)); err != nil {
				b.Fatal(err)
			}
		}
		report(b, len(js))
	})
	b.Run("goccy-json/unmarshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var v jsonBatch
			if err := json.Unmarshal(js, &v); err != nil {
				b.Fatal(err)
			}
		}
		report(b, len(js))
	})
}
