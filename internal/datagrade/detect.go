package datagrade

import (
	"fmt"
	"time"
)

// Detector recognises one kind of sensitive value by its shape, and by a
// checksum where the kind has one. Detectors work on single values (a cell,
// a JSON field, a line of text) and, when [Detector.InText] is set, on the
// tokens of free text. A detector never keeps, logs or returns the value it
// looks at; the scanner keeps only counts and masked examples.
//
// The set of detectors is fixed at build time ([Detectors]); which data
// category each one reports is data (categories.yaml).
type Detector struct {
	// ID names the detector, for example "cn_resident_id".
	ID string
	// Desc says what it matches and how.
	Desc string
	// Checksum reports that a match is confirmed by a check digit, which
	// keeps false positives low.
	Checksum bool
	// NeedsHint reports that matches count only in a column whose name
	// hints at the detector's category (the value shape alone is too
	// common, for example a decimal number for a latitude).
	NeedsHint bool
	// InText reports that the detector also searches the tokens of free
	// text (log lines, comments).
	InText bool
	// MinRatio is the share of a column's non-empty values that must match
	// before the column is said to hold the category when neither its name
	// hints at it nor the matches were found in free text.
	MinRatio float64

	minLen, maxLen int // byte length of a whole value that can match
	match          func(s string, e *env) uint8
}

// env is what detectors need besides the value: today's date for birth
// dates. It is fixed for a scan.
type env struct {
	today int // yyyymmdd
}

func newEnv(now time.Time) *env {
	y, m, d := now.Date()
	return &env{today: y*10000 + int(m)*100 + d}
}

// Match reports whether s matches and with what confidence (1–100), as of
// the date now (used for birth dates).
func (d *Detector) Match(s string, now time.Time) (confidence int, ok bool) {
	c := d.matchValue(s, newEnv(now))
	return int(c), c > 0
}

// matchValue applies the length window, then the detector.
func (d *Detector) matchValue(s string, e *env) uint8 {
	if len(s) < d.minLen || (d.maxLen > 0 && len(s) > d.maxLen) {
		return 0
	}
	return d.match(s, e)
}

// detectors is the built-in detector table, in the order values are tried.
// It is never written after package initialisation.
var detectors = []Detector{
	{ID: "cn_resident_id", Desc: "18-digit resident identity number (GB 11643): province prefix, valid birth date not in the future, ISO 7064 MOD 11-2 check digit",
		Checksum: true, InText: true, MinRatio: 0.05, minLen: 18, maxLen: 18, match: matchResidentID},
	{ID: "cn_uscc", Desc: "unified social credit code (GB 32100): registration authority and type, province of the region code, GB 32100 check character; the embedded organisation code's GB 11714 check digit raises confidence",
		Checksum: true, InText: true, MinRatio: 0.05, minLen: 18, maxLen: 18, match: matchUSCC},
	{ID: "bank_card", Desc: "payment card number: 16–19 digits (spaces or dashes between groups allowed), Luhn check, issuer prefix of China UnionPay (62, 81), Visa, Mastercard, JCB, Discover or a 60 domestic BIN",
		Checksum: true, InText: true, MinRatio: 0.3, minLen: 16, maxLen: 23, match: matchBankCard},
	{ID: "imei", Desc: "15-digit IMEI with Luhn check and a common reporting-body prefix (01, 35, 86, 91, 99)",
		Checksum: true, MinRatio: 0.5, minLen: 15, maxLen: 15, match: matchIMEI},
	{ID: "cn_mobile", Desc: "mainland mobile number: 11 digits in an allocated 13x–19x range, optional +86/0086 prefix and space or dash separators",
		InText: true, MinRatio: 0.3, minLen: 11, maxLen: 18, match: matchMobile},
	{ID: "email", Desc: "e-mail address (RFC 5321 shape: dot-atom local part, hostname with an alphabetic top-level label)",
		InText: true, MinRatio: 0.3, minLen: 6, maxLen: 254, match: matchEmail},
	{ID: "ipv4", Desc: "dotted-quad IPv4 address without leading zeros; loopback, unspecified, broadcast and version-like values have low confidence",
		InText: true, MinRatio: 0.3, minLen: 7, maxLen: 15, match: matchIPv4},
	{ID: "ipv6", Desc: "IPv6 address (no zone)",
		InText: true, MinRatio: 0.3, minLen: 3, maxLen: 45, match: matchIPv6},
	{ID: "mac_address", Desc: "MAC address as six colon- or dash-separated hex pairs or Cisco dotted form; all-zero and broadcast excluded",
		InText: true, MinRatio: 0.3, minLen: 14, maxLen: 17, match: matchMAC},
	{ID: "aws_access_key", Desc: "AWS access key id: AKIA/ASIA/ABIA/ACCA followed by 16 base-32 characters",
		Checksum: false, InText: true, MinRatio: 0.01, minLen: 20, maxLen: 20, match: matchAWSKey},
	{ID: "alibaba_access_key", Desc: "Alibaba Cloud AccessKey id: LTAI followed by 12–20 letters and digits",
		InText: true, MinRatio: 0.01, minLen: 16, maxLen: 24, match: matchAlibabaKey},
	{ID: "private_key", Desc: "PEM private key block (-----BEGIN … PRIVATE KEY-----)",
		InText: false, MinRatio: 0.01, minLen: 27, match: matchPrivateKey},
	{ID: "passport_cn", Desc: "PRC passport number shape (E + 8 digits, E + letter + 7 digits, G + 8 digits, D/S/P + 7–8 digits); no check digit",
		MinRatio: 0.6, minLen: 8, maxLen: 9, match: matchPassport},
	{ID: "hk_macao_permit", Desc: "exit-entry permit shapes: mainland residents' permit to Hong Kong and Macao (C + 8, C + letter + 7, W + 8) and Hong Kong/Macao residents' home-return permit (H/M + 8 or 10 digits); no check digit",
		MinRatio: 0.6, minLen: 9, maxLen: 11, match: matchHKMacaoPermit},
	{ID: "cn_plate", Desc: "mainland licence plate: province abbreviation, issuing-office letter, 5 characters (regular), 6 (new-energy: D/F-style prefix or suffix) or 4 plus 学/警/挂/港/澳/领",
		MinRatio: 0.3, minLen: 9, maxLen: 14, match: matchPlate},
	{ID: "cn_name", Desc: "Chinese personal name: 2–4 Han characters starting with a common single or compound surname; shape only, so columns need a name hint or a high share",
		MinRatio: 0.8, minLen: 6, maxLen: 12, match: matchChineseName},
	{ID: "cn_address", Desc: "mainland address: Han text naming a province or holding at least two address markers (省 市 区 县 镇 路 街 号 室 …)",
		MinRatio: 0.6, minLen: 12, maxLen: 400, match: matchAddress},
	{ID: "geo_pair", Desc: "coordinate pair (\"lat,lng\", \"lng lat\", POINT(…), [lng, lat]) with at least four decimals each",
		MinRatio: 0.6, minLen: 15, maxLen: 80, match: matchGeoPair},
	{ID: "geo_scalar", Desc: "single latitude or longitude with at least four decimals; counts only in a location-named column",
		NeedsHint: true, MinRatio: 0.3, minLen: 6, maxLen: 14, match: matchGeoScalar},
	{ID: "biometric_template", Desc: "biometric template shape: a base64 or hex blob of 256+ characters or a numeric vector of 64+ values; counts only in a biometric-named column",
		NeedsHint: true, MinRatio: 0.3, minLen: 256, match: matchBiometricTemplate},
	{ID: "medical_text", Desc: "ICD-10 code or Chinese clinical wording (诊断, 病史, 处方, mg …); counts only in a medical-named column",
		NeedsHint: true, MinRatio: 0.3, minLen: 3, maxLen: 4000, match: matchMedical},
}

// detectorIndex maps a detector id to its index in detectors.
var detectorIndex = func() map[string]int {
	m := make(map[string]int, len(detectors))
	for i, d := range detectors {
		if _, dup := m[d.ID]; dup {
			panic(fmt.Sprintf("datagrade: detector %s registered twice", d.ID))
		}
		m[d.ID] = i
	}
	return m
}()

// Detectors returns the built-in detectors, in the order they are tried.
// The slice is a copy.
func Detectors() []Detector { return append([]Detector(nil), detectors...) }

// DetectorByID returns the detector with the given id.
func DetectorByID(id string) (Detector, bool) {
	i, ok := detectorIndex[id]
	if !ok {
		return Detector{}, false
	}
	return detectors[i], true
}
