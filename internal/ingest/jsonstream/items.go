package jsonstream

import (
	"context"
	"io"

	json "github.com/goccy/go-json"
)

// Item is one record found by [Items].
type Item struct {
	Index   int    // 1-based number of the record in the input
	Raw     []byte // the record's JSON; valid only during the callback
	Offset  int64  // byte offset of the record in the input
	Pointer string // JSON pointer of the record, e.g. "/Findings/3"; "/0" style for a bare array; "" for a top-level object
}

// Items calls fn for every record of a JSON input. Records are the elements
// of a top-level array; the elements of the array under one of envelopes
// (e.g. "Findings", "Records") in a top-level object; or else each top-level
// object itself, so one object, concatenated objects and JSON Lines all work.
// A top-level value that is neither an object nor an array is an error.
// It stops at the first error, returning what fn returned unchanged; ctx is
// checked every 1024 records.
func Items(ctx context.Context, r io.Reader, envelopes []string, fn func(Item) error) error {
	jr := NewReader(r)
	n := 0
	call := func(raw []byte, ptr string) error {
		n++
		if n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		return fn(Item{Index: n, Raw: raw, Offset: jr.Offset(), Pointer: ptr})
	}
	for {
		k, err := jr.Peek()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		switch k {
		case Array:
			if err := jr.BeginArray(); err != nil {
				return err
			}
			for {
				more, err := jr.More()
				if err != nil {
					return err
				}
				if !more {
					break
				}
				raw, err := jr.Raw()
				if err != nil {
					return err
				}
				if err := call(raw, jr.Pointer()); err != nil {
					return err
				}
			}
		case Object:
			if err := itemsInObject(jr, envelopes, call); err != nil {
				return err
			}
		default:
			return jr.errorf(nil, "expected a JSON object or array at the top level")
		}
	}
}

// itemsInObject reads one top-level object. If it holds an envelope key whose
// value is an array, each element is a record; otherwise the object itself is
// one record, rebuilt from its members (each member is at most a record's size).
func itemsInObject(jr *Reader, envelopes []string, call func([]byte, string) error) error {
	start := jr.base + int64(jr.pos)
	if len(envelopes) == 0 {
		raw, err := jr.Raw()
		if err != nil {
			return err
		}
		return call(raw, "")
	}
	if err := jr.BeginObject(); err != nil {
		return err
	}
	var rebuilt []byte
	enveloped := false
	for {
		key, ok, err := jr.NextKey()
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		if isEnvelope(key, envelopes) {
			k, err := jr.Peek()
			if err == io.EOF {
				return jr.unexpectedEOF()
			}
			if err != nil {
				return err
			}
			if k == Array {
				enveloped = true
				if err := jr.BeginArray(); err != nil {
					return err
				}
				for {
					more, err := jr.More()
					if err != nil {
						return err
					}
					if !more {
						break
					}
					raw, err := jr.Raw()
					if err != nil {
						return err
					}
					if err := call(raw, jr.Pointer()); err != nil {
						return err
					}
				}
				continue
			}
		}
		raw, err := jr.Raw()
		if err != nil {
			return err
		}
		if enveloped {
			continue // envelope metadata after the records
		}
		if rebuilt == nil {
			rebuilt = append(rebuilt, '{')
		} else {
			rebuilt = append(rebuilt, ',')
		}
		qk, err := json.Marshal(key)
		if err != nil {
			return err
		}
		rebuilt = append(rebuilt, qk...)
		rebuilt = append(rebuilt, ':')
		rebuilt = append(rebuilt, raw...)
	}
	if enveloped {
		return nil
	}
	if rebuilt == nil {
		rebuilt = []byte("{")
	}
	rebuilt = append(rebuilt, '}')
	jr.valStart = start
	return call(rebuilt, "")
}

func isEnvelope(key string, envelopes []string) bool {
	for _, e := range envelopes {
		if e == key {
			return true
		}
	}
	return false
}
