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
		Name:    "gcp-audit",
		Title:   "Google Cloud Audit Logs (Cloud Logging LogEntry JSON)",
		Version: 1,
		Classes: []int{ocsf.ClassAPIActivity, ocsf.ClassAuthentication},
		Notes: "LogEntry records with an AuditLog protoPayload, as JSON Lines, a JSON array (gcloud logging read) " +
			"or the Logging API {\"entries\":[…]} response; keys are matched without regard to case (insertid, " +
			"protopayload, callerIP). API Activity 6003, activity from the verb of methodName (create/insert → Create, " +
			"get/list → Read, update/patch/set → Update, delete → Delete, else Other named by methodName); " +
			"google.login.* (login.googleapis.com) → Authentication 3002. Without methodName the first " +
			"authorizationInfo permission is the operation. original_event_uid = insertId|logName|timestamp " +
			"(insertId is unique only within one log and time; the raw record's hash without insertId). " +
			"severity is the LogSeverity ladder (INFO/NOTICE → Informational, WARNING Low, ERROR Medium, " +
			"CRITICAL High, ALERT Critical, EMERGENCY Fatal). status.code ≠ 0 → Failure. cloud: GCP, " +
			"account = project (resource.labels.project_id or the logName parent), region/zone from labels. " +
			"A caller IP that is not an address (private, gce-internal-ip) becomes src_endpoint.name; a record " +
			"with no caller address gets src_endpoint.name \"unknown\", and with no principal the service " +
			"(else \"unknown\") as actor, since API Activity requires both.",
		Sniff:  sniffGCPAudit,
		Decode: decodeGCPAudit,
	})
}

func sniffGCPAudit(head []byte) int {
	wazuh := sniffHas(head, `"decoder"`, `"rule"`) || sniffHas(head, `"full_log"`)
	switch {
	case wazuh:
		return 0
	case sniffHas(head, "google.cloud.audit.AuditLog") || sniffHas(head, "cloudaudit.googleapis.com"):
		return 85
	case (sniffHas(head, `"protoPayload"`) || sniffHas(head, `"protopayload"`)) && sniffHas(head, `"methodName"`):
		if sniffHas(head, `"auditID"`) || sniffHas(head, `"kube-audit"`) {
			return 15 // GKE entries mixed into a Kubernetes audit file
		}
		return 60
	}
	return 0
}

func decodeGCPAudit(ctx context.Context, r io.Reader, emit Emit) error {
	return decodeItems(ctx, "gcp-audit", r, []string{"entries"}, emit, eachRecord(mapGCPAudit))
}

const gcpAuditLogType = "type.googleapis.com/google.cloud.audit.AuditLog"

func mapGCPAudit(raw []byte) (ocsf.Record, error) {
	f, err := decodeMap(raw)
	if err != nil {
		return nil, err
	}
	pp := subFold(f, "protoPayload")
	// Flattened entries (some exports and test fixtures) carry the payload
	// fields at the top level.
	payload := func(key string) string {
		if v := strFold(pp, key); v != "" {
			return v
		}
		return strFold(f, key)
	}
	method := payload("methodName")
	service := payload("serviceName")
	resourceName := payload("resourceName")
	operation := method
	if operation == "" {
		operation = gcpFirstPermission(pp)
	}
	if operation == "" {
		return nil, missing("protoPayload.methodName")
	}
	if at, _ := pp["@type"].(string); at == gcpAuditLogType {
		delete(pp, "@type")
	}

	insertID := strFold(f, "insertId")
	logName := strFold(f, "logName")
	var t, recv time.Time
	if s := strFold(f, "timestamp"); s != "" {
		if t, err = parseTime(s); err != nil {
			return nil, &fieldError{"timestamp", err}
		}
	}
	// receiveTimestamp is the logging system's; one it cannot read stays in unmapped.
	if k := keyFold(f, "receiveTimestamp"); k != "" {
		if s, ok := f[k].(string); ok {
			if rt, err := parseTime(s); err == nil {
				recv = rt
				delete(f, k)
			}
		}
	}
	if t.IsZero() {
		t = recv
	}
	sev := gcpSeverity(takeFold(f, "severity"))

	// Where: project, organization, region and zone.
	res := subFold(f, "resource")
	labels := subFold(res, "labels")
	project := strFold(labels, "project_id")
	orgID := strFold(labels, "organization_id")
	if i := strings.Index(logName, "/logs/"); i > 0 {
		kind, id, _ := strings.Cut(logName[:i], "/")
		if kind == "projects" && project == "" {
			project = id
		}
		if kind == "organizations" && orgID == "" {
			orgID = id
		}
	}
	region, zone := strFold(labels, "region"), strFold(labels, "zone")
	if loc, _ := labels["location"].(string); loc != "" {
		switch {
		case gcpIsZone(loc) && zone == "":
			zone = loc
			delete(labels, "location")
		case !gcpIsZone(loc) && region == "":
			region = loc
			delete(labels, "location")
		}
	}
	if region == "" && zone == "" {
		if locs, _ := subFold(pp, "resourceLocation")["currentLocations"].([]any); len(locs) > 0 {
			if loc, _ := locs[0].(string); gcpIsZone(loc) {
				zone = loc
			} else {
				region = loc
			}
		}
	}
	if region == "" && gcpIsZone(zone) {
		region = zone[:strings.LastIndexByte(zone, '-')]
	}
	cloud := &ocsf.Cloud{Provider: "GCP", Region: region, Zone: zone}
	if project != "" {
		cloud.Account = &ocsf.Account{UID: project, TypeID: 11, Type: "GCP Project"}
	}
	if orgID != "" {
		cloud.Org = &ocsf.Organization{UID: orgID}
	}

	// Who.
	ai := subFold(pp, "authenticationInfo")
	email := strFold(ai, "principalEmail")
	subject := strFold(ai, "principalSubject")
	var user *ocsf.User
	if email != "" || subject != "" {
		user = &ocsf.User{Name: firstNonEmpty(email, subject), UID: subject}
		if isEmail(email) {
			user.EmailAddr = email
		}
		switch {
		case strings.HasSuffix(email, ".gserviceaccount.com") || strings.HasPrefix(subject, "serviceAccount:"):
			user.SetType(ocsf.UserTypeService, "")
		case email != "":
			user.SetType(ocsf.UserTypeUser, "")
		}
	}
	actor := ocsf.Actor{User: user, AppUID: strFold(subFold(ai, "oauthInfo"), "oauthClientId")}
	if key := strFold(ai, "serviceAccountKeyName"); key != "" {
		actor.Session = &ocsf.Session{CredentialUID: key}
	}
	if actor.User == nil && actor.AppUID == "" && actor.Session == nil {
		if service != "" {
			actor.AppName = service
		} else {
			actor.User = unknownCaller()
		}
	}

	// From where.
	rm := subFold(pp, "requestMetadata")
	src := callerEndpoint(strFold(rm, "callerIp"))
	var httpReq *ocsf.HTTPRequest
	if ua := strFold(rm, "callerSuppliedUserAgent"); ua != "" {
		httpReq = &ocsf.HTTPRequest{UserAgent: ua}
	}

	// Outcome.
	st := subFold(pp, "status")
	if st == nil {
		st = subFold(f, "status")
	}
	code, _ := asInt(takeFold(st, "code"))
	msg := strFold(st, "message")
	api := ocsf.API{Operation: operation}
	if service != "" {
		api.Service = &ocsf.Service{Name: service}
	}
	resp := &ocsf.Response{Data: takeFold(pp, "response")}
	if code != 0 {
		resp.Code, resp.Error, resp.ErrorMessage = int(code), gcpCodeName(code), msg
	} else {
		resp.Message = msg
	}
	if resp.Data != nil || resp.Code != 0 || resp.Message != "" {
		api.Response = resp
	}

	uid := contentID(raw)
	if insertID != "" {
		ts := ""
		if !t.IsZero() {
			ts = t.Format(time.RFC3339Nano)
		}
		uid = insertID + "|" + logName + "|" + ts
	}
	base := func(b *ocsf.Base) {
		b.SetSeverity(sev, "")
		b.SetTime(t)
		b.Metadata.Product = ocsf.Product{Name: "Cloud Audit Logs", VendorName: "Google"}
		b.Metadata.OriginalEventUID = uid
		b.Metadata.LogName = logName
		b.Metadata.CorrelationUID = strFold(subFold(f, "operation"), "id")
		b.Metadata.LoggedTime = ocsf.Millis(recv)
		b.SetCloud(cloud)
		if code != 0 {
			b.SetStatus(ocsf.StatusFailure, "")
			b.StatusCode = strconv.FormatInt(code, 10)
		} else {
			b.SetStatus(ocsf.StatusSuccess, "")
		}
		b.StatusDetail = msg
	}

	if gcpIsLogin(method, service) {
		a := &ocsf.Authentication{}
		act, failed := gcpLoginActivity(method)
		a.SetClass(ocsf.ClassAuthentication, act, method)
		base(&a.Base)
		if failed {
			a.SetStatus(ocsf.StatusFailure, "")
		}
		if user == nil {
			user = unknownCaller()
		}
		a.User = *user
		a.SrcEndpoint = &src
		a.Service = &ocsf.Service{Name: firstNonEmpty(service, "login.googleapis.com")}
		a.API = &api
		a.HTTPRequest = httpReq
		a.AddObservable("user.email_addr", ocsf.ObservableEmail, "Email Address", a.User.EmailAddr)
		a.AddObservable("src_endpoint.ip", ocsf.ObservableIP, "IP Address", src.IP)
		addRest(&a.Base, f)
		return a, nil
	}

	a := &ocsf.APIActivity{}
	a.SetClass(ocsf.ClassAPIActivity, gcpActivity(operation), operation)
	base(&a.Base)
	a.Actor = actor
	a.API = api
	a.SrcEndpoint = src
	a.HTTPRequest = httpReq
	if resourceName != "" {
		rd := ocsf.ResourceDetails{UID: resourceName, Name: resourceName, Region: region, Zone: zone}
		if i := strings.LastIndexByte(strings.TrimSuffix(resourceName, "/"), '/'); i >= 0 && i < len(resourceName)-1 {
			rd.Name = strings.TrimSuffix(resourceName[i+1:], "/")
		}
		if typ, _ := res["type"].(string); typ != "" {
			delete(res, "type")
			rd.Type = typ
		}
		rd.RoleID, rd.Role = ocsf.ResourceRoleTarget, "Target"
		a.Resources = []ocsf.ResourceDetails{rd}
	}
	if actor.User != nil {
		a.AddObservable("actor.user.email_addr", ocsf.ObservableEmail, "Email Address", actor.User.EmailAddr)
	}
	a.AddObservable("src_endpoint.ip", ocsf.ObservableIP, "IP Address", src.IP)
	if len(a.Resources) > 0 {
		a.AddObservable("resources[0].uid", ocsf.ObservableResourceUID, "Resource UID", a.Resources[0].UID)
	}
	addRest(&a.Base, f)
	return a, nil
}

// gcpFirstPermission returns the first permission checked for the request.
func gcpFirstPermission(pp fields) string {
	list, _ := pp["authorizationInfo"].([]any)
	for _, e := range list {
		if m, ok := e.(map[string]any); ok {
			if p, _ := m["permission"].(string); p != "" {
				return p
			}
		}
	}
	return ""
}

// gcpActivity maps a method name (or permission) to an API Activity
// activity by the verb of its last dotted part.
func gcpActivity(method string) int {
	last := method
	if i := strings.LastIndexByte(last, '.'); i >= 0 {
		last = last[i+1:]
	}
	if id := crudVerb(leadingVerb(last)); id != 0 {
		return id
	}
	return ocsf.ActivityOther
}

func gcpIsLogin(method, service string) bool {
	return strings.HasPrefix(method, "google.login.") || service == "login.googleapis.com"
}

// gcpLoginActivity maps a Google sign-in audit method to an Authentication
// activity, and says whether the method itself reports a failure.
func gcpLoginActivity(method string) (activity int, failed bool) {
	last := method[strings.LastIndexByte(method, '.')+1:]
	switch strings.ToLower(last) {
	case "loginsuccess":
		return 1, false
	case "loginfailure":
		return 1, true
	case "logout":
		return 2, false
	}
	return ocsf.ActivityOther, false
}

// gcpIsZone reports whether loc names a zone ("us-central1-a").
func gcpIsZone(loc string) bool {
	i := strings.LastIndexByte(loc, '-')
	return i > 0 && len(loc)-i == 2 && strings.Count(loc, "-") >= 2 && loc[i+1] >= 'a' && loc[i+1] <= 'z'
}

// gcpSeverity maps a LogEntry severity, by name or number (LogSeverity
// 0–800), to a severity id.
func gcpSeverity(v any) int {
	if n, ok := asInt(v); ok {
		switch {
		case n < 400:
			return ocsf.SeverityInformational
		case n < 500:
			return ocsf.SeverityLow
		case n < 600:
			return ocsf.SeverityMedium
		case n < 700:
			return ocsf.SeverityHigh
		case n < 800:
			return ocsf.SeverityCritical
		default:
			return ocsf.SeverityFatal
		}
	}
	s, _ := v.(string)
	return logLevelSeverity(s)
}

// gcpCodeName returns the google.rpc.Code name of a status code.
func gcpCodeName(code int64) string {
	names := [...]string{"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
		"ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",
		"OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"}
	if code >= 0 && code < int64(len(names)) {
		return names[code]
	}
	return ""
}
