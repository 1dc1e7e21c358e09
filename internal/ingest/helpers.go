package ingest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	json "github.com/goccy/go-json"

	"github.com/canopy-sec/canopy/internal/ingest/jsonstream"
	"github.com/canopy-sec/canopy/internal/ocsf"
)

// emitError marks an error returned by the pipeline's Emit, which decoders
// pass through unchanged.
type emitError struct{ err error }

func (e emitError) Error() string { return e.err.Error() }
func (e emitError) Unwrap() error { return e.err }

// decodeItems runs [jsonstream.Items] over r and calls mapItem for each
// record. Errors from mapItem become *RecordError positioned at the item
// (a *fieldError names the field); errors from emit are returned unchanged.
func decodeItems(ctx context.Context, format string, r io.Reader, envelopes []string, emit Emit,
	mapItem func(it jsonstream.Item, emit Emit) error) error {
	wrapped := func(rec ocsf.Record) error {
		if err := emit(rec); err != nil {
			return emitError{err}
		}
		return nil
	}
	var cur jsonstream.Item
	err := jsonstream.Items(ctx, r, envelopes, func(it jsonstream.Item) error {
		cur = it
		if err := mapItem(it, wrapped); err != nil {
			var ee emitError
			if errors.As(err, &ee) {
				return err
			}
			return itemErr(format, it, err)
		}
		return nil
	})
	return finishErr(format, cur.Index+1, err)
}

// eachRecord adapts a mapping of one raw record to decodeItems: each item
// is mapped and emitted.
func eachRecord(mapRaw func(raw []byte) (ocsf.Record, error)) func(jsonstream.Item, Emit) error {
	return func(it jsonstream.Item, emit Emit) error {
		rec, err := mapRaw(it.Raw)
		if err != nil {
			return err
		}
		return emit(rec)
	}
}

// beginReport checks that the input is one JSON object (a report) and
// enters it; what names the format in the message.
func beginReport(jr *jsonstream.Reader, what string) error {
	k, err := jr.Peek()
	if err == io.EOF {
		return fmt.Errorf("%w: empty input", ErrSyntax)
	}
	if err != nil {
		return err
	}
	if k != jsonstream.Object {
		return fmt.Errorf("%w: %s is a JSON object", ErrSyntax, what)
	}
	return jr.BeginObject()
}

// finishErr converts what a decoding loop returned: emit errors unwrapped,
// syntax errors positioned at record next (the record being read).
func finishErr(format string, next int, err error) error {
	if err == nil {
		return nil
	}
	var ee emitError
	if errors.As(err, &ee) {
		return ee.err
	}
	var re *RecordError
	if errors.As(err, &re) {
		return re
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return recordErr(format, next, "", -1, "", err)
}

func itemErr(format string, it jsonstream.Item, err error) *RecordError {
	field := ""
	var fe *fieldError
	if errors.As(err, &fe) {
		field, err = fe.field, fe.err
	}
	var se *jsonstream.SyntaxError
	if !errors.As(err, &se) {
		var ute *json.UnmarshalTypeError
		var sye *json.SyntaxError
		if errors.As(err, &ute) {
			if field == "" {
				field = ute.Field
			}
			err = fmt.Errorf("%w: %s value where %s was expected", ErrSyntax, ute.Value, ute.Type)
		} else if errors.As(err, &sye) {
			err = fmt.Errorf("%w: %s", ErrSyntax, sye.Error())
		}
	}
	return recordErr(format, it.Index, it.Pointer, it.Offset, field, err)
}

// unmarshal decodes raw into v.
func unmarshal(raw []byte, v any) error { return json.Unmarshal(raw, v) }

// decodeMap decodes a JSON object into a map, keeping numbers exact.
func decodeMap(raw []byte) (fields, error) {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, errors.New("record is not a JSON object")
	}
	return fields(m), nil
}

// fields is a decoded source record from which a mapping takes what it maps;
// what remains goes to unmapped (see rest).
type fields map[string]any

// take removes and returns the value at a dotted path ("userIdentity.arn").
func (f fields) take(path string) any {
	m := map[string]any(f)
	for {
		i := strings.IndexByte(path, '.')
		if i < 0 {
			v, ok := m[path]
			if ok {
				delete(m, path)
			}
			return v
		}
		sub, ok := m[path[:i]].(map[string]any)
		if !ok {
			// a key that itself contains dots
			if v, ok := m[path]; ok {
				delete(m, path)
				return v
			}
			return nil
		}
		m, path = sub, path[i+1:]
	}
}

// get returns the value at a dotted path without removing it.
func (f fields) get(path string) any {
	m := map[string]any(f)
	for {
		i := strings.IndexByte(path, '.')
		if i < 0 {
			return m[path]
		}
		sub, ok := m[path[:i]].(map[string]any)
		if !ok {
			return m[path]
		}
		m, path = sub, path[i+1:]
	}
}

// str takes a value as a string (numbers and booleans are formatted).
func (f fields) str(path string) string { return asString(f.take(path)) }

// obj takes a nested object.
func (f fields) obj(path string) fields {
	m, _ := f.take(path).(map[string]any)
	return fields(m)
}

// int takes an integer value; ok is false when absent or not a number.
func (f fields) int(path string) (int64, bool) { return asInt(f.take(path)) }

// rest returns what is left, without empty objects, or nil.
func (f fields) rest() map[string]any {
	prune(map[string]any(f))
	if len(f) == 0 {
		return nil
	}
	return map[string]any(f)
}

func prune(m map[string]any) {
	for k, v := range m {
		switch x := v.(type) {
		case map[string]any:
			prune(x)
			if len(x) == 0 {
				delete(m, k)
			}
		case nil:
			delete(m, k)
		}
	}
}

func asString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case json.Number:
		return x.String()
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func asInt(v any) (int64, bool) {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i, true
		}
		if f, err := x.Float64(); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
			return int64(f), true
		}
	case float64:
		return int64(x), true
	case string:
		if i, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64); err == nil {
			return i, true
		}
	}
	return 0, false
}

func asFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	case float64:
		return x, true
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		return f, err == nil
	}
	return 0, false
}

func asStrings(v any) []string {
	switch x := v.(type) {
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			if s := asString(e); s != "" {
				out = append(out, s)
			}
		}
		return out
	case []string:
		return x
	case string:
		if x != "" {
			return []string{x}
		}
	}
	return nil
}

var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999Z0700",
	"2006-01-02T15:04:05.999999999Z07",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999Z0700",
	"2006-01-02 15:04:05.999999999 -0700 MST",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02",
	time.RFC1123Z,
	time.RFC1123,
}

// parseTime parses the timestamps tools write: RFC 3339 with Z or an offset,
// offsets without a colon (+0000), any fraction length, no zone at all (taken
// as UTC), a space instead of T, and epoch seconds, milliseconds or
// nanoseconds (as digits). The result is in UTC.
func parseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, errors.New("empty time")
	}
	if isDigits(s) && len(s) > 15 {
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			if i > 1e17 {
				return time.Unix(0, i).UTC(), nil
			}
			return time.UnixMicro(i).UTC(), nil
		}
	}
	if isDigits(s) || (strings.Count(s, ".") == 1 && isDigits(strings.Replace(s, ".", "", 1))) {
		f, err := strconv.ParseFloat(s, 64)
		if err == nil {
			return epochTime(f), nil
		}
	}
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("unrecognised time %q", s)
}

// epochTime converts epoch seconds, milliseconds, microseconds or
// nanoseconds (told apart by magnitude) to a time.
func epochTime(v float64) time.Time {
	switch {
	case v > 1e17:
		return time.Unix(0, int64(v)).UTC()
	case v > 1e14:
		return time.UnixMicro(int64(v)).UTC()
	case v > 1e11:
		return time.UnixMilli(int64(v)).UTC()
	default:
		sec, frac := math.Modf(v)
		return time.Unix(int64(sec), int64(frac*1e9)).UTC()
	}
}

// anyTime interprets a JSON value (string or number) as a time.
func anyTime(v any) (time.Time, error) {
	switch x := v.(type) {
	case nil:
		return time.Time{}, errors.New("empty time")
	case string:
		return parseTime(x)
	case json.Number:
		return parseTime(x.String())
	case float64:
		return epochTime(x), nil
	}
	return time.Time{}, fmt.Errorf("unrecognised time %v", v)
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// contentID derives a stable identifier from a record's bytes, for sources
// that give none.
func contentID(parts ...[]byte) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write(p)
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// firstNonEmpty returns the first non-empty string.
func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// sniffHas reports whether head contains every marker.
func sniffHas(head []byte, markers ...string) bool {
	for _, m := range markers {
		if !bytes.Contains(head, []byte(m)) {
			return false
		}
	}
	return true
}

// boolPtr returns a pointer to b.
func boolPtr(b bool) *bool { return &b }

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
