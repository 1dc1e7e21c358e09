package ingest

import (
	"context"
	"io"
	"strconv"
	"strings"

	json "github.com/goccy/go-json"

	"github.com/canopy-sec/canopy/internal/ocsf"
)

func init() {
	register(Format{
		Name:    "cloudtrail",
		Title:   "AWS CloudTrail",
		Version: 1,
		Classes: []int{ocsf.ClassAPIActivity, ocsf.ClassAuthentication},
		Notes: "CloudTrail records as an S3 object ({\"Records\":[…]}), a bare array, JSON lines or single records, also " +
			"wrapped by EventBridge ({\"detail-type\":\"AWS API Call via CloudTrail\",\"detail\":{…}}, the envelope kept under " +
			"unmapped.eventbridge) or by a CloudWatch Logs export (logEvents[].message); keys in lower case (Panther's " +
			"normalised test events) are read too. Console sign-in events (eventType AwsConsoleSignIn, or eventName " +
			"ConsoleLogin) are Authentication (3002): ConsoleLogin is Logon, the user from userIdentity, is_mfa from " +
			"additionalEventData.MFAUsed, the outcome from responseElements.ConsoleLogin. Everything else is API Activity " +
			"(6003): activity from the verb that starts eventName (Create, Put, Run, Attach, Add, Authorize … Create; Get, " +
			"List, Describe, Head … Read; Update, Modify, Set, Enable, Disable … Update; Delete, Remove, Detach, Terminate, " +
			"Revoke … Delete; else Other named after eventName). eventID is metadata.original_event_uid (a content hash of the " +
			"record when it has none), eventName api.operation and metadata.event_code, eventSource api.service.name, " +
			"requestID api.request.uid with requestParameters as its data, responseElements api.response.data, " +
			"errorCode/errorMessage the Failure status and api.response.error; userIdentity is actor.user (arn = uid, " +
			"principalId = uid_alt, userName or the ARN's last part = name) with its session (access key, sessionContext) and " +
			"invokedBy as actor.app_name; recipientAccountId and awsRegion the cloud object; sourceIPAddress src_endpoint.ip, or " +
			"svc_name when it is a service name (zero-padded octets of pseudonymised logs are read as decimal); resources[] " +
			"the resources. eventTime is time (Logstash's @timestamp when eventTime is missing). A record with no " +
			"userIdentity names its userAgent (else its eventSource) as actor.app_name, and one with no sourceIPAddress has " +
			"src_endpoint.name \"unknown\", because OCSF requires both. Everything else stays in unmapped.",
		Sniff:  sniffCloudTrail,
		Decode: decodeCloudTrail,
	})
}

func sniffCloudTrail(head []byte) int {
	if sniffHas(head, `"detail-type"`, `via CloudTrail`) {
		return 90
	}
	if !sniffHas(head, `amazonaws.com`) {
		return 0
	}
	if sniffHas(head, `"eventSource"`, `"eventName"`) || sniffHas(head, `"eventsource"`, `"eventname"`) {
		if sniffHas(head, `"userIdentity"`) || sniffHas(head, `"eventVersion"`) || sniffHas(head, `"awsRegion"`) {
			return 88
		}
		return 70
	}
	if sniffHas(head, `\"eventSource\"`, `\"eventName\"`) {
		return 80 // CloudWatch Logs export: records as JSON strings
	}
	return 0
}

func decodeCloudTrail(ctx context.Context, r io.Reader, emit Emit) error {
	r, envelopes := envelopesIn(r, "Records", "logEvents")
	return decodeItems(ctx, "cloudtrail", r, envelopes, emit, eachRecord(mapCloudTrail))
}

var cloudTrailProduct = ocsf.Product{Name: "CloudTrail", VendorName: "AWS"}

// ctRecord is one CloudTrail record being mapped.
type ctRecord struct {
	o        rawObject
	pending  map[string]any // for unmapped: parts put aside before the record exists
	id       string
	time     int64
	logged   int64
	name     string
	source   string
	region   string
	account  string
	errCode  string
	errMsg   string
	ua       string
	src      ocsf.NetworkEndpoint
	dst      *ocsf.NetworkEndpoint
	user     *ocsf.User
	session  *ocsf.Session
	appName  string
	idp      *ocsf.IDP
	reqID    string
	reqData  any
	respData any
}

func mapCloudTrail(raw []byte) (ocsf.Record, error) {
	o, err := parseRawObject(raw)
	if err != nil {
		return nil, err
	}
	c := &ctRecord{o: o}
	if err := c.unwrap(); err != nil {
		return nil, err
	}
	o = c.o
	if c.name = o.strFold("eventName"); c.name == "" {
		return nil, missing("eventName")
	}
	c.id = o.strFold("eventID")
	if c.id == "" {
		c.id = contentID(raw)
	}
	if ts := o.strFold("eventTime"); ts != "" {
		t, err := parseTime(ts)
		if err != nil {
			return nil, &fieldError{"eventTime", err}
		}
		c.time = ocsf.Millis(t)
	} else if ts := o.str("@timestamp"); ts != "" {
		t, err := parseTime(ts)
		if err != nil {
			return nil, &fieldError{"@timestamp", err}
		}
		c.time = ocsf.Millis(t)
	}
	c.source = o.strFold("eventSource")
	c.region = o.strFold("awsRegion")
	c.account = o.strFold("recipientAccountId")
	c.errCode = o.strFold("errorCode")
	c.errMsg = o.strFold("errorMessage")
	c.ua = o.strFold("userAgent")
	c.endpoints()
	if ui := o.objFold("userIdentity"); ui != nil {
		c.identity(ui)
		c.extra("userIdentity", ui.rest())
	}
	c.reqID = o.strFold("requestID")
	if c.reqID != "" {
		c.reqData = o.valueFold("requestParameters")
	}
	c.respData = o.valueFold("responseElements")
	eventType, _ := rawScalar(o["eventType"])
	if eventType == "" {
		eventType, _ = rawScalar(o["eventtype"])
	}
	if eventType == "AwsConsoleSignIn" || c.name == "ConsoleLogin" {
		return c.authentication(), nil
	}
	return c.apiActivity(), nil
}

// extra puts v aside for unmapped[key].
func (c *ctRecord) extra(key string, v any) {
	if v == nil {
		return
	}
	if c.pending == nil {
		c.pending = map[string]any{}
	}
	c.pending[key] = v
}

// unwrap replaces an EventBridge event or a CloudWatch Logs event by the
// CloudTrail record it carries.
func (c *ctRecord) unwrap() error {
	o := c.o
	if _, ok := o["detail-type"]; ok {
		if d := o.obj("detail"); d != nil {
			c.o = d
			c.extra("eventbridge", o.rest())
		}
		return nil
	}
	if _, hasName := o["eventName"]; hasName {
		return nil
	}
	if msg, ok := rawScalar(o["message"]); ok && strings.HasPrefix(strings.TrimSpace(msg), "{") {
		inner, err := parseRawObject([]byte(msg))
		if err != nil {
			return &fieldError{"message", err}
		}
		delete(o, "message")
		c.o = inner
		c.extra("cloudwatch", o.rest())
	}
	return nil
}

func (c *ctRecord) endpoints() {
	o := c.o
	if v, ok := o["sourceIPAddress"]; ok {
		txt, _ := rawScalar(v)
		if ip := canonicalIP(txt); ip != "" {
			c.src.IP = ip
			if ip == txt {
				delete(o, "sourceIPAddress")
			}
		} else if txt != "" {
			c.src.SvcName = txt
			delete(o, "sourceIPAddress")
		}
	} else if s := o.strFold("sourceIPAddress"); s != "" {
		if ip := canonicalIP(s); ip != "" {
			c.src.IP = ip
		} else {
			c.src.SvcName = s
		}
	}
	if tl := o.objFold("tlsDetails"); tl != nil {
		if h := tl.str("clientProvidedHostHeader"); h != "" {
			c.dst = &ocsf.NetworkEndpoint{Hostname: h}
		}
		c.extra("tlsDetails", tl.rest())
	}
}

// awsUserTypes maps userIdentity.type to user.type_id; other types are
// Other with the source's word.
var awsUserTypes = map[string]int{"IAMUser": ocsf.UserTypeUser, "IdentityCenterUser": ocsf.UserTypeUser, "Root": ocsf.UserTypeAdmin, "AWSService": ocsf.UserTypeService}

func awsAccount(uid string) *ocsf.Account {
	if uid == "" {
		return nil
	}
	return &ocsf.Account{UID: uid, Type: "AWS Account", TypeID: ocsf.AccountTypeAWS}
}

// identity maps userIdentity.
func (c *ctRecord) identity(ui rawObject) {
	typ := ui.strFold("type")
	u := &ocsf.User{
		UID:     ui.strFold("arn"),
		UIDAlt:  ui.strFold("principalId"),
		Name:    ui.strFold("userName"),
		Account: awsAccount(ui.strFold("accountId")),
	}
	if u.Name == "" && u.UID != "" {
		u.Name = arnLastPart(u.UID)
	}
	if typ != "" {
		if id, ok := awsUserTypes[typ]; ok {
			u.SetType(id, "")
		} else {
			u.SetType(ocsf.UserTypeOther, typ)
		}
	}
	if u.UID != "" || u.Name != "" || u.Account != nil {
		c.user = u
	} else if typ != "" {
		ui["type"], _ = json.Marshal(typ)
	}
	s := &ocsf.Session{CredentialUID: ui.strFold("accessKeyId")}
	if sc := ui.objFold("sessionContext"); sc != nil {
		if at := sc.obj("attributes"); at != nil {
			if ts := at.str("creationDate"); ts != "" {
				if t, err := parseTime(ts); err == nil {
					s.CreatedTime = ocsf.Millis(t)
				} else {
					at["creationDate"], _ = json.Marshal(ts)
				}
			}
			if mfa, ok := at.bool("mfaAuthenticated"); ok {
				s.IsMFA = boolPtr(mfa)
			}
			at.addRestTo(sc, "attributes")
		}
		if is := sc.obj("sessionIssuer"); is != nil {
			s.Issuer = is.str("arn")
			is.addRestTo(sc, "sessionIssuer")
		}
		sc.addRestTo(ui, "sessionContext")
	}
	if s.CredentialUID != "" || s.CreatedTime != 0 || s.IsMFA != nil || s.Issuer != "" {
		c.session = s
	}
	c.appName = ui.strFold("invokedBy")
	if idp := ui.strFold("identityProvider"); idp != "" {
		c.idp = &ocsf.IDP{Name: idp}
	}
}

// arnLastPart returns the last part of an ARN's resource: the user, role
// session or resource name.
func arnLastPart(arn string) string {
	if i := strings.LastIndexAny(arn, "/:"); i >= 0 && i < len(arn)-1 {
		return arn[i+1:]
	}
	return ""
}

// arnRegion returns the region field of an ARN.
func arnRegion(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) == 6 && parts[0] == "arn" {
		return parts[3]
	}
	return ""
}

// base fills what both classes share; call it after SetClass.
func (c *ctRecord) base(b *ocsf.Base) {
	b.Time = c.time
	b.SetSeverity(ocsf.SeverityInformational, "")
	b.Metadata.Product = cloudTrailProduct
	b.Metadata.OriginalEventUID = c.id
	b.Metadata.EventCode = c.name
	b.Metadata.LogVersion = c.o.strFold("eventVersion")
	b.Metadata.CorrelationUID = c.o.strFold("sharedEventID")
	b.SetCloud(&ocsf.Cloud{Provider: "AWS", Region: c.region, Account: awsAccount(c.account)})
	if c.errCode != "" {
		b.SetStatus(ocsf.StatusFailure, "")
		b.StatusCode, b.StatusDetail = c.errCode, c.errMsg
	} else {
		b.SetStatus(ocsf.StatusSuccess, "")
		b.StatusDetail = c.errMsg
	}
}

// finish moves what is left to unmapped.
func (c *ctRecord) finish(b *ocsf.Base) {
	for k, v := range c.pending {
		b.AddUnmapped(k, v)
	}
	c.o.addRest(b, "")
}

func (c *ctRecord) api() ocsf.API {
	a := ocsf.API{Operation: c.name, Version: c.o.strFold("apiVersion")}
	if c.source != "" {
		a.Service = &ocsf.Service{Name: c.source}
	}
	if c.reqID != "" {
		a.Request = &ocsf.Request{UID: c.reqID, Data: c.reqData}
	}
	if c.errCode != "" || c.errMsg != "" || c.respData != nil {
		a.Response = &ocsf.Response{Error: c.errCode, ErrorMessage: c.errMsg, Data: c.respData}
	}
	return a
}

func (c *ctRecord) srcEndpoint() ocsf.NetworkEndpoint {
	if c.src == (ocsf.NetworkEndpoint{}) {
		return ocsf.NetworkEndpoint{Name: "unknown"}
	}
	return c.src
}

func (c *ctRecord) apiActivity() ocsf.Record {
	a := &ocsf.APIActivity{}
	id, other := cloudTrailActivity(c.name)
	a.SetClass(ocsf.ClassAPIActivity, id, other)
	c.base(&a.Base)
	a.API = c.api()
	a.Actor = ocsf.Actor{User: c.user, Session: c.session, AppName: c.appName, IDP: c.idp}
	if a.Actor.User == nil && a.Actor.Session == nil && a.Actor.AppName == "" {
		a.Actor.AppName = firstNonEmpty(c.ua, c.source)
	}
	a.SrcEndpoint = c.srcEndpoint()
	a.DstEndpoint = c.dst
	if c.ua != "" {
		a.HTTPRequest = &ocsf.HTTPRequest{UserAgent: c.ua}
	}
	a.Resources = c.resources(&a.Base)
	a.AddObservable("src_endpoint.ip", ocsf.ObservableIP, "IP Address", a.SrcEndpoint.IP)
	if u := a.Actor.User; u != nil {
		a.AddObservable("actor.user.name", ocsf.ObservableUserName, "User Name", u.Name)
		a.AddObservable("actor.user.uid", 31, "User Object: uid", u.UID)
	}
	for i, r := range a.Resources {
		a.AddObservable("resources["+strconv.Itoa(i)+"].uid", ocsf.ObservableResourceUID, "Resource UID", r.UID)
	}
	c.finish(&a.Base)
	return a
}

func (c *ctRecord) authentication() ocsf.Record {
	a := &ocsf.Authentication{}
	switch c.name {
	case "ConsoleLogin":
		a.SetClass(ocsf.ClassAuthentication, 1, "") // Logon
	case "ConsoleLogout", "Logout":
		a.SetClass(ocsf.ClassAuthentication, 2, "") // Logoff
	case "SwitchRole":
		a.SetClass(ocsf.ClassAuthentication, 7, "") // Account Switch
	default:
		a.SetClass(ocsf.ClassAuthentication, ocsf.ActivityOther, c.name)
	}
	c.base(&a.Base)
	if m, ok := c.respData.(map[string]any); ok {
		switch asString(m["ConsoleLogin"]) {
		case "Success":
			a.SetStatus(ocsf.StatusSuccess, "")
		case "Failure":
			a.SetStatus(ocsf.StatusFailure, "")
		}
	}
	if c.user != nil {
		a.User = *c.user
	} else {
		a.User = ocsf.User{Name: "unknown"}
	}
	a.Session = c.session
	if c.appName != "" || c.idp != nil {
		a.Actor = &ocsf.Actor{AppName: c.appName, IDP: c.idp}
		if a.Actor.AppName == "" {
			a.Actor.AppName = firstNonEmpty(c.ua, c.source)
		}
	}
	api := c.api()
	a.API = &api
	a.Service = &ocsf.Service{Name: firstNonEmpty(c.source, "signin.amazonaws.com")}
	src := c.srcEndpoint()
	a.SrcEndpoint = &src
	a.DstEndpoint = c.dst
	if c.ua != "" {
		a.HTTPRequest = &ocsf.HTTPRequest{UserAgent: c.ua}
	}
	if ad := c.o.objFold("additionalEventData"); ad != nil {
		switch v, _ := rawScalar(ad["MFAUsed"]); v {
		case "Yes":
			a.IsMFA = boolPtr(true)
			delete(ad, "MFAUsed")
		case "No":
			a.IsMFA = boolPtr(false)
			delete(ad, "MFAUsed")
		}
		ad.addRestTo(c.o, "additionalEventData")
	}
	a.AddObservable("src_endpoint.ip", ocsf.ObservableIP, "IP Address", src.IP)
	a.AddObservable("user.name", ocsf.ObservableUserName, "User Name", a.User.Name)
	c.finish(&a.Base)
	return a
}

// resources maps resources[]; elements that are not resource objects stay
// in unmapped.
func (c *ctRecord) resources(b *ocsf.Base) []ocsf.ResourceDetails {
	v := c.o.takeFold("resources")
	if v == nil {
		return nil
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(v, &elems); err != nil {
		c.o["resources"] = v
		return nil
	}
	var out []ocsf.ResourceDetails
	var left []any
	for _, e := range elems {
		ro, err := parseRawObject(e)
		if err != nil {
			if x := decodeAny(e); x != nil {
				left = append(left, x)
			}
			continue
		}
		arn := firstNonEmpty(ro.strFold("ARN"), ro.strFold("arn"))
		prefix := ""
		if arn == "" {
			prefix = ro.strFold("ARNPrefix")
		}
		r := ocsf.ResourceDetails{UID: firstNonEmpty(arn, prefix), Type: ro.strFold("type"), RoleID: ocsf.ResourceRoleTarget, Role: "Target"}
		if arn != "" {
			r.Name = arnLastPart(arn)
		}
		r.Region = arnRegion(r.UID)
		if acct := ro.strFold("accountId"); acct != "" {
			r.Owner = &ocsf.User{Account: awsAccount(acct)}
		}
		if r.UID == "" {
			if x := decodeAny(e); x != nil {
				left = append(left, x)
			}
			continue
		}
		if prefix != "" {
			ro["ARNPrefix"], _ = json.Marshal(prefix)
		}
		if rest := ro.rest(); rest != nil {
			r.Data = rest
		}
		out = append(out, r)
	}
	if len(left) > 0 {
		b.AddUnmapped("resources", left)
	}
	return out
}

// cloudTrailVerbs maps the verb an API operation name starts with to an
// API Activity activity id.
var cloudTrailVerbs = []struct {
	verb string
	id   int
}{
	{"Create", 1}, {"Put", 1}, {"Run", 1}, {"Attach", 1}, {"Add", 1}, {"Authorize", 1}, {"Allocate", 1}, {"Associate", 1},
	{"Import", 1}, {"Register", 1}, {"Upload", 1}, {"Copy", 1}, {"Generate", 1}, {"Issue", 1}, {"Publish", 1}, {"Invoke", 1},
	{"Get", 2}, {"List", 2}, {"Describe", 2}, {"Head", 2}, {"Lookup", 2}, {"Search", 2}, {"Scan", 2}, {"Query", 2},
	{"BatchGet", 2}, {"Select", 2}, {"Download", 2}, {"View", 2},
	{"Update", 3}, {"Modify", 3}, {"Set", 3}, {"Change", 3}, {"Replace", 3}, {"Reset", 3}, {"Enable", 3}, {"Disable", 3},
	{"Tag", 3}, {"Untag", 3}, {"Edit", 3}, {"Rotate", 3}, {"Restore", 3},
	{"Delete", 4}, {"Remove", 4}, {"Detach", 4}, {"Terminate", 4}, {"Revoke", 4}, {"Disassociate", 4}, {"Deregister", 4},
	{"Release", 4}, {"Purge", 4}, {"BatchDelete", 4},
}

// cloudTrailActivity returns the activity of an operation: the first verb
// of its name followed by an upper-case letter, a digit or the end; else
// Other named after the operation.
func cloudTrailActivity(op string) (int, string) {
	for _, v := range cloudTrailVerbs {
		if !strings.HasPrefix(op, v.verb) {
			continue
		}
		if len(op) == len(v.verb) {
			return v.id, ""
		}
		if c := op[len(v.verb)]; (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') {
			return v.id, ""
		}
	}
	return ocsf.ActivityOther, op
}
