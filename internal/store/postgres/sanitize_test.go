package postgres

import (
	"encoding/json"
	"testing"
	"unicode/utf8"
)

func TestJSONBSafe(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", `{"a":"b","n":[1,2.5,null]}`, `{"a":"b","n":[1,2.5,null]}`},
		{"other escapes kept", `{"a":"\u00e9\n\"\\\u001f\u003c"}`, `{"a":"\u00e9\n\"\\\u001f\u003c"}`},
		{"nul", `{"a":"x\u0000y"}`, `{"a":"x\ufffdy"}`},
		{"escaped backslash then u0000 text", `{"a":"\\u0000"}`, `{"a":"\\u0000"}`},
		{"three backslashes", `{"a":"\\\u0000"}`, `{"a":"\\\ufffd"}`},
		{"pair kept", `{"a":"\ud83d\ude00"}`, `{"a":"\ud83d\ude00"}`},
		{"upper-case pair kept", `{"a":"\uD83D\uDE00"}`, `{"a":"\uD83D\uDE00"}`},
		{"lone high", `{"a":"\ud800x"}`, `{"a":"\ufffdx"}`},
		{"high at end", `{"a":"\ud800"}`, `{"a":"\ufffd"}`},
		{"high then high", `{"a":"\ud800\ud800\udc00"}`, `{"a":"\ufffd\ud800\udc00"}`},
		{"lone low", `{"a":"\udc00"}`, `{"a":"\ufffd"}`},
		{"invalid utf-8", "{\"a\":\"x\xff\xfey\"}", "{\"a\":\"x\uFFFD\uFFFDy\"}"},
		{"valid utf-8", `{"a":"中文 ✓ 😀"}`, `{"a":"中文 ✓ 😀"}`},
		{"key", `{"\u0000":1}`, `{"\ufffd":1}`},
		{"truncated escape", `{"a":"\u00`, `{"a":"\u00`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(jsonbSafe([]byte(tt.in))); got != tt.want {
				t.Errorf("jsonbSafe(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
	in := []byte(`{"a":"b"}`)
	if out := jsonbSafe(in); &out[0] != &in[0] {
		t.Error("jsonbSafe copied a document that needed no change")
	}
}

func TestTextSafe(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"a\x00b", "a\uFFFDb"},
		{"bad \xff", "bad \uFFFD"},
		{"中文", "中文"},
	}
	for _, tt := range tests {
		if got := textSafe(tt.in); got != tt.want {
			t.Errorf("textSafe(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// FuzzJSONBSafe: for valid JSON, the result is valid UTF-8 JSON, needs no
// further replacement, and is the input itself when nothing needed replacing.
func FuzzJSONBSafe(f *testing.F) {
	for _, s := range []string{`{"a":"x\u0000y"}`, `"\ud800"`, `"\ud83d\ude00"`, "\"\xff\"", `["\\u0000"]`, `{"k":[1,{"v":"\udc00"}]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		if !json.Valid(doc) {
			return
		}
		out := jsonbSafe(doc)
		if !json.Valid(out) || !utf8.Valid(out) {
			t.Fatalf("jsonbSafe(%q) = %q: not valid UTF-8 JSON", doc, out)
		}
		if again := jsonbSafe(out); string(again) != string(out) {
			t.Fatalf("jsonbSafe is not idempotent: %q, then %q", out, again)
		}
		if !needsRewrite(doc) && string(out) != string(doc) {
			t.Fatalf("jsonbSafe changed %q to %q", doc, out)
		}
	})
}
