package bus

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/canopy-sec/canopy/internal/store"
)

const (
	// DefaultMaxRows is the default number of rows in a batch.
	DefaultMaxRows = 1000
	// DefaultMaxBatchBytes is the default bound on a batch's encoded size:
	// 1 MiB less 16 KiB, so that a batch and its message headers fit
	// JetStream's default maximum payload of 1 MiB.
	DefaultMaxBatchBytes = 1<<20 - 16<<10
)

// SplitOptions configures a [Splitter].
type SplitOptions struct {
	// JobID is the job every batch belongs to; batch IDs are JobID + "/" +
	// Seq. Required.
	JobID string
	// Tenant owns the rows. Required.
	Tenant string
	// MaxRows bounds the rows in a batch; default [DefaultMaxRows].
	MaxRows int
	// MaxBatchBytes bounds a batch's encoded size ([EncodedSize]); default
	// [DefaultMaxBatchBytes].
	MaxBatchBytes int
}

// Splitter cuts a stream of rows into batches that respect both a row count
// and an encoded size bound, so that a large report never becomes one huge
// message. It keeps only the batch being filled. It is not safe for
// concurrent use.
type Splitter struct {
	opts   SplitOptions
	cur    Batch
	size   int // encoded size of cur's rows
	seq    int // cur's Seq
	closed bool
}

// NewSplitter returns a splitter for one job.
func NewSplitter(opts SplitOptions) (*Splitter, error) {
	if opts.JobID == "" {
		return nil, errors.New("bus: SplitOptions.JobID is required")
	}
	if opts.Tenant == "" {
		return nil, errors.New("bus: SplitOptions.Tenant is required")
	}
	if opts.MaxRows < 0 {
		return nil, fmt.Errorf("bus: SplitOptions.MaxRows is negative (%d)", opts.MaxRows)
	}
	if opts.MaxRows == 0 {
		opts.MaxRows = DefaultMaxRows
	}
	if opts.MaxBatchBytes < 0 {
		return nil, fmt.Errorf("bus: SplitOptions.MaxBatchBytes is negative (%d)", opts.MaxBatchBytes)
	}
	if opts.MaxBatchBytes == 0 {
		opts.MaxBatchBytes = DefaultMaxBatchBytes
	}
	s := &Splitter{opts: opts}
	s.start()
	return s, nil
}

// start begins the next batch.
func (s *Splitter) start() {
	s.seq++
	s.cur = Batch{ID: s.opts.JobID + "/" + strconv.Itoa(s.seq), JobID: s.opts.JobID, Tenant: s.opts.Tenant, Seq: s.seq}
	s.size = 0
}

// headerFor bounds the header of the batch with the given seq: Total may
// become seq when the batch turns out to be the last, and the row counts
// grow to at most MaxRows. It grows with seq.
func (s *Splitter) headerFor(seq int) int {
	idLen := len(s.opts.JobID) + 1 + len(strconv.Itoa(seq))
	return 2 + uvarintSize(uint64(idLen)) + idLen + strSize(s.opts.JobID) + strSize(s.opts.Tenant) +
		2*varintSize(int64(seq)) + 2*uvarintSize(uint64(s.opts.MaxRows))
}

// Add appends a row to the current batch, as a finding when finding is
// true, else as an event. When the row does not fit, Add returns the
// current batch, complete (ok true), and starts the next one with the row.
// A row too large for a batch on its own is refused with an error wrapping
// [ErrTooLarge]; the splitter stays usable.
func (s *Splitter) Add(r store.Row, finding bool) (full Batch, ok bool, err error) {
	if s.closed {
		return Batch{}, false, errors.New("bus: Splitter.Add after Flush")
	}
	n := RowSize(&r)
	// Checked against the next batch's header, which is at least the
	// current one's: a row that passes fits wherever it goes.
	if s.headerFor(s.seq+1)+n > s.opts.MaxBatchBytes {
		return Batch{}, false, fmt.Errorf("%w: row %s is %d bytes encoded, over MaxBatchBytes %d with a batch header",
			ErrTooLarge, r.Fingerprint, n, s.opts.MaxBatchBytes)
	}
	if s.cur.Len() > 0 && (s.cur.Len() >= s.opts.MaxRows || s.headerFor(s.seq)+s.size+n > s.opts.MaxBatchBytes) {
		full, ok = s.cur, true
		s.start()
	}
	if finding {
		s.cur.Findings = append(s.cur.Findings, r)
	} else {
		s.cur.Events = append(s.cur.Events, r)
	}
	s.size += n
	return full, ok, nil
}

// Flush ends the job: it returns the last batch (ok false when the job made
// no row at all), with Total set to the number of batches the job made.
// The splitter refuses rows afterwards.
func (s *Splitter) Flush() (last Batch, ok bool) {
	if s.closed {
		return Batch{}, false
	}
	s.closed = true
	if s.cur.Len() == 0 {
		return Batch{}, false
	}
	s.cur.Total = s.seq
	return s.cur, true
}

// Batches returns the number of batches made so far, including the one
// being filled if it holds a row.
func (s *Splitter) Batches() int {
	if s.cur.Len() == 0 {
		return s.seq - 1
	}
	return s.seq
}
