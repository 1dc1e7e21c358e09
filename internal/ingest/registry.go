package ingest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

	"github.com/canopy-sec/canopy/internal/ocsf"
)

// SniffBytes is how much of an input sniffing looks at.
const SniffBytes = 64 << 10

// Emit receives each record a decoder produces. Returning an error stops the
// decoder, which returns that error.
type Emit func(ocsf.Record) error

// Format is one source format.
type Format struct {
	// Name is the short lower-case name used by --format and ?format=, e.g. "trivy".
	Name string
	// Title is a human name, e.g. "Trivy JSON report".
	Title string
	// Version is bumped whenever the format's OCSF mapping changes.
	Version int
	// Classes lists the OCSF class uids the format produces.
	Classes []int
	// Notes says which variants the decoder reads (shown by `canopy formats`).
	Notes string
	// Sniff scores how likely head (at most SniffBytes of the start of the
	// input) is this format: 0 means "not mine"; higher wins. It must not
	// decode the whole head.
	Sniff func(head []byte) int
	// Decode reads r to the end, emitting one record at a time.
	Decode func(ctx context.Context, r io.Reader, emit Emit) error
}

// Registry is a set of formats keyed by name. It is read-only once built.
type Registry struct {
	byName map[string]*Format
	names  []string
}

// NewRegistry returns a registry of the given formats. Duplicate or empty
// names, and formats without Sniff or Decode, are errors.
func NewRegistry(formats ...Format) (*Registry, error) {
	r := &Registry{byName: make(map[string]*Format)}
	for i := range formats {
		f := formats[i]
		if f.Name == "" || f.Decode == nil || f.Sniff == nil {
			return nil, fmt.Errorf("ingest: format %q: name, Sniff and Decode are required", f.Name)
		}
		if _, dup := r.byName[f.Name]; dup {
			return nil, fmt.Errorf("ingest: format %q registered twice", f.Name)
		}
		r.byName[f.Name] = &f
		r.names = append(r.names, f.Name)
	}
	sort.Strings(r.names)
	return r, nil
}

// builtin holds the formats registered by init functions of this package.
// It is only appended to during package initialisation.
var builtin []Format

func register(f Format) { builtin = append(builtin, f) }

// Builtin returns a registry of every format this package implements.
func Builtin() *Registry {
	r, err := NewRegistry(builtin...)
	if err != nil {
		panic(err) // a programming error in this package, caught by any test
	}
	return r
}

// Lookup returns the format with the given name.
func (r *Registry) Lookup(name string) (Format, bool) {
	f, ok := r.byName[strings.ToLower(strings.TrimSpace(name))]
	if !ok {
		return Format{}, false
	}
	return *f, true
}

// Formats returns the formats sorted by name.
func (r *Registry) Formats() []Format {
	out := make([]Format, 0, len(r.names))
	for _, n := range r.names {
		out = append(out, *r.byName[n])
	}
	return out
}

// Names returns the format names, sorted.
func (r *Registry) Names() []string { return slices.Clone(r.names) }

// Sentinel errors; test with errors.Is.
var (
	// ErrUnknownFormat: a format name that is not registered, or content no format recognises.
	ErrUnknownFormat = errors.New("unknown format")
	// ErrSyntax: input that is not well-formed for its format.
	ErrSyntax = errors.New("syntax error")
	// ErrMissingField: a record without a field the mapping needs.
	ErrMissingField = errors.New("missing")
	// ErrNotToolOutput: input that is recognisably not a tool's output, such as a JSON Schema.
	ErrNotToolOutput = errors.New("not a tool output")
)

// Sniff picks the format of head. It fails with ErrUnknownFormat (naming the
// known formats) when nothing scores, and asks for --format when two formats
// tie.
func (r *Registry) Sniff(head []byte) (Format, error) {
	if msg := notToolOutput(head); msg != "" {
		return Format{}, fmt.Errorf("%w: %s", ErrNotToolOutput, msg)
	}
	best, bestScore := "", 0
	var tied []string
	for _, n := range r.names {
		s := r.byName[n].Sniff(head)
		switch {
		case s > bestScore:
			best, bestScore, tied = n, s, nil
		case s == bestScore && s > 0:
			tied = append(tied, n)
		}
	}
	if bestScore == 0 {
		return Format{}, fmt.Errorf("%w: the content matches none of the known formats (%s); name one with --format", ErrUnknownFormat, strings.Join(r.names, ", "))
	}
	if len(tied) > 0 {
		return Format{}, fmt.Errorf("%w: the content matches %s equally; name one with --format", ErrUnknownFormat, strings.Join(append([]string{best}, tied...), ", "))
	}
	return *r.byName[best], nil
}

// Open prepares r for decoding: with a format name it looks the format up;
// without one it sniffs the start of r. The returned reader must be used
// instead of r (it replays what sniffing read).
func (r *Registry) Open(name string, in io.Reader) (Format, io.Reader, error) {
	br := bufio.NewReaderSize(in, SniffBytes)
	if name != "" {
		f, ok := r.Lookup(name)
		if !ok {
			return Format{}, nil, fmt.Errorf("%w %q; known formats: %s", ErrUnknownFormat, name, strings.Join(r.names, ", "))
		}
		return f, br, nil
	}
	head, err := br.Peek(SniffBytes)
	if err != nil && err != io.EOF && !errors.Is(err, bufio.ErrBufferFull) {
		return Format{}, nil, fmt.Errorf("reading input: %w", err)
	}
	if len(strings.TrimSpace(string(head))) == 0 {
		return Format{}, nil, fmt.Errorf("%w: the input is empty", ErrUnknownFormat)
	}
	f, err := r.Sniff(head)
	if err != nil {
		return Format{}, nil, err
	}
	return f, br, nil
}

// notToolOutput recognises JSON documents that are clearly not a tool's
// output (JSON Schemas) and says why.
func notToolOutput(head []byte) string {
	h := string(head[:min(len(head), 4096)])
	if strings.Contains(h, `"$schema"`) && strings.Contains(h, "json-schema.org") && !strings.Contains(h, `"runs"`) {
		return "this is a JSON Schema (it describes records, it holds none)"
	}
	return ""
}
