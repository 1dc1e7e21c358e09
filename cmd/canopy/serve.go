package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/canopy-sec/canopy/internal/api"
	"github.com/canopy-sec/canopy/internal/bus"
	busnats "github.com/canopy-sec/canopy/internal/bus/nats"
	"github.com/canopy-sec/canopy/internal/console"
	"github.com/canopy-sec/canopy/internal/demo"
	"github.com/canopy-sec/canopy/internal/pipeline"
	"github.com/canopy-sec/canopy/internal/respond"
	"github.com/canopy-sec/canopy/internal/store"
)

// busFlags are the flags that connect a command to NATS JetStream.
type busFlags struct {
	url              string
	replicas         int
	stream, consumer string
	ackWait          time.Duration
}

func (b *busFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&b.url, "nats", "", "NATS JetStream URL for scaled-out ingest, e.g. nats://127.0.0.1:4222 (default $CANOPY_NATS)")
	cmd.Flags().IntVar(&b.replicas, "nats-replicas", 1, "replicas of the ingest stream (3 on a NATS cluster)")
	cmd.Flags().StringVar(&b.stream, "nats-stream", busnats.DefaultStream, "JetStream stream of ingest batches (one per deployment sharing a NATS cluster)")
	cmd.Flags().StringVar(&b.consumer, "nats-consumer", busnats.DefaultConsumer, "durable consumer shared by the deployment's workers")
	cmd.Flags().DurationVar(&b.ackWait, "nats-ack-wait", 2*time.Minute, "how long a batch held by a worker that stopped answering waits before it is delivered to another")
}

func (b *busFlags) natsURL() string {
	if b.url != "" {
		return b.url
	}
	return os.Getenv("CANOPY_NATS")
}

func (b *busFlags) open(ctx context.Context, log *slog.Logger, workers int) (*busnats.Queue, error) {
	prefix := busnats.DefaultSubjectPrefix
	if b.stream != busnats.DefaultStream {
		prefix = busnats.SubjectToken(b.stream) + ".ingest" // streams may not share subjects
	}
	return busnats.New(ctx, busnats.Options{URL: b.natsURL(), Replicas: b.replicas, Stream: b.stream, Consumer: b.consumer,
		SubjectPrefix: prefix, AckWait: b.ackWait, Workers: workers, Logger: log})
}

func (e *env) serveCmd() *cobra.Command {
	var addr, role string
	var demoData, insecure bool
	var nb busFlags
	var workers int
	cmd := &cobra.Command{
		Use:   "serve [--addr 127.0.0.1:8080] [--demo] [--insecure-local] [--role all|api|ingest|worker] [--nats URL]",
		Short: "Serve the REST API, and with --nats take part in a scaled-out deployment",
		Long: `Serve runs Canopy's API. Alone it does everything in one process.
With --nats (and a shared --store postgres://…) it joins a scaled-out
deployment in one role: api serves queries, ingest accepts reports and puts
their batches on NATS JetStream, worker applies batches to the store; all
does the three.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			log := e.logger(slog.LevelInfo)
			if insecure {
				if err := loopbackOnly(addr); err != nil {
					return usageError{err}
				}
			}
			apiRole := api.Role(role)
			switch apiRole {
			case api.RoleAll, api.RoleQuery, api.RoleIngest, api.RoleOps:
			default:
				return usageError{fmt.Errorf("--role must be all, api, ingest or worker, not %q", role)}
			}
			useBus := nb.natsURL() != ""
			if !useBus && (apiRole == api.RoleIngest || apiRole == api.RoleOps) {
				return usageError{fmt.Errorf("--role %s needs --nats (or $CANOPY_NATS)", role)}
			}
			st, err := e.openStore(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			p, err := pipeline.New(pipeline.Options{Store: st, Logger: log.With("component", "pipeline")})
			if err != nil {
				return err
			}
			var demoToken *demoTokenInfo
			if demoData {
				if demoToken, err = e.loadDemo(ctx, st, p, insecure); err != nil {
					return err
				}
				log.Info("demo data ready")
			}
			if _, err := e.risk.cached(); err != nil {
				return err // bad --weights, --assets or --kev: refuse to start
			}
			corr := newCorrelator(e, st, log.With("component", "correlate"))
			defer corr.stop()
			router, err := e.router(st)
			if err != nil {
				return err
			}
			pub, err := e.publicKey("")
			if err != nil {
				return err
			}
			resp, err := e.cachedResponder(st)
			if err != nil {
				return err // a bad --respond-config or --playbooks: refuse to start
			}
			opts := api.Options{Store: st, Pipeline: p, Logger: log.With("component", "api"), Insecure: insecure, Version: version, Role: apiRole,
				Correlate: corr.now, Router: router, AuditKey: pub, Respond: resp.eng, RespondRecord: resp.record}
			if apiRole == api.RoleAll || apiRole == api.RoleOps {
				// SLA breaches are recorded, and runs left running by a
				// process that stopped are resumed, on time; several
				// processes may do this at once: a breach is recorded once,
				// a run resumed by one
				rlog := log.With("component", "respond")
				go func() {
					tick := time.NewTicker(30 * time.Second)
					defer tick.Stop()
					for {
						select {
						case <-ctx.Done():
							return
						case <-tick.C:
							respondRound(ctx, resp, rlog)
						}
					}
				}()
			}
			if router.Notifying() && (apiRole == api.RoleAll || apiRole == api.RoleOps) {
				// unacknowledged notices escalate on time; several processes
				// may do this at once: a notice escalates once
				go func() {
					tick := time.NewTicker(30 * time.Second)
					defer tick.Stop()
					for {
						select {
						case <-ctx.Done():
							return
						case now := <-tick.C:
							if _, err := router.Escalate(ctx, now); err != nil {
								log.Warn("escalation round failed", "err", err)
							}
						}
					}
				}()
			}
			ready := []func(context.Context) error{func(ctx context.Context) error {
				if err := st.Ping(ctx); err != nil {
					return errors.New("store unreachable")
				}
				return nil
			}}
			var q *busnats.Queue
			consumeDone := make(chan error, 1)
			if useBus {
				if q, err = nb.open(ctx, log, workers); err != nil {
					return err
				}
				ready = append(ready, func(ctx context.Context) error {
					if err := q.Ping(ctx); err != nil {
						return errors.New("bus unreachable")
					}
					return nil
				})
				if apiRole == api.RoleAll || apiRole == api.RoleIngest {
					opts.Enqueue = func(ctx context.Context, in pipeline.Input) (store.Job, error) {
						return p.Enqueue(ctx, in, st, q, q.MaxBatchBytes())
					}
				}
				if apiRole == api.RoleAll || apiRole == api.RoleOps {
					wlog := log.With("component", "worker")
					go func() {
						consumeDone <- q.Consume(context.WithoutCancel(ctx), func(ctx context.Context, b bus.Batch) error {
							err := pipeline.Apply(ctx, st, b)
							if err != nil {
								wlog.Warn("batch not applied; it will be delivered again", "batch", b.ID, "tenant", b.Tenant, "err", err)
							} else {
								corr.kick(b.Tenant)
							}
							return err
						})
					}()
					wlog.Info("consuming", "workers", workers)
				}
			}
			opts.Ready = func(ctx context.Context) error {
				for _, f := range ready {
					if err := f(ctx); err != nil {
						return err
					}
				}
				return nil
			}
			srv, err := api.New(opts)
			if err != nil {
				return err
			}
			var handler http.Handler = srv
			var con *console.Console
			if apiRole == api.RoleAll || apiRole == api.RoleQuery {
				// the web console, at /, reads and writes through the API
				if con, err = console.New(console.Options{API: srv, Store: st, Logger: log.With("component", "console")}); err != nil {
					return err
				}
				mux := http.NewServeMux()
				mux.Handle("/api/", srv)
				mux.Handle("/", con)
				handler = mux
			}
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return err
			}
			base := "http://" + ln.Addr().String()
			hs := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
			log.Info("serving", "addr", base+"/api/v1", "console", con != nil, "role", role, "bus", useBus, "insecure_local", insecure)
			if err := e.printWelcome(ctx, con, demoToken, base, insecure); err != nil {
				ln.Close()
				return err
			}
			errc := make(chan error, 1)
			go func() { errc <- hs.Serve(ln) }()
			select {
			case err := <-errc:
				return err
			case err := <-consumeDone:
				hs.Close()
				return fmt.Errorf("worker stopped consuming: %w", err)
			case <-ctx.Done():
			}
			log.Info("shutting down: finishing requests and in-flight batches")
			sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			serr := hs.Shutdown(sctx)
			if errors.Is(serr, http.ErrServerClosed) {
				serr = nil
			}
			if q != nil {
				serr = errors.Join(serr, q.Close()) // lets running handlers commit and ack
			}
			log.Info("stopped")
			return serr
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "listen address")
	cmd.Flags().BoolVar(&demoData, "demo", false, "load the bundled demo data into an empty store and print an admin token")
	cmd.Flags().BoolVar(&insecure, "insecure-local", false, "serve without authentication (only allowed on a loopback address)")
	cmd.Flags().StringVar(&role, "role", "all", "role in a scaled-out deployment: all, api, ingest or worker")
	cmd.Flags().IntVar(&workers, "workers", 2, "batches a worker applies concurrently (with --nats)")
	nb.add(cmd)
	return cmd
}

// correlator runs the correlate and score stages for a serving process:
// on demand (now), or in the background for tenants whose batches a worker
// applied (kick). One process correlates one tenant at a time; processes
// sharing a store take different records or retry (pipeline.Correlate).
type correlator struct {
	e    *env
	st   store.Store
	log  *slog.Logger
	mu   sync.Mutex // serializes correlation in this process
	pend chan string
	done chan struct{}

	kmu    sync.Mutex // guards closed and sends on pend
	closed bool
}

func newCorrelator(e *env, st store.Store, log *slog.Logger) *correlator {
	c := &correlator{e: e, st: st, log: log, pend: make(chan string, 256), done: make(chan struct{})}
	go c.loop()
	return c
}

func (c *correlator) now(ctx context.Context, tenant string) (pipeline.CorrelateResult, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.e.correlate(ctx, c.st, tenant, false)
}

func (c *correlator) kick(tenant string) {
	c.kmu.Lock()
	defer c.kmu.Unlock()
	if c.closed {
		return // shutting down: the records stay queued for the next run
	}
	select {
	case c.pend <- tenant:
	default: // a backlog of kicks: the queued ones cover this tenant's records
	}
}

func (c *correlator) loop() {
	defer close(c.done)
	for tenant := range c.pend {
		// batches come in bursts: let the rest of a burst land first
		time.Sleep(200 * time.Millisecond)
		seen := map[string]bool{tenant: true}
	drain:
		for {
			select {
			case t, ok := <-c.pend:
				if !ok {
					break drain
				}
				seen[t] = true
			default:
				break drain
			}
		}
		for t := range seen {
			res, err := c.now(context.Background(), t)
			if err != nil {
				c.log.Warn("correlation failed; the records stay queued", "tenant", t, "err", err)
				continue
			}
			c.log.Debug("correlated", "tenant", t, "records", res.Records, "incidents", res.Incidents)
		}
	}
}

func (c *correlator) stop() {
	c.kmu.Lock()
	c.closed = true
	close(c.pend)
	c.kmu.Unlock()
	<-c.done
}

// respondRound checks the SLAs of the cases of every tenant that has
// cases or runs, and resumes the runs a stopped process left running.
func respondRound(ctx context.Context, r *responder, log *slog.Logger) {
	tenants, err := r.docs.Tenants(ctx)
	if err != nil {
		log.Warn("listing the tenants with cases and runs failed", "err", err)
		return
	}
	for _, tenant := range tenants {
		bs, err := r.eng.CheckSLA(ctx, tenant)
		for _, b := range bs {
			log.Info("SLA breached", "tenant", tenant, "case", b.Case, "sla", b.SLA, "due", b.Due)
		}
		if err != nil {
			log.Warn("SLA check failed", "tenant", tenant, "err", err)
		}
		runs, err := r.eng.ResumeStale(ctx, tenant, respond.ActorSystem)
		for _, run := range runs {
			log.Info("stale run resumed", "tenant", tenant, "run", run.ID, "state", run.State)
		}
		if err != nil {
			log.Warn("resuming a stale run failed", "tenant", tenant, "err", err)
		}
	}
}

// loopbackOnly refuses an address that is not bound to loopback.
func loopbackOnly(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--addr %q: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("--insecure-local needs a loopback --addr (127.0.0.1, ::1 or localhost), not %q", addr)
	}
	return nil
}

// demoTokenInfo is the demo's admin token: its secret only when it was
// just created (it is shown once).
type demoTokenInfo struct {
	secret string
	token  store.Token
}

// loadDemo ingests the demo files into an empty store and, when no token
// exists, creates an admin token. It returns the demo token (nil in
// insecure mode, or when tokens exist but none is the demo's).
func (e *env) loadDemo(ctx context.Context, st store.Store, p *pipeline.Pipeline, insecure bool) (*demoTokenInfo, error) {
	nf, ne, err := st.Counts(ctx, pipeline.DefaultTenant)
	if err != nil {
		return nil, err
	}
	if nf+ne == 0 {
		files, err := demo.Files()
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			if _, err := p.Ingest(ctx, pipeline.Input{Name: "demo/" + f.Name, R: bytes.NewReader(f.Data)}); err != nil {
				return nil, fmt.Errorf("loading demo data: %w", err)
			}
		}
		if err := demoPosture(ctx, st, p); err != nil {
			return nil, fmt.Errorf("loading demo data: %w", err)
		}
		if _, err := e.correlate(ctx, st, pipeline.DefaultTenant, false); err != nil {
			return nil, fmt.Errorf("loading demo data: %w", err)
		}
	}
	if insecure {
		return nil, nil
	}
	tokens, err := st.ListTokens(ctx)
	if err != nil {
		return nil, err
	}
	if len(tokens) > 0 {
		for _, t := range tokens {
			if t.Name == "demo" && t.Tenant == pipeline.DefaultTenant && t.RevokedAt.IsZero() {
				return &demoTokenInfo{token: t}, nil
			}
		}
		return nil, nil
	}
	secret, t, err := api.NewToken("demo", pipeline.DefaultTenant, store.RoleAdmin, time.Now())
	if err != nil {
		return nil, err
	}
	if err := st.CreateToken(ctx, t); err != nil {
		return nil, err
	}
	return &demoTokenInfo{secret: secret, token: t}, nil
}

// demoPosture imports the demo inventory and scans it with every built-in
// pack, so that the posture views have results.
func demoPosture(ctx context.Context, st store.Store, p *pipeline.Pipeline) error {
	inv, err := demo.Inventory()
	if err != nil {
		return err
	}
	var files []pipeline.InventoryFile
	for _, f := range inv {
		files = append(files, pipeline.InventoryFile{Name: "demo/" + f.Name, R: bytes.NewReader(f.Data)})
	}
	if _, err := pipeline.ImportInventory(ctx, st, pipeline.DefaultTenant, files); err != nil {
		return err
	}
	rules, packs, err := loadRules(nil, "")
	if err != nil {
		return err
	}
	_, err = pipeline.Scan(ctx, p, st, pipeline.PostureScan{Tenant: pipeline.DefaultTenant, Rules: rules, Packs: packs, Version: version})
	return err
}

// printWelcome tells, once the server listens, where the console is: with
// the demo, a one-time sign-in link (and the demo token when it was just
// made).
func (e *env) printWelcome(ctx context.Context, con *console.Console, demo *demoTokenInfo, base string, insecure bool) error {
	if demo != nil && demo.secret != "" {
		fmt.Fprintf(e.stderr, "\nDemo admin token (shown once; create more with `canopy token create`):\n\n    %s\n\nTry: curl -H 'Authorization: Bearer %s' %s/api/v1/findings\n", demo.secret, demo.secret, base)
	}
	if con == nil {
		return nil
	}
	switch {
	case insecure:
		fmt.Fprintf(e.stderr, "\nOpen %s/ to use the console (no sign-in: --insecure-local)\n\n", base)
	case demo != nil:
		path, err := con.SignInLink(ctx, demo.token.Hash)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "\nOpen %s%s to sign in to the console (the link works once, for 15 minutes)\n\n", base, path)
	default:
		fmt.Fprintf(e.stderr, "\nConsole: %s/ (sign in with an API token)\n\n", base)
	}
	return nil
}
