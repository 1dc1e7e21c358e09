package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	json "github.com/goccy/go-json"

	"github.com/canopy-sec/canopy/internal/dedup"
	"github.com/canopy-sec/canopy/internal/ingest"
	"github.com/canopy-sec/canopy/internal/ocsf"
	"github.com/canopy-sec/canopy/internal/store"
)

// Beginner starts write transactions; store.Store implements it.
type Beginner interface {
	Begin(ctx context.Context) (store.Appender, error)
}

// Options configures a [Pipeline].
type Options struct {
	// Store receives the records. Required.
	Store Beginner
	// Registry resolves formats. Default: ingest.Builtin().
	Registry *ingest.Registry
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Logger; default discards.
	Logger *slog.Logger
	// BatchSize is how many rows go to the store at once, or into one
	// queued batch; default 1000.
	BatchSize int
	// SpoolDir holds the temporary spool of an input being enqueued;
	// default the system's temporary directory.
	SpoolDir string
}

// Pipeline ingests inputs. It is safe for concurrent use; each call to
// Ingest has its own transaction.
type Pipeline struct {
	opts Options
}

// New returns a pipeline.
func New(opts Options) (*Pipeline, error) {
	if opts.Store == nil {
		return nil, errors.New("pipeline: Options.Store is required")
	}
	if opts.Registry == nil {
		opts.Registry = ingest.Builtin()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 1000
	}
	return &Pipeline{opts: opts}, nil
}

// Registry returns the format registry in use.
func (p *Pipeline) Registry() *ingest.Registry { return p.opts.Registry }

// Input is one report or log to ingest.
type Input struct {
	Name   string    // file path, "-" or a request label; used in messages
	Format string    // format name; empty means sniff the content
	Tenant string    // tenant the records belong to; empty means "default"
	R      io.Reader // the content
}

// Result summarises one ingested input.
type Result struct {
	Path            string   `json:"path"`
	Format          string   `json:"format"`
	Job             string   `json:"job,omitempty"` // the ingest job, when ingested through the bus
	Records         int      `json:"records"`
	FindingsNew     int      `json:"findings_new"`
	FindingsUpdated int      `json:"findings_updated"`
	Events          int      `json:"events"`
	Errors          []string `json:"errors"`
}

// DefaultTenant is the tenant of records ingested without one.
const DefaultTenant = "default"

type batch struct {
	findings, events []store.Row
}

// Ingest decodes in and stores its records in one transaction. On error
// nothing of the input is stored and the error names the input, the format
// and, for bad records, the record (see ingest.RecordError).
func (p *Pipeline) Ingest(ctx context.Context, in Input) (Result, error) {
	res := Result{Path: in.Name, Errors: []string{}}
	tenant := in.Tenant
	if tenant == "" {
		tenant = DefaultTenant
	}
	format, r, err := p.opts.Registry.Open(in.Format, in.R)
	if err != nil {
		return res, fmt.Errorf("ingest %s: %w", in.Name, err)
	}
	res.Format = format.Name
	decode := func(ctx context.Context, emit ingest.Emit) error { return format.Decode(ctx, r, emit) }
	return p.store(ctx, res, tenant, format.Name+"/"+strconv.Itoa(format.Version), decode)
}

// IngestRecords stores records that a stage of Canopy's own produced (the
// posture scan's findings, say) as Ingest stores a decoded input: in one
// transaction, fingerprinted, deduplicated and queued for correlation.
// produce emits the records; name labels them in messages and formatTag
// ("name/version") is stored with each.
func (p *Pipeline) IngestRecords(ctx context.Context, name, tenant, formatTag string, produce func(ctx context.Context, emit ingest.Emit) error) (Result, error) {
	if tenant == "" {
		tenant = DefaultTenant
	}
	format, _, _ := strings.Cut(formatTag, "/")
	return p.store(ctx, Result{Path: name, Format: format, Errors: []string{}}, tenant, formatTag, produce)
}

// store writes what decode emits in one transaction.
func (p *Pipeline) store(ctx context.Context, res Result, tenant, formatTag string, decode func(ctx context.Context, emit ingest.Emit) error) (Result, error) {
	in := Input{Name: res.Path}
	log := p.opts.Logger.With("file", in.Name, "format", res.Format, "tenant", tenant)

	app, err := p.opts.Store.Begin(ctx)
	if err != nil {
		return res, fmt.Errorf("ingest %s: %w", in.Name, err)
	}
	committed := false
	defer func() {
		if !committed {
			app.Rollback()
		}
	}()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan batch, 2)
	decodeErr := make(chan error, 1)
	seen := p.opts.Now().UTC()
	go func() {
		defer close(batches)
		b := batch{}
		send := func() error {
			select {
			case batches <- b:
				b = batch{}
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		err := decode(ctx, func(rec ocsf.Record) error {
			row, err := toRow(rec, tenant, formatTag, seen)
			if err != nil {
				return err
			}
			if ocsf.IsFinding(row.ClassUID) {
				b.findings = append(b.findings, row)
			} else {
				b.events = append(b.events, row)
			}
			if len(b.findings)+len(b.events) >= p.opts.BatchSize {
				return send()
			}
			return nil
		})
		if err == nil && len(b.findings)+len(b.events) > 0 {
			err = send()
		}
		decodeErr <- err
	}()

	var writeErr error
	for b := range batches {
		if writeErr != nil {
			continue // drain so the decoder can finish
		}
		if len(b.findings) > 0 {
			ur, err := app.UpsertFindings(ctx, b.findings)
			if err != nil {
				writeErr = err
				cancel()
				continue
			}
			res.FindingsNew += ur.New
			res.FindingsUpdated += ur.Updated
		}
		if len(b.events) > 0 {
			if _, err := app.UpsertEvents(ctx, b.events); err != nil {
				writeErr = err
				cancel()
				continue
			}
			res.Events += len(b.events)
		}
		res.Records += len(b.findings) + len(b.events)
		log.Debug("batch stored", "batch", len(b.findings)+len(b.events))
	}
	derr := <-decodeErr
	if writeErr != nil {
		return zeroCounts(res), fmt.Errorf("ingest %s: %w", in.Name, writeErr)
	}
	if derr != nil {
		return zeroCounts(res), fmt.Errorf("ingest %s: %w", in.Name, derr)
	}
	if err := app.Commit(); err != nil {
		return zeroCounts(res), fmt.Errorf("ingest %s: %w", in.Name, err)
	}
	committed = true
	log.Info("ingested", "records", res.Records, "findings_new", res.FindingsNew, "findings_updated", res.FindingsUpdated, "events", res.Events)
	return res, nil
}

func zeroCounts(r Result) Result {
	r.Records, r.FindingsNew, r.FindingsUpdated, r.Events = 0, 0, 0, 0
	return r
}

// toRow fingerprints and marshals one record.
func toRow(rec ocsf.Record, tenant, format string, seen time.Time) (store.Row, error) {
	b := rec.Common()
	if b.Time == 0 {
		b.Time = seen.UnixMilli()
	}
	uid := rec.SourceUID()
	if uid == "" {
		return store.Row{}, fmt.Errorf("%s: record without a source uid (a decoder bug)", format)
	}
	data, err := json.Marshal(rec)
	if err != nil {
		return store.Row{}, fmt.Errorf("%s: encoding OCSF: %w", format, err)
	}
	product := b.Metadata.Product.Name
	return store.Row{
		Tenant:      tenant,
		Fingerprint: dedup.Fingerprint(tenant, product, uid),
		ClassUID:    b.ClassUID,
		SeverityID:  b.SeverityID,
		Product:     product,
		Format:      format,
		SourceUID:   uid,
		ResourceUID: rec.ResourceUID(),
		IssueKey:    dedup.IssueKey(rec),
		Title:       truncate(rec.Title(), 500),
		Time:        time.UnixMilli(b.Time).UTC(),
		Seen:        seen,
		OCSF:        data,
	}, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n-- // do not cut a UTF-8 sequence
	}
	return s[:n] + "…"
}
