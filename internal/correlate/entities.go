package correlate

import (
	"net/netip"
	"regexp"
	"strings"

	"github.com/canopy-sec/canopy/internal/ocsf"
)

// Kind is the kind of an [Entity].
type Kind string

// Entity kinds.
const (
	// KindIP is an IPv4 or IPv6 address in netip's canonical form; an
	// IPv4-mapped IPv6 address is its IPv4 address.
	KindIP Kind = "ip"
	// KindDomain is a DNS name, lower-case, without a trailing dot.
	KindDomain Kind = "domain"
	// KindIdentity is a principal: an IAM/STS ARN, an access key or
	// unique principal id (upper-case), an e-mail address (lower-case), or
	// a user name as the source spells it (Kubernetes users, cloud users).
	KindIdentity Kind = "identity"
	// KindResource is a cloud resource: its ARN or the source's uid.
	KindResource Kind = "resource"
	// KindHost is a host: a hostname (lower-case) or an instance id.
	KindHost Kind = "host"
	// KindContainer is a container (its 12-hex-digit short id) or a pod
	// ("pod/<namespace>/<name>", or the pod UUID).
	KindContainer Kind = "container"
	// KindImage is an image digest, "sha256:<64 lower-case hex digits>".
	KindImage Kind = "image"
	// KindCVE is a CVE id, upper-case ("CVE-2024-6387").
	KindCVE Kind = "cve"
)

// Entity is one thing a record is about, in a normalized form so that the
// same thing reported by different tools has the same Kind and Value.
type Entity struct {
	Kind  Kind   `json:"kind"`
	Value string `json:"value"`
	// Common marks values that are shared by nearly everything in an estate
	// and so say little on their own: cloud provider API domains
	// (*.amazonaws.com …), AWS-managed policy ARNs, a bare account id, and
	// Kubernetes' anonymous and control-plane users. They are kept so that
	// callers can show them, but should not join records by themselves.
	Common bool `json:"common,omitempty"`
}

// Entities returns the entities rec names, once each, in the order they are
// first met while walking the record (resources, actor and user, endpoints,
// device, evidences, process and container, API request and response data,
// vulnerabilities, observables). Empty, placeholder and meaningless values
// ("unknown", "-", "<…>", 0.0.0.0, ::, loopback addresses, localhost) are
// dropped. A nil record gives nil. Entities never panics on a zero-value
// record.
//
// Normalization rules:
//   - ARNs: "arn", partition, service and region lower-case; the account id
//     and the resource part are kept as written (resource names are
//     case-sensitive for most services). The partition is kept, so
//     arn:aws-cn:… and arn:aws:… stay distinct. An STS assumed-role ARN also
//     yields the IAM role ARN it stands for.
//   - Access key and principal ids (AKIA…, ASIA…, AIDA…, AROA…) upper-case.
//   - E-mail addresses, domains and hostnames lower-case; domains and
//     hostnames lose a trailing dot.
//   - User names are kept as written: Kubernetes user names are
//     case-sensitive.
//   - Container ids lose a runtime prefix ("containerd://") and are cut to the
//     12-digit short id Falco and Docker show.
//   - The account id of a record is not an entity; a resource whose uid is a
//     bare account id is, marked Common.
func Entities(rec ocsf.Record) []Entity {
	if rec == nil {
		return nil
	}
	w := walker{seen: make(map[Entity]int)}
	switch r := rec.(type) {
	case *ocsf.VulnerabilityFinding:
		w.finding(&r.Finding)
		for i := range r.Vulnerabilities {
			w.vulnerability(&r.Vulnerabilities[i])
		}
	case *ocsf.ComplianceFinding:
		w.finding(&r.Finding)
	case *ocsf.DetectionFinding:
		w.finding(&r.Finding)
		for i := range r.Evidences {
			w.evidence(&r.Evidences[i])
		}
	case *ocsf.DataSecurityFinding:
		w.finding(&r.Finding)
		w.actor(r.Actor)
		if b := r.Databucket; b != nil {
			w.resource(&ocsf.ResourceDetails{UID: b.UID, Name: b.Name, Type: "databucket"})
		}
		if d := r.Database; d != nil && d.UID != "" {
			w.resource(&ocsf.ResourceDetails{UID: d.UID})
		}
	case *ocsf.APIActivity:
		w.resources(r.Resources)
		w.actor(&r.Actor)
		w.api(&r.API)
		w.endpoint(&r.SrcEndpoint)
		w.endpoint(r.DstEndpoint)
		w.httpRequest(r.HTTPRequest)
	case *ocsf.Authentication:
		w.user(&r.User)
		w.actor(r.Actor)
		w.api(r.API)
		w.endpoint(r.SrcEndpoint)
		w.endpoint(r.DstEndpoint)
		w.httpRequest(r.HTTPRequest)
	case *ocsf.NetworkActivity:
		w.network(&r.Network)
		if r.URL != nil {
			w.url(r.URL)
		}
	case *ocsf.HTTPActivity:
		w.network(&r.Network)
		w.httpRequest(r.HTTPRequest)
	case *ocsf.DNSActivity:
		w.network(&r.Network)
		if r.Query != nil {
			w.domain(r.Query.Hostname)
		}
		for _, a := range r.Answers {
			w.hostOrIP(a.Rdata, KindDomain)
		}
	case *ocsf.ProcessActivity:
		w.actor(&r.Actor)
		w.process(&r.Process)
	}
	if b := rec.Common(); b != nil {
		w.base(b)
	}
	return w.out
}

// walker collects entities of one record.
type walker struct {
	out       []Entity
	seen      map[Entity]int // index in out, keyed without Common
	partition string         // the record's cloud partition, for S3 bucket ARNs
}

func (w *walker) add(e Entity) {
	if e.Value == "" {
		return
	}
	key := Entity{Kind: e.Kind, Value: e.Value}
	if i, ok := w.seen[key]; ok {
		w.out[i].Common = w.out[i].Common || e.Common
		return
	}
	w.seen[key] = len(w.out)
	w.out = append(w.out, e)
}

func (w *walker) base(b *ocsf.Base) {
	w.device(b.Device)
	for _, o := range b.Observables {
		switch o.TypeID {
		case ocsf.ObservableIP:
			w.ip(o.Value)
		case ocsf.ObservableEmail:
			w.identity(o.Value)
		case ocsf.ObservableResourceUID:
			w.resource(&ocsf.ResourceDetails{UID: o.Value})
		case ocsf.ObservableCVE:
			w.cve(o.Value)
		case 19: // User Credential ID
			w.identity(o.Value)
		case ocsf.ObservableContainer:
			w.containerID(o.Value)
		}
		// Hostnames, user names and the rest come from the typed fields,
		// where their kind is known.
	}
}

func (w *walker) finding(f *ocsf.Finding) {
	if f.Cloud != nil {
		w.partition = f.Cloud.CloudPartition
	}
	w.resources(f.Resources)
}

func (w *walker) network(n *ocsf.Network) {
	w.endpoint(n.SrcEndpoint)
	w.endpoint(n.DstEndpoint)
	w.actor(n.Actor)
	w.api(n.API)
	if n.TLS != nil {
		w.domain(n.TLS.SNI)
	}
}

func (w *walker) resources(rs []ocsf.ResourceDetails) {
	for i := range rs {
		w.resource(&rs[i])
	}
}

func (w *walker) resource(r *ocsf.ResourceDetails) {
	typ := strings.ToLower(r.Type)
	switch {
	case isPodType(typ) && r.Name != "":
		w.add(Entity{Kind: KindContainer, Value: podValue(r.Namespace, r.Name)})
	case strings.Contains(typ, "accesskey") || strings.Contains(typ, "access key"):
		w.identity(r.UID)
	case r.UID != "":
		w.classify(r.UID, KindResource)
	case r.Name != "" && r.Namespace != "":
		w.add(Entity{Kind: KindResource, Value: typ + "/" + r.Namespace + "/" + r.Name})
	case r.Name != "":
		w.classify(r.Name, KindResource)
	}
	if r.UIDAlt != "" {
		w.classify(r.UIDAlt, KindResource)
	}
	w.hostOrIP(r.Hostname, KindHost)
	w.ip(r.IP)
	if r.Owner != nil {
		w.strongIdentity(r.Owner.UID)
		w.strongIdentity(r.Owner.UIDAlt)
		w.strongIdentity(r.Owner.EmailAddr)
	}
	w.digests(r.Data, 0)
}

// digests adds the image digests found anywhere in v (ASFF's ImageDigest,
// Trivy's RepoDigests and ImageID).
func (w *walker) digests(v any, depth int) {
	if depth > 4 {
		return
	}
	switch x := v.(type) {
	case string:
		if d := digestRE.FindString(strings.ToLower(x)); d != "" {
			w.add(Entity{Kind: KindImage, Value: d})
		}
	case map[string]any:
		for _, e := range x {
			w.digests(e, depth+1)
		}
	case []any:
		for _, e := range x {
			w.digests(e, depth+1)
		}
	}
}

func (w *walker) actor(a *ocsf.Actor) {
	if a == nil {
		return
	}
	w.user(a.User)
	w.process(a.Process)
	if s := a.Session; s != nil {
		w.identity(s.CredentialUID)
		w.strongIdentity(s.Issuer)
	}
}

func (w *walker) user(u *ocsf.User) {
	if u == nil {
		return
	}
	w.identity(u.UID)
	w.identity(u.UIDAlt)
	w.identity(u.Name)
	w.identity(u.EmailAddr)
}

func (w *walker) process(p *ocsf.Process) {
	for depth := 0; p != nil && depth < 8; depth++ {
		// The process's user is a local account (root, www-data), not a
		// cloud identity; it is left out.
		w.container(p.Container)
		p = p.ParentProcess
	}
}

func (w *walker) container(c *ocsf.Container) {
	if c == nil {
		return
	}
	w.containerID(c.UID)
	if u := strings.ToLower(strings.TrimSpace(c.PodUUID)); !junk(u) {
		w.add(Entity{Kind: KindContainer, Value: u})
	}
	if img := c.Image; img != nil {
		for _, s := range []string{img.UID, img.Name} {
			if d := digestRE.FindString(strings.ToLower(s)); d != "" {
				w.add(Entity{Kind: KindImage, Value: d})
			}
		}
	}
}

func (w *walker) containerID(s string) {
	s = strings.ToLower(strings.TrimSpace(s))
	if _, rest, ok := strings.Cut(s, "://"); ok {
		s = rest
	}
	if junk(s) {
		return
	}
	if hexRE.MatchString(s) && len(s) > 12 {
		s = s[:12]
	}
	w.add(Entity{Kind: KindContainer, Value: s})
}

func (w *walker) device(d *ocsf.Device) {
	if d == nil {
		return
	}
	w.hostOrIP(d.Hostname, KindHost)
	w.hostOrIP(d.InstanceUID, KindHost)
	if d.UID != "" {
		w.classify(d.UID, KindHost)
	}
	w.ip(d.IP)
	w.container(d.Container)
}

func (w *walker) endpoint(e *ocsf.NetworkEndpoint) {
	if e == nil {
		return
	}
	w.ip(e.IP)
	w.hostOrIP(e.Hostname, "")
	w.domain(e.Domain)
	w.hostOrIP(e.InstanceUID, KindHost)
}

func (w *walker) httpRequest(h *ocsf.HTTPRequest) {
	if h == nil {
		return
	}
	if h.URL != nil {
		w.url(h.URL)
	}
	for _, ip := range h.XForwardedFor {
		w.ip(ip)
	}
}

func (w *walker) url(u *ocsf.URL) {
	w.hostOrIP(u.Hostname, KindDomain)
	w.domain(u.Domain)
}

func (w *walker) evidence(e *ocsf.Evidence) {
	w.resources(e.Resources)
	w.actor(e.Actor)
	w.user(e.User)
	w.endpoint(e.SrcEndpoint)
	w.endpoint(e.DstEndpoint)
	w.device(e.Device)
	w.process(e.Process)
	w.container(e.Container)
	w.api(e.API)
	w.httpRequest(e.HTTPRequest)
	if e.URL != nil {
		w.url(e.URL)
	}
	if e.Query != nil {
		w.domain(e.Query.Hostname)
	}
	if e.TLS != nil {
		w.domain(e.TLS.SNI)
	}
}

func (w *walker) api(a *ocsf.API) {
	if a == nil {
		return
	}
	budget := 256
	if a.Request != nil {
		w.data("", a.Request.Data, 0, &budget)
	}
	if a.Response != nil {
		w.data("", a.Response.Data, 0, &budget)
	}
}

// data adds the entities in API request or response data: strings whose
// shape says what they are (ARNs, access key ids, instance ids, CVEs,
// digests) and a few keys whose name does (userName, bucketName,
// ipAddress). It stops after budget strings.
func (w *walker) data(key string, v any, depth int, budget *int) {
	if depth > 5 || *budget <= 0 {
		return
	}
	switch x := v.(type) {
	case string:
		*budget--
		w.dataString(strings.ToLower(key), x)
	case map[string]any:
		for k, e := range x {
			w.data(k, e, depth+1, budget)
		}
	case []any:
		for _, e := range x {
			w.data(key, e, depth+1, budget)
		}
	}
}

func (w *walker) dataString(key, s string) {
	s = strings.TrimSpace(s)
	switch {
	case strings.HasPrefix(s, "arn:"), keyIDRE.MatchString(s), cveRE.MatchString(strings.ToUpper(s)),
		instanceRE.MatchString(s), awsResourceIDRE.MatchString(s):
		w.classify(s, KindResource)
	case digestRE.MatchString(strings.ToLower(s)):
		w.classify(s, KindImage)
	case key == "username" || key == "accesskeyid":
		w.identity(s)
	case key == "bucketname" || key == "bucket":
		if bucketRE.MatchString(s) {
			p := w.partition
			if p == "" {
				p = "aws"
			}
			w.add(Entity{Kind: KindResource, Value: "arn:" + p + ":s3:::" + s})
		}
	case strings.HasSuffix(key, "ipaddress") || key == "ip":
		w.ip(s)
	}
}

func (w *walker) vulnerability(v *ocsf.Vulnerability) {
	if v.CVE != nil {
		w.cve(v.CVE.UID)
	}
	if v.Advisory != nil {
		if id := strings.ToUpper(v.Advisory.UID); cveRE.MatchString(id) {
			w.cve(id)
		}
	}
	for _, r := range v.RelatedVulns {
		if id := strings.ToUpper(r); cveRE.MatchString(id) {
			w.cve(id)
		}
	}
}

// Patterns of values whose shape says what they are.
var (
	digestRE        = regexp.MustCompile(`sha256:[0-9a-f]{64}`)
	hexRE           = regexp.MustCompile(`^[0-9a-f]+$`)
	cveRE           = regexp.MustCompile(`^CVE-\d{4}-\d{4,}$`)
	keyIDRE         = regexp.MustCompile(`^(?:AKIA|ASIA|AIDA|AROA|AGPA|ANPA|ANVA|AIPA|APKA|ABIA|ACCA)[A-Z0-9]{8,}$`)
	instanceRE      = regexp.MustCompile(`^i-[0-9a-f]{8}(?:[0-9a-f]{9})?$`)
	awsResourceIDRE = regexp.MustCompile(`^(?:snap|vol|sg|ami|vpc|subnet|eni|igw|nat|rtb|acl|lt|eipalloc|db|fs)-[0-9a-f]{8,17}$`)
	accountRE       = regexp.MustCompile(`^\d{12}$`)
	bucketRE        = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	emailRE         = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
	domainRE        = regexp.MustCompile(`^(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{1,63}$`)
)

// classify adds s as the kind its shape says, else as fallback.
func (w *walker) classify(s string, fallback Kind) {
	s = strings.TrimSpace(s)
	if junk(s) {
		return
	}
	switch {
	case strings.HasPrefix(strings.ToLower(s), "arn:"):
		w.arn(s)
		return
	case keyIDRE.MatchString(s):
		w.add(Entity{Kind: KindIdentity, Value: s})
		return
	case cveRE.MatchString(strings.ToUpper(s)):
		w.cve(s)
		return
	case instanceRE.MatchString(strings.ToLower(s)):
		w.add(Entity{Kind: KindHost, Value: strings.ToLower(s)})
		return
	case accountRE.MatchString(s):
		w.add(Entity{Kind: KindResource, Value: s, Common: true})
		return
	}
	if d := digestRE.FindString(strings.ToLower(s)); d != "" {
		w.add(Entity{Kind: KindImage, Value: d})
		if strings.HasPrefix(strings.ToLower(s), "sha256:") {
			return
		}
	}
	if _, ok := parseIP(s); ok {
		w.ip(s)
		return
	}
	switch fallback {
	case KindHost:
		w.hostOrIP(s, KindHost)
	case KindImage:
		// only the digest, added above
	default:
		w.add(Entity{Kind: fallback, Value: s})
	}
}

// arn adds an ARN: as an identity for IAM and STS principals, else as a
// resource; an ECR image ARN also gives its digest.
func (w *walker) arn(s string) {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) < 6 {
		return
	}
	for i := 0; i < 4; i++ {
		parts[i] = strings.ToLower(parts[i])
	}
	if parts[5] == "" || strings.ContainsAny(s, "<>") {
		return
	}
	norm := strings.Join(parts, ":")
	service, account, res := parts[2], parts[4], parts[5]
	switch {
	case service == "iam" && account == "aws":
		w.add(Entity{Kind: KindResource, Value: norm, Common: true}) // AWS-managed policy
	case service == "iam" && (strings.HasPrefix(res, "user/") || strings.HasPrefix(res, "role/") || res == "root"),
		service == "sts" && strings.HasPrefix(res, "federated-user/"):
		w.add(Entity{Kind: KindIdentity, Value: norm})
	case service == "sts" && strings.HasPrefix(res, "assumed-role/"):
		w.add(Entity{Kind: KindIdentity, Value: norm})
		if role, _, ok := strings.Cut(strings.TrimPrefix(res, "assumed-role/"), "/"); ok && role != "" {
			w.add(Entity{Kind: KindIdentity, Value: "arn:" + parts[1] + ":iam::" + account + ":role/" + role})
		}
	default:
		w.add(Entity{Kind: KindResource, Value: norm})
	}
	if d := digestRE.FindString(strings.ToLower(res)); d != "" {
		w.add(Entity{Kind: KindImage, Value: d})
	}
}

// identity adds a principal of any form.
func (w *walker) identity(s string) {
	s = strings.TrimSpace(s)
	if junk(s) {
		return
	}
	switch {
	case strings.HasPrefix(strings.ToLower(s), "arn:"):
		w.arn(s)
	case keyIDRE.MatchString(strings.ToUpper(s)):
		w.add(Entity{Kind: KindIdentity, Value: strings.ToUpper(s)})
	case emailRE.MatchString(s):
		w.add(Entity{Kind: KindIdentity, Value: strings.ToLower(s)})
	default:
		w.add(Entity{Kind: KindIdentity, Value: s, Common: commonUser(s)})
	}
}

// strongIdentity adds s only if its shape says it is a principal (an ARN,
// key id or e-mail), not an arbitrary owner id.
func (w *walker) strongIdentity(s string) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(strings.ToLower(s), "arn:") || keyIDRE.MatchString(strings.ToUpper(s)) || emailRE.MatchString(s) {
		w.identity(s)
	}
}

func commonUser(s string) bool {
	switch s {
	case "system:anonymous", "system:unauthenticated", "system:apiserver", "system:serviceaccount:kube-system:default":
		return true
	}
	return strings.HasPrefix(s, "system:kube-") || strings.HasPrefix(s, "eks:")
}

func (w *walker) cve(s string) {
	s = strings.ToUpper(strings.TrimSpace(s))
	if cveRE.MatchString(s) {
		w.add(Entity{Kind: KindCVE, Value: s})
	}
}

func (w *walker) ip(s string) {
	if a, ok := parseIP(s); ok {
		w.add(Entity{Kind: KindIP, Value: a.String()})
	}
}

// parseIP parses an address, with or without a port or zone, and rejects
// the unspecified, loopback and link-local-multicast addresses.
func parseIP(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		ap, err := netip.ParseAddrPort(s)
		if err != nil {
			return netip.Addr{}, false
		}
		a = ap.Addr()
	}
	a = a.Unmap().WithZone("")
	if !a.IsValid() || a.IsUnspecified() || a.IsLoopback() || a.IsMulticast() {
		return netip.Addr{}, false
	}
	return a, true
}

// hostOrIP adds s as an IP if it is one, else as kind. Kind "" means a name
// from a network endpoint: a domain if it has a dot, else a host.
func (w *walker) hostOrIP(s string, kind Kind) {
	s = strings.TrimSpace(s)
	if junk(s) {
		return
	}
	if _, ok := parseIP(s); ok {
		w.ip(s)
		return
	}
	name := strings.TrimSuffix(strings.ToLower(s), ".")
	if name == "localhost" || strings.HasSuffix(name, ".localhost") || name == "localhost.localdomain" {
		return
	}
	if kind == "" {
		kind = KindHost
		if strings.Contains(name, ".") {
			kind = KindDomain
		}
	}
	if kind == KindDomain {
		w.domain(name)
		return
	}
	w.add(Entity{Kind: KindHost, Value: name})
}

func (w *walker) domain(s string) {
	s = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(s)), ".")
	if junk(s) {
		return
	}
	if _, ok := parseIP(s); ok {
		w.ip(s)
		return
	}
	if !domainRE.MatchString(s) || s == "localhost" || strings.HasSuffix(s, ".localhost") {
		return
	}
	w.add(Entity{Kind: KindDomain, Value: s, Common: commonDomain(s)})
}

// commonDomain reports cloud provider API domains, which every cloud event
// names.
func commonDomain(s string) bool {
	for _, suffix := range []string{".amazonaws.com", ".amazonaws.com.cn", ".aliyuncs.com", ".googleapis.com", ".azure.com", ".windows.net"} {
		if strings.HasSuffix(s, suffix) || s == suffix[1:] {
			return true
		}
	}
	return false
}

// isPodType reports resource types of Kubernetes pods ("pods",
// "Kubernetes pods", "Pod").
func isPodType(typ string) bool {
	return typ == "pod" || typ == "pods" || strings.HasSuffix(typ, " pod") || strings.HasSuffix(typ, " pods")
}

func podValue(ns, name string) string {
	if ns == "" {
		return "pod/" + name
	}
	return "pod/" + ns + "/" + name
}

// junk reports values that name nothing.
func junk(s string) bool {
	switch strings.ToLower(s) {
	case "", "-", "--", "unknown", "n/a", "na", "none", "null", "nil", "undefined", "notset", "<none>", "0", "*", "localhost":
		return true
	}
	return isPlaceholder(s)
}

// isPlaceholder reports anonymised values such as "<resource_arn>".
func isPlaceholder(s string) bool {
	return strings.HasPrefix(s, "<") && strings.HasSuffix(s, ">")
}
