package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/canopy-sec/canopy/internal/store/sqlite"
)

// Exit codes.
const (
	exitOK    = 0
	exitError = 1 // the command failed (bad input, store error …)
	exitUsage = 2 // bad flags or arguments
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

type usageError struct{ error }

// env holds what every command shares.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
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
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(e.ingestCmd(), e.listCmd("findings"), e.listCmd("events"), e.formatsCmd(), e.versionCmd(), e.serveCmd(), e.tokenCmd(), e.migrateCmd())
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "canopy: %v\n", err)
		return exitUsage
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

func openStore(ctx context.Context, data string) (*sqlite.Store, error) {
	return sqlite.Open(ctx, filepath.Join(dataDir(data), "canopy.db"))
}

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
