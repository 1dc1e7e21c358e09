package main

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/canopy-sec/canopy/internal/audit"
	"github.com/canopy-sec/canopy/internal/notify"
	"github.com/canopy-sec/canopy/internal/ocsf"
	"github.com/canopy-sec/canopy/internal/pipeline"
	"github.com/canopy-sec/canopy/internal/route"
	"github.com/canopy-sec/canopy/internal/store"
)

// routeFlags are the global settings of the route stage.
type routeFlags struct {
	notifyFile, keyFile, minSeverity string

	mu     sync.Mutex
	cfg    *notify.Config
	key    ed25519.PrivateKey
	loaded bool
}

func (f *routeFlags) add(cmd *cobra.Command) {
	fl := cmd.PersistentFlags()
	fl.StringVar(&f.notifyFile, "notify", os.Getenv("CANOPY_NOTIFY"), "notification config YAML: parties, contacts, channels, deadlines (default $CANOPY_NOTIFY; none: attributions are only audited)")
	fl.StringVar(&f.keyFile, "audit-key", os.Getenv("CANOPY_AUDIT_KEY"), "ed25519 key file that signs audit entries (canopy audit keygen; default $CANOPY_AUDIT_KEY)")
	fl.StringVar(&f.minSeverity, "notify-severity", "high", "lowest severity of findings that are audited and notified: informational, low, medium, high, critical")
}

// load reads the files once.
func (f *routeFlags) load() (*notify.Config, ed25519.PrivateKey, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.loaded {
		return f.cfg, f.key, nil
	}
	if f.notifyFile != "" {
		fh, err := os.Open(f.notifyFile)
		if err != nil {
			return nil, nil, err
		}
		cfg, err := notify.LoadConfig(fh, notify.LoadOptions{LookupEnv: os.LookupEnv, ReadFile: os.ReadFile})
		fh.Close()
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", f.notifyFile, err)
		}
		f.cfg = cfg
	}
	if f.keyFile != "" {
		k, err := readKey(f.keyFile)
		if err != nil {
			return nil, nil, err
		}
		f.key = k
	}
	f.loaded = true
	return f.cfg, f.key, nil
}

// readKey reads an ed25519 private key: its 32-byte seed or 64-byte key in hex.
func readKey(path string) (ed25519.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	raw, err := hex.DecodeString(strings.TrimSpace(string(b)))
	switch {
	case err != nil:
		return nil, fmt.Errorf("audit key %s: not hex", path)
	case len(raw) == ed25519.SeedSize:
		return ed25519.NewKeyFromSeed(raw), nil
	case len(raw) == ed25519.PrivateKeySize:
		return ed25519.PrivateKey(raw), nil
	}
	return nil, fmt.Errorf("audit key %s: want a 32-byte seed or a 64-byte key in hex, got %d bytes", path, len(raw))
}

func severityID(s string) (int, error) {
	for id, n := range map[int]string{ocsf.SeverityInformational: "informational", ocsf.SeverityLow: "low", ocsf.SeverityMedium: "medium",
		ocsf.SeverityHigh: "high", ocsf.SeverityCritical: "critical"} {
		if n == s {
			return id, nil
		}
	}
	return 0, usageError{fmt.Errorf("--notify-severity must be informational, low, medium, high or critical, not %q", s)}
}

// router builds the route stage over a store.
func (e *env) router(st store.Store) (*route.Router, error) { return e.routerWith(st, nil) }

// openRouter opens the store and the route stage over it; the caller
// closes the store.
func (e *env) openRouter(ctx context.Context) (store.Store, *route.Router, error) {
	st, err := e.openStore(ctx)
	if err != nil {
		return nil, nil, err
	}
	r, err := e.router(st)
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return st, r, nil
}

// record appends an event to the tenant's audit chain.
func (e *env) record(ctx context.Context, st store.Store, tenant, action, object string, details any) error {
	r, err := e.router(st)
	if err != nil {
		return err
	}
	return r.Record(ctx, tenant, actor(), action, object, details)
}

// actor is who runs the CLI.
func actor() string {
	if u := os.Getenv("USER"); u != "" {
		return "cli:" + u
	}
	return "cli"
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// noticesCmd builds `canopy notices list|ack|escalate`.
func (e *env) noticesCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "notices", Short: "Notices to the responsible parties: list, acknowledge, escalate"}
	var tenant, party, state, output string
	var limit int
	list := &cobra.Command{
		Use:   "list",
		Short: "List the tenant's notices, newest first",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			st, r, err := e.openRouter(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			ns, err := r.Notices(ctx, store.NoticeQuery{Tenant: tenant, Party: party, State: state, Limit: limit})
			if err != nil {
				return err
			}
			if output == "json" {
				if ns == nil {
					ns = []notify.Notice{}
				}
				return writeIndented(e.stdout, ns)
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tSTATE\tSEVERITY\tPARTY\tCONTACT\tLEVEL\tDEADLINE\tSUBJECT\tTITLE")
			for _, n := range ns {
				dl := ""
				if !n.Deadline.IsZero() {
					dl = n.Deadline.UTC().Format(time.RFC3339)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", n.ID, n.State, n.Severity, n.Party, n.Contact, n.EscalationLevel, dl, n.Subject.ID, cut(n.Title, 60))
			}
			return tw.Flush()
		},
	}
	list.Flags().StringVar(&tenant, "tenant", pipeline.DefaultTenant, "tenant")
	list.Flags().StringVar(&party, "party", "", "only notices to this party (its id in the notify config)")
	list.Flags().StringVar(&state, "state", "", "only notices in this state: open, acknowledged, exhausted")
	list.Flags().IntVar(&limit, "limit", 0, "at most this many (0 = all)")
	list.Flags().StringVar(&output, "output", "table", "table or json")

	var atenant, by, note string
	ack := &cobra.Command{
		Use:   "ack NOTICE_ID --by PERSON [--note TEXT]",
		Short: "Acknowledge a notice: its escalation stops, and the acknowledgement is audited",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if by == "" {
				return usageError{errors.New("notices ack needs --by (who acknowledges)")}
			}
			ctx := cmd.Context()
			st, r, err := e.openRouter(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			n, err := r.Ack(ctx, atenant, args[0], by, note, time.Now())
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "notice %s acknowledged by %s\n", n.ID, by)
			return nil
		},
	}
	ack.Flags().StringVar(&atenant, "tenant", pipeline.DefaultTenant, "tenant")
	ack.Flags().StringVar(&by, "by", "", "who acknowledges")
	ack.Flags().StringVar(&note, "note", "", "a note")

	var at string
	esc := &cobra.Command{
		Use:   "escalate [--now T]",
		Short: "Escalate the notices left unacknowledged past their deadline to the next contact (serve does this on its own; run from cron otherwise)",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			now := time.Now()
			if at != "" {
				var err error
				if now, err = time.Parse(time.RFC3339, at); err != nil {
					return usageError{fmt.Errorf("--now %q: want RFC 3339", at)}
				}
			}
			ctx := cmd.Context()
			st, r, err := e.openRouter(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			rep, err := r.Escalate(ctx, now)
			fmt.Fprintf(e.stdout, "escalated %d, exhausted %d, redelivered %d\n", len(rep.Escalated), len(rep.Exhausted), len(rep.Redelivered))
			return err
		},
	}
	esc.Flags().StringVar(&at, "now", "", "escalate as of this time (RFC 3339)")
	cmd.AddCommand(list, ack, esc)
	return cmd
}

// advisoryCmd builds `canopy advisory publish`.
func (e *env) advisoryCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "advisory", Short: "Advisories from the provider to its customers"}
	var tenant, from, ref, category, severity, title, body, url string
	var to []string
	pub := &cobra.Command{
		Use:   "publish --from PROVIDER --title T --severity S [--category major_change|platform_vulnerability|sla_event] [--to CUSTOMER]...",
		Short: "Publish a provider's advisory: each customer party gets a notice to acknowledge",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			sev, err := notify.ParseSeverity(severity)
			if err != nil {
				return usageError{err}
			}
			ctx := cmd.Context()
			st, r, err := e.openRouter(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			ns, err := r.Publish(ctx, notify.Advisory{Tenant: tenant, From: from, To: to, Ref: ref, Category: notify.AdvisoryCategory(category),
				URL: url, Severity: sev, Title: title, Body: body}, time.Now())
			for _, n := range ns {
				fmt.Fprintf(e.stdout, "notice %s to %s\n", n.ID, n.Party)
			}
			return err
		},
	}
	pub.Flags().StringVar(&tenant, "tenant", pipeline.DefaultTenant, "tenant")
	pub.Flags().StringVar(&from, "from", "", "the publishing provider's party id")
	pub.Flags().StringSliceVar(&to, "to", nil, "customer party ids (default: every customer party)")
	pub.Flags().StringVar(&ref, "ref", "", "the advisory's reference, e.g. ADV-2026-014")
	pub.Flags().StringVar(&category, "category", "major_change", "major_change, platform_vulnerability or sla_event")
	pub.Flags().StringVar(&severity, "severity", "medium", "critical, high, medium, low or informational")
	pub.Flags().StringVar(&title, "title", "", "one-line summary")
	pub.Flags().StringVar(&body, "body", "", "details")
	pub.Flags().StringVar(&url, "url", "", "link to the advisory")
	cmd.AddCommand(pub)
	return cmd
}

// resolveCmd builds `canopy finding resolve`.
func (e *env) findingCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "finding", Short: "Act on one finding"}
	var tenant, resolution, evidence string
	res := &cobra.Command{
		Use:   "resolve FINDING_ID --resolution fixed|accepted|false_positive [--evidence TEXT]",
		Short: "Record that a finding was resolved (in the audit chain: time to resolve)",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch resolution {
			case "fixed", "accepted", "false_positive":
			default:
				return usageError{fmt.Errorf("--resolution must be fixed, accepted or false_positive, not %q", resolution)}
			}
			ctx := cmd.Context()
			st, err := e.openStore(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			var id int64
			if _, err := fmt.Sscan(args[0], &id); err != nil {
				return usageError{fmt.Errorf("bad finding id %q", args[0])}
			}
			if _, err := st.Finding(ctx, tenant, id); err != nil {
				return fmt.Errorf("finding %d: %w", id, err)
			}
			if err := e.record(ctx, st, tenant, audit.ActionFindingResolved, fmt.Sprintf("finding:%d", id),
				map[string]any{"resolution": resolution, "evidence": evidence}); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "finding %d resolved (%s)\n", id, resolution)
			return nil
		},
	}
	res.Flags().StringVar(&tenant, "tenant", pipeline.DefaultTenant, "tenant")
	res.Flags().StringVar(&resolution, "resolution", "", "fixed, accepted or false_positive")
	res.Flags().StringVar(&evidence, "evidence", "", "what shows it (a change id, a ticket)")
	cmd.AddCommand(res)
	return cmd
}

// auditCmd builds `canopy audit verify|export|keygen`.
func (e *env) auditCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "audit", Short: "The tamper-evident audit chain: verify, export evidence bundles, make a signing key"}
	var tenant, pubFile, bundle string
	verify := &cobra.Command{
		Use:   "verify [--tenant T] [--pubkey FILE] [--bundle FILE]",
		Short: "Verify the tenant's audit chain (or an exported bundle, offline): names the first edited, deleted or reordered entry",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			pub, err := e.publicKey(pubFile)
			if err != nil {
				return err
			}
			var head audit.Head
			if bundle != "" {
				f, err := os.Open(bundle)
				if err != nil {
					return err
				}
				defer f.Close()
				if head, err = audit.VerifyBundle(bufio.NewReader(f), pub); err != nil {
					return fmt.Errorf("bundle %s: %w", bundle, err)
				}
			} else {
				ctx := cmd.Context()
				st, err := e.openStore(ctx)
				if err != nil {
					return err
				}
				defer st.Close()
				r, err := e.router(st)
				if err != nil {
					return err
				}
				if head, err = audit.Verify(r.Entries(ctx, tenant, 1), pub); err != nil {
					return fmt.Errorf("audit chain of %s: %w", tenant, err)
				}
			}
			signed := "unsigned"
			if pub != nil {
				signed = "signatures checked"
			}
			fmt.Fprintf(e.stdout, "ok: %d entries, seq %d to %d, head %x (%s)\n", head.Count, head.FirstSeq, head.LastSeq, head.Hash[:], signed)
			return nil
		},
	}
	verify.Flags().StringVar(&tenant, "tenant", pipeline.DefaultTenant, "tenant")
	verify.Flags().StringVar(&pubFile, "pubkey", "", "ed25519 public key (hex) to check signatures with (default: derived from --audit-key)")
	verify.Flags().StringVar(&bundle, "bundle", "", "verify this exported bundle instead of the store")

	var etenant, since, epub string
	export := &cobra.Command{
		Use:   "export [--tenant T] [--since T] > bundle.jsonl",
		Short: "Write an evidence bundle (JSON Lines of entries and the chain head) that another party verifies with canopy audit verify --bundle",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			var from time.Time
			if since != "" {
				var err error
				if from, err = time.Parse(time.RFC3339, since); err != nil {
					return usageError{fmt.Errorf("--since %q: want RFC 3339", since)}
				}
			}
			pub, err := e.publicKey(epub)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			st, r, err := e.openRouter(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			w := bufio.NewWriter(e.stdout)
			head, err := audit.Export(w, r.Entries(ctx, etenant, 1), from, pub)
			if err != nil {
				return err
			}
			if err := w.Flush(); err != nil {
				return err
			}
			return r.Record(ctx, etenant, actor(), audit.ActionBundleExported, "audit:"+etenant,
				map[string]any{"since": since, "first_seq": head.FirstSeq, "last_seq": head.LastSeq, "hash": hex.EncodeToString(head.Hash[:])})
		},
	}
	export.Flags().StringVar(&etenant, "tenant", pipeline.DefaultTenant, "tenant")
	export.Flags().StringVar(&since, "since", "", "only entries from this time (RFC 3339)")
	export.Flags().StringVar(&epub, "pubkey", "", "ed25519 public key (hex) named in the bundle's head (default: derived from --audit-key)")

	keygen := &cobra.Command{
		Use:   "keygen > audit.key",
		Short: "Make an ed25519 signing key (hex seed on stdout; the public key on stderr)",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			pub, priv, err := ed25519.GenerateKey(rand.Reader)
			if err != nil {
				return err
			}
			fmt.Fprintln(e.stdout, hex.EncodeToString(priv.Seed()))
			fmt.Fprintf(e.stderr, "public key: %s\n", hex.EncodeToString(pub))
			return nil
		},
	}
	cmd.AddCommand(verify, export, keygen)
	return cmd
}

// publicKey reads --pubkey, else derives it from --audit-key, else nil.
func (e *env) publicKey(path string) (ed25519.PublicKey, error) {
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		raw, err := hex.DecodeString(strings.TrimSpace(string(b)))
		if err != nil || len(raw) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("public key %s: want %d bytes in hex", path, ed25519.PublicKeySize)
		}
		return ed25519.PublicKey(raw), nil
	}
	_, key, err := e.route.load()
	if err != nil || key == nil {
		return nil, err
	}
	return key.Public().(ed25519.PublicKey), nil
}

// kpiCmd builds `canopy kpi`.
func (e *env) kpiCmd() *cobra.Command {
	var tenant, party, since, output string
	var response bool
	cmd := &cobra.Command{
		Use:   "kpi [--party P] [--since T] [--response]",
		Short: "Time to acknowledge and to resolve, per party and severity, from the audit chain (--response: MTTA, MTTR, SLA attainment, automation rate, handoff latency of cases and runs)",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			var from time.Time
			if since != "" {
				var err error
				if from, err = time.Parse(time.RFC3339, since); err != nil {
					return usageError{fmt.Errorf("--since %q: want RFC 3339", since)}
				}
			}
			ctx := cmd.Context()
			st, r, err := e.openRouter(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			if response {
				if party != "" {
					return usageError{errors.New("--party does not apply to --response")}
				}
				k, err := responseKPIs(r.Entries(ctx, tenant, 1), from)
				if err != nil {
					return err
				}
				if output == "json" {
					return writeIndented(e.stdout, k)
				}
				return writeResponseKPIs(e.stdout, k)
			}
			kpis, err := r.KPIs(ctx, tenant, from)
			if err != nil {
				return err
			}
			var shown []audit.KPI
			for _, k := range kpis {
				if party == "" || k.Party == party || k.Name == party {
					shown = append(shown, k)
				}
			}
			if output == "json" {
				if shown == nil {
					shown = []audit.KPI{}
				}
				return writeIndented(e.stdout, shown)
			}
			return writeKPITable(e.stdout, shown)
		},
	}
	cmd.Flags().StringVar(&tenant, "tenant", pipeline.DefaultTenant, "tenant")
	cmd.Flags().StringVar(&party, "party", "", "only this party: provider, customer, vendor, or a party's name")
	cmd.Flags().StringVar(&since, "since", "", "only audit entries from this time (RFC 3339)")
	cmd.Flags().StringVar(&output, "output", "table", "table or json")
	cmd.Flags().BoolVar(&response, "response", false, "the response KPIs: MTTA and MTTR of cases, SLA attainment, automation rate of runs, handoff latency")
	return cmd
}

func writeKPITable(w io.Writer, kpis []audit.KPI) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PARTY\tNAME\tSEVERITY\tNOTICES\tACKED\tACK MEDIAN\tACK P90\tRESOLVED\tRESOLVE MEDIAN\tRESOLVE P90\tUNACKED")
	for _, k := range kpis {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%s\t%s\t%d\t%s\t%s\t%d\n", k.Party, k.Name, k.Severity, k.Notices,
			k.Acknowledge.Count, dur(k.Acknowledge.Median), dur(k.Acknowledge.P90), k.Resolve.Count, dur(k.Resolve.Median), dur(k.Resolve.P90), k.Unacknowledged)
	}
	return tw.Flush()
}

func dur(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	return d.Round(time.Second).String()
}
