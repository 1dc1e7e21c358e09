package pipeline

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"strconv"

	"github.com/canopy-sec/canopy/internal/bus"
	"github.com/canopy-sec/canopy/internal/ocsf"
	"github.com/canopy-sec/canopy/internal/store"
)

// maxSpooledBatch bounds a batch read back from the spool (a corrupt spool
// must not make us allocate without limit).
const maxSpooledBatch = 64 << 20

// Enqueue ingests in through a queue, for a scaled-out deployment: it
// decodes the whole input first, spooling its batches to a temporary file
// (memory stays bounded), so that an input that fails to decode publishes
// nothing. Then it records an ingest job and publishes the batches, and
// returns once every batch is durably on the queue. Workers apply the
// batches with [Apply]; the job shows their progress. maxBatchBytes bounds a
// batch's encoded size (0: the bus default).
func (p *Pipeline) Enqueue(ctx context.Context, in Input, jobs store.Jobs, q bus.Queue, maxBatchBytes int) (store.Job, error) {
	tenant := in.Tenant
	if tenant == "" {
		tenant = DefaultTenant
	}
	format, r, err := p.opts.Registry.Open(in.Format, in.R)
	if err != nil {
		return store.Job{}, fmt.Errorf("ingest %s: %w", in.Name, err)
	}
	jobID, err := newJobID()
	if err != nil {
		return store.Job{}, err
	}
	sp, err := bus.NewSplitter(bus.SplitOptions{JobID: jobID, Tenant: tenant, MaxRows: p.opts.BatchSize, MaxBatchBytes: maxBatchBytes})
	if err != nil {
		return store.Job{}, err
	}
	spool, err := os.CreateTemp(p.opts.SpoolDir, "canopy-spool-*")
	if err != nil {
		return store.Job{}, fmt.Errorf("ingest %s: creating spool: %w", in.Name, err)
	}
	defer func() {
		spool.Close()
		os.Remove(spool.Name())
	}()
	w := bufio.NewWriterSize(spool, 1<<20)
	var lenBuf [binary.MaxVarintLen64]byte
	spoolBatch := func(b bus.Batch) error {
		data := bus.Marshal(b)
		n := binary.PutUvarint(lenBuf[:], uint64(len(data)))
		if _, err := w.Write(lenBuf[:n]); err != nil {
			return err
		}
		_, err := w.Write(data)
		return err
	}
	seen := p.opts.Now().UTC()
	formatTag := format.Name + "/" + strconv.Itoa(format.Version)
	records := 0
	err = format.Decode(ctx, r, func(rec ocsf.Record) error {
		row, err := toRow(rec, tenant, formatTag, seen)
		if err != nil {
			return err
		}
		records++
		full, ok, err := sp.Add(row, ocsf.IsFinding(row.ClassUID))
		if err != nil || !ok {
			return err
		}
		return spoolBatch(full)
	})
	if err == nil {
		if last, ok := sp.Flush(); ok {
			err = spoolBatch(last)
		}
	}
	if err == nil {
		err = w.Flush()
	}
	if err != nil {
		return store.Job{}, fmt.Errorf("ingest %s: %w", in.Name, err)
	}
	job := store.Job{ID: jobID, Tenant: tenant, Name: in.Name, Format: format.Name, Batches: sp.Batches(), CreatedAt: seen}
	if err := jobs.CreateJob(ctx, job); err != nil {
		return store.Job{}, fmt.Errorf("ingest %s: %w", in.Name, err)
	}
	job.Status, job.UpdatedAt = store.JobQueued, job.CreatedAt
	if job.Batches == 0 {
		job.Status = store.JobDone
	}
	if _, err := spool.Seek(0, io.SeekStart); err != nil {
		return store.Job{}, fmt.Errorf("ingest %s: rewinding spool: %w", in.Name, err)
	}
	var readErr error
	batches := func(yield func(bus.Batch) bool) {
		br := bufio.NewReaderSize(spool, 1<<20)
		for {
			n, err := binary.ReadUvarint(br)
			if err == io.EOF {
				return
			}
			if err == nil && n > maxSpooledBatch {
				err = fmt.Errorf("batch of %d bytes", n)
			}
			var data []byte
			if err == nil {
				data = make([]byte, n)
				_, err = io.ReadFull(br, data)
			}
			var b bus.Batch
			if err == nil {
				b, err = bus.Unmarshal(data)
			}
			if err != nil {
				readErr = fmt.Errorf("reading spool: %w", err)
				return
			}
			if !yield(b) {
				return
			}
		}
	}
	if err := q.PublishAll(ctx, iter.Seq[bus.Batch](batches)); err != nil {
		return job, fmt.Errorf("ingest %s: publishing job %s: %w", in.Name, jobID, err)
	}
	if readErr != nil {
		return job, fmt.Errorf("ingest %s: %w", in.Name, readErr)
	}
	p.opts.Logger.Info("enqueued", "file", in.Name, "format", format.Name, "tenant", tenant, "job", jobID, "records", records, "batches", job.Batches)
	job.Records = records
	return job, nil
}

func newJobID() (string, error) {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("making a job id: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// Apply writes one batch in one transaction: it claims the batch, upserts
// its rows, adds its counts to its job and commits. A batch that was already
// applied (a redelivery) changes nothing and returns nil, so that the queue
// acknowledges it.
func Apply(ctx context.Context, st Beginner, b bus.Batch) (err error) {
	app, err := st.Begin(ctx)
	if err != nil {
		return fmt.Errorf("applying batch %s: %w", b.ID, err)
	}
	committed := false
	defer func() {
		if !committed {
			err = errors.Join(err, app.Rollback())
		}
	}()
	fresh, err := app.Claim(ctx, b.ID)
	if err != nil {
		return fmt.Errorf("applying batch %s: %w", b.ID, err)
	}
	if !fresh {
		return nil // already applied: the rollback ends the transaction
	}
	progress := store.JobProgress{Records: b.Len(), Events: len(b.Events)}
	if len(b.Findings) > 0 {
		res, err := app.UpsertFindings(ctx, b.Findings)
		if err != nil {
			return fmt.Errorf("applying batch %s: %w", b.ID, err)
		}
		progress.FindingsNew, progress.FindingsUpdated = res.New, res.Updated
	}
	if len(b.Events) > 0 {
		if _, err := app.UpsertEvents(ctx, b.Events); err != nil {
			return fmt.Errorf("applying batch %s: %w", b.ID, err)
		}
	}
	if err := app.AddToJob(ctx, b.JobID, progress); err != nil {
		return fmt.Errorf("applying batch %s: %w", b.ID, err)
	}
	if err := app.Commit(); err != nil {
		return fmt.Errorf("applying batch %s: %w", b.ID, err)
	}
	committed = true
	return nil
}
