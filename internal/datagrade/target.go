package datagrade

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
)

// Target names a store to scan. [ParseTarget] reads the command-line form;
// [Open] turns a Target into a [Source].
type Target struct {
	Kind StoreKind
	// Location is a path (files, archive, sqlite, objects listing), a
	// PostgreSQL connection string or a MySQL DSN.
	Location string
	// ObjectsDir is the local directory holding sampled objects (objects).
	ObjectsDir string
	// Bucket selects one bucket of a listing that has several (objects).
	Bucket string
}

// ParseTarget reads a target:
//
//	DIR                               a directory (files)
//	FILE.zip, FILE.tar.gz, FILE.tgz   an archive
//	FILE.db, FILE.sqlite, FILE.sqlite3
//	sqlite:PATH  files:PATH  archive:PATH
//	postgres://…  postgresql://…      a PostgreSQL connection URL
//	mysql:DSN                         a go-sql-driver DSN, user:pass@tcp(host:3306)/db
//	objects:LISTING.json?dir=DIR[&bucket=NAME]
func ParseTarget(s string) (Target, error) {
	switch {
	case s == "":
		return Target{}, errors.New("datagrade: empty target")
	case strings.HasPrefix(s, "postgres://"), strings.HasPrefix(s, "postgresql://"):
		return Target{Kind: KindPostgres, Location: s}, nil
	case strings.HasPrefix(s, "mysql:"):
		return Target{Kind: KindMySQL, Location: strings.TrimPrefix(strings.TrimPrefix(s, "mysql:"), "//")}, nil
	case strings.HasPrefix(s, "sqlite:"):
		return Target{Kind: KindSQLite, Location: strings.TrimPrefix(s, "sqlite:")}, nil
	case strings.HasPrefix(s, "files:"):
		return Target{Kind: KindFiles, Location: strings.TrimPrefix(s, "files:")}, nil
	case strings.HasPrefix(s, "archive:"):
		return Target{Kind: KindArchive, Location: strings.TrimPrefix(s, "archive:")}, nil
	case strings.HasPrefix(s, "objects:"):
		rest := strings.TrimPrefix(s, "objects:")
		loc, query, _ := strings.Cut(rest, "?")
		q, err := url.ParseQuery(query)
		if err != nil {
			return Target{}, fmt.Errorf("datagrade: target %s: %w", s, err)
		}
		if q.Get("dir") == "" {
			return Target{}, fmt.Errorf("datagrade: target %s: want objects:LISTING?dir=DIR", s)
		}
		return Target{Kind: KindObjects, Location: loc, ObjectsDir: q.Get("dir"), Bucket: q.Get("bucket")}, nil
	}
	lower := strings.ToLower(s)
	switch {
	case strings.HasSuffix(lower, ".zip"), strings.HasSuffix(lower, ".tar.gz"), strings.HasSuffix(lower, ".tgz"):
		return Target{Kind: KindArchive, Location: s}, nil
	case strings.HasSuffix(lower, ".db"), strings.HasSuffix(lower, ".sqlite"), strings.HasSuffix(lower, ".sqlite3"):
		return Target{Kind: KindSQLite, Location: s}, nil
	}
	if st, err := os.Stat(s); err == nil && st.IsDir() {
		return Target{Kind: KindFiles, Location: s}, nil
	}
	return Target{}, fmt.Errorf("datagrade: target %q: not a directory, archive, SQLite file, postgres:// URL, mysql: DSN or objects: listing", s)
}

// Open returns the Source of a target. Database sources connect when
// scanned, not here.
func Open(_ context.Context, t Target) (Source, error) {
	switch t.Kind {
	case KindFiles:
		return NewDirSource(t.Location)
	case KindArchive:
		return NewArchiveSource(t.Location)
	case KindSQLite:
		return NewSQLiteSource(t.Location)
	case KindPostgres:
		return NewPostgresSource(t.Location)
	case KindMySQL:
		return NewMySQLSource(t.Location)
	case KindObjects:
		f, err := os.Open(t.Location)
		if err != nil {
			return nil, fmt.Errorf("datagrade: %w", err)
		}
		defer f.Close()
		ls, err := ParseListings(f)
		if err != nil {
			return nil, err
		}
		var names []string
		for _, l := range ls {
			if t.Bucket == "" && len(ls) == 1 || l.Bucket == t.Bucket {
				return NewObjectListingSource(l, t.ObjectsDir)
			}
			names = append(names, l.Bucket)
		}
		return nil, fmt.Errorf("datagrade: %s: choose a bucket with bucket=NAME: %s", t.Location, strings.Join(names, ", "))
	}
	return nil, fmt.Errorf("datagrade: unknown target kind %q", t.Kind)
}
