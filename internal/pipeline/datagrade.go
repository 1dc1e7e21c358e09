package pipeline

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/canopy-sec/canopy/internal/datagrade"
	"github.com/canopy-sec/canopy/internal/ingest"
	"github.com/canopy-sec/canopy/internal/ocsf"
	"github.com/canopy-sec/canopy/internal/store"
)

// DataScan says what to scan for sensitive data, and how to grade it.
type DataScan struct {
	Tenant  string
	Targets []string // datagrade.ParseTarget forms: a directory, an archive, sqlite:PATH, postgres://…, mysql:DSN, objects:LISTING?dir=D
	Scanner *datagrade.Scanner
	Grader  *datagrade.Grader
}

// DataScanResult is one graded store.
type DataScanResult struct {
	Target     string                `json:"target"`
	Assessment *datagrade.Assessment `json:"assessment"`
}

// ScanData scans each target, grades it per GB/T 43697-2024 and stores
// one OCSF Data Security Finding per store (deduplicated like any finding:
// a rescan updates it). Only counts, column names and masked examples are
// kept, never values. A target that fails stores nothing of itself; the
// others are kept, and the errors are joined.
func ScanData(ctx context.Context, p *Pipeline, ds DataScan) ([]DataScanResult, error) {
	if ds.Tenant == "" {
		ds.Tenant = DefaultTenant
	}
	var out []DataScanResult
	var errs []error
	for _, target := range ds.Targets {
		a, err := scanOne(ctx, ds, target)
		if err != nil {
			errs = append(errs, fmt.Errorf("datascan %s: %w", datagradeLabel(target), err))
			continue
		}
		f := a.Finding(datagrade.FindingOptions{})
		if _, err := p.IngestRecords(ctx, "datascan "+datagradeLabel(target), ds.Tenant, "datagrade/1", func(ctx context.Context, emit ingest.Emit) error {
			return emit(f)
		}); err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, DataScanResult{Target: datagradeLabel(target), Assessment: a})
	}
	return out, errors.Join(errs...)
}

func scanOne(ctx context.Context, ds DataScan, target string) (*datagrade.Assessment, error) {
	t, err := datagrade.ParseTarget(target)
	if err != nil {
		return nil, err
	}
	src, err := datagrade.Open(ctx, t)
	if err != nil {
		return nil, err
	}
	if c, ok := src.(interface{ Close() error }); ok {
		defer c.Close()
	}
	res, err := ds.Scanner.Scan(ctx, src)
	if err != nil {
		return nil, err
	}
	return ds.Grader.Grade(res), nil
}

// datagradeLabel names a target in messages without a password.
func datagradeLabel(target string) string {
	u, err := url.Parse(target)
	if err != nil || u.User == nil {
		if strings.Contains(target, "@") {
			return "(a connection string)" // a DSN with credentials, not a URL
		}
		return target
	}
	u.User = url.User(u.User.Username())
	return u.String()
}

// gradeIndex indexes the data grades of the tenant's stored data
// security findings, for the risk factor.
func gradeIndex(ctx context.Context, st store.Querier, tenant string) (*datagrade.GradeIndex, error) {
	idx := datagrade.NewGradeIndex()
	q := store.Query{Tenant: tenant, Classes: []int{ocsf.ClassDataSecurityFinding}, Limit: store.MaxPage}
	for {
		page, err := st.Findings(ctx, q)
		if err != nil {
			return nil, err
		}
		for _, r := range page.Records {
			rec, err := ocsf.Decode(r.OCSF)
			if err != nil {
				return nil, fmt.Errorf("finding %d: %w", r.ID, err)
			}
			idx.Add(rec)
		}
		if page.Next.IsZero() {
			return idx, nil
		}
		q.After = page.Next
	}
}
