package datagrade

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// File formats the file sources read, by extension: CSV (.csv) and TSV
// (.tsv) with a header row; JSON Lines (.jsonl, .ndjson) and JSON (.json:
// an array of objects, or one object) whose objects are flattened into
// dotted column names; text (.txt, .log) as one "line" column. Other files
// are not read.
func fileFormat(name string) string {
	switch strings.ToLower(path.Ext(name)) {
	case ".csv":
		return "csv"
	case ".tsv":
		return "tsv"
	case ".jsonl", ".ndjson":
		return "jsonl"
	case ".json":
		return "json"
	case ".txt", ".log":
		return "text"
	}
	return ""
}

// NewDirSource returns a Source over the readable files under dir (see
// [fileFormat] for the formats), walked in lexical order; each file is one
// table named by its slash-separated path relative to dir.
func NewDirSource(dir string) (Source, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("datagrade: %w", err)
	}
	st, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("datagrade: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("datagrade: %s is not a directory", dir)
	}
	return &dirSource{root: abs}, nil
}

type dirSource struct{ root string }

func (s *dirSource) Store() Store {
	return Store{Kind: KindFiles, UID: "file://" + filepath.ToSlash(s.root), Name: filepath.Base(s.root), Type: "Directory"}
}

func (s *dirSource) Close() error { return nil }

func (s *dirSource) Tables(ctx context.Context, b Budget, fn func(Table, Rows) error) error {
	b = b.withDefaults()
	return filepath.WalkDir(s.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("walk %s: %w", p, err)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() || fileFormat(p) == "" {
			return nil
		}
		rel, _ := filepath.Rel(s.root, p)
		rel = filepath.ToSlash(rel)
		info, err := d.Info()
		if err != nil {
			return fn(Table{Name: rel, Kind: "file"}, errRows(err))
		}
		f, err := os.Open(p)
		if err != nil {
			return fn(Table{Name: rel, Kind: "file"}, errRows(err))
		}
		defer f.Close()
		return fn(Table{Name: rel, Kind: "file", SizeBytes: info.Size()}, newFileRows(rel, f, info.Size(), b))
	})
}

// NewArchiveSource returns a Source over the readable files inside a .zip,
// .tar.gz or .tgz archive; each file is one table named by its path in the
// archive. Nested archives are not opened.
func NewArchiveSource(file string) (Source, error) {
	abs, err := filepath.Abs(file)
	if err != nil {
		return nil, fmt.Errorf("datagrade: %w", err)
	}
	lower := strings.ToLower(abs)
	var kind string
	switch {
	case strings.HasSuffix(lower, ".zip"):
		kind = "zip"
	case strings.HasSuffix(lower, ".tar.gz"), strings.HasSuffix(lower, ".tgz"):
		kind = "tar.gz"
	default:
		return nil, fmt.Errorf("datagrade: %s: not a .zip, .tar.gz or .tgz archive", file)
	}
	if _, err := os.Stat(abs); err != nil {
		return nil, fmt.Errorf("datagrade: %w", err)
	}
	return &archiveSource{file: abs, kind: kind}, nil
}

type archiveSource struct{ file, kind string }

func (s *archiveSource) Store() Store {
	return Store{Kind: KindArchive, UID: "file://" + filepath.ToSlash(s.file), Name: filepath.Base(s.file), Type: s.kind}
}

func (s *archiveSource) Close() error { return nil }

func (s *archiveSource) Tables(ctx context.Context, b Budget, fn func(Table, Rows) error) error {
	b = b.withDefaults()
	if s.kind == "zip" {
		return s.zipTables(ctx, b, fn)
	}
	return s.tarTables(ctx, b, fn)
}

func (s *archiveSource) zipTables(ctx context.Context, b Budget, fn func(Table, Rows) error) error {
	zr, err := zip.OpenReader(s.file)
	if err != nil {
		return fmt.Errorf("open %s: %w", s.file, err)
	}
	defer zr.Close()
	files := slices.Clone(zr.File)
	sort.SliceStable(files, func(i, j int) bool { return files[i].Name < files[j].Name })
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		if f.FileInfo().IsDir() || fileFormat(f.Name) == "" {
			continue
		}
		size := int64(f.UncompressedSize64)
		t := Table{Name: f.Name, Kind: "file", SizeBytes: size}
		rc, err := f.Open()
		if err != nil {
			if err := fn(t, errRows(err)); err != nil {
				return err
			}
			continue
		}
		err = fn(t, newFileRows(f.Name, rc, size, b))
		rc.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

func (s *archiveSource) tarTables(ctx context.Context, b Budget, fn func(Table, Rows) error) error {
	f, err := os.Open(s.file)
	if err != nil {
		return fmt.Errorf("open %s: %w", s.file, err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return fmt.Errorf("%s: %w", s.file, err)
	}
	defer gz.Close()
	tr := tar.NewReader(gz)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", s.file, err)
		}
		if h.Typeflag != tar.TypeReg || fileFormat(h.Name) == "" {
			continue
		}
		// the rest of an entry is skipped by the next tr.Next
		if err := fn(Table{Name: h.Name, Kind: "file", SizeBytes: h.Size}, newFileRows(h.Name, tr, h.Size, b)); err != nil {
			return err
		}
	}
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// fileRows reads rows from one file up to the budget.
type fileRows struct {
	name  string
	size  int64
	limit int
	cr    *countingReader
	next  func() bool // reads the next row into cols/vals
	cols  []string
	vals  []string
	rows  int
	eof   bool
	err   error
	// consumed returns the bytes of the file the rows read so far took,
	// not counting read-ahead; nil means the bytes read from the file.
	consumed func() int64
}

// errRows is Rows that yields nothing but err.
func errRows(err error) Rows { return &sliceRows{err: err} }

func newFileRows(name string, r io.Reader, size int64, b Budget) Rows {
	fr := &fileRows{name: name, size: size, limit: b.RowsPerTable, cr: &countingReader{r: io.LimitReader(r, b.MaxFileBytes)}}
	switch fileFormat(name) {
	case "csv", "tsv":
		fr.csv(fileFormat(name) == "tsv")
	case "jsonl":
		fr.jsonLines()
	case "json":
		fr.jsonDoc()
	default:
		fr.text()
	}
	return fr
}

func (r *fileRows) Next() bool {
	if r.err != nil || r.eof || r.rows >= r.limit {
		return false
	}
	if !r.next() {
		return false
	}
	r.rows++
	return true
}

func (r *fileRows) Columns() []string { return r.cols }
func (r *fileRows) Values() []string  { return r.vals }
func (r *fileRows) Err() error        { return r.err }

// Count is exact when the whole file was read, else the rows read scaled by
// the file's size over the bytes consumed.
func (r *fileRows) Count() (int64, bool) {
	if r.eof {
		return int64(r.rows), true
	}
	consumed := r.cr.n
	if r.consumed != nil {
		consumed = r.consumed()
	}
	if consumed <= 0 || r.size <= 0 {
		return int64(r.rows), false
	}
	return int64(float64(r.rows) * float64(r.size) / float64(consumed)), false
}

func (r *fileRows) fail(err error) bool {
	if errors.Is(err, io.EOF) {
		r.eof = true
		return false
	}
	r.err = err
	return false
}

func (r *fileRows) csv(tsv bool) {
	br := bufio.NewReader(r.cr)
	var bom int64
	if head, _ := br.Peek(3); bytes.Equal(head, []byte{0xEF, 0xBB, 0xBF}) {
		n, _ := br.Discard(3)
		bom = int64(n)
	}
	cr := csv.NewReader(br)
	if tsv {
		cr.Comma = '\t'
	}
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err != nil {
		r.next = func() bool { return r.fail(err) }
		return
	}
	r.cols = slices.Clone(head)
	r.consumed = func() int64 { return cr.InputOffset() + bom }
	r.next = func() bool {
		rec, err := cr.Read()
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				err = fmt.Errorf("line %d: %w", pe.Line, pe.Err) // no field text
			}
			return r.fail(err)
		}
		r.vals = rec
		return true
	}
}

func (r *fileRows) text() {
	sc := bufio.NewScanner(r.cr)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	r.cols = []string{"line"}
	r.vals = make([]string, 1)
	var used int64
	r.consumed = func() int64 { return used }
	r.next = func() bool {
		if !sc.Scan() {
			if err := sc.Err(); err != nil {
				return r.fail(err)
			}
			return r.fail(io.EOF)
		}
		used += int64(len(sc.Bytes())) + 1
		r.vals[0] = sc.Text()
		return true
	}
}

// flattener turns JSON objects into columns: nested objects become dotted
// names, arrays "name[]" with their scalar elements joined by spaces.
type flattener struct {
	r     *fileRows
	index map[string]int
}

func (f *flattener) set(name, v string) {
	i, ok := f.index[name]
	if !ok {
		i = len(f.r.cols)
		f.index[name] = i
		f.r.cols = append(f.r.cols, name)
	}
	for len(f.r.vals) <= i {
		f.r.vals = append(f.r.vals, "")
	}
	if f.r.vals[i] != "" {
		f.r.vals[i] += " " + v
		return
	}
	f.r.vals[i] = v
}

func (f *flattener) row(obj map[string]any) {
	for i := range f.r.vals {
		f.r.vals[i] = ""
	}
	f.walk("", obj, 0)
}

func (f *flattener) walk(prefix string, v any, depth int) {
	switch x := v.(type) {
	case map[string]any:
		if depth > 6 {
			return
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			name := k
			if prefix != "" {
				name = prefix + "." + k
			}
			f.walk(name, x[k], depth+1)
		}
	case []any:
		for _, e := range x {
			f.walk(prefix+"[]", e, depth+1)
		}
	case string:
		f.set(prefix, x)
	case json.Number:
		f.set(prefix, x.String())
	case bool:
		f.set(prefix, strconv.FormatBool(x))
	case nil:
		f.set(prefix, "")
	}
}

func (r *fileRows) jsonLines() {
	br := bufio.NewReaderSize(r.cr, 64<<10)
	fl := &flattener{r: r, index: map[string]int{}}
	line := 0
	var used int64
	r.consumed = func() int64 { return used }
	r.next = func() bool {
		for {
			b, err := br.ReadBytes('\n')
			used += int64(len(b))
			if len(bytes.TrimSpace(b)) == 0 {
				if err != nil {
					return r.fail(err)
				}
				continue
			}
			line++
			var obj map[string]any
			dec := json.NewDecoder(bytes.NewReader(b))
			dec.UseNumber()
			if derr := dec.Decode(&obj); derr != nil {
				return r.fail(fmt.Errorf("line %d: not a JSON object: %w", line, jsonErrNoValue(derr)))
			}
			fl.row(obj)
			return true
		}
	}
}

func (r *fileRows) jsonDoc() {
	dec := json.NewDecoder(r.cr)
	dec.UseNumber()
	fl := &flattener{r: r, index: map[string]int{}}
	r.consumed = dec.InputOffset
	started, array, done := false, false, false
	r.next = func() bool {
		if done {
			return r.fail(io.EOF)
		}
		if !started {
			started = true
			tok, err := dec.Token()
			if err != nil {
				return r.fail(jsonErrNoValue(err))
			}
			if d, ok := tok.(json.Delim); ok && d == '[' {
				array = true
			} else if !ok || d != '{' {
				return r.fail(errors.New("want a JSON array of objects or one object"))
			} else {
				// one object: decode it whole from the start again is not
				// possible on a stream, so read its members here
				obj, err := decodeMembers(dec)
				if err != nil {
					return r.fail(jsonErrNoValue(err))
				}
				done = true
				fl.row(obj)
				return true
			}
		}
		if array && !dec.More() {
			return r.fail(io.EOF)
		}
		var obj map[string]any
		if err := dec.Decode(&obj); err != nil {
			return r.fail(fmt.Errorf("array element: %w", jsonErrNoValue(err)))
		}
		fl.row(obj)
		return true
	}
}

// decodeMembers reads the members of an object whose '{' was consumed.
func decodeMembers(dec *json.Decoder) (map[string]any, error) {
	obj := map[string]any{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		k, _ := tok.(string)
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		obj[k] = v
	}
	_, err := dec.Token()
	return obj, err
}

// jsonErrNoValue keeps a JSON error's kind and position but never the
// text of a value (UnmarshalTypeError names only types and fields).
func jsonErrNoValue(err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("JSON syntax error at byte %d", se.Offset)
	}
	var ute *json.UnmarshalTypeError
	if errors.As(err, &ute) {
		return fmt.Errorf("JSON %s where an object was expected (byte %d)", ute.Value, ute.Offset)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return err
	}
	return errors.New("malformed JSON")
}
