package datagrade

import (
	"strings"
	"unicode/utf8"
)

// Detectors of values written in Chinese or free form: licence plates,
// names, addresses, coordinates, biometric templates, clinical text.

func isHan(r rune) bool { return r >= 0x4E00 && r <= 0x9FFF || r >= 0x3400 && r <= 0x4DBF }

// plateProvinces are the one-character province abbreviations on plates.
const plateProvinces = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"

// plateChar reports whether c may appear in a plate's serial (digits and
// capitals other than I and O).
func plateChar(c byte) bool { return isDigit(c) || upperNoIO(c) }

func nevLetter(c byte) bool { return strings.IndexByte("DABCEFGHJK", c) >= 0 }

// matchPlate checks a mainland licence plate.
func matchPlate(s string, _ *env) uint8 {
	r, n := utf8.DecodeRuneInString(s)
	if n != 3 || !strings.ContainsRune(plateProvinces, r) {
		return 0
	}
	s = s[n:]
	if len(s) < 5 || !upperNoIO(s[0]) {
		return 0
	}
	s = s[1:]
	switch {
	case s[0] == ' ' || s[0] == '-':
		s = s[1:]
	case strings.HasPrefix(s, "·"):
		s = s[len("·"):]
	case strings.HasPrefix(s, "•"):
		s = s[len("•"):]
	}
	switch len(s) {
	case 5:
		digits := 0
		for i := 0; i < 5; i++ {
			if !plateChar(s[i]) {
				return 0
			}
			if isDigit(s[i]) {
				digits++
			}
		}
		if digits == 0 {
			return 0
		}
		return 85
	case 6:
		if nevLetter(s[0]) && plateChar(s[1]) && allDigits(s[2:]) ||
			allDigits(s[:5]) && nevLetter(s[5]) {
			return 88
		}
	case 7: // four characters and a suffix such as 学 or 警
		for i := 0; i < 4; i++ {
			if !plateChar(s[i]) {
				return 0
			}
		}
		if r, _ := utf8.DecodeRuneInString(s[4:]); strings.ContainsRune("学警挂港澳领试超", r) {
			return 85
		}
	}
	return 0
}

// surnames are common single-character Chinese surnames. Very ambiguous
// characters (和, 时, 全, 路 …) are left out on purpose: they start too many
// ordinary words.
const surnames = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔汤常温康施牛樊葛邢齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿兰焦俞左柳甘祝宁符舒阮柯纪梅童凌毕季裴霍涂苗谷盛曲翁冉骆蓝游辛靳柴蒙鲍喻祁蒲房滕屈饶牟艾尤穆卓缪简项褚娄窦戚岑费卜冷晏席卫柏宗瞿桂佟臧闵苟邬卞姬栾隋刁巫寇桑郎甄丛仲虞敖巩佘池邝"

// compoundSurnames are two-character surnames.
var compoundSurnames = [...]string{"欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "令狐", "慕容", "尉迟", "公孙", "长孙", "宇文", "司徒", "夏侯", "轩辕", "端木", "独孤", "南宫", "百里", "呼延"}

// notInGivenNames are characters that are rare in given names but common in
// words, places and labels.
const notInGivenNames = "的了是在与及或不有这个们中上下年月日时分秒号路街市区省县镇村司局厅部处科室表单据库件码数量额率类型式态值项名称期间务业品货款费价元账户址店场馆站厂校院州山湖江河口岛"

// surnameAt returns the byte length of the surname at the start of s, 0 if
// none.
func surnameAt(s string) int {
	for _, c := range compoundSurnames {
		if strings.HasPrefix(s, c) {
			return len(c)
		}
	}
	r, n := utf8.DecodeRuneInString(s)
	if n == 3 && strings.ContainsRune(surnames, r) {
		return n
	}
	return 0
}

// matchChineseName checks a 2–4 character Han name that starts with a
// common surname.
func matchChineseName(s string, _ *env) uint8 {
	if s[0] < 0x80 || len(s)%3 != 0 {
		return 0
	}
	sn := surnameAt(s)
	if sn == 0 {
		return 0
	}
	runes := sn / 3
	for i := sn; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if n != 3 || !isHan(r) || strings.ContainsRune(notInGivenNames, r) {
			return 0
		}
		runes++
		i += n
	}
	given := runes - sn/3
	switch {
	case given < 1 || runes > 4:
		return 0
	case runes == 4 && sn == 3:
		return 40 // four characters with a one-character surname: rare
	}
	return 55
}

// provinceNames start full mainland addresses.
var provinceNames = [...]string{"北京", "天津", "上海", "重庆", "河北", "山西", "辽宁", "吉林", "黑龙江", "江苏", "浙江", "安徽", "福建", "江西", "山东", "河南", "湖北", "湖南", "广东", "海南", "四川", "贵州", "云南", "陕西", "甘肃", "青海", "台湾", "内蒙古", "广西", "西藏", "宁夏", "新疆", "香港", "澳门"}

// matchAddress checks a mainland postal address.
func matchAddress(s string, _ *env) uint8 {
	if s[0] < 0x80 {
		return 0
	}
	prov := false
	for _, p := range provinceNames {
		if strings.HasPrefix(s, p) {
			prov = true
			break
		}
	}
	var admin, street, unit bool
	markers, han, runes := 0, 0, 0
	var seen uint32
	for _, r := range s {
		runes++
		if !isHan(r) {
			continue
		}
		han++
		bit := uint32(0)
		switch r {
		case '省':
			admin, bit = true, 1
		case '市':
			admin, bit = true, 2
		case '区':
			admin, bit = true, 4
		case '县':
			admin, bit = true, 8
		case '镇', '乡':
			admin, bit = true, 16
		case '路':
			street, bit = true, 32
		case '街':
			street, bit = true, 64
		case '道', '巷', '弄':
			street, bit = true, 128
		case '村':
			street, bit = true, 256
		case '号':
			unit, bit = true, 512
		case '栋', '幢', '座':
			unit, bit = true, 1024
		case '楼', '层':
			unit, bit = true, 2048
		case '室':
			unit, bit = true, 4096
		case '苑', '园', '厦':
			unit, bit = true, 8192
		}
		if bit != 0 && seen&bit == 0 {
			seen |= bit
			markers++
		}
	}
	if runes < 6 || han*2 < runes {
		return 0
	}
	switch {
	case prov && markers >= 2 && (street || unit):
		return 85
	case admin && street && unit && markers >= 3:
		return 80
	case street && unit && markers >= 3:
		return 70
	}
	return 0
}

// decimal parses an optionally signed decimal at the start of s and
// returns its integer part, the number of fraction digits and the bytes
// consumed; ok is false when s does not start with one.
func decimal(s string) (whole, frac, n int, ok bool) {
	i := 0
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		i++
	}
	start := i
	for i < len(s) && isDigit(s[i]) {
		whole = whole*10 + int(s[i]-'0')
		i++
		if i-start > 3 {
			return 0, 0, 0, false
		}
	}
	if i == start || i >= len(s) || s[i] != '.' {
		return 0, 0, 0, false
	}
	i++
	fs := i
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return whole, i - fs, i, true
}

// matchGeoPair checks a coordinate pair with at least four decimals each.
func matchGeoPair(s string, _ *env) uint8 {
	switch {
	case strings.HasPrefix(s, "POINT(") || strings.HasPrefix(s, "POINT ("):
		s = strings.TrimSuffix(s[strings.IndexByte(s, '(')+1:], ")")
	case s[0] == '[' || s[0] == '(':
		s = s[1 : len(s)-1]
	}
	w1, f1, n1, ok := decimal(s)
	if !ok {
		return 0
	}
	s = s[n1:]
	sep := 0
	for sep < len(s) && (s[sep] == ',' || s[sep] == ' ') {
		sep++
	}
	if sep == 0 || sep > 2 {
		return 0
	}
	w2, f2, n2, ok := decimal(s[sep:])
	if !ok || sep+n2 != len(s) || f1 < 4 || f2 < 4 || f1 > 15 || f2 > 15 {
		return 0
	}
	if w1 > 180 || w2 > 180 || w1 > 90 && w2 > 90 || w1 == 0 && w2 == 0 {
		return 0
	}
	return 75
}

// matchGeoScalar checks one latitude or longitude with four or more
// decimals.
func matchGeoScalar(s string, _ *env) uint8 {
	w, f, n, ok := decimal(s)
	if !ok || n != len(s) || f < 4 || w > 180 {
		return 0
	}
	return 60
}

// matchBiometricTemplate checks for a large encoded blob or a numeric
// feature vector.
func matchBiometricTemplate(s string, _ *env) uint8 {
	if strings.HasPrefix(s, "data:image/") {
		return 80
	}
	if s[0] == '[' {
		commas := 0
		for i := 1; i < len(s); i++ {
			switch c := s[i]; {
			case c == ',':
				commas++
			case isDigit(c), c == '.', c == '-', c == ' ', c == 'e', c == 'E', c == '+', c == ']':
			default:
				return 0
			}
		}
		if commas >= 63 {
			return 85
		}
		return 0
	}
	for i := 0; i < len(s); i++ {
		if byteClass[s[i]]&cB64 == 0 {
			return 0
		}
	}
	return 85
}

// clinicalWords appear in clinical text.
var clinicalWords = [...]string{"诊断", "病史", "病历", "处方", "用药", "症状", "治疗", "手术", "住院", "门诊", "检查", "化验", "过敏", "炎", "癌", "瘤", "糖尿病", "高血压", "感染", "骨折", "抑郁", "毫克", "mg", "iagnos", "ypertension", "iabetes", "nfection", "racture", "ablet", "herapy", "urgery", "llerg"}

// matchMedical checks an ICD-10 code or clinical wording.
func matchMedical(s string, _ *env) uint8 {
	if len(s) <= 8 && s[0] >= 'A' && s[0] <= 'Z' && len(s) >= 3 && isDigit(s[1]) && isDigit(s[2]) {
		if len(s) == 3 || s[3] == '.' && len(s) > 4 {
			return 80
		}
	}
	for _, w := range clinicalWords {
		if strings.Contains(s, w) {
			return 85
		}
	}
	return 0
}
