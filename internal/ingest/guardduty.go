package ingest

import (
	"context"
	"errors"
	"io"
	"math"
	"net/netip"
	"strconv"
	"strings"

	"github.com/canopy-sec/canopy/internal/ingest/jsonstream"
	"github.com/canopy-sec/canopy/internal/ocsf"
)

func init() {
	register(Format{
		Name:    "guardduty",
		Title:   "Amazon GuardDuty findings",
		Version: 1,
		Classes: []int{ocsf.ClassDetectionFinding},
		Notes: "Native GuardDuty findings as JSON lines, arrays, {\"Findings\":[…]} (SDK GetFindings, PascalCase keys are " +
			"normalized to camelCase) or EventBridge events (detail-type \"GuardDuty Finding\"). Every finding is a Detection " +
			"Finding: id → finding_info.uid, arn → uid_alt, type → analytic and types, severity 1.0-10.0 → low <4, medium <7, " +
			"high <9, critical ≥9 (the number stays in unmapped.severity), archived → status Archived, resource details → " +
			"resources, service.action (API call, network connection, port probe, DNS request, Kubernetes API call, RDS login) " +
			"→ evidences, a ThreatPurpose named like an ATT&CK tactic → finding_info.attacks. Sample findings " +
			"(additionalInfo.sample) are kept and labelled \"sample\" in metadata.labels.",
		Sniff:  sniffGuardDuty,
		Decode: decodeGuardDuty,
	})
}

func sniffGuardDuty(head []byte) int {
	switch {
	case sniffHas(head, `"aws.guardduty"`) && sniffHas(head, `GuardDuty Finding`):
		return 90 // EventBridge
	case sniffHas(head, `"detectorId"`, `"eventFirstSeen"`):
		return 85
	case sniffHas(head, `"DetectorId"`, `"EventFirstSeen"`):
		return 85 // SDK GetFindings
	}
	return 0
}

func decodeGuardDuty(ctx context.Context, r io.Reader, emit Emit) error {
	return decodeItems(ctx, "guardduty", r, []string{"Findings", "findings"}, emit, func(it jsonstream.Item, emit Emit) error {
		m, err := decodeMap(it.Raw)
		if err != nil {
			return err
		}
		m = fields(camelKeys(map[string]any(m)).(map[string]any))
		var wrapper map[string]any
		if d, ok := m["detail"].(map[string]any); ok && (asString(m["source"]) == "aws.guardduty" || strings.Contains(asString(m["detail-type"]), "GuardDuty")) {
			delete(m, "detail")
			wrapper, m = m, fields(d)
		}
		rec, err := mapGuardDuty(m)
		if err != nil {
			return err
		}
		rec.AddUnmapped("eventBridge", wrapper)
		return emit(rec)
	})
}

// camelKeys lower-cases the first letter of every PascalCase key, at every
// depth, so that SDK output (AccountId, Resource.InstanceDetails) reads like
// the wire format (accountId, resource.instanceDetails). Keys whose second
// letter is upper case too ("AWS::IAM::Role" in affectedResources) are data
// and stay as they are.
func camelKeys(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			if len(k) > 0 && k[0] >= 'A' && k[0] <= 'Z' && (len(k) == 1 || k[1] < 'A' || k[1] > 'Z') {
				k = string(k[0]+'a'-'A') + k[1:]
			}
			out[k] = camelKeys(e)
		}
		return out
	case []any:
		for i, e := range x {
			x[i] = camelKeys(e)
		}
		return x
	}
	return v
}

func mapGuardDuty(f fields) (*ocsf.DetectionFinding, error) {
	id := f.str("id")
	if id == "" {
		return nil, missing("id")
	}
	typ := f.str("type")
	if typ == "" {
		return nil, missing("type")
	}
	d := &ocsf.DetectionFinding{}
	svc := nested(f, "service")

	created, err := takeTime(f, "createdAt", "createdAt")
	if err != nil {
		return nil, err
	}
	updated, err := takeTime(f, "updatedAt", "updatedAt")
	if err != nil {
		return nil, err
	}
	first, err := takeTime(svc, "eventFirstSeen", "service.eventFirstSeen")
	if err != nil {
		return nil, err
	}
	last, err := takeTime(svc, "eventLastSeen", "service.eventLastSeen")
	if err != nil {
		return nil, err
	}
	activity := ocsf.ActivityCreate
	if created > 0 && updated > created {
		activity = ocsf.ActivityUpdate
	}
	d.SetClass(ocsf.ClassDetectionFinding, activity, "")
	d.Time = firstNonZero(updated, created, last, first)

	sevRaw := f.take("severity")
	if sevRaw != nil {
		sev, ok := asFloat(sevRaw)
		if !ok {
			return nil, &fieldError{"severity", errors.New("not a number")}
		}
		d.SetSeverity(ocsf.SeverityFromScore(sev), "")
		d.AddUnmapped("severity", sevRaw)
	}
	switch a := asString(svc.get("archived")); a {
	case "true", "false":
		svc.take("archived")
		if a == "true" {
			d.SetStatus(ocsf.FindingStatusArchived, "")
			break
		}
		fallthrough
	default:
		d.SetStatus(ocsf.FindingStatusNew, "")
	}
	if n, ok := asInt(svc.get("count")); ok && n > 0 && n <= math.MaxInt32 {
		svc.take("count")
		d.Count = int(n)
	}

	d.Metadata.Product = ocsf.Product{Name: "GuardDuty", VendorName: "AWS"}
	if fn := svc.str("featureName"); fn != "" {
		d.Metadata.Product.Feature = &ocsf.Feature{Name: fn}
	}
	if sn := asString(svc.get("serviceName")); sn == "guardduty" {
		svc.take("serviceName")
	}
	d.Metadata.LogVersion = f.str("schemaVersion")
	info := nested(svc, "additionalInfo")
	if isSample(info) {
		d.Metadata.Labels = []string{"sample"}
	}

	purpose, _, _ := strings.Cut(typ, ":")
	d.FindingInfo = ocsf.FindingInfo{
		UID:           id,
		UIDAlt:        f.str("arn"),
		Title:         f.str("title"),
		Desc:          f.str("description"),
		Types:         []string{typ},
		Analytic:      ocsf.NewAnalytic(ocsf.AnalyticTypeRule, typ, typ),
		CreatedTime:   created,
		ModifiedTime:  updated,
		FirstSeenTime: first,
		LastSeenTime:  last,
	}
	if t, ok := tacticFromName(purpose); ok {
		d.FindingInfo.Attacks = []ocsf.Attack{{Tactic: &t}}
	}

	account, region, partition := f.str("accountId"), f.str("region"), f.str("partition")
	cloud := &ocsf.Cloud{Provider: "AWS", Region: region, CloudPartition: partition}
	if account != "" {
		cloud.Account = &ocsf.Account{UID: account, TypeID: ocsf.AccountTypeAWS, Type: "AWS Account"}
	}
	d.SetCloud(cloud)

	role := svc.str("resourceRole")
	d.Resources = gdResources(nested(f, "resource"), role, region, partition)
	for i, r := range d.Resources {
		if r.UID != "" {
			d.AddObservable("resources["+strconv.Itoa(i)+"].uid", ocsf.ObservableResourceUID, "Resource UID", r.UID)
		}
	}
	d.Evidences = gdEvidences(nested(svc, "action"))
	for i, e := range d.Evidences {
		if e.SrcEndpoint != nil && e.SrcEndpoint.IP != "" {
			d.AddObservable("evidences["+strconv.Itoa(i)+"].src_endpoint.ip", ocsf.ObservableIP, "IP Address", e.SrcEndpoint.IP)
		}
		if e.DstEndpoint != nil && e.DstEndpoint.IP != "" {
			d.AddObservable("evidences["+strconv.Itoa(i)+"].dst_endpoint.ip", ocsf.ObservableIP, "IP Address", e.DstEndpoint.IP)
		}
	}
	for k, v := range pruneNested(f.rest()) {
		d.AddUnmapped(k, v)
	}
	return d, nil
}

// isSample reports (and takes) the sample marker of a GuardDuty
// additionalInfo: {"sample":true} on the wire, {"value":"{\"sample\":true}"} in SDK output.
func isSample(info fields) bool {
	if b, ok := info.get("sample").(bool); ok {
		info.take("sample")
		return b
	}
	if v := asString(info.get("value")); strings.Contains(v, `"sample":true`) {
		return true
	}
	return false
}

// gdResources maps resource.resourceType and every *Details object GuardDuty
// gives; what a details object holds beyond the identifiers goes into the
// resource's data.
func gdResources(res fields, role, region, partition string) []ocsf.ResourceDetails {
	if res == nil {
		return nil
	}
	rtype := res.str("resourceType")
	var out []ocsf.ResourceDetails
	add := func(r ocsf.ResourceDetails, data fields) {
		if r.UID == "" && r.Name == "" {
			return
		}
		r.Region, r.CloudPartition = region, partition
		switch strings.ToUpper(role) {
		case "TARGET":
			r.RoleID, r.Role = ocsf.ResourceRoleTarget, "Target"
		case "ACTOR":
			r.RoleID, r.Role = ocsf.ResourceRoleActor, "Actor"
		}
		if rest := pruneNested(data.rest()); len(rest) > 0 {
			r.Data = rest
		}
		out = append(out, r)
	}
	if x := res.obj("instanceDetails"); x != nil {
		r := ocsf.ResourceDetails{UID: x.str("instanceId"), Type: "AWS::EC2::Instance", Zone: x.str("availabilityZone")}
		r.Tags = gdTags(x)
		for _, t := range r.Tags {
			if t.Name == "Name" {
				r.Name = t.Value
			}
		}
		add(r, x)
	}
	if x := res.obj("accessKeyDetails"); x != nil {
		r := ocsf.ResourceDetails{UID: x.str("accessKeyId"), Type: "AWS::IAM::AccessKey"}
		u := &ocsf.User{UID: x.str("principalId"), Name: x.str("userName")}
		if t := x.str("userType"); t != "" {
			u.SetType(ocsf.UserTypeOther, t)
		}
		r.Name = u.Name
		if u.UID != "" || u.Name != "" {
			r.Owner = u
		}
		add(r, x)
	}
	if arr, ok := res.take("s3BucketDetails").([]any); ok {
		for _, e := range arr {
			m, ok := e.(map[string]any)
			if !ok {
				continue
			}
			x := fields(m)
			r := ocsf.ResourceDetails{UID: x.str("arn"), Name: x.str("name"), Type: "AWS::S3::Bucket"}
			if t, err := takeTime(x, "createdAt", ""); err == nil {
				r.CreatedTime = t
			}
			r.Tags = gdTags(x)
			if o := x.obj("owner"); o != nil && o.get("id") != nil {
				r.Owner = &ocsf.User{UID: o.str("id")}
			}
			add(r, x)
		}
	}
	simple := []struct{ key, uid, name, typ string }{
		{"eksClusterDetails", "arn", "name", "AWS::EKS::Cluster"},
		{"ecsClusterDetails", "arn", "name", "AWS::ECS::Cluster"},
		{"containerDetails", "id", "name", "Container"},
		{"rdsDbInstanceDetails", "dbInstanceArn", "dbInstanceIdentifier", "AWS::RDS::DBInstance"},
		{"lambdaDetails", "functionArn", "functionName", "AWS::Lambda::Function"},
	}
	for _, s := range simple {
		x := res.obj(s.key)
		if x == nil {
			continue
		}
		r := ocsf.ResourceDetails{UID: x.str(s.uid), Name: x.str(s.name), Type: s.typ}
		if t, err := takeTime(x, "createdAt", ""); err == nil {
			r.CreatedTime = t
		}
		r.Tags = gdTags(x)
		add(r, x)
	}
	if x := nested(res, "kubernetesDetails").obj("kubernetesWorkloadDetails"); x != nil {
		r := ocsf.ResourceDetails{UID: x.str("uid"), Name: x.str("name"), Namespace: x.str("namespace"), Type: "Kubernetes " + firstNonEmpty(x.str("type"), "workload")}
		add(r, x)
	}
	if len(out) == 0 && rtype != "" {
		res["resourceType"] = rtype // nothing mapped: keep the type visible in unmapped
	}
	return out
}

// gdTags takes a GuardDuty tags array ([{key, value}]).
func gdTags(x fields) []ocsf.KeyValue {
	arr, ok := x.take("tags").([]any)
	if !ok {
		return nil
	}
	var out []ocsf.KeyValue
	for _, e := range arr {
		m, ok := e.(map[string]any)
		if !ok {
			continue
		}
		if k := asString(m["key"]); k != "" {
			out = append(out, ocsf.KeyValue{Name: k, Value: asString(m["value"])})
		}
	}
	return out
}

// gdEvidences maps service.action; what is not mapped stays in it (and so in unmapped).
func gdEvidences(action fields) []ocsf.Evidence {
	if action == nil {
		return nil
	}
	var out []ocsf.Evidence
	add := func(e ocsf.Evidence) {
		if e.API != nil || e.SrcEndpoint != nil || e.DstEndpoint != nil || e.Query != nil {
			out = append(out, e)
		}
	}
	if a := nested(action, "awsApiCallAction"); a != nil {
		e := ocsf.Evidence{Name: "AWS_API_CALL"}
		if op := a.str("api"); op != "" {
			e.API = &ocsf.API{Operation: op}
			if s := a.str("serviceName"); s != "" {
				e.API.Service = &ocsf.Service{Name: s}
			}
			if ec := a.str("errorCode"); ec != "" {
				e.API.Response = &ocsf.Response{Error: ec}
			}
		}
		e.SrcEndpoint = gdRemote(a)
		if e.SrcEndpoint == nil {
			if dom := asString(a.get("domainDetails.domain")); dom != "" {
				a.take("domainDetails.domain")
				e.SrcEndpoint = &ocsf.NetworkEndpoint{Domain: dom}
			}
		}
		add(e)
	}
	if a := nested(action, "networkConnectionAction"); a != nil {
		e := ocsf.Evidence{Name: "NETWORK_CONNECTION"}
		remote := gdRemote(a)
		if remote != nil {
			remote.Port = gdPort(a, "remotePortDetails")
		}
		local := gdLocal(a, "localIpDetails", "localPortDetails")
		ci := &ocsf.ConnectionInfo{ProtocolName: strings.ToLower(a.str("protocol"))}
		switch strings.ToUpper(asString(a.get("connectionDirection"))) {
		case "INBOUND":
			a.take("connectionDirection")
			ci.SetDirection(ocsf.DirectionInbound, "")
			e.SrcEndpoint, e.DstEndpoint = remote, local
		case "OUTBOUND":
			a.take("connectionDirection")
			ci.SetDirection(ocsf.DirectionOutbound, "")
			e.SrcEndpoint, e.DstEndpoint = local, remote
		default:
			e.SrcEndpoint, e.DstEndpoint = remote, local
		}
		if ci.ProtocolName != "" || ci.DirectionID != 0 {
			e.ConnectionInfo = ci
		}
		add(e)
	}
	if a := nested(action, "portProbeAction"); a != nil {
		if arr, ok := a.get("portProbeDetails").([]any); ok {
			for _, el := range arr {
				m, ok := el.(map[string]any)
				if !ok {
					continue
				}
				p := fields(m)
				e := ocsf.Evidence{Name: "PORT_PROBE", SrcEndpoint: gdRemote(p), DstEndpoint: gdLocal(p, "localIpDetails", "localPortDetails")}
				add(e)
			}
		}
	}
	if a := nested(action, "dnsRequestAction"); a != nil {
		if dom := a.str("domain"); dom != "" {
			add(ocsf.Evidence{Name: "DNS_REQUEST", Query: &ocsf.DNSQuery{Hostname: dom}})
		}
	}
	if a := nested(action, "kubernetesApiCallAction"); a != nil {
		e := ocsf.Evidence{Name: "KUBERNETES_API_CALL"}
		if verb := a.str("verb"); verb != "" {
			e.API = &ocsf.API{Operation: verb}
			if code, ok := a.int("statusCode"); ok {
				e.API.Response = &ocsf.Response{Code: int(code)}
			}
		}
		e.SrcEndpoint = gdRemote(a)
		if e.SrcEndpoint == nil {
			if ips, ok := a.get("sourceIps").([]any); ok && len(ips) == 1 {
				if ip := asString(ips[0]); validIP(ip) {
					a.take("sourceIps")
					e.SrcEndpoint = &ocsf.NetworkEndpoint{IP: ip}
				}
			}
		}
		add(e)
	}
	if a := nested(action, "rdsLoginAttemptAction"); a != nil {
		add(ocsf.Evidence{Name: "RDS_LOGIN_ATTEMPT", SrcEndpoint: gdRemote(a)})
	}
	if len(out) > 0 {
		action.take("actionType")
	}
	return out
}

// gdRemote maps remoteIpDetails (ip, geolocation, AS) to an endpoint, or nil
// without a valid IP.
func gdRemote(a fields) *ocsf.NetworkEndpoint {
	rd := nested(a, "remoteIpDetails")
	if rd == nil {
		return nil
	}
	ip := asString(rd.get("ipAddressV4"))
	key := "ipAddressV4"
	if !validIP(ip) {
		ip, key = asString(rd.get("ipAddressV6")), "ipAddressV6"
	}
	if !validIP(ip) {
		return nil
	}
	rd.take(key)
	ep := &ocsf.NetworkEndpoint{IP: ip}
	loc := &ocsf.Location{City: asString(rd.take("city.cityName")), Country: asString(rd.take("country.countryCode"))}
	if lat, ok := asFloat(rd.get("geoLocation.lat")); ok {
		if lon, ok := asFloat(rd.get("geoLocation.lon")); ok {
			rd.take("geoLocation.lat")
			rd.take("geoLocation.lon")
			loc.Lat, loc.Long = lat, lon
		}
	}
	if loc.City != "" || loc.Country != "" {
		ep.Location = loc
	} else if loc.Lat != 0 || loc.Long != 0 {
		rd["geoLocation"] = map[string]any{"lat": loc.Lat, "lon": loc.Long} // location needs a city or country
	}
	if asn, ok := asInt(rd.get("organization.asn")); ok {
		rd.take("organization.asn")
		ep.AS = &ocsf.AutonomousSystem{Number: int(asn), Name: asString(rd.take("organization.asnOrg"))}
	}
	ep.ISP = asString(rd.take("organization.isp"))
	return ep
}

// gdLocal maps localIpDetails and localPortDetails to an endpoint, or nil without a valid IP.
func gdLocal(a fields, ipKey, portKey string) *ocsf.NetworkEndpoint {
	ip := asString(a.get(ipKey + ".ipAddressV4"))
	if !validIP(ip) {
		return nil
	}
	a.take(ipKey + ".ipAddressV4")
	return &ocsf.NetworkEndpoint{IP: ip, Port: gdPort(a, portKey)}
}

func gdPort(a fields, key string) int {
	p, ok := asInt(a.get(key + ".port"))
	if !ok || p <= 0 || p > 65535 {
		return 0
	}
	a.take(key + ".port")
	return int(p)
}

// takeTime takes a timestamp field as epoch milliseconds (0 when absent);
// an error names the field as errField.
func takeTime(f fields, key, errField string) (int64, error) {
	v := f.take(key)
	if v == nil || v == "" {
		return 0, nil
	}
	t, err := anyTime(v)
	if err != nil {
		f[key] = v // keep it for unmapped when the caller tolerates the error
		return 0, &fieldError{errField, err}
	}
	return ocsf.Millis(t), nil
}

// nested returns the object at a dotted path without taking it, so that
// what its mapping leaves stays in place for unmapped; nil when absent.
func nested(f fields, path string) fields {
	if f == nil {
		return nil
	}
	m, _ := f.get(path).(map[string]any)
	return fields(m)
}

// pruneNested drops empty objects and arrays, and empty objects inside
// arrays, that mapping left behind.
func pruneNested(m map[string]any) map[string]any {
	for k, v := range m {
		if pruneValue(v) {
			delete(m, k)
		}
	}
	return m
}

// pruneValue prunes v in place and reports whether it is now empty.
func pruneValue(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case map[string]any:
		pruneNested(x)
		return len(x) == 0
	case []any:
		if len(x) == 0 {
			return true
		}
		empty := true
		for _, e := range x {
			if !pruneValue(e) {
				empty = false
			}
		}
		return empty
	}
	return false
}

func firstNonZero(vs ...int64) int64 {
	for _, v := range vs {
		if v != 0 {
			return v
		}
	}
	return 0
}

func validIP(s string) bool {
	_, err := netip.ParseAddr(s)
	return err == nil
}

// tacticFromName returns the ATT&CK Enterprise tactic named name, in any of
// the spellings sources use ("PrivilegeEscalation", "privilege-escalation",
// "Privilege Escalation", "PRIVILEGE_ESCALATION", "mitre_privilege_escalation").
// Ids and names are those of shared/corpus/mitre-attack/enterprise-tactics.csv.
func tacticFromName(name string) (ocsf.Tactic, bool) {
	n := strings.ToLower(name)
	n = strings.TrimPrefix(n, "mitre_")
	n = strings.NewReplacer("_", "", "-", "", " ", "").Replace(n)
	var id, caption string
	switch n {
	case "initialaccess":
		id, caption = "TA0001", "Initial Access"
	case "execution":
		id, caption = "TA0002", "Execution"
	case "persistence":
		id, caption = "TA0003", "Persistence"
	case "privilegeescalation":
		id, caption = "TA0004", "Privilege Escalation"
	case "defenseevasion":
		id, caption = "TA0005", "Defense Evasion"
	case "credentialaccess":
		id, caption = "TA0006", "Credential Access"
	case "discovery":
		id, caption = "TA0007", "Discovery"
	case "lateralmovement":
		id, caption = "TA0008", "Lateral Movement"
	case "collection":
		id, caption = "TA0009", "Collection"
	case "exfiltration":
		id, caption = "TA0010", "Exfiltration"
	case "commandandcontrol":
		id, caption = "TA0011", "Command and Control"
	case "impact":
		id, caption = "TA0040", "Impact"
	case "resourcedevelopment":
		id, caption = "TA0042", "Resource Development"
	case "reconnaissance":
		id, caption = "TA0043", "Reconnaissance"
	default:
		return ocsf.Tactic{}, false
	}
	return ocsf.Tactic{UID: id, Name: caption}, true
}
