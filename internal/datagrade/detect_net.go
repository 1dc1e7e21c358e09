package datagrade

import (
	"net/netip"
	"strings"
)

// Detectors of network identifiers and secrets: e-mail, IP and MAC
// addresses, cloud access keys, PEM private keys.

// byteClass flags of ASCII bytes.
const (
	cDigit = 1 << iota
	cAlpha
	cHex
	cLocal // allowed in an e-mail local part (besides letters and digits)
	cB32   // A–Z, 2–7
	cB64   // base64 alphabet incl. padding
)

var byteClass = func() (t [256]uint8) {
	for c := '0'; c <= '9'; c++ {
		t[c] |= cDigit | cHex | cB64
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] |= cAlpha | cB64
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] |= cAlpha | cB32 | cB64
	}
	for c := '2'; c <= '7'; c++ {
		t[c] |= cB32
	}
	for _, c := range "abcdefABCDEF" {
		t[c] |= cHex
	}
	for _, c := range "._%+-" {
		t[c] |= cLocal
	}
	for _, c := range "+/=" {
		t[c] |= cB64
	}
	return t
}()

// matchEmail checks local@host.tld.
func matchEmail(s string, _ *env) uint8 {
	at := strings.IndexByte(s, '@')
	if at < 1 || at > 64 || at >= len(s)-4 {
		return 0
	}
	local, host := s[:at], s[at+1:]
	if local[0] == '.' || local[len(local)-1] == '.' {
		return 0
	}
	prev := byte(0)
	for i := 0; i < len(local); i++ {
		c := local[i]
		if byteClass[c]&(cDigit|cAlpha|cLocal) == 0 || c == '.' && prev == '.' {
			return 0
		}
		prev = c
	}
	labels, start := 0, 0
	for i := 0; i <= len(host); i++ {
		if i < len(host) && host[i] != '.' {
			c := host[i]
			if byteClass[c]&(cDigit|cAlpha) == 0 && c != '-' {
				return 0
			}
			continue
		}
		l := host[start:i]
		if len(l) == 0 || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return 0
		}
		labels++
		start = i + 1
	}
	if labels < 2 {
		return 0
	}
	tld := host[strings.LastIndexByte(host, '.')+1:]
	if len(tld) < 2 {
		return 0
	}
	for i := 0; i < len(tld); i++ {
		if byteClass[tld[i]]&cAlpha == 0 {
			return 0
		}
	}
	return 95
}

// matchIPv4 checks a dotted quad; loopback, unspecified, broadcast and
// version-like values (every octet below 10) have low confidence.
func matchIPv4(s string, _ *env) uint8 {
	var oct [4]int
	n, v, digits := 0, 0, 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '.' {
			if digits == 0 || n == 4 {
				return 0
			}
			oct[n] = v
			n++
			v, digits = 0, 0
			continue
		}
		c := s[i]
		if !isDigit(c) || digits > 0 && v == 0 || digits == 3 {
			return 0 // not a digit, a leading zero, or four digits
		}
		v = v*10 + int(c-'0')
		if v > 255 {
			return 0
		}
		digits++
	}
	if n != 4 {
		return 0
	}
	switch {
	case oct[0] == 0, oct[0] == 127, oct[0] == 255 && oct[1] == 255:
		return 30
	case oct[0] < 10 && oct[1] < 10 && oct[2] < 10 && oct[3] < 10:
		return 40
	case oct[0] == 10, oct[0] == 192 && oct[1] == 168, oct[0] == 172 && oct[1] >= 16 && oct[1] <= 31:
		return 80
	}
	return 90
}

// matchIPv6 checks an IPv6 address without a zone.
func matchIPv6(s string, _ *env) uint8 {
	colons := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ':':
			colons++
		case byteClass[c]&cHex != 0, c == '.':
		default:
			return 0
		}
	}
	if colons < 2 || colons < 7 && !strings.Contains(s, "::") {
		return 0
	}
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is6() || a.IsUnspecified() {
		return 0
	}
	if a.IsLoopback() {
		return 30
	}
	return 90
}

// matchMAC checks aa:bb:cc:dd:ee:ff, aa-bb-cc-dd-ee-ff or aabb.ccdd.eeff.
func matchMAC(s string, _ *env) uint8 {
	allZero, allF := true, true
	hex := func(c byte) bool {
		if byteClass[c]&cHex == 0 {
			return false
		}
		allZero = allZero && c == '0'
		allF = allF && (c == 'f' || c == 'F')
		return true
	}
	switch len(s) {
	case 17:
		sep := s[2]
		if sep != ':' && sep != '-' {
			return 0
		}
		for i := 0; i < 17; i++ {
			if i%3 == 2 {
				if s[i] != sep {
					return 0
				}
			} else if !hex(s[i]) {
				return 0
			}
		}
	case 14:
		for i := 0; i < 14; i++ {
			if i%5 == 4 {
				if s[i] != '.' {
					return 0
				}
			} else if !hex(s[i]) {
				return 0
			}
		}
	default:
		return 0
	}
	if allZero || allF {
		return 0
	}
	return 85
}

// matchAWSKey checks an AWS access key id.
func matchAWSKey(s string, _ *env) uint8 {
	switch s[:4] {
	case "AKIA", "ASIA", "ABIA", "ACCA":
	default:
		return 0
	}
	for i := 4; i < 20; i++ {
		if byteClass[s[i]]&cB32 == 0 {
			return 0
		}
	}
	return 95
}

// matchAlibabaKey checks an Alibaba Cloud AccessKey id.
func matchAlibabaKey(s string, _ *env) uint8 {
	if s[:4] != "LTAI" {
		return 0
	}
	digits, letters := 0, 0
	for i := 4; i < len(s); i++ {
		switch byteClass[s[i]] & (cDigit | cAlpha) {
		case cDigit:
			digits++
		case cAlpha:
			letters++
		default:
			return 0
		}
	}
	if digits == 0 || letters == 0 {
		return 0
	}
	return 90
}

// matchPrivateKey finds a PEM private key header anywhere in the value.
func matchPrivateKey(s string, _ *env) uint8 {
	i := strings.Index(s, "-----BEGIN ")
	if i < 0 {
		return 0
	}
	rest := s[i+11:]
	j := strings.Index(rest, "PRIVATE KEY-----")
	if j < 0 || j > 20 {
		return 0
	}
	return 99
}
