package datagrade

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Mask returns a masked form of a value matched by the detector with the
// given id, safe to show and store: it keeps at most the leading and
// trailing characters that identify the kind of value (a resident ID
// number 110105199001011234 becomes 110***********1234, a mobile number
// 138****5678, an e-mail a***@example.com) and never the whole value. Kinds
// whose every part is sensitive (biometric templates, clinical text, private
// keys) are replaced by a description. The result is a new string; Mask
// keeps no reference to value.
func Mask(detectorID, value string) string {
	switch detectorID {
	case "cn_resident_id", "cn_uscc", "bank_card", "imei", "cn_mobile":
		return keepEnds(value, 3, 4)
	case "passport_cn", "hk_macao_permit":
		return keepEnds(value, 1, 2)
	case "email":
		at := strings.LastIndexByte(value, '@')
		if at < 1 {
			return stars(value)
		}
		return value[:1] + "***" + value[at:]
	case "ipv4":
		if i := strings.IndexByte(value, '.'); i > 0 {
			if j := strings.IndexByte(value[i+1:], '.'); j >= 0 {
				return value[:i+1+j] + ".*.*"
			}
		}
		return stars(value)
	case "ipv6":
		if i := strings.IndexByte(value, ':'); i > 0 {
			return value[:i] + ":*"
		}
		return stars(value)
	case "mac_address":
		return keepEnds(value, 8, 0)
	case "aws_access_key", "alibaba_access_key":
		return keepEnds(value, 4, 0)
	case "private_key":
		return "[PEM private key]"
	case "cn_name":
		return keepRunes(value, 1, 0)
	case "cn_address":
		return keepRunes(value, 6, 0)
	case "cn_plate":
		return keepRunes(value, 2, 1)
	case "geo_pair", "geo_scalar":
		var b strings.Builder
		skip := false
		for i := 0; i < len(value); i++ {
			c := value[i]
			switch {
			case c == '.':
				b.WriteString(".*")
				skip = true
			case isDigit(c) && skip:
			default:
				skip = false
				b.WriteByte(c)
			}
		}
		return b.String()
	case "biometric_template":
		return "[biometric template, " + strconv.Itoa(len(value)) + " bytes]"
	case "medical_text":
		return "[clinical text, " + strconv.Itoa(utf8.RuneCountInString(value)) + " characters]"
	}
	return stars(value)
}

// keepEnds keeps head leading and tail trailing bytes and stars the rest;
// at least four bytes (half of a shorter s) are always starred.
func keepEnds(s string, head, tail int) string {
	for head+tail > min(len(s)-4, len(s)/2+2) && head+tail > 0 {
		if tail > 0 {
			tail--
		} else {
			head--
		}
	}
	return s[:head] + strings.Repeat("*", len(s)-head-tail) + s[len(s)-tail:]
}

// keepRunes is keepEnds counted in characters.
func keepRunes(s string, head, tail int) string {
	rs := []rune(s)
	for head+tail > len(rs)/2 && head+tail > 0 {
		if tail > 0 {
			tail--
		} else if head > 1 {
			head--
		} else {
			break
		}
	}
	if head+tail >= len(rs) {
		tail = 0
		head = min(head, len(rs)-1)
	}
	return string(rs[:head]) + strings.Repeat("*", len(rs)-head-tail) + string(rs[len(rs)-tail:])
}

func stars(s string) string { return strings.Repeat("*", utf8.RuneCountInString(s)) }
