package datagrade

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// gen makes synthetic personal data: every value is random, checksums are
// computed, nothing is copied from a real person. The same seed gives the
// same values.
type gen struct{ r *rand.Rand }

func newGen(seed uint64) *gen { return &gen{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))} }

func (g *gen) digits(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + g.r.IntN(10))
	}
	return string(b)
}

func (g *gen) pick(list ...string) string { return list[g.r.IntN(len(list))] }

var genProvinces = []int{11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63, 64, 65}

// region returns a six-digit county-level region code.
func (g *gen) region() string {
	return fmt.Sprintf("%02d%02d%02d", genProvinces[g.r.IntN(len(genProvinces))], 1+g.r.IntN(20), 1+g.r.IntN(30))
}

func idCheck(s17 string) byte {
	sum := 0
	for i := 0; i < 17; i++ {
		sum += int(s17[i]-'0') * idWeights[i]
	}
	return idCheckChars[sum%11]
}

// birth returns a valid date between 1940 and 2019.
func (g *gen) birth() string {
	y := 1940 + g.r.IntN(80)
	m := 1 + g.r.IntN(12)
	d := 1 + g.r.IntN(28)
	return fmt.Sprintf("%04d%02d%02d", y, m, d)
}

func (g *gen) residentID() string {
	s := g.region() + g.birth() + g.digits(3)
	return s + string(idCheck(s))
}

// residentIDBadCheck has a wrong check character.
func (g *gen) residentIDBadCheck() string {
	s := g.region() + g.birth() + g.digits(3)
	c := idCheck(s)
	bad := idCheckChars[(strings.IndexByte(idCheckChars, c)+1+g.r.IntN(10))%11]
	return s + string(bad)
}

// residentIDBadDate has a valid check character but an impossible date.
func (g *gen) residentIDBadDate() string {
	date := g.pick("19990229", "19901332", "19900431", "19850000", "20001131", "18991231", "21000101", "19900230")
	s := g.region() + date + g.digits(3)
	return s + string(idCheck(s))
}

func luhnDigit(prefix string) byte {
	for c := byte('0'); c <= '9'; c++ {
		if luhn(prefix + string(c)) {
			return c
		}
	}
	panic("unreachable")
}

// cardDigits returns a card number with an issuer prefix and a length that
// issuer uses: UnionPay 16–19 digits, Visa, JCB, Discover and 60 domestic
// BINs 16 or 19, Mastercard 16.
func (g *gen) cardDigits() string {
	var p string
	var ln int
	switch g.r.IntN(3) {
	case 0, 1:
		p = g.pick("622202", "621700", "622848", "621483", "625807", "81")
		ln = 16 + g.r.IntN(4)
	default:
		p = g.pick("436742", "4", "51", "55", "2221", "3528", "6011", "601382")
		ln = 16
		if g.r.IntN(4) == 0 && p != "51" && p != "55" && p != "2221" {
			ln = 19
		}
	}
	s := p + g.digits(ln-1-len(p))
	return s + string(luhnDigit(s))
}

func (g *gen) bankCard() string {
	d := g.cardDigits()
	switch g.r.IntN(10) {
	case 0:
		return group4(d, " ")
	case 1:
		return group4(d, "-")
	}
	return d
}

func group4(d, sep string) string {
	var b strings.Builder
	for i := 0; i < len(d); i += 4 {
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteString(d[i:min(i+4, len(d))])
	}
	return b.String()
}

func (g *gen) cardBadLuhn() string {
	d := g.cardDigits()
	last := byte('0' + (int(d[len(d)-1]-'0')+1+g.r.IntN(9))%10)
	return d[:len(d)-1] + string(last)
}

func (g *gen) imei() string {
	s := g.pick("35", "86") + g.digits(12)
	return s + string(luhnDigit(s))
}

var genMobile = []string{"130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "147", "150", "151", "152", "153", "155", "156", "157", "158", "159", "166", "173", "175", "176", "177", "178", "180", "181", "182", "183", "185", "186", "187", "188", "189", "191", "195", "198", "199"}

func (g *gen) mobile() string {
	s := genMobile[g.r.IntN(len(genMobile))] + g.digits(8)
	switch g.r.IntN(10) {
	case 0:
		return "+86" + s
	case 1:
		return s[:3] + "-" + s[3:7] + "-" + s[7:]
	}
	return s
}

const usccChars = "0123456789ABCDEFGHJKLMNPQRTUWXY"

func (g *gen) uscc() string {
	var org [8]byte
	for i := range org {
		org[i] = usccChars[g.r.IntN(len(usccChars))]
	}
	oc := string(org[:])
	sum := 0
	for i := 0; i < 8; i++ {
		v := int(org[i] - '0')
		if org[i] >= 'A' {
			v = int(org[i]-'A') + 10
		}
		sum += v * orgWeights[i]
	}
	switch r := 11 - sum%11; r {
	case 10:
		oc += "X"
	case 11:
		oc += "0"
	default:
		oc += string(rune('0' + r))
	}
	s := g.pick("91", "92", "93", "12", "52", "11", "51") + g.region() + oc
	sum = 0
	for i := 0; i < 17; i++ {
		sum += int(usccValue[s[i]]) * usccWeights[i]
	}
	return s + string(usccChars[(31-sum%31)%31])
}

func (g *gen) usccBadCheck() string {
	s := g.uscc()
	c := strings.IndexByte(usccChars, s[17])
	return s[:17] + string(usccChars[(c+1+g.r.IntN(29))%31])
}

var genLocal = []string{"zhang", "li", "wang", "liu", "chen", "yang", "zhao", "huang", "zhou", "wu", "xu", "sun", "ma", "hu", "guo", "lin"}

func (g *gen) email() string {
	return g.pick(genLocal...) + g.pick("", ".", "_") + g.pick(genLocal...) + g.digits(g.r.IntN(4)) + "@" +
		g.pick("example.com", "example.cn", "mail.example.com.cn", "corp.example.org", "163.example.net")
}

func (g *gen) ipv4() string {
	switch g.r.IntN(3) {
	case 0:
		return fmt.Sprintf("10.%d.%d.%d", g.r.IntN(256), g.r.IntN(256), 1+g.r.IntN(254))
	case 1:
		return fmt.Sprintf("192.168.%d.%d", g.r.IntN(256), 1+g.r.IntN(254))
	}
	return fmt.Sprintf("%d.%d.%d.%d", 11+g.r.IntN(200), g.r.IntN(256), g.r.IntN(256), 1+g.r.IntN(254))
}

func (g *gen) ipv6() string {
	if g.r.IntN(2) == 0 {
		return fmt.Sprintf("2001:db8:%x:%x::%x", g.r.IntN(65536), g.r.IntN(65536), 1+g.r.IntN(65535))
	}
	return fmt.Sprintf("2408:%x:%x:%x:%x:%x:%x:%x", g.r.IntN(65536), g.r.IntN(65536), g.r.IntN(65536), g.r.IntN(65536), g.r.IntN(65536), g.r.IntN(65536), 1+g.r.IntN(65535))
}

func (g *gen) mac() string {
	b := make([]string, 6)
	for i := range b {
		b[i] = fmt.Sprintf("%02x", g.r.IntN(256))
	}
	b[5] = fmt.Sprintf("%02x", 1+g.r.IntN(254))
	return strings.Join(b, g.pick(":", "-"))
}

func (g *gen) chars(alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[g.r.IntN(len(alphabet))]
	}
	return string(b)
}

func (g *gen) awsKey() string {
	return g.pick("AKIA", "ASIA") + g.chars("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)
}

func (g *gen) alibabaKey() string {
	return "LTAI" + g.chars("abcdefghijkmnpqrstuvwxyz", 1) + g.chars("0123456789", 1) + g.chars("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 18)
}

func (g *gen) privateKey() string {
	return "-----BEGIN " + g.pick("", "RSA ", "EC ", "OPENSSH ") + "PRIVATE KEY-----\n" +
		g.chars("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", 64)
}

func (g *gen) passport() string {
	if g.r.IntN(2) == 0 {
		return "E" + g.digits(8)
	}
	return "E" + g.chars("ABCDEFGHJKLMNPQRSTUVWXYZ", 1) + g.digits(7)
}

func (g *gen) permit() string {
	return g.pick("C", "W", "H") + g.digits(8)
}

const genProvAbbr = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"

func (g *gen) plate() string {
	prov := []rune(genProvAbbr)[g.r.IntN(len([]rune(genProvAbbr)))]
	letter := g.chars("ABCDEFGHJKLMNPQRSTUVWXYZ", 1)
	if g.r.IntN(4) == 0 {
		return string(prov) + letter + g.pick("D", "F") + g.digits(5)
	}
	return string(prov) + letter + g.digits(3) + g.chars("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", 2)
}

var genSurnames = []string{"王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "欧阳", "司马"}
var genGiven = []string{"伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀", "霞", "平", "刚", "桂", "英", "华", "玉", "萍", "红", "宇", "浩", "欣"}

func (g *gen) name() string {
	s := g.pick(genSurnames...) + g.pick(genGiven...)
	if g.r.IntN(3) > 0 {
		s += g.pick(genGiven...)
	}
	return s
}

func (g *gen) address() string {
	return g.pick("北京市", "上海市", "广东省深圳市", "浙江省杭州市", "四川省成都市", "湖北省武汉市") +
		g.pick("朝阳区", "浦东新区", "南山区", "西湖区", "武侯区", "江汉区") +
		g.pick("建国路", "人民路", "科技园路", "文三路", "天府大道", "解放大道") + fmt.Sprintf("%d号", 1+g.r.IntN(300)) +
		g.pick("", fmt.Sprintf("%d栋%d室", 1+g.r.IntN(30), 101+g.r.IntN(2000)), "华府小区")
}

func (g *gen) geoPair() string {
	lat := 18 + g.r.Float64()*35
	lng := 75 + g.r.Float64()*60
	if g.r.IntN(2) == 0 {
		return fmt.Sprintf("%.6f,%.6f", lat, lng)
	}
	return fmt.Sprintf("POINT(%.6f %.6f)", lng, lat)
}

// noise returns a value that no detector should report: look-alikes with
// broken checksums or dates, and the identifiers, codes, numbers and words
// that fill ordinary tables.
func (g *gen) noise() string {
	switch g.r.IntN(34) {
	case 0, 1:
		return g.residentIDBadCheck()
	case 2, 3:
		return g.residentIDBadDate()
	case 4, 5:
		return g.cardBadLuhn()
	case 6:
		return g.usccBadCheck()
	case 7: // order numbers: a date and a sequence
		return "2025" + fmt.Sprintf("%02d%02d", 1+g.r.IntN(12), 1+g.r.IntN(28)) + g.digits(10)
	case 8: // random account or reference numbers of card length
		return g.digits(16 + g.r.IntN(4))
	case 9: // 11-digit numbers outside the mobile ranges
		return g.pick("10", "11", "12", "140", "154") + g.digits(9)
	case 10:
		return fmt.Sprintf("%d", 1_600_000_000_000+g.r.Int64N(200_000_000_000)) // Unix milliseconds
	case 11:
		return fmt.Sprintf("%08x-%04x-4%03x-a%03x-%012x", g.r.Uint32(), g.r.IntN(65536), g.r.IntN(4096), g.r.IntN(4096), g.r.Uint64()&0xffffffffffff)
	case 12:
		return g.chars("0123456789abcdef", g.pick2(40, 64)) // hashes
	case 13:
		return fmt.Sprintf("2025-%02d-%02d %02d:%02d:%02d", 1+g.r.IntN(12), 1+g.r.IntN(28), g.r.IntN(24), g.r.IntN(60), g.r.IntN(60))
	case 14:
		return fmt.Sprintf("%d.%02d", g.r.IntN(100000), g.r.IntN(100))
	case 15:
		return fmt.Sprintf("v%d.%d.%d", g.r.IntN(5), g.r.IntN(20), g.r.IntN(50))
	case 16:
		return g.pick("user@localhost", "admin@@example.com", "noreply@example", "a@b.c", "mail.example.com", "https://www.example.com/a?b=1")
	case 17:
		return fmt.Sprintf("%d.%d.%d.%d", 256+g.r.IntN(700), g.r.IntN(256), g.r.IntN(256), g.r.IntN(256))
	case 18:
		return fmt.Sprintf("%02d:%02d:%02d", g.r.IntN(24), g.r.IntN(60), g.r.IntN(60))
	case 19:
		return "SKU-" + g.digits(5) + "-" + g.chars("ABCDEFGH", 2)
	case 20:
		return g.pick("SF", "YT", "ZTO", "JD") + g.digits(12)
	case 21: // Chinese words and phrases that are not names
		return g.pick("数据", "安全", "管理员", "订单状态", "已发货", "待支付", "系统运行正常", "云服务器", "张家口市", "黄山风景区", "周末促销", "高级会员", "金额合计", "马上到账", "林业局", "何时发货")
	case 22:
		return g.pick("N/A", "null", "0", "true", "false", "-", "OK", "pending", "shipped")
	case 23:
		return g.chars("ABCDEFGHIJKLMNOPQRSTUVWXYZ", 1) + g.digits(7) // 8-character codes
	case 24:
		return g.chars("ABDFJKLNQRTUVXYZ", 1) + g.digits(8) // 9-character codes outside passport and permit letters
	case 25:
		return g.digits(15) // 15-digit numbers (old IDs, references)
	case 26:
		return "AKIA" + g.chars("abcdefghijklmnop0189", 16) // key-like, wrong alphabet
	case 27:
		return g.pick("今天天气很好", "请于三个工作日内处理", "The quick brown fox", "lorem ipsum dolor sit amet")
	case 28:
		return fmt.Sprintf("%d", g.r.IntN(1_000_000))
	case 29:
		return g.pick(genProvAbbr[:3], genProvAbbr[3:6]) + "A" + g.digits(4) // 6-character plate look-alikes
	case 30:
		return fmt.Sprintf("%.2f,%.2f", 18+g.r.Float64()*35, 75+g.r.Float64()*60) // coarse coordinates
	case 31:
		return g.pick("-----BEGIN PUBLIC KEY-----", "-----BEGIN CERTIFICATE-----")
	case 32:
		return fmt.Sprintf("%d-%d-%d", g.r.IntN(1000), g.r.IntN(10000), g.r.IntN(10000))
	}
	return g.pick("productA", "feature-flag", "checkout", "region-cn-north-1", "bucket-logs")
}

func (g *gen) pick2(a, b int) int {
	if g.r.IntN(2) == 0 {
		return a
	}
	return b
}

// labelled is a synthetic value and the detector that should report it
// ("" for noise).
type labelled struct {
	value, label string
}

// positives maps detector ids to generators of values they must report.
func (g *gen) positives() map[string]func() string {
	return map[string]func() string{
		"cn_resident_id":     g.residentID,
		"cn_uscc":            g.uscc,
		"bank_card":          g.bankCard,
		"imei":               g.imei,
		"cn_mobile":          g.mobile,
		"email":              g.email,
		"ipv4":               g.ipv4,
		"ipv6":               g.ipv6,
		"mac_address":        g.mac,
		"aws_access_key":     g.awsKey,
		"alibaba_access_key": g.alibabaKey,
		"private_key":        g.privateKey,
		"passport_cn":        g.passport,
		"hk_macao_permit":    g.permit,
		"cn_plate":           g.plate,
		"cn_name":            g.name,
		"cn_address":         g.address,
		"geo_pair":           g.geoPair,
	}
}

// dataset returns perDetector positives for each detector with a generator
// and noise look-alikes, shuffled.
func (g *gen) dataset(perDetector, noise int) []labelled {
	var out []labelled
	pos := g.positives()
	for _, d := range detectors {
		f, ok := pos[d.ID]
		if !ok {
			continue
		}
		for i := 0; i < perDetector; i++ {
			out = append(out, labelled{f(), d.ID})
		}
	}
	for i := 0; i < noise; i++ {
		out = append(out, labelled{g.noise(), ""})
	}
	g.r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}
