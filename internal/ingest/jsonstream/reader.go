package jsonstream

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	json "github.com/goccy/go-json"
)

// MaxValueBytes is the largest single JSON value a [Reader] frames.
const MaxValueBytes = 256 << 20

// Kind is the kind of the next JSON value.
type Kind byte

// Value kinds returned by [Reader.Peek].
const (
	Invalid Kind = 0
	Object  Kind = '{'
	Array   Kind = '['
	String  Kind = '"'
	Number  Kind = '0'
	Bool    Kind = 't'
	Null    Kind = 'n'
)

// SyntaxError is a JSON framing error at a position in the input.
type SyntaxError struct {
	Offset  int64  // byte offset in the input
	Pointer string // JSON pointer of the value being read
	Msg     string
	Err     error // io.ErrUnexpectedEOF for truncated input, else nil
}

func (e *SyntaxError) Error() string {
	if e.Pointer != "" {
		return fmt.Sprintf("at %s (byte %d): %s", e.Pointer, e.Offset, e.Msg)
	}
	return fmt.Sprintf("at byte %d: %s", e.Offset, e.Msg)
}

// Unwrap returns the underlying cause, if any.
func (e *SyntaxError) Unwrap() error { return e.Err }

type frame struct {
	array bool
	first bool
	index int
	key   string
}

// Reader walks a JSON input; see the package documentation.
type Reader struct {
	src        io.Reader
	buf        []byte
	pos, end   int
	mark       int // start of a value being framed, kept across refills; -1 when none
	base       int64
	eof        bool
	rerr       error
	stack      []frame
	valStart   int64
	bomChecked bool
}

// NewReader returns a Reader reading from r.
func NewReader(r io.Reader) *Reader {
	return &Reader{src: r, buf: make([]byte, 64<<10), mark: -1}
}

// fill reads more input. It keeps bytes from mark (or pos) on and returns how
// far they moved towards the start of the buffer.
func (r *Reader) fill() (shift int, err error) {
	if r.eof {
		if r.rerr != nil {
			return 0, r.rerr
		}
		return 0, io.EOF
	}
	keep := r.pos
	if r.mark >= 0 && r.mark < keep {
		keep = r.mark
	}
	if keep > 0 {
		copy(r.buf, r.buf[keep:r.end])
		r.end -= keep
		r.pos -= keep
		if r.mark >= 0 {
			r.mark -= keep
		}
		r.base += int64(keep)
		shift = keep
	}
	if r.end == len(r.buf) {
		if len(r.buf) >= MaxValueBytes {
			return shift, r.errorf(nil, "a single JSON value is larger than %d MiB", MaxValueBytes>>20)
		}
		nb := make([]byte, 2*len(r.buf))
		copy(nb, r.buf[:r.end])
		r.buf = nb
	}
	n, err := r.src.Read(r.buf[r.end:])
	r.end += n
	if err != nil {
		r.eof = true
		if err != io.EOF {
			r.rerr = err
			return shift, err
		}
		if n == 0 {
			return shift, io.EOF
		}
	}
	return shift, nil
}

func (r *Reader) errorf(cause error, format string, args ...any) *SyntaxError {
	return &SyntaxError{Offset: r.base + int64(r.pos), Pointer: r.Pointer(), Msg: fmt.Sprintf(format, args...), Err: cause}
}

func (r *Reader) unexpectedEOF() *SyntaxError {
	return r.errorf(io.ErrUnexpectedEOF, "unexpected end of input (truncated?)")
}

// skipWS makes the next non-space byte available at r.pos and returns it.
func (r *Reader) skipWS() (byte, error) {
	for {
		for r.pos < r.end {
			c := r.buf[r.pos]
			if c == ' ' || c == '\n' || c == '\r' || c == '\t' {
				r.pos++
				continue
			}
			if c == 0xEF && r.base == 0 && r.pos == 0 && !r.bomChecked {
				r.bomChecked = true
				for r.end < 3 && !r.eof {
					if _, err := r.fill(); err != nil && err != io.EOF {
						return 0, err
					}
				}
				if r.end >= 3 && r.buf[1] == 0xBB && r.buf[2] == 0xBF {
					r.pos += 3 // UTF-8 byte order mark
				}
				continue
			}
			return c, nil
		}
		if _, err := r.fill(); err != nil {
			return 0, err
		}
	}
}

// Peek returns the kind of the next value without consuming it. At the end of
// the input it returns io.EOF.
func (r *Reader) Peek() (Kind, error) {
	c, err := r.skipWS()
	if err != nil {
		return Invalid, err
	}
	switch c {
	case '{', '[', '"':
		return Kind(c), nil
	case 't', 'f':
		return Bool, nil
	case 'n':
		return Null, nil
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return Number, nil
	}
	return Invalid, r.errorf(nil, "invalid character %q looking for a value", c)
}

func (r *Reader) expect(want byte) error {
	c, err := r.skipWS()
	if err == io.EOF {
		return r.unexpectedEOF()
	}
	if err != nil {
		return err
	}
	if c != want {
		return r.errorf(nil, "expected %q, found %q", want, c)
	}
	r.pos++
	return nil
}

// BeginObject consumes '{' and enters the object.
func (r *Reader) BeginObject() error {
	if err := r.expect('{'); err != nil {
		return err
	}
	r.stack = append(r.stack, frame{first: true})
	return nil
}

// BeginArray consumes '[' and enters the array.
func (r *Reader) BeginArray() error {
	if err := r.expect('['); err != nil {
		return err
	}
	r.stack = append(r.stack, frame{array: true, first: true, index: -1})
	return nil
}

// NextKey reads the next key of the current object. ok is false, and the
// object is left, when its closing brace is reached.
func (r *Reader) NextKey() (key string, ok bool, err error) {
	if len(r.stack) == 0 || r.stack[len(r.stack)-1].array {
		return "", false, errors.New("jsonstream: NextKey outside an object")
	}
	f := &r.stack[len(r.stack)-1]
	c, err := r.skipWS()
	if err == io.EOF {
		return "", false, r.unexpectedEOF()
	}
	if err != nil {
		return "", false, err
	}
	if c == '}' {
		r.pos++
		r.stack = r.stack[:len(r.stack)-1]
		return "", false, nil
	}
	if !f.first {
		if c != ',' {
			return "", false, r.errorf(nil, "expected ',' or '}' after object value, found %q", c)
		}
		r.pos++
		if c, err = r.skipWS(); err != nil {
			if err == io.EOF {
				return "", false, r.unexpectedEOF()
			}
			return "", false, err
		}
	}
	if c != '"' {
		return "", false, r.errorf(nil, "expected a string key, found %q", c)
	}
	raw, err := r.frame()
	if err != nil {
		return "", false, err
	}
	key, err = unquote(raw)
	if err != nil {
		return "", false, r.errorf(nil, "bad key: %v", err)
	}
	if err := r.expect(':'); err != nil {
		return "", false, err
	}
	f = &r.stack[len(r.stack)-1]
	f.first = false
	f.key = key
	return key, true, nil
}

// More reports whether the current array has another element; when it has
// none, its closing bracket is consumed and the array is left.
func (r *Reader) More() (bool, error) {
	if len(r.stack) == 0 || !r.stack[len(r.stack)-1].array {
		return false, errors.New("jsonstream: More outside an array")
	}
	f := &r.stack[len(r.stack)-1]
	c, err := r.skipWS()
	if err == io.EOF {
		return false, r.unexpectedEOF()
	}
	if err != nil {
		return false, err
	}
	if c == ']' {
		r.pos++
		r.stack = r.stack[:len(r.stack)-1]
		return false, nil
	}
	if !f.first {
		if c != ',' {
			return false, r.errorf(nil, "expected ',' or ']' after array element, found %q", c)
		}
		r.pos++
	}
	f.first = false
	f.index++
	return true, nil
}

// Raw frames the next value and returns its bytes. The slice is valid only
// until the next call on r.
func (r *Reader) Raw() ([]byte, error) {
	if _, err := r.skipWS(); err != nil {
		if err == io.EOF {
			return nil, r.unexpectedEOF()
		}
		return nil, err
	}
	return r.frame()
}

// Skip frames and discards the next value.
func (r *Reader) Skip() error {
	_, err := r.Raw()
	return err
}

// Decode frames the next value and unmarshals it into v.
func (r *Reader) Decode(v any) error {
	raw, err := r.Raw()
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return &SyntaxError{Offset: r.valStart, Pointer: r.Pointer(), Msg: err.Error()}
	}
	return nil
}

// String decodes the next value, which must be a JSON string or null.
func (r *Reader) String() (string, error) {
	raw, err := r.Raw()
	if err != nil {
		return "", err
	}
	if string(raw) == "null" {
		return "", nil
	}
	s, err := unquote(raw)
	if err != nil {
		return "", &SyntaxError{Offset: r.valStart, Pointer: r.Pointer(), Msg: "expected a string: " + err.Error()}
	}
	return s, nil
}

// Offset returns the input offset of the value last framed.
func (r *Reader) Offset() int64 { return r.valStart }

// Depth returns how many objects and arrays are open.
func (r *Reader) Depth() int { return len(r.stack) }

// Pointer returns the JSON pointer (RFC 6901) of the current position: the
// key or index being read at each open level.
func (r *Reader) Pointer() string {
	var b strings.Builder
	for _, f := range r.stack {
		b.WriteByte('/')
		if f.array {
			if f.index >= 0 {
				b.WriteString(strconv.Itoa(f.index))
			}
			continue
		}
		b.WriteString(strings.NewReplacer("~", "~0", "/", "~1").Replace(f.key))
	}
	return b.String()
}

// frame scans one value starting at r.pos (a non-space byte) and returns it.
func (r *Reader) frame() ([]byte, error) {
	r.mark = r.pos
	defer func() { r.mark = -1 }()
	r.valStart = r.base + int64(r.pos)
	i := r.pos
	var open []byte // brackets opened and not yet closed
	for {
		if i >= r.end {
			shift, err := r.fill()
			i -= shift
			if err == io.EOF {
				if len(open) == 0 && i > r.mark && isScalarStart(r.buf[r.mark]) && r.buf[r.mark] != '"' {
					break // a scalar ending the input
				}
				r.pos = i
				return nil, r.unexpectedEOF()
			}
			if err != nil {
				return nil, err
			}
			continue
		}
		c := r.buf[i]
		switch {
		case c == '"':
			j, err := r.scanString(i + 1)
			if err != nil {
				return nil, err
			}
			i = j
			if len(open) == 0 {
				r.pos = i
				return r.buf[r.mark:i], nil
			}
			continue
		case (c == '{' || c == '[') && len(open) == 0 && i > r.mark:
			// '{' right after a scalar: framed below as a delimiter error
		case c == '{' || c == '[':
			open = append(open, c)
			i++
			continue
		case (c == '}' || c == ']') && len(open) == 0 && i > r.mark && isScalarStart(r.buf[r.mark]):
			// a scalar member or element ends at the closing bracket
		case c == '}' || c == ']':
			if len(open) == 0 || (c == '}') != (open[len(open)-1] == '{') {
				r.pos = i
				return nil, r.errorf(nil, "unexpected %q", c)
			}
			open = open[:len(open)-1]
			i++
			if len(open) == 0 {
				r.pos = i
				return r.buf[r.mark:i], nil
			}
			continue
		}
		if len(open) == 0 {
			if !isScalarStart(r.buf[r.mark]) {
				r.pos = i
				return nil, r.errorf(nil, "invalid character %q looking for a value", r.buf[r.mark])
			}
			// a scalar at this level ends at a delimiter
			if c == ',' || c == '}' || c == ']' || c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == ':' {
				if i == r.mark {
					r.pos = i
					return nil, r.errorf(nil, "invalid character %q looking for a value", c)
				}
				break
			}
		}
		i++
	}
	r.pos = i
	return r.buf[r.mark:i], nil
}

func isScalarStart(c byte) bool {
	switch c {
	case '"', 't', 'f', 'n', '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return true
	}
	return false
}

// scanString returns the index just past the closing quote of a string whose
// body starts at i. It refills the buffer as needed; indexes stay relative to
// the (possibly moved) buffer.
func (r *Reader) scanString(i int) (int, error) {
	for {
		k := bytes.IndexByte(r.buf[i:r.end], '"')
		if k < 0 {
			i = r.end
			shift, err := r.fill()
			i -= shift
			if err == io.EOF {
				r.pos = i
				return 0, r.unexpectedEOF()
			}
			if err != nil {
				return 0, err
			}
			continue
		}
		q := i + k
		// count the backslashes before the quote
		n := 0
		for p := q - 1; p >= r.mark && r.buf[p] == '\\'; p-- {
			n++
		}
		if n%2 == 0 {
			return q + 1, nil
		}
		i = q + 1
	}
}

func unquote(raw []byte) (string, error) {
	if len(raw) < 2 || raw[0] != '"' {
		return "", fmt.Errorf("not a string: %.40q", raw)
	}
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1 : len(raw)-1]), nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", err
	}
	return s, nil
}

// Elements calls fn once for each element of the array at the current
// position, with the reader at the element; fn must read it (Raw, Decode,
// Skip, BeginObject …). A null or any other non-array value is skipped, as
// tools write "results": null for empty lists.
func (r *Reader) Elements(fn func() error) error {
	k, err := r.Peek()
	if err == io.EOF {
		return r.unexpectedEOF()
	}
	if err != nil {
		return err
	}
	if k != Array {
		return r.Skip()
	}
	if err := r.BeginArray(); err != nil {
		return err
	}
	for {
		more, err := r.More()
		if err != nil || !more {
			return err
		}
		if err := fn(); err != nil {
			return err
		}
	}
}

// Members calls fn once for each member of the object at the current
// position, with the reader at the member's value; fn must read it.
func (r *Reader) Members(fn func(key string) error) error {
	if err := r.BeginObject(); err != nil {
		return err
	}
	for {
		key, ok, err := r.NextKey()
		if err != nil || !ok {
			return err
		}
		if err := fn(key); err != nil {
			return err
		}
	}
}
