package datagrade

import "strings"

// Detectors of identifiers with a fixed layout: resident identity numbers,
// unified social credit codes, payment cards, IMEIs, mobile numbers, passport
// and permit numbers. None of them allocates.

// provinces marks the two-digit province codes of GB/T 2260 used in resident
// identity numbers and region codes (81, 82, 83: residence permits of
// Hong Kong, Macao and Taiwan residents).
var provinces = func() (t [100]bool) {
	for _, c := range []int{11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37,
		41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83} {
		t[c] = true
	}
	return t
}()

var idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

const idCheckChars = "10X98765432"

func isDigit(c byte) bool { return c-'0' <= 9 }

// num2 reads two ASCII digits.
func num2(s string, i int) int { return int(s[i]-'0')*10 + int(s[i+1]-'0') }

// validDate reports whether yyyy-mm-dd is a calendar date.
func validDate(y, m, d int) bool {
	if m < 1 || m > 12 || d < 1 {
		return false
	}
	days := [13]int{0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[m]
	if m == 2 && (y%4 == 0 && (y%100 != 0 || y%400 == 0)) {
		days = 29
	}
	return d <= days
}

// matchResidentID checks an 18-character resident identity number: 17
// digits and a check character (X in either case), the ISO 7064 MOD 11-2
// check, a known province, a non-zero prefecture (except for the 81–83
// residence permits), and a birth date between
// 1900-01-01 and today.
func matchResidentID(s string, e *env) uint8 {
	sum := 0
	for i := 0; i < 17; i++ {
		c := s[i] - '0'
		if c > 9 {
			return 0
		}
		sum += int(c) * idWeights[i]
	}
	check := s[17]
	if check == 'x' {
		check = 'X'
	}
	if check != idCheckChars[sum%11] {
		return 0
	}
	// Residence permits of Hong Kong, Macao and Taiwan residents use
	// 810000, 820000 and 830000.
	if p := num2(s, 0); !provinces[p] || p < 80 && num2(s, 2) == 0 {
		return 0
	}
	y := num2(s, 6)*100 + num2(s, 8)
	m, d := num2(s, 10), num2(s, 12)
	if y < 1900 || !validDate(y, m, d) || y*10000+m*100+d > e.today {
		return 0
	}
	return 95
}

// usccValue maps the 31 characters of GB 32100 (digits and capitals other
// than I, O, S, V, Z) to their values; -1 elsewhere.
var usccValue = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	const chars = "0123456789ABCDEFGHJKLMNPQRTUWXY"
	for i := 0; i < len(chars); i++ {
		t[chars[i]] = int8(i)
	}
	return t
}()

var usccWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

// usccTypes lists, per registration authority (the first character), the
// entity types (the second character) GB 32100 allocates.
var usccTypes = [256]string{
	'1': "1239", '2': "19", '3': "123459", '4': "19", '5': "1239", '6': "129",
	'7': "129", '8': "19", '9': "123", 'A': "19", 'N': "12349", 'Y': "1",
}

// matchUSCC checks an 18-character unified social credit code: authority
// and entity type, a known province in the region code, the GB 32100 check
// character. The subject identifier (characters 9–17) is an organisation
// code (GB 11714) with its own check character: when it is valid the
// confidence is higher; an all-digit value needs it, because 18-digit
// numbers (identity numbers, order numbers) are common and pass the GB 32100
// check one time in 31.
func matchUSCC(s string, _ *env) uint8 {
	if strings.IndexByte(usccTypes[s[0]], s[1]) < 0 {
		return 0
	}
	for i := 2; i < 8; i++ {
		if !isDigit(s[i]) {
			return 0
		}
	}
	if !provinces[num2(s, 2)] {
		return 0
	}
	sum, letters := 0, false
	for i := 0; i < 17; i++ {
		v := usccValue[s[i]]
		if v < 0 {
			return 0
		}
		letters = letters || v > 9
		sum += int(v) * usccWeights[i]
	}
	want := (31 - sum%31) % 31
	v := usccValue[s[17]]
	if int(v) != want {
		return 0
	}
	switch {
	case orgCodeValid(s[8:17]):
		return 98
	case letters || v > 9:
		return 85
	}
	return 0
}

var orgWeights = [8]int{3, 7, 9, 10, 5, 8, 4, 2}

// orgCodeValid checks a 9-character organisation code: 8 digits or
// capitals and a check character (0–9 or X).
func orgCodeValid(s string) bool {
	sum := 0
	for i := 0; i < 8; i++ {
		c := s[i]
		var v int
		switch {
		case isDigit(c):
			v = int(c - '0')
		case c >= 'A' && c <= 'Z':
			v = int(c-'A') + 10
		default:
			return false
		}
		sum += v * orgWeights[i]
	}
	var want byte
	switch r := 11 - sum%11; r {
	case 10:
		want = 'X'
	case 11:
		want = '0'
	default:
		want = byte('0' + r)
	}
	return s[8] == want
}

// digitsOf copies the digits of s into buf, allowing single spaces or
// dashes between digits; it returns the digit count, or -1 when s holds any
// other character, a leading or trailing separator or two in a row.
func digitsOf(s string, buf []byte) int {
	n := 0
	prevSep := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case isDigit(c):
			if n == len(buf) {
				return -1
			}
			buf[n] = c
			n++
			prevSep = false
		case c == ' ' || c == '-':
			if prevSep {
				return -1
			}
			prevSep = true
		default:
			return -1
		}
	}
	if prevSep {
		return -1
	}
	return n
}

// luhn reports whether the digits pass the Luhn check.
func luhn[T string | []byte](d T) bool {
	sum := 0
	double := false
	for i := len(d) - 1; i >= 0; i-- {
		v := int(d[i] - '0')
		if double {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
		double = !double
	}
	return sum%10 == 0
}

// cardIssuer returns a confidence for the issuer prefix and length of a
// card number, 0 for an unknown prefix or a length the issuer does not use.
// China UnionPay numbers have 16 to 19 digits; the international schemes
// (and 60 domestic BINs) use 16 or 19, Mastercard only 16. Keeping 17 and
// 18 digits to UnionPay keeps 18-digit identity numbers from passing as
// cards one time in ten.
func cardIssuer(d []byte) uint8 {
	p2 := int(d[0]-'0')*10 + int(d[1]-'0')
	p4 := p2*100 + int(d[2]-'0')*10 + int(d[3]-'0')
	n := len(d)
	switch {
	case p2 == 62 || p2 == 81: // China UnionPay
		return 92
	case n == 17 || n == 18:
		return 0
	case d[0] == '4': // Visa
		return 90
	case p2 >= 51 && p2 <= 55, p4 >= 2221 && p4 <= 2720: // Mastercard
		if n == 16 {
			return 90
		}
	case p4 >= 3528 && p4 <= 3589: // JCB
		return 90
	case p4 == 6011, p2 == 65, p4 >= 6440 && p4 <= 6499: // Discover
		return 90
	case p2 == 60: // domestic bank BINs (for example 601382)
		return 88
	}
	return 0
}

// matchBankCard checks a payment card number.
func matchBankCard(s string, _ *env) uint8 {
	var buf [19]byte
	n := digitsOf(s, buf[:])
	if n < 16 || n > 19 {
		return 0
	}
	d := buf[:n]
	if !luhn(d) {
		return 0
	}
	return cardIssuer(d)
}

// matchIMEI checks a 15-digit IMEI.
func matchIMEI(s string, _ *env) uint8 {
	for i := 0; i < 15; i++ {
		if !isDigit(s[i]) {
			return 0
		}
	}
	switch num2(s, 0) {
	case 1, 35, 86, 91, 99:
	default:
		return 0
	}
	if !luhn(s) {
		return 0
	}
	return 75
}

// mobilePrefixes marks the allocated three-digit prefixes of mainland
// 11-digit mobile numbers (voice, data and virtual operators).
var mobilePrefixes = func() (t [200]bool) {
	for p := 130; p <= 139; p++ {
		t[p] = true
	}
	for _, p := range []int{145, 147, 149, 150, 151, 152, 153, 155, 156, 157, 158, 159, 162, 165, 166, 167,
		170, 171, 172, 173, 174, 175, 176, 177, 178, 180, 181, 182, 183, 184, 185, 186, 187, 188, 189,
		190, 191, 192, 193, 195, 196, 197, 198, 199} {
		t[p] = true
	}
	return t
}()

// matchMobile checks a mainland mobile number with an optional +86, 86 or
// 0086 prefix and space or dash separators.
func matchMobile(s string, _ *env) uint8 {
	conf := uint8(85)
	plus := s[0] == '+'
	if plus {
		s = s[1:]
	}
	var buf [15]byte
	n := digitsOf(s, buf[:])
	d := buf[:max(n, 0)]
	switch {
	case n == 13 && d[0] == '8' && d[1] == '6':
		d, conf = d[2:], 90
	case n == 15 && !plus && d[0] == '0' && d[1] == '0' && d[2] == '8' && d[3] == '6':
		d, conf = d[4:], 90
	case n == 11 && !plus:
	default:
		return 0
	}
	if d[0] != '1' || !mobilePrefixes[100+int(d[1]-'0')*10+int(d[2]-'0')] {
		return 0
	}
	return conf
}

// upperNoIO reports whether c is a capital letter other than I and O.
func upperNoIO(c byte) bool { return c >= 'A' && c <= 'Z' && c != 'I' && c != 'O' }

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return len(s) > 0
}

// matchPassport checks the shapes of PRC passport numbers.
func matchPassport(s string, _ *env) uint8 {
	switch s[0] {
	case 'E':
		if len(s) == 9 && (allDigits(s[1:]) || upperNoIO(s[1]) && allDigits(s[2:])) {
			return 60
		}
	case 'G':
		if len(s) == 9 && allDigits(s[1:]) {
			return 60
		}
	case 'D', 'S', 'P':
		if allDigits(s[1:]) {
			return 50
		}
	}
	return 0
}

// matchHKMacaoPermit checks the shapes of exit-entry permits for Hong Kong
// and Macao.
func matchHKMacaoPermit(s string, _ *env) uint8 {
	switch s[0] {
	case 'C':
		if len(s) == 9 && (allDigits(s[1:]) || upperNoIO(s[1]) && allDigits(s[2:])) {
			return 60
		}
	case 'W':
		if len(s) == 9 && allDigits(s[1:]) {
			return 60
		}
	case 'H', 'M':
		if (len(s) == 9 || len(s) == 11) && allDigits(s[1:]) {
			return 60
		}
	}
	return 0
}
