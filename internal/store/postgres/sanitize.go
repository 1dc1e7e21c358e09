package postgres

import (
	"bytes"
	"strings"
	"unicode/utf8"
)

// PostgreSQL refuses a few things that SQLite stores as they are: a NUL
// character or invalid UTF-8 in text, and in jsonb also the escape \u0000
// and unpaired UTF-16 surrogate escapes (\ud800). Source data can hold any of
// them (a crafted user agent, a binary string in a log), and one such record
// must not make its whole batch fail, be redelivered and fail again. So they
// are replaced by U+FFFD before writing; everything else is kept.

// jsonbSafe returns doc with what jsonb refuses replaced by U+FFFD: invalid
// UTF-8 bytes, \u0000 and unpaired surrogate escapes. It returns doc itself
// when nothing needs replacing, which is the common case and is checked
// without copying.
func jsonbSafe(doc []byte) []byte {
	if !needsRewrite(doc) {
		return doc
	}
	out := make([]byte, 0, len(doc)+16)
	for i := 0; i < len(doc); {
		c := doc[i]
		switch {
		case c == '\\' && i+1 < len(doc):
			if doc[i+1] != 'u' {
				out = append(out, doc[i:i+2]...)
				i += 2
				continue
			}
			cp, ok := hex4(doc, i+2)
			switch {
			case !ok:
				// not valid JSON: keep it and let the server say so
				out = append(out, doc[i:i+2]...)
				i += 2
			case isHighSurrogate(cp):
				if lo, ok := hex4(doc, i+8); ok && doc[i+6] == '\\' && doc[i+7] == 'u' && isLowSurrogate(lo) {
					out = append(out, doc[i:i+12]...)
					i += 12
					continue
				}
				out = append(out, `\ufffd`...)
				i += 6
			case cp == 0 || isLowSurrogate(cp):
				out = append(out, `\ufffd`...)
				i += 6
			default:
				out = append(out, doc[i:i+6]...)
				i += 6
			}
		case c < utf8.RuneSelf:
			out = append(out, c)
			i++
		default:
			r, n := utf8.DecodeRune(doc[i:])
			if r == utf8.RuneError && n == 1 {
				out = utf8.AppendRune(out, utf8.RuneError)
			} else {
				out = append(out, doc[i:i+n]...)
			}
			i += n
		}
	}
	return out
}

// needsRewrite reports whether doc holds anything jsonbSafe replaces (or a
// surrogate pair, which it then checks).
func needsRewrite(doc []byte) bool {
	if !utf8.Valid(doc) {
		return true
	}
	for i := 0; i < len(doc); {
		j := bytes.IndexByte(doc[i:], '\\')
		if j < 0 {
			return false
		}
		i += j // an escape starts here: backslashes are only found by skipping whole escapes
		if i+1 < len(doc) && doc[i+1] == 'u' {
			if cp, ok := hex4(doc, i+2); ok && (cp == 0 || isHighSurrogate(cp) || isLowSurrogate(cp)) {
				return true
			}
			i += 6
			continue
		}
		i += 2
	}
	return false
}

// hex4 decodes the four hex digits at doc[i:i+4].
func hex4(doc []byte, i int) (rune, bool) {
	if i < 0 || i+4 > len(doc) {
		return 0, false
	}
	var r rune
	for _, c := range doc[i : i+4] {
		switch {
		case '0' <= c && c <= '9':
			r = r<<4 | rune(c-'0')
		case 'a' <= c && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case 'A' <= c && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

func isHighSurrogate(r rune) bool { return 0xd800 <= r && r < 0xdc00 }
func isLowSurrogate(r rune) bool  { return 0xdc00 <= r && r < 0xe000 }

// textSafe returns s with NUL characters and invalid UTF-8 replaced by
// U+FFFD, which a PostgreSQL text column refuses.
func textSafe(s string) string {
	if strings.IndexByte(s, 0) < 0 && utf8.ValidString(s) {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}
