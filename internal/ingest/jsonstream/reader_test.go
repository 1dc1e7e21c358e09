package jsonstream

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func collect(t *testing.T, in string, env ...string) ([]string, []string, error) {
	t.Helper()
	var raws, ptrs []string
	// a one-byte reader exercises every refill path
	err := Items(context.Background(), iotest.OneByteReader(strings.NewReader(in)), env, func(it Item) error {
		raws = append(raws, string(it.Raw))
		ptrs = append(ptrs, it.Pointer)
		return nil
	})
	return raws, ptrs, err
}

func TestItems(t *testing.T) {
	tests := []struct {
		name, in string
		env      []string
		want     []string
		ptrs     []string
	}{
		{"bare array", `[{"a":1}, {"b":"x]}"}]`, nil, []string{`{"a":1}`, `{"b":"x]}"}`}, []string{"/0", "/1"}},
		{"envelope", `{"meta":{"x":[1]},"Findings":[{"a":1},{"a":2}],"tail":1}`, []string{"Findings"}, []string{`{"a":1}`, `{"a":2}`}, []string{"/Findings/0", "/Findings/1"}},
		{"single object", `{"a":"q\"}","b":[1,2]}`, []string{"Findings"}, []string{`{"a":"q\"}","b":[1,2]}`}, []string{""}},
		{"json lines", "{\"a\":1}\n{\"a\":2}\n\n{\"a\":\"\\\\\"}\n", []string{"Records"}, []string{`{"a":1}`, `{"a":2}`, `{"a":"\\"}`}, []string{"", "", ""}},
		{"envelope not array is a member", `{"Findings":"none","x":1}`, []string{"Findings"}, []string{`{"Findings":"none","x":1}`}, []string{""}},
		{"empty", "  \n", nil, nil, nil},
		{"bom", "\xEF\xBB\xBF[1,2]", nil, []string{"1", "2"}, []string{"/0", "/1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ptrs, err := collect(t, tt.in, tt.env...)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("records = %q, want %q", got, tt.want)
			}
			if strings.Join(ptrs, "|") != strings.Join(tt.ptrs, "|") {
				t.Errorf("pointers = %q, want %q", ptrs, tt.ptrs)
			}
		})
	}
}

func TestItemsErrors(t *testing.T) {
	tests := []struct {
		name, in, wantMsg string
		eof               bool
	}{
		{"truncated array", `[{"a":1},{"a":`, "unexpected end of input", true},
		{"truncated string", `[{"a":"abc`, "unexpected end of input", true},
		{"mismatched", `[{"a":1]]`, "unexpected ']'", false},
		{"top-level scalar", `42`, "expected a JSON object or array", false},
		{"missing comma", `[{"a":1} {"a":2}]`, "expected ',' or ']'", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := collect(t, tt.in, "Findings")
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("err = %v, want *SyntaxError", err)
			}
			if !strings.Contains(se.Error(), tt.wantMsg) {
				t.Errorf("err = %q, want it to contain %q", se, tt.wantMsg)
			}
			if got := errors.Is(err, io.ErrUnexpectedEOF); got != tt.eof {
				t.Errorf("errors.Is(err, io.ErrUnexpectedEOF) = %v, want %v", got, tt.eof)
			}
		})
	}
}

func TestReaderWalk(t *testing.T) {
	in := `{"SchemaVersion":2,"ArtifactName":"a\u00e9","Results":[{"Target":"t","Vulnerabilities":[{"id":1},{"id":2}]}]}`
	r := NewReader(iotest.HalfReader(strings.NewReader(in)))
	if err := r.BeginObject(); err != nil {
		t.Fatal(err)
	}
	var got []string
	for {
		k, ok, err := r.NextKey()
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		switch k {
		case "ArtifactName":
			s, err := r.String()
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, s)
		case "Results":
			if err := r.BeginArray(); err != nil {
				t.Fatal(err)
			}
			for {
				more, err := r.More()
				if err != nil {
					t.Fatal(err)
				}
				if !more {
					break
				}
				if err := r.BeginObject(); err != nil {
					t.Fatal(err)
				}
				for {
					k, ok, err := r.NextKey()
					if err != nil || !ok {
						break
					}
					if k != "Vulnerabilities" {
						r.Skip()
						continue
					}
					r.BeginArray()
					for {
						more, _ := r.More()
						if !more {
							break
						}
						var v struct{ ID int }
						if err := r.Decode(&v); err != nil {
							t.Fatal(err)
						}
						got = append(got, r.Pointer())
					}
				}
			}
		default:
			r.Skip()
		}
	}
	want := "aé|/Results/0/Vulnerabilities/0|/Results/0/Vulnerabilities/1"
	if strings.Join(got, "|") != want {
		t.Errorf("got %q, want %q", strings.Join(got, "|"), want)
	}
}

func FuzzItems(f *testing.F) {
	for _, s := range []string{`[{"a":1}]`, `{"Findings":[{"a":"\\\""}]}`, "{\"a\":1}\n{\"b\":[]}", `[1,"x",null,true]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		_ = Items(context.Background(), strings.NewReader(string(in)), []string{"Findings"}, func(it Item) error { return nil })
	})
}
