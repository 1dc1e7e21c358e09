package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/canopy-sec/canopy/internal/store"
	"github.com/canopy-sec/canopy/internal/store/postgres"
	"github.com/canopy-sec/canopy/internal/store/sqlite"
)

// Exit codes.
const (
	exitOK    = 0
	exitError = 1 // the command failed (bad input, store error …)
	exitUsage = 2 // bad flags or arguments
	// exitPolicy (3): canopy scan --fail-on found failures
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

type usageError struct{ error }

// env holds what every command shares.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	data           string // --data
	storeSpec      string // --store
	risk           riskFlags
	route          routeFlags
	respond        respondFlags
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:           "canopy",
		Short:         "Canopy: one normalized, deduplicated picture of your cloud security tools' output",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.PersistentFlags().StringVar(&e.data, "data", "", "data directory (default $CANOPY_DATA, else ./canopy-data)")
	root.PersistentFlags().StringVar(&e.storeSpec, "store", "", "store: sqlite:PATH or postgres://… (default $CANOPY_STORE, else the SQLite file in the data directory)")
	e.risk.add(root)
	e.route.add(root)
	e.respond.add(root)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(e.ingestCmd(), e.listCmd("findings"), e.listCmd("events"), e.issuesCmd(), e.incidentsCmd(), e.correlateCmd(), e.incidentCmd(), e.inventoryCmd(), e.packsCmd(), e.scanCmd(), e.reportCmd(), e.evidenceCmd(), e.contractCmd(),
		e.noticesCmd(), e.advisoryCmd(), e.findingCmd(), e.auditCmd(), e.kpiCmd(), e.datascanCmd(), e.riskCmd(), e.formatsCmd(), e.versionCmd(), e.serveCmd(), e.tokenCmd(), e.migrateCmd(),
		e.respondCmd(), e.approvalsCmd(), e.actionsCmd(), e.playbookCmd(), e.casesCmd())
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "canopy: %v\n", err)
		return exitUsage
	}
	var pe policyError
	if errors.As(err, &pe) {
		fmt.Fprintf(stderr, "canopy: %v\n", err)
		return exitPolicy
	}
	var se silentError
	if !errors.As(err, &se) {
		fmt.Fprintf(stderr, "canopy: %v\n", err)
	}
	return exitError
}

// silentError is a failure already reported to the user.
type silentError struct{ error }

// dataDir resolves --data: the flag, else $CANOPY_DATA, else ./canopy-data.
func dataDir(flag string) string {
	if flag != "" {
		return flag
	}
	if d := os.Getenv("CANOPY_DATA"); d != "" {
		return d
	}
	return "canopy-data"
}

// openStore opens the store named by --store (else $CANOPY_STORE, else the
// SQLite file in the data directory).
func (e *env) openStore(ctx context.Context) (store.Store, error) {
	spec := e.storeSpec
	if spec == "" {
		spec = os.Getenv("CANOPY_STORE")
	}
	return openStoreSpec(ctx, spec, dataDir(e.data))
}

func openStoreSpec(ctx context.Context, spec, data string) (store.Store, error) {
	switch {
	case spec == "":
		return sqlite.Open(ctx, filepath.Join(data, "canopy.db"))
	case strings.HasPrefix(spec, "sqlite:"):
		path := strings.TrimPrefix(strings.TrimPrefix(spec, "sqlite:"), "//")
		if path == "" {
			return nil, usageError{fmt.Errorf("--store sqlite: needs a path, e.g. sqlite:/var/lib/canopy/canopy.db")}
		}
		return sqlite.Open(ctx, path)
	case strings.HasPrefix(spec, "postgres://"), strings.HasPrefix(spec, "postgresql://"):
		return postgres.Open(ctx, spec)
	}
	return nil, usageError{fmt.Errorf("--store %q: want sqlite:PATH or postgres://…", redactSpec(spec))}
}

// redactSpec hides passwords in a store URL.
func redactSpec(spec string) string { return postgres.Redact(spec) }

func (e *env) logger(level slog.Level) *slog.Logger {
	return slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: level}))
}

func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usageError{fmt.Errorf("%s takes %d argument(s), got %d", cmd.Name(), n, len(args))}
		}
		return nil
	}
}
