package ingest

import (
	"context"
	"io"
	"path"
	"strconv"
	"strings"

	json "github.com/goccy/go-json"

	"github.com/canopy-sec/canopy/internal/ocsf"
)

func init() {
	register(Format{
		Name:    "suricata-eve",
		Title:   "Suricata EVE JSON",
		Version: 1,
		Classes: []int{ocsf.ClassDetectionFinding, ocsf.ClassNetworkActivity, ocsf.ClassHTTPActivity, ocsf.ClassDNSActivity, ocsf.ClassBaseEvent},
		Notes: "EVE JSON lines of Suricata 3.x to 8, one record per line, by event_type. " +
			"alert: Detection Finding (2004); finding_info.uid and metadata.original_event_uid are a content hash of the line " +
			"(an alert is one occurrence), analytic.uid the signature_id (version = rev; gid stays in unmapped), flow_id goes to " +
			"metadata.correlation_uid and connection_info.uid; severity from alert.metadata.signature_severity when the rule has it " +
			"(Critical, Major = High, Minor = Low, Informational), else alert.severity 1 = High, 2 = Medium, 3 = Low, 4 and more = " +
			"Informational; alert.action allowed/blocked gives action and disposition (security_control profile); mitre_* metadata " +
			"gives finding_info.attacks; endpoints and the alert's http/tls/dns/fileinfo objects become the evidence. " +
			"flow and netflow: Network Activity (4001) Traffic; dns: DNS Activity (4003) Query or Response (v1 per-answer, v2 and v3 " +
			"records); http: HTTP Activity (4002), activity from the method; fileinfo: HTTP Activity with the file when it came over " +
			"HTTP, else Network Activity with the fileinfo object in unmapped; tls: Network Activity with the tls object (the certificate is mapped only when Suricata logged " +
			"its serial, which OCSF requires; otherwise subject and issuer stay in unmapped); any other record with an address " +
			"(ldap, dnp3, smb, anomaly …): Network Activity, activity Other named after event_type, its payload in unmapped. " +
			"Records without any address (engine, stats) are Base Event (0) records named after event_type; engine log_level gives " +
			"the severity. Every event's metadata.original_event_uid is the content hash of its line.",
		Sniff:  sniffSuricata,
		Decode: decodeSuricata,
	})
}

func sniffSuricata(head []byte) int {
	if !sniffHas(head, `"event_type"`, `"timestamp"`) {
		return 0
	}
	if sniffHas(head, `"full_log"`) || sniffHas(head, `"manager"`, `"agent"`, `"rule"`) {
		return 0 // Wazuh alerts carry EVE records under data
	}
	switch {
	case sniffHas(head, `"flow_id"`), sniffHas(head, `"src_ip"`), sniffHas(head, `"dest_ip"`):
		return 85
	case sniffHas(head, `"log_level"`), sniffHas(head, `"stats"`):
		return 60
	}
	return 0
}

func decodeSuricata(ctx context.Context, r io.Reader, emit Emit) error {
	return decodeItems(ctx, "suricata-eve", r, nil, emit, eachRecord(mapSuricata))
}

var suricataProduct = ocsf.Product{Name: "Suricata", VendorName: "OISF"}

// suricataRecord is what every EVE record shares.
type suricataRecord struct {
	o         rawObject
	id        string // content hash of the line
	eventType string
	time      int64
	flowID    string
	src, dst  *ocsf.NetworkEndpoint
	conn      *ocsf.ConnectionInfo
}

func mapSuricata(raw []byte) (ocsf.Record, error) {
	o, err := parseRawObject(raw)
	if err != nil {
		return nil, err
	}
	s := &suricataRecord{o: o, id: contentID(raw)}
	if s.eventType = o.str("event_type"); s.eventType == "" {
		return nil, missing("event_type")
	}
	if ts := o.str("timestamp"); ts != "" {
		t, err := parseTime(ts)
		if err != nil {
			return nil, &fieldError{"timestamp", err}
		}
		s.time = ocsf.Millis(t)
	}
	s.endpoints()
	switch s.eventType {
	case "alert":
		return s.alert()
	case "flow", "netflow":
		if s.src != nil || s.dst != nil {
			return s.flow(), nil
		}
	case "dns":
		if s.src != nil || s.dst != nil {
			return s.dns(), nil
		}
	case "http":
		if s.src != nil || s.dst != nil {
			if h := s.httpActivity(); h != nil {
				return h, nil
			}
		}
	case "fileinfo":
		if s.src != nil || s.dst != nil {
			if h := s.httpActivity(); h != nil {
				return h, nil
			}
		}
	}
	if s.src != nil || s.dst != nil {
		return s.network(), nil
	}
	return s.baseEvent(), nil
}

// endpoints takes the addresses, ports, protocol and flow id.
func (s *suricataRecord) endpoints() {
	o := s.o
	if n, ok := o["flow_id"]; ok {
		if v, ok := rawScalar(n); ok && v != "" && isDigits(strings.TrimPrefix(v, "-")) {
			s.flowID = v
			delete(o, "flow_id")
		}
	}
	s.src = suricataEndpoint(o, "src_ip", "src_port")
	s.dst = suricataEndpoint(o, "dest_ip", "dest_port")
	if s.src == nil && s.dst == nil {
		return
	}
	c := &ocsf.ConnectionInfo{UID: s.flowID}
	c.SetDirection(ocsf.DirectionUnknown, "")
	if p := o.str("proto"); p != "" {
		c.ProtocolName, c.ProtocolNum = ipProtocol(p)
	}
	c.CommunityUID = o.str("community_id")
	s.conn = c
}

// suricataEndpoint takes an address and its port; an address that is not a
// valid IP stays in unmapped.
func suricataEndpoint(o rawObject, ipKey, portKey string) *ocsf.NetworkEndpoint {
	v, ok := o[ipKey]
	if !ok {
		return nil
	}
	txt, _ := rawScalar(v)
	ip := canonicalIP(txt)
	if ip == "" {
		return nil
	}
	if ip == txt {
		delete(o, ipKey)
	}
	ep := &ocsf.NetworkEndpoint{IP: ip}
	if p, ok := o.int(portKey); ok {
		if p >= 0 && p <= 65535 {
			ep.Port = int(p)
		} else {
			o[portKey] = json.RawMessage(strconv.FormatInt(p, 10))
		}
	}
	return ep
}

var ipProtocols = map[string]int{"icmp": 1, "igmp": 2, "tcp": 6, "udp": 17, "gre": 47, "esp": 50, "ah": 51, "ipv6-icmp": 58, "icmpv6": 58, "sctp": 132}

// ipProtocol returns a protocol's lower-case name and IANA number; Suricata
// writes unknown protocols as their number.
func ipProtocol(p string) (string, int) {
	l := strings.ToLower(strings.TrimSpace(p))
	if n, ok := ipProtocols[l]; ok {
		return l, n
	}
	if n, err := strconv.Atoi(l); err == nil && n >= 0 && n < 256 {
		for name, num := range ipProtocols {
			if num == n && name != "icmpv6" {
				return name, n
			}
		}
		return l, n
	}
	return l, 0
}

func (s *suricataRecord) base(b *ocsf.Base) {
	b.Time = s.time
	b.Metadata.Product = suricataProduct
	b.Metadata.OriginalEventUID = s.id
	b.Metadata.CorrelationUID = s.flowID
	b.Metadata.EventCode = s.eventType
}

// network fills the attributes the network classes share.
func (s *suricataRecord) network0(n *ocsf.Network) {
	s.base(&n.Base)
	n.SetSeverity(ocsf.SeverityInformational, "")
	n.SrcEndpoint, n.DstEndpoint, n.ConnectionInfo = s.src, s.dst, s.conn
	n.AppProtocolName = s.o.str("app_proto")
	if n.SrcEndpoint != nil {
		n.AddObservable("src_endpoint.ip", ocsf.ObservableIP, "IP Address", n.SrcEndpoint.IP)
	}
	if n.DstEndpoint != nil {
		n.AddObservable("dst_endpoint.ip", ocsf.ObservableIP, "IP Address", n.DstEndpoint.IP)
	}
	s.tcp()
}

// tcp takes the TCP flags seen on the flow.
func (s *suricataRecord) tcp() {
	t := s.o.obj("tcp")
	if t == nil {
		return
	}
	if s.conn != nil {
		if f, err := strconv.ParseUint(t.str("tcp_flags"), 16, 8); err == nil {
			s.conn.TCPFlags = int(f)
		}
	}
	t.addRestTo(s.o, "tcp")
}

func (s *suricataRecord) flow() ocsf.Record {
	n := &ocsf.NetworkActivity{}
	n.SetClass(ocsf.ClassNetworkActivity, 6, "") // Traffic
	s.network0(&n.Network)
	key := s.eventType
	if fl := s.o.obj(key); fl != nil {
		tr := &ocsf.Traffic{}
		if s.eventType == "netflow" {
			tr.Bytes, _ = fl.int("bytes")
			tr.Packets, _ = fl.int("pkts")
		} else {
			tr.BytesOut, _ = fl.int("bytes_toserver")
			tr.BytesIn, _ = fl.int("bytes_toclient")
			tr.PacketsOut, _ = fl.int("pkts_toserver")
			tr.PacketsIn, _ = fl.int("pkts_toclient")
			tr.Bytes, tr.Packets = tr.BytesIn+tr.BytesOut, tr.PacketsIn+tr.PacketsOut
		}
		if *tr != (ocsf.Traffic{}) {
			n.Traffic = tr
		}
		n.StartTime = suricataTime(fl, "start")
		n.EndTime = suricataTime(fl, "end")
		fl.addRest(&n.Base, key)
	}
	s.o.addRest(&n.Base, "")
	return n
}

// suricataTime takes a time member; one that does not parse stays in place.
func suricataTime(o rawObject, key string) int64 {
	v, ok := o[key]
	if !ok {
		return 0
	}
	txt, _ := rawScalar(v)
	t, err := parseTime(txt)
	if err != nil {
		return 0
	}
	delete(o, key)
	return ocsf.Millis(t)
}

// network maps a record with addresses that no more specific class takes.
func (s *suricataRecord) network() ocsf.Record {
	n := &ocsf.NetworkActivity{}
	n.SetClass(ocsf.ClassNetworkActivity, ocsf.ActivityOther, s.eventType)
	s.network0(&n.Network)
	if tl := s.o.obj("tls"); tl != nil {
		n.TLS = suricataTLS(tl)
		if n.TLS != nil && n.TLS.SNI != "" {
			n.AddObservable("tls.sni", ocsf.ObservableHostname, "Hostname", n.TLS.SNI)
		}
		tl.addRest(&n.Base, "tls")
	}
	s.o.addRest(&n.Base, "")
	return n
}

var suricataDNSRcodes = map[string]int{"NOERROR": 0, "FORMERR": 1, "SERVFAIL": 2, "NXDOMAIN": 3, "NOTIMP": 4, "REFUSED": 5,
	"YXDOMAIN": 6, "YXRRSET": 7, "NXRRSET": 8, "NOTAUTH": 9, "NOTZONE": 10, "DSOTYPENI": 11, "BADSIG": 16, "BADVERS": 16,
	"BADKEY": 17, "BADTIME": 18, "BADMODE": 19, "BADNAME": 20, "BADALG": 21, "BADTRUNC": 22, "BADCOOKIE": 23}

var dnsRcodeCaptions = map[int]string{0: "NoError", 1: "FormError", 2: "ServError", 3: "NXDomain", 4: "NotImp", 5: "Refused",
	6: "YXDomain", 7: "YXRRSet", 8: "NXRRSet", 9: "NotAuth", 10: "NotZone", 11: "DSOTYPENI", 16: "BADSIG_VERS", 17: "BADKEY",
	18: "BADTIME", 19: "BADMODE", 20: "BADNAME", 21: "BADALG", 22: "BADTRUNC", 23: "BADCOOKIE"}

var dnsOpcodeCaptions = map[int]string{0: "Query", 1: "Inverse Query", 2: "Status", 3: "Reserved", 4: "Notify", 5: "Update", 6: "DSO Message"}

func (s *suricataRecord) dns() ocsf.Record {
	d := &ocsf.DNSActivity{}
	d.SetClass(ocsf.ClassDNSActivity, 0, "")
	s.network0(&d.Network)
	if q := s.o.obj("dns"); q != nil {
		typ := q.str("type")
		switch typ {
		case "query", "request":
			d.SetClass(ocsf.ClassDNSActivity, 1, "")
		case "answer", "response":
			d.SetClass(ocsf.ClassDNSActivity, 2, "")
		case "":
		default:
			d.SetClass(ocsf.ClassDNSActivity, ocsf.ActivityOther, typ)
		}
		qtype, _ := rawScalar(q["rrtype"])
		d.Query = suricataDNSQuery(q)
		d.Answers = suricataDNSAnswers(q, qtype)
		if rc := q.str("rcode"); rc != "" {
			d.RcodeID, d.Rcode = dnsRcode(rc)
		}
		if d.Query != nil {
			d.AddObservable("query.hostname", ocsf.ObservableHostname, "Hostname", d.Query.Hostname)
		}
		q.addRest(&d.Base, "dns")
	}
	s.o.addRest(&d.Base, "")
	return d
}

func dnsRcode(rc string) (int, string) {
	if id, ok := suricataDNSRcodes[strings.ToUpper(rc)]; ok {
		return id, dnsRcodeCaptions[id]
	}
	return ocsf.ActivityOther, rc
}

// suricataDNSQuery reads the question: rrname/rrtype (v1, v2) or
// queries[0] (v3, and the query array of alerts).
func suricataDNSQuery(q rawObject) *ocsf.DNSQuery {
	name, typ := q.str("rrname"), q.str("rrtype")
	if name == "" {
		for _, key := range []string{"queries", "query"} {
			qs := suricataObjects(q, key)
			if len(qs) == 0 {
				continue
			}
			first := qs[0]
			name, typ = first.str("rrname"), first.str("rrtype")
			if len(qs) == 1 && len(first) == 0 && name != "" {
				delete(q, key)
			}
			break
		}
	}
	if name == "" {
		return nil
	}
	dq := &ocsf.DNSQuery{Hostname: name, Type: typ}
	if id, ok := q.int("id"); ok && id >= 0 {
		dq.PacketUID = int(id)
	}
	if op, ok := q.int("opcode"); ok {
		dq.OpcodeID = int(op)
		if c, known := dnsOpcodeCaptions[dq.OpcodeID]; known {
			dq.Opcode = c
		} else {
			dq.OpcodeID, dq.Opcode = 99, strconv.FormatInt(op, 10)
		}
	}
	return dq
}

// suricataObjects parses the array of objects under key without taking it.
func suricataObjects(o rawObject, key string) []rawObject {
	v, ok := o[key]
	if !ok {
		return nil
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(v, &elems); err != nil {
		return nil
	}
	out := make([]rawObject, 0, len(elems))
	for _, e := range elems {
		eo, err := parseRawObject(e)
		if err != nil {
			return nil
		}
		out = append(out, eo)
	}
	return out
}

// suricataDNSAnswers reads the answers: one rdata per record (v1), the
// answers array (v2, v3) or, failing that, the grouped form.
// In v1 records rrtype, read before as qtype, is the answer's type.
func suricataDNSAnswers(q rawObject, qtype string) []ocsf.DNSAnswer {
	var out []ocsf.DNSAnswer
	if rdata := q.str("rdata"); rdata != "" {
		a := ocsf.DNSAnswer{Rdata: rdata, Type: qtype}
		if ttl, ok := q.int("ttl"); ok {
			a.TTL = int(ttl)
		}
		out = append(out, a)
	} else if as := suricataObjects(q, "answers"); len(as) > 0 {
		complete := true
		for _, ao := range as {
			rdata := ao.str("rdata")
			if rdata == "" {
				complete = false
				continue
			}
			a := ocsf.DNSAnswer{Rdata: rdata, Type: ao.str("rrtype")}
			if ttl, ok := ao.int("ttl"); ok {
				a.TTL = int(ttl)
			}
			ao.take("rrname") // the owner name; the question holds it
			if len(ao) > 0 {
				complete = false
			}
			out = append(out, a)
		}
		if complete {
			delete(q, "answers")
		}
	} else if g := q.obj("grouped"); g != nil {
		for _, typ := range sortedKeys(g) {
			var rdatas []string
			if err := json.Unmarshal(g[typ], &rdatas); err != nil {
				continue
			}
			delete(g, typ)
			for _, rd := range rdatas {
				out = append(out, ocsf.DNSAnswer{Rdata: rd, Type: typ})
			}
		}
		g.addRestTo(q, "grouped")
	}
	if len(out) == 0 {
		return nil
	}
	var flags []int
	var names []string
	for _, f := range []struct {
		key  string
		id   int
		name string
	}{{"aa", 1, "Authoritative Answer"}, {"tc", 2, "Truncated Response"}, {"rd", 3, "Recursion Desired"},
		{"ra", 4, "Recursion Available"}, {"ad", 5, "Authentic Data"}, {"cd", 6, "Checking Disabled"}} {
		if set, ok := q.bool(f.key); ok && set {
			flags = append(flags, f.id)
			names = append(names, f.name)
		}
	}
	for i := range out {
		out[i].FlagIDs, out[i].Flags = flags, names
	}
	return out
}

// httpActivity maps an http record, or a fileinfo record of a file carried
// over HTTP; nil when the record has no http object.
func (s *suricataRecord) httpActivity() ocsf.Record {
	h := s.o.obj("http")
	if h == nil {
		return nil
	}
	a := &ocsf.HTTPActivity{}
	a.SetClass(ocsf.ClassHTTPActivity, 0, "")
	s.network0(&a.Network)
	a.HTTPRequest, a.HTTPResponse = suricataHTTP(h)
	if a.HTTPRequest == nil && a.HTTPResponse == nil {
		a.HTTPRequest = &ocsf.HTTPRequest{}
	}
	if m := a.HTTPRequest; m != nil && m.HTTPMethod != "" {
		id, other := httpMethodActivity(m.HTTPMethod)
		a.SetClass(ocsf.ClassHTTPActivity, id, other)
		if m.URL != nil {
			a.AddObservable("http_request.url.hostname", ocsf.ObservableHostname, "Hostname", m.URL.Hostname)
		}
		a.AddObservable("http_request.user_agent", ocsf.ObservableUserAgent, "HTTP User-Agent", m.UserAgent)
	}
	h.addRest(&a.Base, "http")
	if fi := s.o.obj("fileinfo"); fi != nil {
		a.File = suricataFile(fi)
		if a.File != nil {
			a.AddObservable("file.name", ocsf.ObservableFileName, "File Name", a.File.Name)
		}
		fi.addRest(&a.Base, "fileinfo")
	}
	s.o.addRest(&a.Base, "")
	return a
}

var httpMethodActivities = map[string]int{"CONNECT": 1, "DELETE": 2, "GET": 3, "HEAD": 4, "OPTIONS": 5, "POST": 6, "PUT": 7, "TRACE": 8, "PATCH": 9}

func httpMethodActivity(method string) (int, string) {
	if id, ok := httpMethodActivities[strings.ToUpper(method)]; ok {
		return id, ""
	}
	return ocsf.ActivityOther, method
}

// suricataHTTP reads Suricata's http object.
func suricataHTTP(h rawObject) (*ocsf.HTTPRequest, *ocsf.HTTPResponse) {
	req := &ocsf.HTTPRequest{
		HTTPMethod: h.str("http_method"),
		UserAgent:  h.str("http_user_agent"),
		Version:    h.str("protocol"),
		Referrer:   h.str("http_refer"),
	}
	if xff := h.str("xff"); xff != "" {
		for _, x := range strings.Split(xff, ",") {
			if x = strings.TrimSpace(x); x != "" {
				req.XForwardedFor = append(req.XForwardedFor, x)
			}
		}
	}
	req.HTTPHeaders = suricataHeaders(h, "request_headers")
	host := h.str("hostname")
	var port int64
	if p, ok := h.int("http_port"); ok {
		port = p
	}
	req.URL = suricataURL(host, port, h.str("url"))
	if req.URL == nil && req.HTTPMethod == "" && req.UserAgent == "" && req.Version == "" && req.Referrer == "" && len(req.HTTPHeaders) == 0 && len(req.XForwardedFor) == 0 {
		req = nil
	}
	var resp *ocsf.HTTPResponse
	if code, ok := h.int("status"); ok {
		resp = &ocsf.HTTPResponse{Code: int(code), ContentType: h.str("http_content_type")}
		if l, ok := h.int("length"); ok {
			resp.Length = int(l)
		}
	}
	return req, resp
}

func suricataHeaders(h rawObject, key string) []ocsf.HTTPHeader {
	v := h.take(key)
	if v == nil {
		return nil
	}
	var hs []ocsf.HTTPHeader
	if err := json.Unmarshal(v, &hs); err != nil {
		h[key] = v
		return nil
	}
	return hs
}

// suricataURL builds the url object of a request from its Host header,
// port and request target.
func suricataURL(host string, port int64, target string) *ocsf.URL {
	if host == "" && target == "" {
		return nil
	}
	u := &ocsf.URL{Hostname: host}
	if port > 0 && port <= 65535 {
		u.Port = int(port)
	}
	if strings.HasPrefix(target, "http://") || strings.HasPrefix(target, "https://") {
		u.URLString = target
		rest := target[strings.Index(target, "//")+2:]
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			target = rest[i:]
		} else {
			target = ""
		}
	}
	if target != "" {
		u.Path, u.QueryString, _ = strings.Cut(target, "?")
	}
	if u.URLString == "" && host != "" {
		hp := host
		if u.Port != 0 && u.Port != 80 {
			hp += ":" + strconv.Itoa(u.Port)
		}
		u.URLString = "http://" + hp + target
	}
	return u
}

// suricataFile reads a fileinfo object; nil without a file name.
func suricataFile(fi rawObject) *ocsf.File {
	name := fi.str("filename")
	if name == "" {
		return nil
	}
	f := &ocsf.File{Name: path.Base(name), TypeID: ocsf.FileTypeRegular, Type: "Regular File"}
	if f.Name == "." || f.Name == "/" {
		f.Name = name
	}
	if strings.Contains(name, "/") {
		f.Path = name
	}
	if size, ok := fi.int("size"); ok {
		f.Size = size
	}
	for _, h := range []struct {
		key  string
		id   int
		name string
	}{{"md5", 1, "MD5"}, {"sha1", 2, "SHA-1"}, {"sha256", 3, "SHA-256"}} {
		if v := fi.str(h.key); v != "" {
			f.Hashes = append(f.Hashes, ocsf.Fingerprint{Algorithm: h.name, AlgorithmID: h.id, Value: v})
		}
	}
	return f
}

// suricataTLS reads a tls object; nil without a version, which OCSF requires.
func suricataTLS(tl rawObject) *ocsf.TLS {
	version := tl.str("version")
	if version == "" {
		return nil
	}
	t := &ocsf.TLS{Version: version, SNI: tl.str("sni")}
	t.JA3Hash = suricataJA3(tl, "ja3")
	t.JA3SHash = suricataJA3(tl, "ja3s")
	serial, _ := rawScalar(tl["serial"])
	issuer, _ := rawScalar(tl["issuerdn"])
	if serial != "" && issuer != "" {
		c := &ocsf.Certificate{Issuer: tl.str("issuerdn"), SerialNumber: tl.str("serial"), Subject: tl.str("subject")}
		c.CreatedTime = suricataTime(tl, "notbefore")
		c.ExpirationTime = suricataTime(tl, "notafter")
		if fp := tl.str("fingerprint"); fp != "" {
			c.Fingerprints = []ocsf.Fingerprint{{Algorithm: "SHA-1", AlgorithmID: 2, Value: fp}}
		}
		t.Certificate = c
	}
	return t
}

func suricataJA3(tl rawObject, key string) *ocsf.Fingerprint {
	j := tl.obj(key)
	if j == nil {
		return nil
	}
	defer j.addRestTo(tl, key)
	if h := j.str("hash"); h != "" {
		return &ocsf.Fingerprint{Algorithm: "MD5", AlgorithmID: 1, Value: h}
	}
	return nil
}

// suricataEngineSeverity maps an engine record's log level.
func suricataEngineSeverity(level string) int {
	switch strings.ToLower(level) {
	case "emergency", "alert", "critical":
		return ocsf.SeverityCritical
	case "error":
		return ocsf.SeverityHigh
	case "warning":
		return ocsf.SeverityLow
	}
	return ocsf.SeverityInformational
}

// baseEvent maps a record that has no addresses (engine, stats).
func (s *suricataRecord) baseEvent() ocsf.Record {
	b := &ocsf.Base{}
	b.SetClass(ocsf.ClassBaseEvent, ocsf.ActivityOther, s.eventType)
	s.base(b)
	b.SetSeverity(ocsf.SeverityInformational, "")
	if s.eventType == "engine" {
		b.SetSeverity(suricataEngineSeverity(s.o.str("log_level")), "")
		if e := s.o.obj("engine"); e != nil {
			b.Message = e.str("message")
			e.addRest(b, "engine")
		}
	}
	s.o.addRest(b, "")
	return b
}

// suricataSeverity maps an alert's severity: the rule's
// metadata.signature_severity when it has a known one, else Suricata's
// priority, where 1 is the highest.
func suricataSeverity(priority int64, havePriority bool, sigSeverity string) int {
	switch strings.ToLower(sigSeverity) {
	case "critical":
		return ocsf.SeverityCritical
	case "major":
		return ocsf.SeverityHigh
	case "minor":
		return ocsf.SeverityLow
	case "informational", "info":
		return ocsf.SeverityInformational
	}
	switch {
	case !havePriority || priority <= 0:
		return ocsf.SeverityUnknown
	case priority == 1:
		return ocsf.SeverityHigh
	case priority == 2:
		return ocsf.SeverityMedium
	case priority == 3:
		return ocsf.SeverityLow
	}
	return ocsf.SeverityInformational
}

var confidenceIDs = map[string]int{"low": 1, "medium": 2, "high": 3}

func (s *suricataRecord) alert() (ocsf.Record, error) {
	a := s.o.obj("alert")
	if a == nil {
		return nil, missing("alert")
	}
	sid, ok := a.int("signature_id")
	if !ok {
		return nil, missing("alert.signature_id")
	}
	f := &ocsf.DetectionFinding{}
	f.SetClass(ocsf.ClassDetectionFinding, ocsf.ActivityCreate, "")
	s.base(&f.Base)
	f.SetStatus(ocsf.FindingStatusNew, "")
	f.IsAlert = boolPtr(true)
	sig, category := a.str("signature"), a.str("category")
	priority, havePriority := a.int("severity")
	md := a.obj("metadata")
	first := func(key string) string {
		if md == nil {
			return ""
		}
		if v := md.strs(key); len(v) > 0 {
			if len(v) > 1 {
				md[key], _ = json.Marshal(v[1:])
			}
			return v[0]
		}
		return ""
	}
	f.SetSeverity(suricataSeverity(priority, havePriority, first("signature_severity")), "")
	if havePriority {
		a["severity"] = json.RawMessage(strconv.FormatInt(priority, 10)) // kept in unmapped: Suricata's own scale
	}
	if c := first("confidence"); c != "" {
		if id, ok := confidenceIDs[strings.ToLower(c)]; ok {
			f.ConfidenceID, f.Confidence = id, strings.ToUpper(c[:1])+strings.ToLower(c[1:])
		} else {
			md["confidence"], _ = json.Marshal([]string{c})
		}
	}
	uid := strconv.FormatInt(sid, 10)
	an := ocsf.NewAnalytic(ocsf.AnalyticTypeRule, uid, sig)
	an.Category = category
	if rev, ok := a.int("rev"); ok {
		an.Version = strconv.FormatInt(rev, 10)
	}
	f.Message = sig
	f.FindingInfo = ocsf.FindingInfo{
		UID:      s.id,
		Title:    firstNonEmpty(sig, "Suricata signature "+uid),
		Analytic: an,
	}
	if category != "" {
		f.FindingInfo.Types = []string{category}
	}
	if md != nil {
		f.FindingInfo.Attacks = suricataAttacks(md)
	}
	switch action := a.str("action"); strings.ToLower(action) {
	case "allowed", "pass":
		f.ActionID, f.Action, f.DispositionID, f.Disposition = 1, "Allowed", 1, "Allowed"
	case "blocked", "drop", "reject", "rejected":
		f.ActionID, f.Action, f.DispositionID, f.Disposition = 2, "Denied", 2, "Blocked"
	case "":
	default:
		f.ActionID, f.Action, f.DispositionID, f.Disposition = 99, action, 99, action
	}
	if f.ActionID != 0 {
		f.AddProfile("security_control")
	}
	ev := ocsf.Evidence{SrcEndpoint: s.src, DstEndpoint: s.dst, ConnectionInfo: s.conn}
	if h := s.o.obj("http"); h != nil {
		ev.HTTPRequest, ev.HTTPResponse = suricataHTTP(h)
		h.addRest(&f.Base, "http")
	}
	if tl := s.o.obj("tls"); tl != nil {
		ev.TLS = suricataTLS(tl)
		tl.addRest(&f.Base, "tls")
	}
	if d := s.o.obj("dns"); d != nil {
		ev.Query = suricataDNSQuery(d)
		d.addRest(&f.Base, "dns")
	}
	if fi := s.o.obj("fileinfo"); fi != nil {
		ev.File = suricataFile(fi)
		fi.addRest(&f.Base, "fileinfo")
	}
	if ev.SrcEndpoint != nil || ev.DstEndpoint != nil || ev.HTTPRequest != nil || ev.HTTPResponse != nil || ev.TLS != nil || ev.Query != nil || ev.File != nil {
		f.Evidences = []ocsf.Evidence{ev}
		if ev.SrcEndpoint != nil {
			f.AddObservable("evidences[0].src_endpoint.ip", ocsf.ObservableIP, "IP Address", ev.SrcEndpoint.IP)
		}
		if ev.DstEndpoint != nil {
			f.AddObservable("evidences[0].dst_endpoint.ip", ocsf.ObservableIP, "IP Address", ev.DstEndpoint.IP)
		}
		if ev.HTTPRequest != nil {
			if ev.HTTPRequest.URL != nil {
				f.AddObservable("evidences[0].http_request.url.hostname", ocsf.ObservableHostname, "Hostname", ev.HTTPRequest.URL.Hostname)
			}
			f.AddObservable("evidences[0].http_request.user_agent", ocsf.ObservableUserAgent, "HTTP User-Agent", ev.HTTPRequest.UserAgent)
		}
		if ev.Query != nil {
			f.AddObservable("evidences[0].query.hostname", ocsf.ObservableHostname, "Hostname", ev.Query.Hostname)
		}
		if ev.TLS != nil {
			f.AddObservable("evidences[0].tls.sni", ocsf.ObservableHostname, "Hostname", ev.TLS.SNI)
		}
	}
	if md != nil {
		md.addRestTo(a, "metadata")
	}
	a.addRest(&f.Base, "alert")
	s.tcp()
	s.o.addRest(&f.Base, "")
	return f, nil
}

// suricataAttacks reads the ATT&CK metadata of ET rules (mitre_tactic_id,
// mitre_tactic_name, mitre_technique_id, mitre_technique_name).
func suricataAttacks(md rawObject) []ocsf.Attack {
	tacticIDs, tacticNames := md.strs("mitre_tactic_id"), md.strs("mitre_tactic_name")
	techIDs, techNames := md.strs("mitre_technique_id"), md.strs("mitre_technique_name")
	at := func(ss []string, i int) string {
		if i < len(ss) {
			return strings.ReplaceAll(ss[i], "_", " ")
		}
		return ""
	}
	var tactic *ocsf.Tactic
	if len(tacticIDs) > 0 || len(tacticNames) > 0 {
		tactic = &ocsf.Tactic{UID: at(tacticIDs, 0), Name: at(tacticNames, 0)}
	}
	var out []ocsf.Attack
	for i, id := range techIDs {
		a := ocsf.Attack{Tactic: tactic}
		name := at(techNames, i)
		if parent, _, ok := strings.Cut(id, "."); ok {
			a.Technique = &ocsf.Technique{UID: parent}
			a.SubTechnique = &ocsf.Technique{UID: id, Name: name}
		} else {
			a.Technique = &ocsf.Technique{UID: id, Name: name}
		}
		out = append(out, a)
	}
	if len(out) == 0 && tactic != nil {
		out = append(out, ocsf.Attack{Tactic: tactic})
	}
	if len(tacticIDs) > 1 || len(tacticNames) > 1 {
		if len(tacticIDs) > 0 {
			md["mitre_tactic_id"], _ = json.Marshal(tacticIDs)
		}
		if len(tacticNames) > 0 {
			md["mitre_tactic_name"], _ = json.Marshal(tacticNames)
		}
	}
	return out
}
