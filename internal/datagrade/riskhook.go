package datagrade

import (
	"strings"

	"github.com/canopy-sec/canopy/internal/ocsf"
)

// GradeOf returns the level recorded in a Data Security Finding made by
// [Assessment.Finding], whether built in memory or decoded from stored
// JSON: unmapped.gbt43697.level, else the grade in
// data_security.confidentiality. ok is false for other records.
func GradeOf(rec ocsf.Record) (Level, bool) {
	f, isDS := rec.(*ocsf.DataSecurityFinding)
	if !isDS || f == nil {
		return LevelUnknown, false
	}
	if m, ok := f.Unmapped[UnmappedKey].(map[string]any); ok {
		if s, ok := m["level"].(string); ok {
			if l, err := ParseLevel(s); err == nil {
				return l, true
			}
		}
	}
	if f.DataSecurity != nil {
		zh, _, _ := strings.Cut(f.DataSecurity.Confidentiality, " (")
		if l, err := ParseLevel(zh); err == nil {
			return l, true
		}
	}
	return LevelUnknown, false
}

// GradeIndex maps data stores and their tables to the highest level the
// datagrade findings recorded for them, so that the risk engine can fill
// its data-grade factor for findings of other tools about the same
// resources. Keys are the finding's resource uids (the store's and each
// table's) and, for buckets, the bucket name and its S3 ARN. An index is
// built once and then only read; it is not safe for concurrent Add.
type GradeIndex struct {
	m map[string]Level
}

// NewGradeIndex returns an index of recs; records that are not datagrade
// findings are ignored.
func NewGradeIndex(recs ...ocsf.Record) *GradeIndex {
	x := &GradeIndex{m: map[string]Level{}}
	for _, r := range recs {
		x.Add(r)
	}
	return x
}

// Add indexes one record.
func (x *GradeIndex) Add(rec ocsf.Record) {
	lvl, ok := GradeOf(rec)
	if !ok {
		return
	}
	f := rec.(*ocsf.DataSecurityFinding)
	put := func(k string, l Level) {
		if k != "" && l > x.m[k] {
			x.m[k] = l
		}
	}
	for _, r := range f.Resources {
		l := lvl
		for _, lab := range r.Labels {
			if s, ok := strings.CutPrefix(lab, "gbt43697:"); ok {
				if tl, err := ParseLevel(s); err == nil {
					l = tl
				}
			}
		}
		put(r.UID, l)
	}
	if b := f.Databucket; b != nil {
		put(b.UID, lvl)
		put(b.Name, lvl)
		put("arn:aws:s3:::"+b.Name, lvl)
	}
	if d := f.Database; d != nil {
		put(d.UID, lvl)
	}
}

// Lookup returns the level indexed under key, or [LevelUnknown].
func (x *GradeIndex) Lookup(key string) Level { return x.m[key] }

// ForResources returns the highest level among resources (matched by uid,
// uid_alt, or a bucket name in an S3 ARN) and the key that gave it.
func (x *GradeIndex) ForResources(resources []ocsf.ResourceDetails) (Level, string) {
	best, key := LevelUnknown, ""
	try := func(k string) {
		if k == "" {
			return
		}
		if l := x.m[k]; l > best {
			best, key = l, k
		}
	}
	for _, r := range resources {
		try(r.UID)
		try(r.UIDAlt)
		if name, ok := strings.CutPrefix(r.UID, "arn:aws:s3:::"); ok && !strings.Contains(name, "/") {
			try(name)
		}
	}
	return best, key
}
