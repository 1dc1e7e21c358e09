package ingest

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/canopy-sec/canopy/internal/ocsf"
)

func init() {
	register(Format{
		Name:    "alibaba-actiontrail",
		Title:   "Alibaba Cloud ActionTrail events (native JSON or Log Service envelope)",
		Version: 1,
		Classes: []int{ocsf.ClassAPIActivity, ocsf.ClassAuthentication},
		Notes: "Native events (JSON Lines, a JSON array as delivered to OSS, or the LookupEvents {\"Events\":[…]} " +
			"response) and Log Service (SLS) records whose contents.event (or event) holds the event as a JSON " +
			"string; the envelope's other fields (timestamp, source, __topic__, __tag__ …) go to unmapped.sls. " +
			"API Activity 6003 with the activity from the verb of eventName (Create/Add → Create, Describe/List/Get/" +
			"Query → Read, Modify/Update/Set → Update, Delete/Remove/Release → Delete; else Read when eventRW is " +
			"Read, else Other); ConsoleSignin/ConsoleSignout → Authentication 3002 (Logon/Logoff). " +
			"original_event_uid = eventId (else the record's hash); errorCode → Failure. cloud: provider " +
			"\"Alibaba Cloud\", region = acsRegion, account = recipientAccountId or userIdentity.accountId. " +
			"The accessKeyId and session attributes go to actor.session; requestParameters to api.request.data " +
			"(requestParameterJson, the same parameters as a string, is dropped when requestParameters is present); " +
			"responseElements to api.response.data. No severity in the source: severity_id is Informational.",
		Sniff:  sniffActionTrail,
		Decode: decodeActionTrail,
	})
}

func sniffActionTrail(head []byte) int {
	switch {
	case sniffHas(head, "acsRegion") && (sniffHas(head, "eventId") || sniffHas(head, "eventName")):
		return 90
	case sniffHas(head, "actiontrail_audit_event"):
		return 80
	}
	return 0
}

func decodeActionTrail(ctx context.Context, r io.Reader, emit Emit) error {
	return decodeItems(ctx, "alibaba-actiontrail", r, []string{"Events", "logs"}, emit, eachRecord(mapActionTrail))
}

func mapActionTrail(raw []byte) (ocsf.Record, error) {
	f, err := decodeMap(raw)
	if err != nil {
		return nil, err
	}
	// Unwrap a Log Service record: {timestamp, source, contents:{event:"…"}}
	// or the flat {__time__, __topic__, event:"…"}.
	ev, env := f, fields(nil)
	holder, field := f, "event"
	if c := subFold(f, "contents"); c != nil {
		holder, field = c, "contents.event"
	}
	switch v := holder["event"].(type) {
	case string:
		m, err := decodeMap([]byte(v))
		if err != nil {
			return nil, &fieldError{field, fmt.Errorf("%w: the event string does not hold a JSON object: %v", ErrSyntax, err)}
		}
		delete(holder, "event")
		ev, env = m, f
	case map[string]any:
		delete(holder, "event")
		ev, env = fields(v), f
	}
	name := ev.str("eventName")
	if name == "" {
		if env != nil {
			return nil, missing(field + ".eventName")
		}
		return nil, missing("eventName")
	}
	var t time.Time
	if s := ev.str("eventTime"); s != "" {
		if t, err = parseTime(s); err != nil {
			return nil, &fieldError{"eventTime", err}
		}
	} else if v := env.get("timestamp"); v != nil {
		t, _ = anyTime(v)
	} else if v := env.get("__time__"); v != nil {
		t, _ = anyTime(v)
	}
	eventType := ev.str("eventType")
	region := ev.str("acsRegion")
	service := ev.str("serviceName")
	source := ev.str("eventSource")
	errCode, errMsg := ev.str("errorCode"), ev.str("errorMessage")

	// Who.
	ui := subFold(ev, "userIdentity")
	uType := strFold(ui, "type")
	accountID := strFold(ui, "accountId")
	u := &ocsf.User{Name: strFold(ui, "userName"), UID: strFold(ui, "principalId")}
	if accountID != "" {
		u.Account = &ocsf.Account{UID: accountID, TypeID: ocsf.AccountTypeOther, Type: "Alibaba Cloud Account"}
	}
	switch uType {
	case "":
	case "ram-user":
		u.SetType(ocsf.UserTypeUser, "")
	default:
		u.SetType(ocsf.UserTypeOther, uType)
	}
	var session *ocsf.Session
	attrs := subFold(subFold(ui, "sessionContext"), "attributes")
	akid, mfa, created := strFold(ui, "accessKeyId"), strFold(attrs, "mfaAuthenticated"), strFold(attrs, "creationDate")
	if akid != "" || mfa != "" || created != "" {
		session = &ocsf.Session{CredentialUID: akid}
		switch strings.ToLower(mfa) {
		case "true":
			session.IsMFA = boolPtr(true)
		case "false":
			session.IsMFA = boolPtr(false)
		}
		if ct, err := parseTime(created); err == nil {
			session.CreatedTime = ocsf.Millis(ct)
		} else if created != "" && attrs != nil {
			attrs["creationDate"] = created // keep what cannot be read
		}
	}

	src := callerEndpoint(ev.str("sourceIpAddress"))
	var httpReq *ocsf.HTTPRequest
	if ua := ev.str("userAgent"); ua != "" {
		httpReq = &ocsf.HTTPRequest{UserAgent: ua}
	}
	var dst *ocsf.NetworkEndpoint
	if source != "" {
		if isHostname(source) {
			dst = &ocsf.NetworkEndpoint{Hostname: source}
		} else {
			dst = &ocsf.NetworkEndpoint{SvcName: source}
		}
	}
	api := ocsf.API{Operation: name, Version: ev.str("apiVersion")}
	if service != "" {
		api.Service = &ocsf.Service{Name: service}
	}
	params := ev.take("requestParameters")
	if params == nil {
		params = ev.take("requestParameterJson")
	} else {
		ev.take("requestParameterJson")
	}
	if reqID := ev.str("requestId"); reqID != "" {
		api.Request = &ocsf.Request{UID: reqID, Data: params}
	} else if params != nil {
		ev["requestParameters"] = params
	}
	if resp := ev.take("responseElements"); resp != nil || errCode != "" || errMsg != "" {
		api.Response = &ocsf.Response{Error: errCode, ErrorMessage: errMsg, Data: resp}
	}

	cloud := &ocsf.Cloud{Provider: "Alibaba Cloud", Region: region}
	if acct := firstNonEmpty(ev.str("recipientAccountId"), accountID); acct != "" {
		cloud.Account = &ocsf.Account{UID: acct, TypeID: ocsf.AccountTypeOther, Type: "Alibaba Cloud Account"}
	}
	uid := ev.str("eventId")
	if uid == "" {
		uid = contentID(raw)
	}
	base := func(b *ocsf.Base) {
		b.SetSeverity(ocsf.SeverityInformational, "")
		b.SetTime(t)
		b.Metadata.Product = ocsf.Product{Name: "ActionTrail", VendorName: "Alibaba Cloud"}
		b.Metadata.OriginalEventUID = uid
		b.Metadata.EventCode = eventType
		b.Metadata.LogVersion = ev.str("eventVersion")
		b.SetCloud(cloud)
		if errCode != "" || errMsg != "" {
			b.SetStatus(ocsf.StatusFailure, "")
		} else {
			b.SetStatus(ocsf.StatusSuccess, "")
		}
		b.StatusCode, b.StatusDetail = errCode, errMsg
	}
	finish := func(b *ocsf.Base) {
		for k, v := range ev.rest() {
			b.AddUnmapped(k, v)
		}
		if env != nil {
			b.AddUnmapped("sls", env.rest())
		}
	}

	if eventType == "ConsoleSignin" || name == "ConsoleSignin" || name == "ConsoleSignout" {
		rec := &ocsf.Authentication{}
		act := 1
		if name == "ConsoleSignout" {
			act = 2
		}
		rec.SetClass(ocsf.ClassAuthentication, act, "")
		base(&rec.Base)
		extra := subFold(ev, "additionalEventData")
		if login := strFold(extra, "loginAccount"); login != "" {
			if u.Name == "" {
				u.Name = login
			} else if login != u.Name {
				extra["loginAccount"] = login
			}
		}
		switch strings.ToLower(strFold(extra, "MFAUsed")) {
		case "true", "yes":
			rec.IsMFA = boolPtr(true)
		case "false", "no":
			rec.IsMFA = boolPtr(false)
		}
		if u.Name == "" && u.UID == "" && u.Account == nil {
			u = unknownCaller()
		}
		rec.User = *u
		if session != nil {
			rec.Session = session
		}
		rec.SrcEndpoint = &src
		rec.DstEndpoint = dst
		rec.Service = &ocsf.Service{Name: firstNonEmpty(service, source, "console")}
		rec.API = &api
		rec.HTTPRequest = httpReq
		if knownUser(&rec.User) {
			rec.AddObservable("user.name", ocsf.ObservableUserName, "User Name", rec.User.Name)
		}
		rec.AddObservable("src_endpoint.ip", ocsf.ObservableIP, "IP Address", src.IP)
		finish(&rec.Base)
		return rec, nil
	}

	rec := &ocsf.APIActivity{}
	act := crudVerb(leadingVerb(name))
	if act == 0 {
		act = ocsf.ActivityOther
		if rw, _ := ev.get("eventRW").(string); strings.EqualFold(rw, "Read") {
			act = apiRead
		}
	}
	rec.SetClass(ocsf.ClassAPIActivity, act, name)
	base(&rec.Base)
	if u.Name != "" || u.UID != "" || u.Account != nil {
		rec.Actor.User = u
	}
	rec.Actor.Session = session
	if rec.Actor.User == nil && rec.Actor.Session == nil {
		rec.Actor.User = unknownCaller()
	}
	rec.SrcEndpoint = src
	rec.DstEndpoint = dst
	rec.API = api
	rec.HTTPRequest = httpReq
	rec.Resources = actionTrailResources(ev, region)
	if knownUser(rec.Actor.User) {
		rec.AddObservable("actor.user.name", ocsf.ObservableUserName, "User Name", rec.Actor.User.Name)
	}
	rec.AddObservable("src_endpoint.ip", ocsf.ObservableIP, "IP Address", src.IP)
	if len(rec.Resources) > 0 {
		rec.AddObservable("resources[0].uid", ocsf.ObservableResourceUID, "Resource UID", rec.Resources[0].UID)
	}
	finish(&rec.Base)
	return rec, nil
}

// actionTrailResources reads referencedResources ({type: [ids]}), else
// resourceName and resourceType (";"-separated lists).
func actionTrailResources(ev fields, region string) []ocsf.ResourceDetails {
	var out []ocsf.ResourceDetails
	if refs, ok := ev["referencedResources"].(map[string]any); ok {
		for _, typ := range sortedKeys(refs) {
			for _, id := range asStrings(refs[typ]) {
				out = append(out, ocsf.ResourceDetails{UID: id, Type: typ, Region: region, RoleID: ocsf.ResourceRoleTarget, Role: "Target"})
			}
		}
		if len(out) > 0 {
			delete(ev, "referencedResources")
			return out
		}
	}
	names, _ := ev["resourceName"].(string)
	if names == "" {
		return nil
	}
	delete(ev, "resourceName")
	types := strings.Split(ev.str("resourceType"), ";")
	for i, n := range strings.Split(names, ";") {
		if n = strings.TrimSpace(n); n == "" {
			continue
		}
		typ := types[0]
		if len(types) > i && len(types) > 1 {
			typ = types[i]
		}
		out = append(out, ocsf.ResourceDetails{UID: n, Type: strings.TrimSpace(typ), Region: region, RoleID: ocsf.ResourceRoleTarget, Role: "Target"})
	}
	return out
}
