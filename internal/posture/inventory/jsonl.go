package inventory

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// JSONLFormat names the importer of Canopy's own inventory JSON Lines.
const JSONLFormat = "canopy-jsonl"

// MaxJSONLLineBytes is the longest line the JSON Lines importer reads.
const MaxJSONLLineBytes = 16 << 20

func init() {
	register(Importer{
		Name:    JSONLFormat,
		Title:   "Canopy inventory JSON Lines",
		Version: 1,
		Notes: "One inventory.Resource per line as Canopy writes it (provider, account, region, type, uid, name, tags, " +
			"attributes, relationships, source, observed_at); blank lines and lines starting with # are skipped; " +
			"unknown keys are errors; numbers become int64 when integral",
		Sniff:  sniffJSONL,
		Import: importJSONL,
	})
}

func sniffJSONL(head []byte) int {
	line := bytes.TrimSpace(head)
	for len(line) > 0 && line[0] == '#' {
		i := bytes.IndexByte(line, '\n')
		if i < 0 {
			return 0
		}
		line = bytes.TrimSpace(line[i+1:])
	}
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	if len(line) == 0 || line[0] != '{' {
		return 0
	}
	score := 0
	for _, k := range []string{`"provider"`, `"type"`, `"uid"`, `"attributes"`} {
		if bytes.Contains(line, []byte(k)) {
			score += 20
		}
	}
	if score < 60 {
		return 0
	}
	return score
}

// WriteJSONL writes r as one line of Canopy inventory JSON Lines.
func WriteJSONL(w io.Writer, r *Resource) error {
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("inventory: %s: %w", r.UID, err)
	}
	b = append(b, '\n')
	_, err = w.Write(b)
	return err
}

func importJSONL(ctx context.Context, r io.Reader, emit Emit) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), MaxJSONLLineBytes)
	line, record := 0, 0
	var offset int64
	for sc.Scan() {
		line++
		raw := sc.Bytes()
		start := offset
		offset += int64(len(raw)) + 1
		t := bytes.TrimSpace(raw)
		if len(t) == 0 || t[0] == '#' {
			continue
		}
		record++
		if record%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		res, err := decodeJSONLResource(t)
		if err != nil {
			re := &RecordError{Importer: JSONLFormat, Record: record, Line: line, Offset: start, Err: err}
			var fe *fieldError
			if errors.As(err, &fe) {
				re.Field, re.Err = fe.field, fe.err
			}
			return re
		}
		if err := emit(res); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			err = fmt.Errorf("%w: line longer than %d bytes", ErrSyntax, MaxJSONLLineBytes)
		}
		return &RecordError{Importer: JSONLFormat, Record: record + 1, Line: line + 1, Offset: offset, Err: err}
	}
	return nil
}

func decodeJSONLResource(b []byte) (Resource, error) {
	var res Resource
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	dec.DisallowUnknownFields()
	if err := dec.Decode(&res); err != nil {
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) {
			return res, &fieldError{ute.Field, fmt.Errorf("%w: want %s, got %s", ErrInvalidValue, ute.Type, ute.Value)}
		}
		if strings.HasPrefix(err.Error(), "json: unknown field") {
			return res, fmt.Errorf("%w: %s", ErrInvalidValue, strings.TrimPrefix(err.Error(), "json: "))
		}
		return res, fmt.Errorf("%w: %v", ErrSyntax, err)
	}
	if dec.More() {
		return res, fmt.Errorf("%w: more than one JSON value on the line", ErrSyntax)
	}
	if err := res.Validate(); err != nil {
		field, _, _ := strings.Cut(err.Error(), ":")
		return res, &fieldError{field, ErrMissingField}
	}
	res.Attributes = NormalizeAttributes(res.Attributes)
	return res, nil
}
