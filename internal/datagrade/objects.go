package datagrade

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// Object is one entry of an object-store listing.
type Object struct {
	Bucket string `json:"bucket"`
	Key    string `json:"key"`
	Size   int64  `json:"size"`
}

// Listing is an object-store listing of one bucket.
type Listing struct {
	Bucket   string
	Provider string // "aws", "alibaba_cloud" …; "" when the listing does not say
	Region   string
	Objects  []Object
}

// listingEntry accepts the spellings of the formats ParseListings reads.
type listingEntry struct {
	Bucket   string `json:"bucket"`
	BucketUC string `json:"Bucket"`
	Key      string `json:"key"`
	KeyUC    string `json:"Key"`
	Size     *int64 `json:"size"`
	SizeUC   *int64 `json:"Size"`
	Provider string `json:"provider"`
	Region   string `json:"region"`
}

// ParseListings reads an object-store listing exported as JSON: a JSON
// array or JSON Lines of {"bucket", "key", "size"} objects (optionally
// "provider" and "region"; capitalised Bucket/Key/Size accepted), or the
// output of `aws s3api list-objects-v2` ({"Name": bucket, "Contents":
// [{"Key", "Size"}]}). It returns one Listing per bucket, sorted by bucket;
// keys keep the listing's order. Every entry needs a bucket, a key and a
// size of at least 0; errors name the entry.
func ParseListings(r io.Reader) ([]Listing, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("datagrade: read listing: %w", err)
	}
	data = bytes.TrimSpace(data)
	var entries []listingEntry
	switch {
	case len(data) == 0:
		return nil, errors.New("datagrade: listing is empty")
	case data[0] == '[':
		if err := json.Unmarshal(data, &entries); err != nil {
			return nil, fmt.Errorf("datagrade: listing: %w", jsonErrNoValue(err))
		}
	case bytes.HasPrefix(data, []byte("{")) && isS3APIListing(data):
		var out struct {
			Name     string
			Contents []listingEntry
		}
		if err := json.Unmarshal(data, &out); err != nil {
			return nil, fmt.Errorf("datagrade: listing: %w", jsonErrNoValue(err))
		}
		for i := range out.Contents {
			out.Contents[i].Bucket = out.Name
		}
		entries = out.Contents
	default:
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(nil, 1<<20)
		for line := 1; sc.Scan(); line++ {
			b := bytes.TrimSpace(sc.Bytes())
			if len(b) == 0 {
				continue
			}
			var e listingEntry
			if err := json.Unmarshal(b, &e); err != nil {
				return nil, fmt.Errorf("datagrade: listing line %d: %w", line, jsonErrNoValue(err))
			}
			entries = append(entries, e)
		}
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("datagrade: listing: %w", err)
		}
	}
	byBucket := map[string]*Listing{}
	var errs []error
	for i, e := range entries {
		o := Object{Bucket: cmpOr(e.Bucket, e.BucketUC), Key: cmpOr(e.Key, e.KeyUC)}
		size := e.Size
		if size == nil {
			size = e.SizeUC
		}
		switch {
		case o.Bucket == "":
			errs = append(errs, fmt.Errorf("entry %d: bucket missing", i+1))
			continue
		case o.Key == "":
			errs = append(errs, fmt.Errorf("entry %d: key missing", i+1))
			continue
		case size == nil || *size < 0:
			errs = append(errs, fmt.Errorf("entry %d (%s): size missing or negative", i+1, o.Key))
			continue
		}
		o.Size = *size
		l := byBucket[o.Bucket]
		if l == nil {
			l = &Listing{Bucket: o.Bucket}
			byBucket[o.Bucket] = l
		}
		l.Provider = cmpOr(l.Provider, e.Provider)
		l.Region = cmpOr(l.Region, e.Region)
		l.Objects = append(l.Objects, o)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("datagrade: listing: %w", errors.Join(errs...))
	}
	out := make([]Listing, 0, len(byBucket))
	for _, l := range byBucket {
		out = append(out, *l)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Bucket < out[j].Bucket })
	return out, nil
}

func isS3APIListing(data []byte) bool {
	var probe map[string]json.RawMessage
	if json.Unmarshal(data, &probe) != nil {
		return false
	}
	_, ok := probe["Contents"]
	return ok
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// NewObjectListingSource returns a Source over one bucket of a listing
// whose sampled objects have been copied to a local directory, at
// dir/<bucket>/<key> or dir/<key>.
//
// Objects are grouped by file format (see the file sources; objects of
// other formats are listed but not read). From each group the source picks
// up to the budget's MaxObjects (shared between groups in proportion to
// their bytes, at least one each), spread evenly over the group in key
// order. Each sampled object is one table whose [Table.Scale] is the
// group's bytes over the bytes of the group's sampled objects found
// locally, so its estimates stand for the whole group. A sampled object
// missing from dir is reported as a table error.
func NewObjectListingSource(l Listing, dir string) (Source, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("datagrade: %w", err)
	}
	if st, err := os.Stat(abs); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("datagrade: objects directory %s: not a directory", dir)
	}
	if l.Bucket == "" {
		return nil, errors.New("datagrade: listing names no bucket")
	}
	typ := "Object storage"
	switch strings.ToLower(l.Provider) {
	case "aws", "s3", "amazon":
		typ = "S3"
	case "alibaba", "alibaba_cloud", "aliyun", "oss":
		typ = "OSS"
	}
	return &objectSource{l: l, dir: abs, store: Store{Kind: KindObjects, UID: "bucket://" + l.Bucket, Name: l.Bucket, Type: typ, Provider: l.Provider, Region: l.Region}}, nil
}

type objectSource struct {
	l     Listing
	dir   string
	store Store
}

func (s *objectSource) Store() Store { return s.store }
func (s *objectSource) Close() error { return nil }

// objectGroup is the objects of one format.
type objectGroup struct {
	format  string
	objects []Object
	bytes   int64
}

// sampleObjects picks the objects to read, per group.
func sampleObjects(objs []Object, maxObjects int) []objectGroup {
	byFormat := map[string]*objectGroup{}
	var total int64
	for _, o := range objs {
		f := fileFormat(o.Key)
		if f == "" || strings.HasSuffix(o.Key, "/") {
			continue
		}
		g := byFormat[f]
		if g == nil {
			g = &objectGroup{format: f}
			byFormat[f] = g
		}
		g.objects = append(g.objects, o)
		g.bytes += o.Size
		total += o.Size
	}
	var out []objectGroup
	for _, f := range slices.Sorted(maps.Keys(byFormat)) {
		g := byFormat[f]
		share := 1
		if total > 0 {
			share = max(1, int(float64(maxObjects)*float64(g.bytes)/float64(total)))
		}
		share = min(share, len(g.objects))
		picked := make([]Object, 0, share)
		for i := 0; i < share; i++ {
			picked = append(picked, g.objects[i*len(g.objects)/share])
		}
		out = append(out, objectGroup{format: f, objects: picked, bytes: g.bytes})
	}
	return out
}

func (s *objectSource) Tables(ctx context.Context, b Budget, fn func(Table, Rows) error) error {
	b = b.withDefaults()
	for _, g := range sampleObjects(s.l.Objects, b.MaxObjects) {
		// bytes of the sampled objects that are present locally
		var found int64
		paths := make([]string, len(g.objects))
		for i, o := range g.objects {
			if p := s.localPath(o); p != "" {
				paths[i] = p
				found += o.Size
			}
		}
		scale := 1.0
		if found > 0 {
			scale = float64(g.bytes) / float64(found)
		}
		for i, o := range g.objects {
			if err := ctx.Err(); err != nil {
				return err
			}
			t := Table{Name: o.Key, Kind: "object", SizeBytes: o.Size, Scale: scale}
			if paths[i] == "" {
				if err := fn(t, errRows(errors.New("object not in the local sample directory"))); err != nil {
					return err
				}
				continue
			}
			if err := s.readObject(paths[i], t, b, fn); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *objectSource) readObject(p string, t Table, b Budget, fn func(Table, Rows) error) error {
	f, err := os.Open(p)
	if err != nil {
		return fn(t, errRows(err))
	}
	defer f.Close()
	return fn(t, newFileRows(t.Name, f, t.SizeBytes, b))
}

// localPath finds an object's local copy, or "".
func (s *objectSource) localPath(o Object) string {
	clean := path.Clean("/" + o.Key)[1:] // no escaping dir with ../
	for _, p := range []string{filepath.Join(s.dir, o.Bucket, filepath.FromSlash(clean)), filepath.Join(s.dir, filepath.FromSlash(clean))} {
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p
		}
	}
	return ""
}
