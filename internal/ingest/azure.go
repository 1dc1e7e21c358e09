package ingest

import (
	"context"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/canopy-sec/canopy/internal/ocsf"
)

func init() {
	register(Format{
		Name:    "azure-activity",
		Title:   "Azure Monitor activity log and Entra ID audit / sign-in logs (JSON)",
		Version: 1,
		Classes: []int{ocsf.ClassAPIActivity, ocsf.ClassAuthentication, ocsf.ClassDetectionFinding},
		Notes: "Records as exported by diagnostic settings ({\"records\":[…]} blobs, Event Hub, JSON Lines) and the " +
			"REST / az monitor activity-log list shape (value/localizedValue objects, eventTimestamp, caller, " +
			"claims; bare array or {\"value\":[…]}). Category Security (Defender for Cloud alerts) → Detection " +
			"Finding 2004 (finding uid = the alert's resourceId, else eventDataId); the Entra *SignInLogs " +
			"categories → Authentication 3002; everything else (Administrative, Policy, Recommendation, " +
			"Entra AuditLogs …) → API Activity 6003. Activity from the operationName suffix: /write → Create " +
			"when properties.statusCode or resultSignature says Created, else Update (ARM writes are PUTs " +
			"that create or update); /read → Read; /delete → Delete; /action → Other; other names by their " +
			"first verb or Entra operationType. original_event_uid = eventDataId, else the Entra properties.id, " +
			"else correlationId|operationName|resultType|resourceId|time, else the record's hash. resultType " +
			"Success/Succeeded → Success, Failure/Failed → Failure, Start/Accept/Active … → Other. level " +
			"(word, or Entra's 1–5 number) on a log-level ladder: Informational/Verbose → Informational, " +
			"Warning Low, Error Medium, Critical High. cloud: Azure, account = subscription (from resourceId), " +
			"org = tenantId, region = location (where the event was processed; Entra records' location is a " +
			"country and stays in unmapped). Actor from identity claims " +
			"(upn/name/e-mail, objectidentifier, appid), authorization evidence, caller or Entra initiatedBy; " +
			"records naming no caller get actor.user.name \"unknown\" and no caller address " +
			"src_endpoint.name \"unknown\" (both required by API Activity). localizedValue copies are dropped.",
		Sniff:  sniffAzureActivity,
		Decode: decodeAzureActivity,
	})
}

func sniffAzureActivity(head []byte) int {
	switch {
	case sniffHas(head, `"kube-audit"`):
		return 0 // AKS Kubernetes audit resource logs
	case sniffHas(head, `"decoder"`, `"rule"`) || sniffHas(head, `"full_log"`):
		return 0 // Wazuh alerts about Azure logs
	case sniffHas(head, `"operationName"`, `"callerIpAddress"`):
		return 80
	case sniffHas(head, `"operationName"`, `"eventDataId"`):
		return 80
	case sniffHas(head, `"operationName"`, `"resourceId"`, `"correlationId"`):
		return 70
	case sniffHas(head, `"operationName"`, `"resourceId"`, `"resultType"`):
		return 60
	}
	return 0
}

func decodeAzureActivity(ctx context.Context, r io.Reader, emit Emit) error {
	return decodeItems(ctx, "azure-activity", r, []string{"records", "value"}, emit, eachRecord(mapAzureActivity))
}

// azureRecord reads one record of either shape.
type azureRecord struct {
	f     fields
	props fields // properties
	ev    fields // properties.eventProperties, when nested; else props
}

// val takes a scalar, or the value of a {"value":…, "localizedValue":…}
// object (REST shape), by key in any letter case.
func (a azureRecord) val(key string) string {
	k := keyFold(a.f, key)
	if k == "" {
		return ""
	}
	switch v := a.f[k].(type) {
	case map[string]any:
		if x, ok := v["value"]; ok {
			delete(a.f, k)
			return asString(x)
		}
		return ""
	case []any:
		return ""
	}
	return a.f.str(k)
}

// get returns a getter for val.
func (a azureRecord) get(key string) func() string { return func() string { return a.val(key) } }

// propGet returns a getter for prop.
func (a azureRecord) propGet(key string) func() string { return func() string { return a.prop(key) } }

// prop takes a scalar property, from properties.eventProperties first.
func (a azureRecord) prop(key string) string {
	if v := strFold(a.ev, key); v != "" {
		return v
	}
	return strFold(a.props, key)
}

func mapAzureActivity(raw []byte) (ocsf.Record, error) {
	f, err := decodeMap(raw)
	if err != nil {
		return nil, err
	}
	a := azureRecord{f: f, props: subFold(f, "properties")}
	a.ev = a.props
	if ev := subFold(a.props, "eventProperties"); ev != nil {
		a.ev = ev
	}
	op := a.val("operationName")
	if op == "" {
		return nil, missing("operationName")
	}
	var t, submitted time.Time
	for _, k := range []string{"time", "eventTimestamp"} {
		if s := a.val(k); s != "" {
			if t, err = parseTime(s); err != nil {
				return nil, &fieldError{k, err}
			}
			break
		}
	}
	if s := a.val("submissionTimestamp"); s != "" {
		if submitted, err = parseTime(s); err != nil {
			return nil, &fieldError{"submissionTimestamp", err}
		}
	}
	category := a.val("category")
	resourceID := a.val("resourceId")
	resultType := firstOf(a.get("resultType"), a.get("status"))
	resultSig := firstOf(a.get("resultSignature"), a.get("subStatus"))
	resultDesc := firstOf(a.get("resultDescription"), a.get("description"))
	correlationID := a.val("correlationId")
	location := a.val("location")
	tenantID := a.val("tenantId")
	eventDataID := a.val("eventDataId")
	sev := azureSeverity(a.val("level"))
	lcat := strings.ToLower(category)
	entra := strings.Contains(strings.ToLower(resourceID), "/providers/microsoft.aadiam") || lcat == "auditlogs" || strings.HasSuffix(lcat, "signinlogs")

	subscription := a.val("subscriptionId")
	if subscription == "" {
		subscription = azureSubscription(resourceID)
	}
	cloud := &ocsf.Cloud{Provider: "Azure", Region: location}
	if entra {
		// Entra's location is the caller's country, not an Azure region.
		cloud.Region = ""
		if location != "" {
			f["location"] = location
		}
	}
	if subscription != "" {
		cloud.Account = &ocsf.Account{UID: subscription, TypeID: 13, Type: "Azure Subscription"}
	}
	if tenantID != "" {
		cloud.Org = &ocsf.Organization{UID: tenantID}
	}

	entraID := ""
	if entra {
		entraID = strFold(a.props, "id")
	}
	uid := firstNonEmpty(eventDataID, entraID)
	if uid == "" && correlationID != "" {
		ts := ""
		if !t.IsZero() {
			ts = t.Format(time.RFC3339Nano)
		}
		uid = strings.Join([]string{correlationID, op, resultType, resourceID, ts}, "|")
	}
	if uid == "" {
		uid = contentID(raw)
	}
	product := ocsf.Product{Name: "Azure Monitor Activity Log", VendorName: "Microsoft"}
	if entra {
		product.Name = "Microsoft Entra ID"
	}
	base := func(b *ocsf.Base) {
		b.SetSeverity(sev, "")
		b.SetTime(t)
		b.Metadata.Product = product
		b.Metadata.OriginalEventUID = uid
		b.Metadata.CorrelationUID = correlationID
		b.Metadata.LogName = category
		b.Metadata.LoggedTime = ocsf.Millis(submitted)
		b.SetCloud(cloud)
	}

	switch {
	case lcat == "security":
		return a.detection(op, resourceID, eventDataID, uid, resultType, resultDesc, base)
	case strings.HasSuffix(lcat, "signinlogs"):
		return a.signIn(op, resultType, resultSig, resultDesc, base)
	}

	rec := &ocsf.APIActivity{}
	rec.SetClass(ocsf.ClassAPIActivity, azureActivity(op, a.props, resultSig), op)
	base(&rec.Base)
	st, word := azureStatus(firstOf(lit(resultType), from(a.props, "result")))
	rec.SetStatus(st, word)
	rec.StatusCode = resultSig
	rec.StatusDetail = firstOf(lit(resultDesc), from(a.props, "resultReason"))
	actor, ip := a.actor()
	rec.Actor = actor
	httpReq := subFold(f, "httpRequest") // REST shape
	rec.SrcEndpoint = callerEndpoint(firstOf(a.get("callerIpAddress"), from(httpReq, "clientIpAddress"), lit(ip)))
	rec.API = ocsf.API{Operation: op, Version: a.val("operationVersion")}
	svc := ""
	if i := strings.IndexByte(op, '/'); i > 0 && strings.Contains(op[:i], ".") {
		svc = op[:i]
	}
	if svc = firstOf(lit(svc), from(a.props, "loggedByService"), a.get("resourceProviderName")); svc != "" {
		rec.API.Service = &ocsf.Service{Name: svc}
	}
	if id := strFold(a.props, "serviceRequestId"); id != "" {
		rec.API.Request = &ocsf.Request{UID: id}
	}
	hr := ocsf.HTTPRequest{UserAgent: strFold(a.props, "userAgent"), HTTPMethod: strings.ToUpper(strFold(httpReq, "method")), UID: strFold(httpReq, "clientRequestId")}
	if hr.UserAgent != "" || hr.HTTPMethod != "" || hr.UID != "" {
		rec.HTTPRequest = &hr
	}
	if resourceID != "" {
		rd := azureResource(resourceID)
		rd.RoleID, rd.Role = ocsf.ResourceRoleTarget, "Target"
		rec.Resources = append(rec.Resources, rd)
	}
	rec.Resources = append(rec.Resources, azureTargetResources(a.props)...)
	if knownUser(rec.Actor.User) {
		rec.AddObservable("actor.user.name", ocsf.ObservableUserName, "User Name", rec.Actor.User.Name)
	}
	rec.AddObservable("src_endpoint.ip", ocsf.ObservableIP, "IP Address", rec.SrcEndpoint.IP)
	if len(rec.Resources) > 0 {
		rec.AddObservable("resources[0].uid", ocsf.ObservableResourceUID, "Resource UID", rec.Resources[0].UID)
	}
	addRest(&rec.Base, f)
	return rec, nil
}

// actor finds who made the call: identity claims and authorization
// evidence (diagnostic export), claims/authorization/caller (REST), or
// Entra's initiatedBy and identity string. It also returns an IP address
// the identity carries. Claims are read in place and removed only when
// their value ends up in the actor, so the others reach unmapped.
func (a azureRecord) actor() (ocsf.Actor, string) {
	var actor ocsf.Actor
	identity := subFold(a.f, "identity")
	claims, authz := subFold(identity, "claims"), subFold(identity, "authorization")
	if claims == nil {
		claims = subFold(a.f, "claims")
	}
	if authz == nil {
		authz = subFold(a.f, "authorization")
	}
	type peeked struct {
		m        fields
		key, val string
	}
	var seen []peeked
	peek := func(m fields, keys ...string) string {
		for _, k := range keys {
			if kk := keyFold(m, k); kk != "" {
				if v, ok := m[kk].(string); ok && v != "" {
					seen = append(seen, peeked{m, kk, v})
					return v
				}
			}
		}
		return ""
	}
	const xmlsoap = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/"
	const ms = "http://schemas.microsoft.com/identity/claims/"
	upn := peek(claims, xmlsoap+"upn", "upn")
	email := peek(claims, xmlsoap+"emailaddress", "email")
	name := peek(claims, "name", xmlsoap+"name")
	oid := peek(claims, ms+"objectidentifier", "oid")
	given, surname := peek(claims, xmlsoap+"givenname", "given_name"), peek(claims, xmlsoap+"surname", "family_name")
	appID := peek(claims, "appid", "azp")
	idtyp, _ := claims[keyFold(claims, "idtyp")].(string)
	ip, _ := claims[keyFold(claims, "ipaddr")].(string)
	evidence := subFold(authz, "evidence")
	principalID := peek(evidence, "principalId")
	principalType, _ := evidence[keyFold(evidence, "principalType")].(string)
	caller := peek(a.f, "caller")

	u := &ocsf.User{Name: firstNonEmpty(upn, email, caller, name), UID: firstNonEmpty(oid, principalID)}
	if full := strings.TrimSpace(given + " " + surname); full != "" {
		u.FullName = full
	} else if name != "" && name != u.Name {
		u.FullName = name
	}
	if e := firstNonEmpty(upn, email, caller); isEmail(e) {
		u.EmailAddr = e
	}
	switch {
	case strings.EqualFold(principalType, "ServicePrincipal") || idtyp == "app":
		u.SetType(ocsf.UserTypeService, "")
	case strings.EqualFold(principalType, "User") || idtyp == "user":
		u.SetType(ocsf.UserTypeUser, "")
	}
	actor.AppUID = appID

	// Entra audit logs: properties.initiatedBy.{user, app}.
	ib := subFold(a.props, "initiatedBy")
	if ibu := subFold(ib, "user"); ibu != nil {
		upn, display, id := peek(ibu, "userPrincipalName"), peek(ibu, "displayName"), peek(ibu, "id")
		if u.Name == "" {
			u.Name, u.DisplayName = firstNonEmpty(upn, display), display
			if isEmail(upn) {
				u.EmailAddr = upn
			}
		}
		u.UID = firstNonEmpty(u.UID, id)
		if ip == "" {
			ip = strFold(ibu, "ipAddress")
		}
	}
	if app := subFold(ib, "app"); app != nil {
		actor.AppName = firstNonEmpty(peek(app, "displayName"), peek(app, "servicePrincipalName"))
		actor.AppUID = firstNonEmpty(actor.AppUID, peek(app, "appId"), peek(app, "servicePrincipalId"))
	}
	if s := peek(a.f, "identity"); s != "" && u.Name == "" && u.UID == "" && actor.AppName == "" && actor.AppUID == "" {
		u.Name = s
	}
	used := map[string]bool{u.Name: true, u.UID: true, u.EmailAddr: true, u.FullName: true, u.DisplayName: true, actor.AppName: true, actor.AppUID: true}
	if u.FullName == strings.TrimSpace(given+" "+surname) {
		used[given], used[surname] = true, true
	}
	for _, p := range seen {
		if used[p.val] {
			delete(p.m, p.key)
		}
	}
	if u.Name != "" || u.UID != "" {
		actor.User = u
	}
	if actor.User == nil && actor.AppName == "" && actor.AppUID == "" {
		actor.User = unknownCaller()
	}
	if ip == "" {
		ip = strFold(a.props, "ipAddress")
	}
	return actor, ip
}

func (a azureRecord) detection(op, resourceID, eventDataID, uid, resultType, desc string, base func(*ocsf.Base)) (ocsf.Record, error) {
	d := &ocsf.DetectionFinding{}
	act, status := ocsf.ActivityCreate, ocsf.FindingStatusNew
	switch strings.ToLower(strings.ReplaceAll(resultType, " ", "")) {
	case "resolved":
		act, status = ocsf.ActivityClose, ocsf.FindingStatusResolved
	case "dismissed":
		act, status = ocsf.ActivityClose, ocsf.FindingStatusSuppressed
	case "inprogress":
		act, status = ocsf.ActivityUpdate, ocsf.FindingStatusInProgress
	}
	d.SetClass(ocsf.ClassDetectionFinding, act, "")
	base(&d.Base)
	d.SetStatus(status, "")
	if sev := ocsf.SeverityFromLabel(a.prop("severity")); sev != ocsf.SeverityUnknown {
		d.SetSeverity(sev, "")
	}
	title := firstOf(a.propGet("eventName"), a.propGet("alertDisplayName"), a.get("eventName"), lit(desc), lit(op))
	findingUID := uid
	switch {
	case strings.Contains(strings.ToLower(resourceID), "/alerts/"):
		findingUID = resourceID
	case eventDataID == "":
		findingUID = firstOf(a.propGet("alertId"), a.propGet("systemAlertId"), lit(uid))
	}
	d.FindingInfo = ocsf.FindingInfo{
		UID:    findingUID,
		Title:  title,
		Desc:   firstOf(lit(desc), a.propGet("alertDescription")),
		Types:  []string{"Security"},
		SrcURL: a.prop("alertUri"),
	}
	if typ := a.prop("alertType"); typ != "" {
		d.FindingInfo.Analytic = ocsf.NewAnalytic(ocsf.AnalyticTypeRule, typ, title)
	}
	if intent := a.prop("intent"); intent != "" {
		for _, tac := range strings.Split(intent, ",") {
			if tac = strings.TrimSpace(tac); tac != "" && !strings.EqualFold(tac, "Unknown") {
				d.FindingInfo.Attacks = append(d.FindingInfo.Attacks, ocsf.Attack{Tactic: &ocsf.Tactic{Name: tac}})
			}
		}
	}
	if rem := a.prop("remediationSteps"); rem != "" {
		d.Remediation = &ocsf.Remediation{Desc: rem}
	}
	if ent := a.prop("compromisedEntity"); ent != "" {
		d.Resources = append(d.Resources, ocsf.ResourceDetails{Name: ent, Type: a.prop("resourceType"), RoleID: ocsf.ResourceRoleTarget, Role: "Target"})
	}
	if resourceID != "" {
		rd := azureResource(resourceID)
		rd.RoleID, rd.Role = ocsf.ResourceRoleRelated, "Related"
		if len(d.Resources) == 0 {
			rd.RoleID, rd.Role = ocsf.ResourceRoleTarget, "Target"
		}
		d.Resources = append(d.Resources, rd)
	}
	d.IsAlert = boolPtr(true)
	d.StatusCode = resultType
	if ip := a.val("callerIpAddress"); isIP(ip) {
		d.Evidences = []ocsf.Evidence{{SrcEndpoint: &ocsf.NetworkEndpoint{IP: ip}}}
	}
	if len(d.Resources) > 0 {
		d.AddObservable("resources[0].uid", ocsf.ObservableResourceUID, "Resource UID", d.Resources[0].UID)
	}
	addRest(&d.Base, a.f)
	return d, nil
}

func (a azureRecord) signIn(op, resultType, resultSig, resultDesc string, base func(*ocsf.Base)) (ocsf.Record, error) {
	rec := &ocsf.Authentication{}
	rec.SetClass(ocsf.ClassAuthentication, 1, "")
	base(&rec.Base)
	p := a.props
	upn, userID, display := strFold(p, "userPrincipalName"), strFold(p, "userId"), strFold(p, "userDisplayName")
	rec.User = ocsf.User{Name: firstNonEmpty(upn, display), UID: userID, DisplayName: display}
	if isEmail(upn) {
		rec.User.EmailAddr = upn
	}
	if s, ok := a.f[keyFold(a.f, "identity")].(string); ok && s != "" {
		switch {
		case rec.User.Name == "" && rec.User.UID == "":
			rec.User.Name = s
			delete(a.f, keyFold(a.f, "identity"))
		case s == rec.User.Name || s == rec.User.DisplayName:
			delete(a.f, keyFold(a.f, "identity"))
		}
	}
	if rec.User.Name == "" && rec.User.UID == "" {
		rec.User = *unknownCaller()
	}
	// The outcome: properties.status.errorCode (0 = success), else resultType.
	st := subFold(p, "status")
	code, hasCode := asInt(takeFold(st, "errorCode"))
	reason := strFold(st, "failureReason")
	if !hasCode {
		code, hasCode = asInt(resultType)
	}
	switch {
	case hasCode && code == 0:
		rec.SetStatus(ocsf.StatusSuccess, "")
	case hasCode:
		rec.SetStatus(ocsf.StatusFailure, "")
		rec.StatusCode = strconv.FormatInt(code, 10)
	default:
		id, word := azureStatus(resultType)
		rec.SetStatus(id, word)
		rec.StatusCode = resultSig
	}
	rec.StatusDetail = firstNonEmpty(reason, resultDesc)
	if reason != "" && resultDesc != "" && reason != resultDesc {
		rec.AddUnmapped("resultDescription", resultDesc)
	}
	src := callerEndpoint(firstOf(from(p, "ipAddress"), a.get("callerIpAddress")))
	if k := keyFold(a.f, "callerIpAddress"); k != "" && a.f[k] == src.IP {
		delete(a.f, k)
	}
	if loc := subFold(p, "location"); loc != nil {
		l := &ocsf.Location{City: strFold(loc, "city"), Region: strFold(loc, "state"), Country: strFold(loc, "countryOrRegion")}
		if geo := subFold(loc, "geoCoordinates"); geo != nil {
			l.Lat, _ = asFloat(takeFold(geo, "latitude"))
			l.Long, _ = asFloat(takeFold(geo, "longitude"))
		}
		if *l != (ocsf.Location{}) {
			src.Location = l
		}
	}
	rec.SrcEndpoint = &src
	rec.Service = &ocsf.Service{Name: strFold(p, "resourceDisplayName"), UID: strFold(p, "resourceId")}
	appName, appID := strFold(p, "appDisplayName"), strFold(p, "appId")
	if appName != "" || appID != "" {
		rec.Actor = &ocsf.Actor{AppName: appName, AppUID: appID}
	}
	if rec.Service.Name == "" && rec.Service.UID == "" {
		rec.Service.Name = firstNonEmpty(appName, appID, "unknown")
	}
	switch strings.ToLower(strFold(p, "authenticationRequirement")) {
	case "multifactorauthentication":
		rec.IsMFA = boolPtr(true)
	case "singlefactorauthentication":
		rec.IsMFA = boolPtr(false)
	}
	if ua := strFold(p, "userAgent"); ua != "" {
		rec.HTTPRequest = &ocsf.HTTPRequest{UserAgent: ua}
	}
	rec.API = &ocsf.API{Operation: op, Version: a.val("operationVersion")}
	if knownUser(&rec.User) {
		rec.AddObservable("user.name", ocsf.ObservableUserName, "User Name", rec.User.Name)
	}
	rec.AddObservable("src_endpoint.ip", ocsf.ObservableIP, "IP Address", src.IP)
	addRest(&rec.Base, a.f)
	return rec, nil
}

// azureActivity maps an operation to an API Activity activity.
func azureActivity(op string, props fields, resultSig string) int {
	lo := strings.ToLower(op)
	switch {
	case strings.HasSuffix(lo, "/write"):
		sc, _ := props[keyFold(props, "statusCode")].(string)
		if strings.EqualFold(sc, "Created") || strings.Contains(strings.ToLower(resultSig), "created") || resultSig == "201" {
			return apiCreate
		}
		return apiUpdate
	case strings.HasSuffix(lo, "/read"):
		return apiRead
	case strings.HasSuffix(lo, "/delete"):
		return apiDelete
	case strings.HasSuffix(lo, "/action"):
		return ocsf.ActivityOther
	}
	switch strings.ToLower(strFold(props, "operationType")) {
	case "add", "create":
		return apiCreate
	case "update":
		return apiUpdate
	case "delete", "remove":
		return apiDelete
	}
	if id := crudVerb(leadingVerb(op)); id != 0 {
		return id
	}
	return ocsf.ActivityOther
}

// azureStatus maps a resultType to an event status id; words other than
// success and failure (Start, Accept, Active, Resolved …) are Other.
func azureStatus(resultType string) (int, string) {
	switch strings.ToLower(strings.TrimSpace(resultType)) {
	case "":
		return 0, ""
	case "success", "succeeded", "succeed", "0":
		return ocsf.StatusSuccess, ""
	case "failure", "failed", "fail":
		return ocsf.StatusFailure, ""
	}
	return 99, resultType
}

// azureSeverity maps an activity-log level word, or the number Entra logs
// use (1 Critical … 5 Verbose), to a severity id.
func azureSeverity(level string) int {
	switch strings.TrimSpace(level) {
	case "0", "4", "5":
		return ocsf.SeverityInformational
	case "1":
		return ocsf.SeverityHigh
	case "2":
		return ocsf.SeverityMedium
	case "3":
		return ocsf.SeverityLow
	}
	return logLevelSeverity(level)
}

// azureSubscription returns the subscription id of an ARM resource id.
func azureSubscription(id string) string {
	parts := strings.Split(strings.Trim(id, "/"), "/")
	for i := 0; i+1 < len(parts); i += 2 {
		if strings.EqualFold(parts[i], "subscriptions") {
			return parts[i+1]
		}
	}
	return ""
}

// azureResource describes an ARM resource id: its type is the provider
// namespace and the type segments ("Microsoft.KeyVault/vaults/keys"), its
// name the last segment, its group the resource group. An extension
// resource (a second /providers/ part) is described by that part; a
// Kubernetes object under a cluster ("…/managedClusters/c/rbac.authorization.k8s.io/rolebindings/b")
// keeps its API group and kind in the type.
func azureResource(id string) ocsf.ResourceDetails {
	rd := ocsf.ResourceDetails{UID: id}
	parts := strings.Split(strings.Trim(id, "/"), "/")
	var group, typ, name string
	for i := 0; i < len(parts); {
		switch {
		case strings.EqualFold(parts[i], "providers") && i+1 < len(parts):
			typ, name = parts[i+1], ""
			i += 2
			end := i
			for end < len(parts) && !strings.EqualFold(parts[end], "providers") {
				end++
			}
			seg := parts[i:end]
			for len(seg) > 0 {
				switch len(seg) {
				case 1:
					typ += "/" + seg[0]
					seg = nil
				case 3:
					typ += "/" + seg[0] + "/" + seg[1]
					name, seg = seg[2], nil
				default:
					typ += "/" + seg[0]
					name, seg = seg[1], seg[2:]
				}
			}
			i = end
		case strings.EqualFold(parts[i], "resourceGroups") && i+1 < len(parts):
			group = parts[i+1]
			i += 2
		default:
			i += 2
		}
	}
	switch {
	case typ != "":
		rd.Type, rd.Name = typ, name
	case group != "":
		rd.Type, rd.Name = "Resource Group", group
	case azureSubscription(id) != "":
		rd.Type, rd.Name = "Subscription", azureSubscription(id)
	}
	if group != "" && typ != "" {
		rd.Group = &ocsf.Group{Name: group, Type: "Resource Group"}
	}
	return rd
}

// azureTargetResources maps Entra's properties.targetResources (left in
// place for unmapped, which keeps modifiedProperties).
func azureTargetResources(props fields) []ocsf.ResourceDetails {
	list, _ := props[keyFold(props, "targetResources")].([]any)
	var out []ocsf.ResourceDetails
	for _, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			continue
		}
		rd := ocsf.ResourceDetails{UID: asString(m["id"]), Name: firstNonEmpty(asString(m["displayName"]), asString(m["userPrincipalName"])), Type: asString(m["type"])}
		if rd.UID != "" || rd.Name != "" {
			rd.RoleID, rd.Role = ocsf.ResourceRoleAffected, "Affected"
			out = append(out, rd)
		}
	}
	return out
}
