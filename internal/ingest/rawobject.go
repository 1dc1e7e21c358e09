package ingest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"

	json "github.com/goccy/go-json"

	"github.com/canopy-sec/canopy/internal/ocsf"
)

// rawObject is a JSON object split into its members, each kept as raw JSON
// until a mapping takes it. It serves the log formats that can be huge
// (Suricata EVE, CloudTrail, Kubernetes audit): one scan splits a record, a
// member is decoded only when a mapping uses it, into the Go type the mapping
// wants, and only what is left over is decoded generically for unmapped
// (see rest). Like [fields], taking a member removes it.
type rawObject map[string]json.RawMessage

// parseRawObject splits a JSON object into its members, checking that the
// whole object is well-formed JSON. Member values alias raw.
func parseRawObject(raw []byte) (rawObject, error) {
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		if i < len(raw) && raw[i] == 'n' {
			return nil, errors.New("record is not a JSON object")
		}
		return nil, jsonSyntaxError(raw, i, "expected a JSON object")
	}
	o := make(rawObject, 8)
	i = skipSpace(raw, i+1)
	if i < len(raw) && raw[i] == '}' {
		return o, endOfValue(raw, i+1)
	}
	for {
		if i >= len(raw) || raw[i] != '"' {
			return nil, jsonSyntaxError(raw, i, "expected a string key")
		}
		ks := i
		end, err := scanString(raw, i)
		if err != nil {
			return nil, err
		}
		key, err := stringText(raw[ks:end])
		if err != nil {
			return nil, err
		}
		i = skipSpace(raw, end)
		if i >= len(raw) || raw[i] != ':' {
			return nil, jsonSyntaxError(raw, i, "expected ':' after an object key")
		}
		vs := skipSpace(raw, i+1)
		_, ve, err := parseValue(raw, vs, 0, false)
		if err != nil {
			return nil, err
		}
		o[key] = raw[vs:ve]
		i = skipSpace(raw, ve)
		if i >= len(raw) {
			return nil, jsonSyntaxError(raw, i, "unexpected end of the object")
		}
		switch raw[i] {
		case ',':
			i = skipSpace(raw, i+1)
		case '}':
			return o, endOfValue(raw, i+1)
		default:
			return nil, jsonSyntaxError(raw, i, "expected ',' or '}' after an object value")
		}
	}
}

// maxJSONDepth bounds the nesting parseValue accepts.
const maxJSONDepth = 10000

func jsonSyntaxError(b []byte, i int, msg string) error {
	if i >= len(b) {
		return fmt.Errorf("%w: %s: unexpected end of input", ErrSyntax, msg)
	}
	return fmt.Errorf("%w: %s: invalid character %q at offset %d", ErrSyntax, msg, b[i], i)
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// endOfValue checks that only white space follows a value.
func endOfValue(b []byte, i int) error {
	if i = skipSpace(b, i); i < len(b) {
		return jsonSyntaxError(b, i, "unexpected data after the value")
	}
	return nil
}

// scanString checks the JSON string starting at b[i] and returns the
// index just past its closing quote.
func scanString(b []byte, i int) (int, error) {
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			return j + 1, nil
		case c == '\\':
			j++
			if j >= len(b) {
				return 0, jsonSyntaxError(b, j, "unterminated string")
			}
			switch b[j] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if j+4 >= len(b) {
					return 0, jsonSyntaxError(b, len(b), "unterminated string")
				}
				for k := j + 1; k <= j+4; k++ {
					if !isHex(b[k]) {
						return 0, jsonSyntaxError(b, k, "bad \\u escape")
					}
				}
				j += 4
			default:
				return 0, jsonSyntaxError(b, j, "bad escape")
			}
		case c < 0x20:
			return 0, jsonSyntaxError(b, j, "control character in a string")
		}
	}
	return 0, jsonSyntaxError(b, len(b), "unterminated string")
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// stringText returns the text of a checked JSON string (quotes included).
func stringText(q []byte) (string, error) {
	if bytes.IndexByte(q, '\\') < 0 {
		return string(q[1 : len(q)-1]), nil
	}
	var s string
	if err := json.Unmarshal(q, &s); err != nil {
		return "", fmt.Errorf("%w: %v", ErrSyntax, err)
	}
	return s, nil
}

// parseValue checks the JSON value starting at b[i] (no leading space) and
// returns the index just past it; with build it also returns the value
// decoded generically (objects as map[string]any, arrays as []any, numbers
// as json.Number).
func parseValue(b []byte, i, depth int, build bool) (any, int, error) {
	if i >= len(b) {
		return nil, i, jsonSyntaxError(b, i, "expected a value")
	}
	if depth > maxJSONDepth {
		return nil, i, jsonSyntaxError(b, i, "JSON nested too deeply")
	}
	switch c := b[i]; {
	case c == '"':
		end, err := scanString(b, i)
		if err != nil || !build {
			return nil, end, err
		}
		s, err := stringText(b[i:end])
		return s, end, err
	case c == '{':
		var m map[string]any
		if build {
			m = map[string]any{}
		}
		i = skipSpace(b, i+1)
		if i < len(b) && b[i] == '}' {
			return m, i + 1, nil
		}
		for {
			if i >= len(b) || b[i] != '"' {
				return nil, i, jsonSyntaxError(b, i, "expected a string key")
			}
			ks := i
			end, err := scanString(b, i)
			if err != nil {
				return nil, i, err
			}
			i = skipSpace(b, end)
			if i >= len(b) || b[i] != ':' {
				return nil, i, jsonSyntaxError(b, i, "expected ':' after an object key")
			}
			v, ve, err := parseValue(b, skipSpace(b, i+1), depth+1, build)
			if err != nil {
				return nil, ve, err
			}
			if build {
				key, err := stringText(b[ks:end])
				if err != nil {
					return nil, ve, err
				}
				m[key] = v
			}
			i = skipSpace(b, ve)
			if i >= len(b) {
				return nil, i, jsonSyntaxError(b, i, "unexpected end of an object")
			}
			if b[i] == '}' {
				return m, i + 1, nil
			}
			if b[i] != ',' {
				return nil, i, jsonSyntaxError(b, i, "expected ',' or '}' after an object value")
			}
			i = skipSpace(b, i+1)
		}
	case c == '[':
		var a []any
		if build {
			a = []any{}
		}
		i = skipSpace(b, i+1)
		if i < len(b) && b[i] == ']' {
			return a, i + 1, nil
		}
		for {
			v, ve, err := parseValue(b, i, depth+1, build)
			if err != nil {
				return nil, ve, err
			}
			if build {
				a = append(a, v)
			}
			i = skipSpace(b, ve)
			if i >= len(b) {
				return nil, i, jsonSyntaxError(b, i, "unexpected end of an array")
			}
			if b[i] == ']' {
				return a, i + 1, nil
			}
			if b[i] != ',' {
				return nil, i, jsonSyntaxError(b, i, "expected ',' or ']' after an array element")
			}
			i = skipSpace(b, i+1)
		}
	case c == 't':
		return literal(b, i, "true", true)
	case c == 'f':
		return literal(b, i, "false", false)
	case c == 'n':
		return literal(b, i, "null", nil)
	case c == '-' || (c >= '0' && c <= '9'):
		end, ok := scanNumber(b, i)
		if !ok {
			return nil, end, jsonSyntaxError(b, end, "malformed number")
		}
		if !build {
			return nil, end, nil
		}
		return json.Number(b[i:end]), end, nil
	}
	return nil, i, jsonSyntaxError(b, i, "expected a value")
}

func literal(b []byte, i int, word string, v any) (any, int, error) {
	if !bytes.HasPrefix(b[i:], []byte(word)) {
		return nil, i, jsonSyntaxError(b, i, "expected "+word)
	}
	return v, i + len(word), nil
}

// scanNumber checks the JSON number at b[i] and returns the index past it.
func scanNumber(b []byte, i int) (int, bool) {
	if b[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if i < len(b) && b[i] == '0' {
		i++
	} else if digits() == 0 {
		return i, false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if digits() == 0 {
			return i, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			return i, false
		}
	}
	return i, true
}

// take removes and returns the member key; a JSON null counts as absent.
func (o rawObject) take(key string) json.RawMessage {
	v, ok := o[key]
	if !ok {
		return nil
	}
	delete(o, key)
	if isNull(v) {
		return nil
	}
	return v
}

// takeFold is take for sources that also write their keys in lower case
// (Panther's normalised CloudTrail): it falls back to the lower-case key.
func (o rawObject) takeFold(key string) json.RawMessage {
	if v := o.take(key); v != nil {
		return v
	}
	if l := strings.ToLower(key); l != key {
		return o.take(l)
	}
	return nil
}

// str takes a string member; numbers and booleans are returned as written.
// An object or array is left in place (it ends up in unmapped) and "" is
// returned.
func (o rawObject) str(key string) string { return o.strOf(key, o.take) }

// strFold is str with takeFold.
func (o rawObject) strFold(key string) string { return o.strOf(key, o.takeFold) }

func (o rawObject) strOf(key string, take func(string) json.RawMessage) string {
	v := take(key)
	if v == nil {
		return ""
	}
	s, ok := rawScalar(v)
	if !ok {
		o[key] = v
	}
	return s
}

// rawScalar returns a JSON string's text, or a number or boolean as written;
// ok is false for objects, arrays and malformed strings.
func rawScalar(v json.RawMessage) (string, bool) {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return "", true
	}
	switch v[0] {
	case '"':
		if bytes.IndexByte(v, '\\') < 0 && len(v) >= 2 {
			return string(v[1 : len(v)-1]), true
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return "", false
		}
		return s, true
	case '{', '[':
		return "", false
	case 'n':
		return "", true
	}
	return string(v), true
}

// int takes an integer member (a JSON number or a string of digits); a
// member of another kind is left in place and ok is false.
func (o rawObject) int(key string) (int64, bool) { return o.intOf(key, o.take) }

// intFold is int with takeFold.
func (o rawObject) intFold(key string) (int64, bool) { return o.intOf(key, o.takeFold) }

func (o rawObject) intOf(key string, take func(string) json.RawMessage) (int64, bool) {
	v := take(key)
	if v == nil {
		return 0, false
	}
	s, ok := rawScalar(v)
	if ok {
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return i, true
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil && f == float64(int64(f)) {
			return int64(f), true
		}
	}
	o[key] = v
	return 0, false
}

// bool takes a boolean member (true/false, also as strings); a member of
// another kind is left in place and ok is false.
func (o rawObject) bool(key string) (b, ok bool) {
	v := o.take(key)
	if v == nil {
		return false, false
	}
	s, sok := rawScalar(v)
	if sok {
		if b, err := strconv.ParseBool(s); err == nil {
			return b, true
		}
	}
	o[key] = v
	return false, false
}

// strs takes an array of strings; an array holding anything else is left in
// place and nil is returned.
func (o rawObject) strs(key string) []string {
	v := o.take(key)
	if v == nil {
		return nil
	}
	var out []string
	if err := json.Unmarshal(v, &out); err != nil {
		o[key] = v
		return nil
	}
	return out
}

// obj takes an object member and splits it; a member of another kind is
// left in place and nil is returned.
func (o rawObject) obj(key string) rawObject { return o.objOf(key, o.take) }

// objFold is obj with takeFold.
func (o rawObject) objFold(key string) rawObject { return o.objOf(key, o.takeFold) }

func (o rawObject) objOf(key string, take func(string) json.RawMessage) rawObject {
	v := take(key)
	if v == nil {
		return nil
	}
	if t := bytes.TrimSpace(v); len(t) == 0 || t[0] != '{' {
		o[key] = v
		return nil
	}
	sub, err := parseRawObject(v)
	if err != nil {
		o[key] = v
		return nil
	}
	return sub
}

// value takes a member decoded generically (numbers kept exact), or nil.
func (o rawObject) value(key string) any { return decodeAny(o.take(key)) }

// valueFold is value with takeFold.
func (o rawObject) valueFold(key string) any { return decodeAny(o.takeFold(key)) }

// addRestTo puts what is left of o back into parent under key, so that it
// ends up in unmapped with the parent's rest.
func (o rawObject) addRestTo(parent rawObject, key string) {
	if len(o) == 0 {
		return
	}
	b := make([]byte, 0, 256)
	b = append(b, '{')
	for _, k := range sortedKeys(o) {
		if len(b) > 1 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
		b = append(b, ':')
		b = append(b, o[k]...)
	}
	parent[key] = append(b, '}')
}

// appendJSONString appends s as a JSON string.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x80 {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// rest decodes what is left, without nulls and empty objects, or nil.
func (o rawObject) rest() map[string]any {
	if len(o) == 0 {
		return nil
	}
	m := make(map[string]any, len(o))
	for k, v := range o {
		if x := decodeAny(v); x != nil {
			m[k] = x
		}
	}
	prune(m)
	if len(m) == 0 {
		return nil
	}
	return m
}

// addRest stores what is left of o in b's unmapped object: under key, or at
// the top of unmapped when key is "".
func (o rawObject) addRest(b *ocsf.Base, key string) {
	r := o.rest()
	if key != "" {
		if r != nil {
			b.AddUnmapped(key, r)
		}
		return
	}
	for k, v := range r {
		b.AddUnmapped(k, v)
	}
}

// decodeAny decodes raw JSON generically, keeping numbers exact; nil for
// absent, null or malformed input.
func decodeAny(raw json.RawMessage) any {
	if len(raw) == 0 || isNull(raw) {
		return nil
	}
	raw = bytes.TrimSpace(raw)
	v, end, err := parseValue(raw, 0, 0, true)
	if err != nil || end != len(raw) {
		return nil
	}
	return v
}

func isNull(v json.RawMessage) bool {
	v = bytes.TrimSpace(v)
	return len(v) == 4 && string(v) == "null"
}

// envelopesIn returns the envelope keys that the start of r names, and a
// reader replaying r. Finding no envelope there lets [jsonstream.Items]
// take each top-level object whole instead of walking its members, which
// makes JSON Lines much faster to read; an envelope named only in a record
// (not at the top level) costs speed, not correctness.
func envelopesIn(r io.Reader, keys ...string) (io.Reader, []string) {
	br := bufio.NewReaderSize(r, SniffBytes)
	head, _ := br.Peek(SniffBytes) // a read error comes back when decoding
	for _, k := range keys {
		if bytes.Contains(head, []byte(`"`+k+`"`)) {
			return br, keys
		}
	}
	return br, nil
}

// canonicalIP returns s as a valid IP address, or "" when it is none. Dotted
// quads with zero-padded octets ("075.050.255.67", as pseudonymised logs
// write them) are read as decimal.
func canonicalIP(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return a.String()
	}
	parts := strings.Split(s, ".")
	if len(parts) != 4 {
		return ""
	}
	var b [4]byte
	for i, p := range parts {
		if p == "" || len(p) > 3 || !isDigits(p) {
			return ""
		}
		n, _ := strconv.Atoi(p)
		if n > 255 {
			return ""
		}
		b[i] = byte(n)
	}
	return netip.AddrFrom4(b).String()
}
