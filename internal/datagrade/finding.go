package datagrade

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/canopy-sec/canopy/internal/ocsf"
)

// UnmappedKey is the key under the finding's unmapped object that holds
// what OCSF has no attribute for: the GB/T 43697 grade, the reasoning and
// the per-table results.
const UnmappedKey = "gbt43697"

// FindingOptions configures [Assessment.Finding].
type FindingOptions struct {
	// Time is the finding's time; default the scan's finish time.
	Time time.Time
	// ProductVersion is Canopy's version, for metadata.product.version.
	ProductVersion string
}

// severityOf maps a level to an OCSF severity_id.
func severityOf(l Level) int {
	switch l {
	case LevelCore:
		return ocsf.SeverityCritical
	case LevelImportant:
		return ocsf.SeverityHigh
	case LevelGeneral4, LevelGeneral3:
		return ocsf.SeverityMedium
	case LevelGeneral2:
		return ocsf.SeverityLow
	}
	return ocsf.SeverityInformational
}

// Finding returns the store's OCSF Data Security Finding (class 2006).
//
//   - finding_info.uid is "datagrade:" + the store uid, so that a re-scan
//     updates the same finding; the title names the grade and the store.
//   - data_security.confidentiality_id is 99 (Other) with the grade as
//     confidentiality ("一般数据4级 (GB/T 43697-2024 general-4)");
//     category_id is the OCSF category of the found categories (99 Other,
//     with the captions in category, when they span several);
//     detection_pattern lists the detectors; policy names the standard;
//     discovery_details has one entry per category with its sampled match
//     count and the columns ("table.column") as occurrences; status is
//     Partial when a table could not be read or was skipped.
//   - database (SQLite, PostgreSQL, MySQL), databucket (object stores) or
//     file (directories and archives) describes the store; table is the
//     highest-graded table; resources lists the store and every table with
//     its level as a label.
//   - unmapped.gbt43697 holds the level (id, Chinese name, class,
//     sub-level), the categories and Appendix B categories, the estimates,
//     the reasoning steps of the store and of each table, the hits with
//     masked examples, and the scan's budget and problems.
//
// The finding holds no sensitive value: only counts, names and masked
// examples.
func (a *Assessment) Finding(opts FindingOptions) *ocsf.DataSecurityFinding {
	res := a.Scan
	if res == nil {
		res = &Result{Store: a.Store}
	}
	at := opts.Time
	if at.IsZero() {
		at = res.Finished
	}
	cats, ref := a.cats, a.ref
	if cats == nil {
		cats = BuiltinCategories()
	}
	if ref == nil {
		ref = BuiltinReference()
	}
	f := &ocsf.DataSecurityFinding{}
	f.SetClass(ocsf.ClassDataSecurityFinding, ocsf.ActivityCreate, "")
	f.SetSeverity(severityOf(a.Level), "")
	f.SetStatus(ocsf.FindingStatusNew, "")
	f.SetTime(at)
	f.Metadata.Product = ocsf.Product{Name: "Canopy", VendorName: "Canopy", Version: opts.ProductVersion,
		Feature: &ocsf.Feature{Name: "datagrade", UID: "datagrade"}}
	f.Metadata.LogName = "datagrade"
	if a.Store.Provider != "" {
		f.SetCloud(&ocsf.Cloud{Provider: a.Store.Provider, Region: a.Store.Region})
	}
	levelText := fmt.Sprintf("%s (%s %s)", a.Level.ZH(), ref.Standard, a.Level)
	f.FindingInfo = ocsf.FindingInfo{
		UID:          "datagrade:" + a.Store.UID,
		Title:        fmt.Sprintf("%s: %s in %s %s", ref.Standard, a.Level.ZH(), a.Store.Type, a.Store.Name),
		Desc:         a.summary(),
		Types:        []string{"Data Classification", ref.Standard},
		Analytic:     ocsf.NewAnalytic(ocsf.AnalyticTypeRule, "gbt43697-grading", "GB/T 43697-2024 data grading"),
		CreatedTime:  ocsf.Millis(at),
		LastSeenTime: ocsf.Millis(res.Finished),
		DataSources:  []string{string(a.Store.Kind)},
	}
	f.FindingInfo.Analytic.Desc = "Sensitive-data detectors over sampled rows, graded by affected object and impact degree"
	f.FindingInfo.FirstSeenTime = ocsf.Millis(res.Started)

	ds := &ocsf.DataSecurity{
		ConfidentialityID:    ocsf.ConfidentialityOther,
		Confidentiality:      levelText,
		DetectionSystemID:    ocsf.DetectionSystemDiscovery,
		DetectionSystem:      "Data Discovery & Classification",
		DataLifecycleStateID: ocsf.DataLifecycleAtRest,
		DataLifecycleState:   "Data at-Rest",
		Policy:               &ocsf.Policy{UID: ref.Standard, Name: ref.TitleZH, Desc: "grading policy " + a.Policy},
		ClassifierDetails:    &ocsf.ClassifierDetails{Name: "Canopy datagrade", Type: "Pattern, checksum and column-name classifier", UID: "datagrade"},
		StatusID:             ocsf.ClassificationStatusComplete,
		Status:               "Complete",
	}
	if !res.Complete() {
		ds.StatusID, ds.Status = ocsf.ClassificationStatusPartial, "Partial"
		ds.StatusDetails = append(ds.StatusDetails, res.Problems...)
		if res.Skipped > 0 {
			ds.StatusDetails = append(ds.StatusDetails, fmt.Sprintf("%d tables skipped by the budget", res.Skipped))
		}
	}
	// Categories, detectors and discovery details.
	ocsfCats := map[int]bool{}
	detectorsUsed := map[string]bool{}
	type disc struct {
		count int
		occ   []ocsf.OccurrenceDetails
	}
	discovered := map[string]*disc{}
	graded := map[string]bool{}
	for _, c := range a.Categories {
		graded[c] = true
	}
	for _, t := range res.Tables {
		for _, h := range t.Hits {
			if !graded[h.Category] {
				continue
			}
			c, _ := cats.Get(h.Category)
			if c != nil {
				ocsfCats[c.OCSFCategoryID] = true
			}
			for _, d := range h.Detectors {
				detectorsUsed[d] = true
			}
			dd := discovered[h.Category]
			if dd == nil {
				dd = &disc{}
				discovered[h.Category] = dd
			}
			dd.count += max(h.Matches, 0)
			if h.Matches == 0 {
				dd.count += h.Sampled
			}
			dd.occ = append(dd.occ, ocsf.OccurrenceDetails{ColumnName: t.Name + "." + h.Column})
		}
	}
	for _, id := range a.Categories {
		dd := discovered[id]
		if dd == nil {
			continue
		}
		ds.DiscoveryDetails = append(ds.DiscoveryDetails, ocsf.DiscoveryDetails{Type: id, Count: dd.count, Occurrences: dd.occ})
		ds.Total += dd.count
	}
	switch len(ocsfCats) {
	case 0:
		ds.CategoryID = 0
		ds.Category = "Unknown"
	case 1:
		for id := range ocsfCats {
			ds.CategoryID = id
			ds.Category = ocsf.DataCategoryCaption(id)
		}
	default:
		var names []string
		var ids []int
		for id := range ocsfCats {
			ids = append(ids, id)
		}
		sort.Ints(ids)
		for _, id := range ids {
			names = append(names, ocsf.DataCategoryCaption(id))
		}
		ds.CategoryID, ds.Category = ocsf.DataCategoryOther, strings.Join(names, ", ")
	}
	var dets []string
	for d := range detectorsUsed {
		dets = append(dets, d)
	}
	sort.Strings(dets)
	if len(dets) > 0 {
		ds.DetectionPattern = strings.Join(dets, ", ")
	} else {
		ds.DetectionPattern = "column-name hints"
	}
	f.DataSecurity = ds

	// The store and its tables.
	storeRes := ocsf.ResourceDetails{UID: a.Store.UID, Name: a.Store.Name, Type: storeResourceType(a.Store), RoleID: ocsf.ResourceRoleTarget, Role: "Target",
		Labels: []string{"gbt43697:" + a.Level.String()}}
	if a.Store.Provider != "" {
		storeRes.Provider, storeRes.Region = a.Store.Provider, a.Store.Region
	}
	f.Resources = append(f.Resources, storeRes)
	var top *TableGrade
	for i := range a.Tables {
		t := &a.Tables[i]
		if top == nil || t.Level > top.Level {
			top = t
		}
		f.Resources = append(f.Resources, ocsf.ResourceDetails{UID: a.Store.UID + "/" + t.Table, Name: t.Table, Type: tableResourceType(t.Kind),
			RoleID: ocsf.ResourceRoleAffected, Role: "Affected", Labels: append([]string{"gbt43697:" + t.Level.String()}, t.Categories...)})
	}
	switch a.Store.Kind {
	case KindSQLite, KindPostgres, KindMySQL:
		f.Database = &ocsf.Database{UID: a.Store.UID, Name: a.Store.Name, Type: "Relational", TypeID: ocsf.DatabaseTypeRelational}
		if top != nil {
			f.Table = &ocsf.Table{UID: a.Store.UID + "/" + top.Table, Name: top.Table}
		}
	case KindObjects:
		b := &ocsf.Databucket{UID: a.Store.UID, Name: a.Store.Name, Type: a.Store.Type, TypeID: ocsf.DatabucketTypeOther}
		if a.Store.Type == "S3" {
			b.TypeID = ocsf.DatabucketTypeS3
		}
		f.Databucket = b
	default:
		file := &ocsf.File{Name: a.Store.Name, Path: strings.TrimPrefix(a.Store.UID, "file://"), Type: "Folder", TypeID: ocsf.FileTypeFolder}
		if a.Store.Kind == KindArchive {
			file.Type, file.TypeID, file.Desc = "Regular File", ocsf.FileTypeRegular, a.Store.Type+" archive"
		}
		f.File = file
	}
	f.AddUnmapped(UnmappedKey, a.unmapped(res, ref))
	return f
}

func storeResourceType(s Store) string {
	switch s.Kind {
	case KindObjects:
		return "Bucket"
	case KindFiles:
		return "Directory"
	case KindArchive:
		return "Archive"
	}
	return s.Type + " database"
}

func tableResourceType(kind string) string {
	switch kind {
	case "file":
		return "File"
	case "object":
		return "Object"
	}
	return "Table"
}

// summary is the finding's description.
func (a *Assessment) summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s graded %s (%s)", a.Store.Type, a.Store.Name, a.Level.ZH(), a.Level)
	if len(a.Categories) > 0 {
		fmt.Fprintf(&b, ": %s", strings.Join(a.Categories, ", "))
	} else {
		b.WriteString(": no sensitive category found in the sample")
	}
	if a.SensitivePI {
		b.WriteString("; sensitive personal information present")
	}
	fmt.Fprintf(&b, "; estimated %d individuals", a.Individuals)
	if a.Unverified {
		b.WriteString("; the deciding rule rests on a reference cell marked unverified")
	}
	return b.String()
}

// unmapped is the unmapped.gbt43697 object.
func (a *Assessment) unmapped(res *Result, ref *Reference) map[string]any {
	tables := make([]map[string]any, 0, len(a.Tables))
	for i, t := range a.Tables {
		m := map[string]any{
			"table": t.Table, "kind": t.Kind, "level": t.Level.String(), "level_zh": t.Level.ZH(),
			"categories": nonNil(t.Categories), "sensitive_pi": t.SensitivePI,
			"records": t.Records, "individuals": t.Individuals, "sensitive_individuals": t.SensitiveIndividuals,
			"steps": t.Steps,
		}
		if i < len(res.Tables) && res.Tables[i].Name == t.Table {
			tr := res.Tables[i]
			m["sampled_rows"], m["estimated_rows"], m["rows_exact"] = tr.SampledRows, tr.EstimatedRows, tr.RowsExact
			if len(tr.Hits) > 0 {
				m["hits"] = tr.Hits
			}
			if tr.Error != "" {
				m["error"] = tr.Error
			}
		}
		tables = append(tables, m)
	}
	out := map[string]any{
		"standard":              ref.Standard,
		"level":                 a.Level.String(),
		"level_zh":              a.Level.ZH(),
		"class":                 a.Level.Class(),
		"sensitive_pi":          a.SensitivePI,
		"categories":            nonNil(a.Categories),
		"pi_categories":         nonNil(a.PICategories),
		"records":               a.Records,
		"individuals":           a.Individuals,
		"sensitive_individuals": a.SensitiveIndividuals,
		"unverified":            a.Unverified,
		"policy":                a.Policy,
		"steps":                 a.Steps,
		"tables":                tables,
		"scan": map[string]any{
			"started": res.Started.UTC().Format(time.RFC3339), "finished": res.Finished.UTC().Format(time.RFC3339),
			"rows_per_table": res.Budget.RowsPerTable, "max_tables": res.Budget.MaxTables,
			"skipped_tables": res.Skipped, "problems": nonNil(res.Problems),
		},
	}
	if s := a.Level.Sublevel(); s > 0 {
		out["sublevel"] = s
	}
	if len(a.Catalogues) > 0 {
		out["catalogues"] = a.Catalogues
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
