package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	json "github.com/goccy/go-json"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/canopy-sec/canopy/internal/pipeline"
	"github.com/canopy-sec/canopy/internal/route"
	"github.com/canopy-sec/canopy/internal/store"
)

// progressThreshold is the input size above which text output shows a
// progress bar on stderr.
const progressThreshold = 10 << 20

func (e *env) ingestCmd() *cobra.Command {
	var format, tenant, output string
	var nb busFlags
	var noWait, noCorrelate bool
	cmd := &cobra.Command{
		Use:   "ingest [flags] PATH...",
		Short: "Ingest tool output files (or - for stdin) into the store",
		Long: `Ingest reads each PATH (- is standard input), recognises its format from the
content (or uses --format), normalizes every record into OCSF and stores it.
Re-ingesting a report updates what is stored (last_seen, count); it never
duplicates. Each file lands whole or not at all.

With --nats, each file is decoded completely, then its batches are put on
NATS JetStream for the workers of a scaled-out deployment (canopy serve
--role worker) to apply; ingest then waits until the job is done unless
--no-wait is given.

New records are then correlated into incidents and scored (canopy
correlate), unless --no-correlate or --no-wait is given: they wait in the
store's correlation queue for the next correlation.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError{fmt.Errorf("ingest needs at least one PATH (or - for stdin)")}
			}
			if output != "text" && output != "json" {
				return usageError{fmt.Errorf("--output must be text or json, not %q", output)}
			}
			ctx := cmd.Context()
			st, err := e.openStore(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			p, err := pipeline.New(pipeline.Options{Store: st})
			if err != nil {
				return err
			}
			ingest := func(in pipeline.Input) (pipeline.Result, error) { return p.Ingest(ctx, in) }
			if nb.natsURL() != "" {
				q, err := nb.open(ctx, e.logger(slog.LevelWarn), 1)
				if err != nil {
					return err
				}
				defer q.Close()
				ingest = func(in pipeline.Input) (pipeline.Result, error) {
					job, err := p.Enqueue(ctx, in, st, q, q.MaxBatchBytes())
					if err != nil {
						return pipeline.Result{Path: in.Name, Format: job.Format, Errors: []string{}}, err
					}
					if !noWait {
						if job, err = waitForJob(ctx, st, job); err != nil {
							return pipeline.Result{Path: in.Name, Format: job.Format, Errors: []string{}}, err
						}
					}
					return pipeline.Result{Path: in.Name, Format: job.Format, Job: job.ID, Records: job.Records,
						FindingsNew: job.FindingsNew, FindingsUpdated: job.FindingsUpdated, Events: job.Events, Errors: []string{}}, nil
				}
			}
			var results []pipeline.Result
			failed := false
			for _, path := range args {
				res, err := e.ingestOne(path, format, tenant, output == "text", ingest)
				if err != nil {
					failed = true
					res.Errors = append(res.Errors, err.Error())
					fmt.Fprintf(e.stderr, "canopy: %v\n", err)
				} else {
					if err := e.record(ctx, st, tenant, route.ActionIngested, "file:"+res.Path, map[string]any{"format": res.Format, "records": res.Records,
						"findings_new": res.FindingsNew, "findings_updated": res.FindingsUpdated, "events": res.Events, "job": res.Job}); err != nil {
						return err
					}
					if output == "text" {
						fmt.Fprintf(e.stdout, "%s: %s, %d records: %d new findings, %d updated findings, %d events\n",
							res.Path, res.Format, res.Records, res.FindingsNew, res.FindingsUpdated, res.Events)
					}
				}
				results = append(results, res)
			}
			var corr *pipeline.CorrelateResult
			if !noCorrelate && !noWait {
				res, sum, err := e.correlateAuto(ctx, st, tenant, false)
				if err != nil {
					return err
				}
				corr = &res
				if output == "text" {
					fmt.Fprintln(e.stdout, describeCorrelation(res))
					if sum.Records > 0 {
						fmt.Fprintln(e.stdout, sum)
					}
				}
			}
			if output == "json" {
				out := map[string]any{"files": results}
				if corr != nil {
					out["correlation"] = corr
				}
				b, err := json.MarshalIndent(out, "", "  ")
				if err != nil {
					return err
				}
				fmt.Fprintln(e.stdout, string(b))
			}
			if failed {
				return silentError{fmt.Errorf("ingest failed")}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "", "input format (see `canopy formats`); default: recognise the content")
	cmd.Flags().StringVar(&tenant, "tenant", pipeline.DefaultTenant, "tenant the records belong to")
	cmd.Flags().StringVar(&output, "output", "text", "output: text or json")
	cmd.Flags().BoolVar(&noCorrelate, "no-correlate", false, "leave new records in the correlation queue (see canopy correlate)")
	cmd.Flags().BoolVar(&noWait, "no-wait", false, "with --nats: return once the batches are on the bus, without waiting for the workers")
	nb.add(cmd)
	return cmd
}

// waitForJob polls a job until it is done.
func waitForJob(ctx context.Context, st store.Jobs, job store.Job) (store.Job, error) {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		j, err := st.Job(ctx, job.Tenant, job.ID)
		if err != nil {
			return job, fmt.Errorf("waiting for job %s: %w", job.ID, err)
		}
		if j.Status == store.JobDone {
			return j, nil
		}
		select {
		case <-ctx.Done():
			return j, fmt.Errorf("waiting for job %s (%d of %d batches applied): %w", job.ID, j.BatchesDone, j.Batches, ctx.Err())
		case <-tick.C:
		}
	}
}

func (e *env) ingestOne(path, format, tenant string, progress bool, ingest func(pipeline.Input) (pipeline.Result, error)) (pipeline.Result, error) {
	var r io.Reader
	if path == "-" {
		r = e.stdin
	} else {
		f, err := os.Open(path)
		if err != nil {
			return pipeline.Result{Path: path, Errors: []string{}}, fmt.Errorf("ingest %s: %w", path, err)
		}
		defer f.Close()
		r = f
		if fi, err := f.Stat(); err == nil && progress && fi.Size() > progressThreshold && isTerminal(e.stderr) {
			bar := progressbar.NewOptions64(fi.Size(),
				progressbar.OptionSetWriter(e.stderr),
				progressbar.OptionSetDescription(path),
				progressbar.OptionShowBytes(true),
				progressbar.OptionThrottle(200_000_000),
				progressbar.OptionClearOnFinish())
			defer bar.Finish()
			pr := progressbar.NewReader(f, bar)
			r = &pr
		}
	}
	return ingest(pipeline.Input{Name: path, Format: format, Tenant: tenant, R: r})
}

// isTerminal reports whether w is a terminal (progress bars are for people,
// not for logs).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
