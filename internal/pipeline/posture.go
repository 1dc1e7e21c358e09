package pipeline

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"slices"
	"time"

	"github.com/canopy-sec/canopy/internal/ingest"
	"github.com/canopy-sec/canopy/internal/posture"
	"github.com/canopy-sec/canopy/internal/posture/inventory"
	"github.com/canopy-sec/canopy/internal/posture/report"
	"github.com/canopy-sec/canopy/internal/store"
)

// InventoryFile is one inventory input: a file of a format the posture
// importers read (internal/posture/inventory).
type InventoryFile struct {
	Name   string    // file path or label, for messages
	Format string    // importer name; empty: recognise the content
	R      io.Reader // the content
}

// ImportResult says what [ImportInventory] did.
type ImportResult struct {
	Files     []string `json:"files"`
	Resources int      `json:"resources"` // distinct resources read
	New       int      `json:"new"`       // of which were not stored before
}

// ImportInventory reads inventory files, merges the partial descriptions
// they give of one resource (the same provider, account, type and uid, as
// separate aliyun calls give), and stores the resources in one
// transaction, replacing what was stored under the same keys. A file that
// fails to import stores nothing of any file.
func ImportInventory(ctx context.Context, st store.Posture, tenant string, files []InventoryFile) (ImportResult, error) {
	if tenant == "" {
		tenant = DefaultTenant
	}
	res := ImportResult{Files: []string{}}
	reg := inventory.Builtin()
	var m inventory.Merger
	for _, f := range files {
		for r, err := range reg.Stream(ctx, f.Format, f.R) {
			if err != nil {
				return ImportResult{Files: []string{}}, fmt.Errorf("inventory %s: %w", f.Name, err)
			}
			m.Add(*r)
		}
		res.Files = append(res.Files, f.Name)
	}
	now := time.Now().UTC()
	rows := make([]store.Resource, 0, m.Len())
	for _, r := range m.Resources() {
		doc, err := json.Marshal(r)
		if err != nil {
			return ImportResult{Files: []string{}}, fmt.Errorf("inventory: resource %s: %w", r.Key(), err)
		}
		rows = append(rows, store.Resource{Tenant: tenant, Key: r.Key(), Provider: r.Provider, Account: r.Account, Region: r.Region, Type: r.Type,
			UID: r.UID, Name: r.Name, Source: r.Source, ObservedAt: r.ObservedAt, UpdatedAt: now, Doc: doc})
	}
	n, err := st.PutResources(ctx, tenant, rows)
	if err != nil {
		return ImportResult{Files: []string{}}, err
	}
	res.Resources, res.New = len(rows), n
	return res, nil
}

// StoredResources streams the tenant's stored inventory, a page at a time.
func StoredResources(ctx context.Context, st store.Posture, tenant string) iter.Seq2[*inventory.Resource, error] {
	return func(yield func(*inventory.Resource, error) bool) {
		q := store.ResourceQuery{Tenant: tenant}
		for {
			page, err := st.Resources(ctx, q)
			if err != nil {
				yield(nil, err)
				return
			}
			for _, row := range page {
				var r inventory.Resource
				if err := json.Unmarshal(row.Doc, &r); err != nil {
					yield(nil, fmt.Errorf("stored resource %s: %w", row.Key, err))
					return
				}
				if !yield(&r, nil) {
					return
				}
			}
			if len(page) < store.MaxPage {
				return
			}
			q.After = page[len(page)-1].Key
		}
	}
}

// PostureScan says what to scan and with which rules.
type PostureScan struct {
	Tenant string
	// Rules are the rules to evaluate: the selected packs' rules, and
	// user rules.
	Rules *posture.RuleSet
	// Packs are the packs whose results the scan replaces (the packs of
	// Rules' frameworks that the caller selected).
	Packs []string
	// Resources to scan; nil: the tenant's stored inventory.
	Resources iter.Seq2[*inventory.Resource, error]
	// Now is the scan's time; default time.Now().
	Now time.Time
	// Version is Canopy's version, for the findings' metadata.
	Version string
}

// ScanResult is a finished scan: the stored scan, the results of the
// selected packs' controls, and the failures' severities.
type ScanResult struct {
	Scan    store.Scan            `json:"scan"`
	Results []store.ControlResult `json:"results"`
	// Failed lists each failing (rule, resource) once, for a report.
	Failed []posture.Result `json:"-"`
}

// Scan evaluates rules over an inventory. Failures become OCSF Compliance
// Findings stored like any ingested record (fingerprinted, deduplicated
// across tools by control and resource, correlated); every result of the
// selected packs' controls, passes included, is stored as the packs'
// latest results, which compliance reports read. A scan that fails (an
// input error, a cancellation) stores nothing.
func Scan(ctx context.Context, p *Pipeline, st store.Posture, ps PostureScan) (ScanResult, error) {
	if ps.Tenant == "" {
		ps.Tenant = DefaultTenant
	}
	if ps.Now.IsZero() {
		ps.Now = time.Now().UTC()
	}
	if ps.Resources == nil {
		ps.Resources = StoredResources(ctx, st, ps.Tenant)
	}
	id := make([]byte, 8)
	rand.Read(id)
	sc := store.Scan{ID: hex.EncodeToString(id), Tenant: ps.Tenant, Packs: ps.Packs, StartedAt: ps.Now}
	selected := map[string]bool{}
	for _, pk := range ps.Packs {
		selected[pk] = true
	}
	var out ScanResult
	keys := map[string]bool{}
	counting := func(seq iter.Seq2[*inventory.Resource, error]) iter.Seq2[*inventory.Resource, error] {
		return func(yield func(*inventory.Resource, error) bool) {
			for r, err := range seq {
				if err == nil && !keys[r.Key()] {
					keys[r.Key()] = true
				}
				if !yield(r, err) {
					return
				}
			}
		}
	}
	produce := func(ctx context.Context, emit ingest.Emit) error {
		for res, err := range posture.Scan(ctx, ps.Rules, counting(ps.Resources), posture.ScanOptions{Now: ps.Now}) {
			if err != nil {
				return err
			}
			sc.Evaluated++
			switch res.Status {
			case posture.StatusPass:
				sc.Passed++
			case posture.StatusFail:
				sc.Failed++
			default:
				sc.Errors++
			}
			for pack, controls := range res.Rule.Frameworks {
				if !selected[pack] {
					continue
				}
				for _, c := range controls {
					out.Results = append(out.Results, store.ControlResult{Pack: pack, Control: string(c), RuleID: res.Rule.ID, ResourceKey: res.Resource.Key(),
						ResourceUID: res.Resource.UID, ResourceType: res.Resource.Type, ResourceName: res.Resource.Name, Account: res.Resource.Account,
						Region: res.Resource.Region, Status: res.Status.String(), Severity: string(res.Rule.Severity), Message: res.Message})
				}
			}
			if res.Status != posture.StatusFail {
				continue
			}
			out.Failed = append(out.Failed, res)
			for _, f := range posture.NewFindings(res, posture.FindingOptions{ProductVersion: ps.Version, TenantUID: ps.Tenant}) {
				if err := emit(f); err != nil {
					return err
				}
			}
		}
		return nil
	}
	ir, err := p.IngestRecords(ctx, "posture scan "+sc.ID, ps.Tenant, "posture/1", produce)
	if err != nil {
		return ScanResult{}, err
	}
	sc.Resources = len(keys)
	sc.Findings = ir.Records
	sc.FinishedAt = time.Now().UTC()
	slices.SortFunc(out.Results, func(a, b store.ControlResult) int {
		return cmp.Or(cmp.Compare(a.Pack, b.Pack), cmp.Compare(a.Control, b.Control), cmp.Compare(a.RuleID, b.RuleID), cmp.Compare(a.ResourceKey, b.ResourceKey))
	})
	if err := st.SaveScan(ctx, sc, out.Results); err != nil {
		return ScanResult{}, err
	}
	out.Scan = sc
	if out.Results == nil {
		out.Results = []store.ControlResult{}
	}
	return out, nil
}

// ComplianceReport builds the compliance report of a built-in pack from
// what the store holds: the pack's latest scan and results, and its manual
// controls' evidence. Before the pack's first scan it returns an error
// wrapping store.ErrNotFound.
func ComplianceReport(ctx context.Context, st store.Posture, tenant, packID string) (*report.Report, error) {
	packs, err := posture.BuiltinPacks()
	if err != nil {
		return nil, err
	}
	pack := packs.Pack(packID)
	if pack == nil {
		return nil, fmt.Errorf("no pack %q: %w", packID, store.ErrNotFound)
	}
	sc, results, err := st.LatestScan(ctx, tenant, packID)
	if err != nil {
		return nil, fmt.Errorf("pack %s has not been scanned (canopy scan --pack %s): %w", packID, packID, err)
	}
	in := report.Input{Pack: pack, ScanTime: sc.StartedAt, Evidence: map[string]report.Evidence{}}
	for _, r := range results {
		var status posture.Status
		if err := status.UnmarshalText([]byte(r.Status)); err != nil {
			return nil, fmt.Errorf("stored result of %s on %s: %w", r.RuleID, r.ResourceUID, err)
		}
		in.Results = append(in.Results, report.ControlResult{Control: r.Control, RuleID: r.RuleID, ResourceUID: r.ResourceUID, ResourceType: r.ResourceType,
			ResourceName: r.ResourceName, Account: r.Account, Region: r.Region, Status: status, Message: r.Message})
	}
	evidence, err := st.Evidence(ctx, tenant, packID)
	if err != nil {
		return nil, err
	}
	for id, e := range evidence {
		in.Evidence[id] = report.Evidence{Status: report.EvidenceStatus(e.Status), Reference: e.Reference, SubmittedBy: e.By, SubmittedAt: e.UpdatedAt}
	}
	return report.Build(in)
}

// HasEvidenceTask reports whether a control of a built-in pack takes
// evidence (a manual control, or an automated one its rules check only in
// part).
func HasEvidenceTask(packID, control string) (bool, error) {
	packs, err := posture.BuiltinPacks()
	if err != nil {
		return false, err
	}
	pack := packs.Pack(packID)
	if pack == nil {
		return false, fmt.Errorf("no pack %q: %w", packID, store.ErrNotFound)
	}
	for _, c := range posture.Coverage(pack).Controls {
		if c.Control.ID == control {
			return c.Evidence != nil, nil
		}
	}
	return false, fmt.Errorf("pack %s has no control %q: %w", packID, control, store.ErrNotFound)
}
