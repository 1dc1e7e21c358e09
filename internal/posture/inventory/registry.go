package inventory

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"slices"
	"strings"
)

// SniffBytes is how much of an input sniffing looks at.
const SniffBytes = 64 << 10

// Emit receives each resource an importer produces. Returning an error
// stops the importer, which returns that error.
type Emit func(Resource) error

// Importer is one inventory input format.
type Importer struct {
	// Name is the short lower-case name used by --format, e.g. "aws-config".
	Name string
	// Title is a human name, e.g. "AWS Config snapshot or query results".
	Title string
	// Version is bumped whenever the importer's normalization changes.
	Version int
	// Notes says which variants the importer reads and which resource
	// types it normalizes.
	Notes string
	// Sniff scores how likely head (at most SniffBytes of the start of the
	// input) is this format: 0 means "not mine"; higher wins. It must not
	// decode the whole head.
	Sniff func(head []byte) int
	// Import reads r to the end, emitting one resource at a time.
	Import func(ctx context.Context, r io.Reader, emit Emit) error
}

// Registry is a set of importers keyed by name. It is read-only once built.
type Registry struct {
	byName map[string]*Importer
	names  []string
}

// NewRegistry returns a registry of the given importers. Duplicate or
// empty names, and importers without Sniff or Import, are errors.
func NewRegistry(importers ...Importer) (*Registry, error) {
	r := &Registry{byName: make(map[string]*Importer)}
	for i := range importers {
		f := importers[i]
		if f.Name == "" || f.Import == nil || f.Sniff == nil {
			return nil, fmt.Errorf("inventory: importer %q: name, Sniff and Import are required", f.Name)
		}
		if _, dup := r.byName[f.Name]; dup {
			return nil, fmt.Errorf("inventory: importer %q registered twice", f.Name)
		}
		r.byName[f.Name] = &f
		r.names = append(r.names, f.Name)
	}
	slices.Sort(r.names)
	return r, nil
}

// builtin holds the importers registered by init functions of this
// package. It is only appended to during package initialisation.
var builtin []Importer

func register(f Importer) { builtin = append(builtin, f) }

// Builtin returns a registry of every importer this package implements.
func Builtin() *Registry {
	r, err := NewRegistry(builtin...)
	if err != nil {
		panic(err) // a programming error in this package, caught by any test
	}
	return r
}

// Lookup returns the importer with the given name.
func (r *Registry) Lookup(name string) (Importer, bool) {
	f, ok := r.byName[strings.ToLower(strings.TrimSpace(name))]
	if !ok {
		return Importer{}, false
	}
	return *f, true
}

// Importers returns the importers sorted by name.
func (r *Registry) Importers() []Importer {
	out := make([]Importer, 0, len(r.names))
	for _, n := range r.names {
		out = append(out, *r.byName[n])
	}
	return out
}

// Sentinel errors; test with errors.Is.
var (
	// ErrUnknownFormat: an importer name that is not registered, or content
	// no importer recognises.
	ErrUnknownFormat = errors.New("unknown inventory format")
	// ErrSyntax: input that is not well-formed for its format.
	ErrSyntax = errors.New("syntax error")
	// ErrMissingField: a record without a field the importer needs.
	ErrMissingField = errors.New("missing")
	// ErrInvalidValue: a field whose value has the wrong type or form.
	ErrInvalidValue = errors.New("invalid value")
)

// Sniff picks the importer of head. It fails with ErrUnknownFormat
// (naming the known importers) when nothing scores, and asks for --format
// when two importers tie.
func (r *Registry) Sniff(head []byte) (Importer, error) {
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
		return Importer{}, fmt.Errorf("%w: the content matches none of the known formats (%s); name one with --format", ErrUnknownFormat, strings.Join(r.names, ", "))
	}
	if len(tied) > 0 {
		return Importer{}, fmt.Errorf("%w: the content matches %s equally; name one with --format", ErrUnknownFormat, strings.Join(append([]string{best}, tied...), ", "))
	}
	return *r.byName[best], nil
}

// Open prepares in for importing: with a name it looks the importer up;
// without one it sniffs the start of in. The returned reader must be used
// instead of in (it replays what sniffing read).
func (r *Registry) Open(name string, in io.Reader) (Importer, io.Reader, error) {
	br := bufio.NewReaderSize(in, SniffBytes)
	if name != "" {
		f, ok := r.Lookup(name)
		if !ok {
			return Importer{}, nil, fmt.Errorf("%w %q; known formats: %s", ErrUnknownFormat, name, strings.Join(r.names, ", "))
		}
		return f, br, nil
	}
	head, err := br.Peek(SniffBytes)
	if err != nil && err != io.EOF && !errors.Is(err, bufio.ErrBufferFull) {
		return Importer{}, nil, fmt.Errorf("inventory: reading input: %w", err)
	}
	if len(strings.TrimSpace(string(head))) == 0 {
		return Importer{}, nil, fmt.Errorf("%w: the input is empty", ErrUnknownFormat)
	}
	f, err := r.Sniff(head)
	if err != nil {
		return Importer{}, nil, err
	}
	return f, br, nil
}

// Stream runs an importer over in (sniffing it when name is "") and
// returns its resources as an iterator for posture.Scan. An import error
// is yielded once, as the last element. Stopping the iteration stops the
// importer.
func (r *Registry) Stream(ctx context.Context, name string, in io.Reader) iter.Seq2[*Resource, error] {
	return func(yield func(*Resource, error) bool) {
		imp, rd, err := r.Open(name, in)
		if err != nil {
			yield(nil, err)
			return
		}
		errStop := errors.New("stopped")
		err = imp.Import(ctx, rd, func(res Resource) error {
			if !yield(&res, nil) {
				return errStop
			}
			return nil
		})
		if err != nil && !errors.Is(err, errStop) {
			yield(nil, fmt.Errorf("%s: %w", imp.Name, err))
		}
	}
}
