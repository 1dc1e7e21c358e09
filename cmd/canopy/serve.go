package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/canopy-sec/canopy/internal/api"
	"github.com/canopy-sec/canopy/internal/demo"
	"github.com/canopy-sec/canopy/internal/pipeline"
	"github.com/canopy-sec/canopy/internal/store"
)

func (e *env) serveCmd() *cobra.Command {
	var addr string
	var demoData, insecure bool
	cmd := &cobra.Command{
		Use:   "serve [--data DIR] [--addr 127.0.0.1:8080] [--demo] [--insecure-local]",
		Short: "Serve the REST API",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			log := e.logger(slog.LevelInfo)
			if insecure {
				if err := loopbackOnly(addr); err != nil {
					return usageError{err}
				}
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
			if demoData {
				if err := e.loadDemo(ctx, st, p, insecure, log); err != nil {
					return err
				}
			}
			srv, err := api.New(api.Options{Store: st, Pipeline: p, Logger: log.With("component", "api"), Insecure: insecure, Version: version})
			if err != nil {
				return err
			}
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return err
			}
			hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
			log.Info("serving", "addr", "http://"+ln.Addr().String()+"/api/v1", "insecure_local", insecure)
			errc := make(chan error, 1)
			go func() { errc <- hs.Serve(ln) }()
			select {
			case err := <-errc:
				return err
			case <-ctx.Done():
			}
			log.Info("shutting down")
			sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "listen address")
	cmd.Flags().BoolVar(&demoData, "demo", false, "load the bundled demo data into an empty data directory and print an admin token")
	cmd.Flags().BoolVar(&insecure, "insecure-local", false, "serve without authentication (only allowed on a loopback address)")
	return cmd
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

// loadDemo ingests the demo files into an empty store and, when no token
// exists, creates an admin token and prints it once.
func (e *env) loadDemo(ctx context.Context, st store.Store, p *pipeline.Pipeline, insecure bool, log *slog.Logger) error {
	nf, ne, err := st.Counts(ctx, pipeline.DefaultTenant)
	if err != nil {
		return err
	}
	if nf+ne == 0 {
		files, err := demo.Files()
		if err != nil {
			return err
		}
		for _, f := range files {
			res, err := p.Ingest(ctx, pipeline.Input{Name: "demo/" + f.Name, R: bytes.NewReader(f.Data)})
			if err != nil {
				return fmt.Errorf("loading demo data: %w", err)
			}
			log.Info("demo data loaded", "file", f.Name, "format", res.Format, "records", res.Records)
		}
	}
	if insecure {
		return nil
	}
	tokens, err := st.ListTokens(ctx)
	if err != nil {
		return err
	}
	if len(tokens) > 0 {
		return nil
	}
	secret, t, err := api.NewToken("demo", pipeline.DefaultTenant, store.RoleAdmin, time.Now())
	if err != nil {
		return err
	}
	if err := st.CreateToken(ctx, t); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "\nDemo admin token (shown once; create more with `canopy token create`):\n\n    %s\n\nTry: curl -H 'Authorization: Bearer %s' http://127.0.0.1:8080/api/v1/findings\n\n", secret, secret)
	return nil
}
