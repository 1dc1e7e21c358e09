package ingest

import (
	"bytes"
	"reflect"
	"testing"

	json "github.com/goccy/go-json"
)

// TestParseValue checks the JSON scanner behind rawObject against the
// standard grammar: it must accept exactly what a JSON decoder accepts.
func TestParseValue(t *testing.T) {
	inputs := []string{
		`{}`, `[]`, `""`, `0`, `-0`, `1.5e+10`, `-12.0E-3`, `true`, `false`, `null`,
		`{"a":[1,2,{"b":null}],"c":"\u00e9\n\"x\"","d":-1}`, ` { "a" : 1 } `, `"\/"`, `"\ud83d\ude00"`,
		`01`, `1.`, `.5`, `-`, `1e`, `+1`, `tru`, `nul`, `{"a"}`, `{"a":}`, `{"a":1,}`, `[1,]`, `[1 2]`, `{a:1}`,
		`"abc`, `"\x"`, `"\u12"`, "\"a\tb\"", `{"a":1}}`, `[`, `{"a":[}`, `{"a":1 "b":2}`,
	}
	for _, in := range inputs {
		b := []byte(in)
		want := json.Valid(b)
		v, end, err := parseValue(b, skipSpace(b, 0), 0, true)
		got := err == nil && endOfValue(b, end) == nil
		if got != want {
			t.Errorf("parseValue(%q) valid = %v, want %v (err %v)", in, got, want, err)
			continue
		}
		if !want {
			continue
		}
		d := json.NewDecoder(bytes.NewReader(b))
		d.UseNumber()
		var ref any
		if err := d.Decode(&ref); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(v, ref) {
			t.Errorf("parseValue(%q) = %#v, want %#v", in, v, ref)
		}
	}
}

func TestParseRawObject(t *testing.T) {
	o, err := parseRawObject([]byte(` {"a": "x", "b" :{"c":[1, 2]}, "e\u0301": null} `))
	if err != nil {
		t.Fatal(err)
	}
	if o.str("a") != "x" || o.obj("b") == nil || len(o) != 1 {
		t.Errorf("unexpected members: %v", o)
	}
	for _, bad := range []string{`[1]`, `{"a":1} x`, `{"a":1`, `{"a" 1}`, `"s"`, ``} {
		if _, err := parseRawObject([]byte(bad)); err == nil {
			t.Errorf("parseRawObject(%q) accepted", bad)
		}
	}
}
