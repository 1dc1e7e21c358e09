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
		Name:    "k8s-audit",
		Title:   "Kubernetes audit events",
		Version: 1,
		Classes: []int{ocsf.ClassAPIActivity},
		Notes: "audit.k8s.io Event records (v1 and v1beta1) as JSON lines, single objects, arrays or an EventList " +
			"({\"items\":[…]}); also wrapped in AKS diagnostic logs (properties.log, the cluster from resourceId), in a " +
			"CloudWatch Logs export (logEvents[].message, as EKS ships them) or as GKE Cloud Audit Logs for k8s.io " +
			"(protoPayload). Each is API Activity (6003): activity from the verb (create = Create; get, list, watch = Read; " +
			"update, patch = Update; delete, deletecollection = Delete; else Other), api.operation = verb and " +
			"resource[/subresource] (or the request path of non-resource requests), objectRef the target resource and " +
			"api.group/version, user the actor (username = name, uid, groups; system:serviceaccount: users are Service, other " +
			"system: users System), sourceIPs[0] src_endpoint.ip, userAgent and requestURI http_request, responseStatus.code " +
			"api.response.code and the status (Success below 400, else Failure), requestObject/responseObject " +
			"api.request.data/api.response.data, requestReceivedTimestamp time (stageTimestamp end_time). auditID is " +
			"metadata.original_event_uid (a content hash when missing), so the stages of one request share it; stage, " +
			"level, annotations and impersonatedUser stay in unmapped. OCSF requires an actor and a source: an event without " +
			"user names its userAgent (else \"unknown\") as actor.app_name, one without sourceIPs has src_endpoint.name " +
			"\"unknown\", one without verb or target has the operation \"unknown\".",
		Sniff:  sniffK8sAudit,
		Decode: decodeK8sAudit,
	})
}

func sniffK8sAudit(head []byte) int {
	if sniffHas(head, `"output_fields"`) {
		return 0 // Falco alerts about audit events
	}
	switch {
	case sniffHas(head, `audit.k8s.io/`):
		return 90
	case sniffHas(head, `"auditID"`, `"verb"`), sniffHas(head, `\"auditID\"`, `\"verb\"`):
		return 85
	case sniffHas(head, `"kube-audit`, `"properties"`):
		return 80 // AKS diagnostic logs
	case sniffHas(head, `"objectRef"`, `"verb"`), sniffHas(head, `"auditID"`, `"objectRef"`):
		return 70
	}
	return 0
}

func decodeK8sAudit(ctx context.Context, r io.Reader, emit Emit) error {
	r, envelopes := envelopesIn(r, "items", "logEvents")
	return decodeItems(ctx, "k8s-audit", r, envelopes, emit, eachRecord(mapK8sAudit))
}

var k8sProduct = ocsf.Product{Name: "kube-apiserver", VendorName: "Kubernetes"}

func mapK8sAudit(raw []byte) (ocsf.Record, error) {
	o, err := parseRawObject(raw)
	if err != nil {
		return nil, err
	}
	a := &ocsf.APIActivity{}
	a.Metadata.Product = k8sProduct
	a.SetSeverity(ocsf.SeverityInformational, "")
	var cloud *ocsf.Cloud
	var cluster *ocsf.ResourceDetails
	var wrapKey string
	var wrapper map[string]any
	switch {
	case o["protoPayload"] != nil:
		return mapGKEAudit(o, raw)
	case o["properties"] != nil && o["auditID"] == nil && o["verb"] == nil:
		// AKS diagnostic log: the event is a JSON string in properties.log
		props := o.obj("properties")
		msg, _ := rawScalar(props["log"])
		if props == nil || msg == "" {
			return nil, missing("properties.log")
		}
		inner, err := parseRawObject([]byte(msg))
		if err != nil {
			return nil, &fieldError{"properties.log", err}
		}
		delete(props, "log")
		props.addRestTo(o, "properties")
		if id := o.str("resourceId"); id != "" {
			cloud, cluster = azureCluster(id)
			if cluster == nil {
				o["resourceId"], _ = json.Marshal(id)
			}
		}
		o, wrapKey, wrapper = inner, "azure", o.rest()
	case o["auditID"] == nil && o["verb"] == nil && o["message"] != nil:
		// CloudWatch Logs event
		msg, _ := rawScalar(o["message"])
		inner, err := parseRawObject([]byte(msg))
		if err != nil {
			return nil, &fieldError{"message", err}
		}
		delete(o, "message")
		o, wrapKey, wrapper = inner, "cloudwatch", o.rest()
	}
	if err := k8sEvent(a, o, raw); err != nil {
		return nil, err
	}
	if cloud != nil {
		a.SetCloud(cloud)
	}
	if cluster != nil {
		a.Resources = append(a.Resources, *cluster)
	}
	if wrapper != nil {
		a.AddUnmapped(wrapKey, wrapper)
	}
	o.addRest(&a.Base, "")
	return a, nil
}

// azureCluster reads an AKS cluster's resource id
// (/subscriptions/S/resourceGroups/G/providers/Microsoft.ContainerService/managedClusters/N).
func azureCluster(id string) (*ocsf.Cloud, *ocsf.ResourceDetails) {
	parts := strings.Split(strings.Trim(id, "/"), "/")
	if len(parts) < 2 || !strings.EqualFold(parts[0], "subscriptions") {
		return nil, nil
	}
	c := &ocsf.Cloud{Provider: "Azure", Account: &ocsf.Account{UID: parts[1], Type: "Azure Subscription", TypeID: 13}}
	r := &ocsf.ResourceDetails{UID: id, Name: parts[len(parts)-1], Type: "Microsoft.ContainerService/managedClusters", RoleID: ocsf.ResourceRoleRelated, Role: "Related"}
	return c, r
}

var k8sVerbActivities = map[string]int{"create": 1, "get": 2, "list": 2, "watch": 2, "update": 3, "patch": 3, "delete": 4, "deletecollection": 4}

// k8sActivity maps a verb to an API Activity activity; an absent verb is
// Unknown.
func k8sActivity(a *ocsf.APIActivity, verb string) {
	switch id, ok := k8sVerbActivities[verb]; {
	case ok:
		a.SetClass(ocsf.ClassAPIActivity, id, "")
	case verb == "":
		a.SetClass(ocsf.ClassAPIActivity, 0, "")
	default:
		a.SetClass(ocsf.ClassAPIActivity, ocsf.ActivityOther, verb)
	}
}

// k8sUser maps an authenticated user.
func k8sUser(name, uid string, groups []string) *ocsf.User {
	if name == "" && uid == "" {
		return nil
	}
	u := &ocsf.User{Name: name, UID: uid}
	switch {
	case strings.HasPrefix(name, "system:serviceaccount:"):
		u.SetType(ocsf.UserTypeService, "")
	case strings.HasPrefix(name, "system:"):
		u.SetType(ocsf.UserTypeSystem, "")
	case name != "":
		u.SetType(ocsf.UserTypeUser, "")
	}
	for _, g := range groups {
		u.Groups = append(u.Groups, ocsf.Group{Name: g})
	}
	return u
}

// k8sTarget describes the object of a request.
type k8sTarget struct {
	resource, subresource, namespace, name, uid, group, version string
}

func (t k8sTarget) path() string {
	if t.subresource != "" {
		return t.resource + "/" + t.subresource
	}
	return t.resource
}

// k8sFinish fills api.operation, resources and the actor and source
// fallbacks.
func k8sFinish(a *ocsf.APIActivity, verb string, t k8sTarget, uri, ua string) {
	target := t.path()
	if target == "" && uri != "" {
		target, _, _ = strings.Cut(uri, "?")
	}
	a.API.Operation = strings.TrimSpace(verb + " " + target)
	if a.API.Operation == "" {
		a.API.Operation = "unknown"
	}
	if t.group != "" {
		a.API.Group = &ocsf.Group{Name: t.group}
	}
	a.API.Version = t.version
	if t.name != "" || t.uid != "" {
		r := ocsf.ResourceDetails{UID: t.uid, Name: t.name, Type: t.resource, Namespace: t.namespace, RoleID: ocsf.ResourceRoleTarget, Role: "Target"}
		a.Resources = append(a.Resources, r)
		a.AddObservable("resources[0].name", 38, "Resource Details Object: name", r.Name)
		a.AddObservable("resources[0].uid", ocsf.ObservableResourceUID, "Resource UID", r.UID)
	}
	if a.Actor.User == nil && a.Actor.AppName == "" {
		a.Actor.AppName = firstNonEmpty(ua, "unknown")
	}
	if a.SrcEndpoint == (ocsf.NetworkEndpoint{}) {
		a.SrcEndpoint.Name = "unknown"
	}
	if ua != "" || uri != "" {
		a.HTTPRequest = &ocsf.HTTPRequest{UserAgent: ua}
		if uri != "" {
			u := &ocsf.URL{}
			u.Path, u.QueryString, _ = strings.Cut(uri, "?")
			if u.Path != "" {
				a.HTTPRequest.URL = u
			}
		}
	}
	a.AddObservable("src_endpoint.ip", ocsf.ObservableIP, "IP Address", a.SrcEndpoint.IP)
	if a.Actor.User != nil {
		a.AddObservable("actor.user.name", ocsf.ObservableUserName, "User Name", a.Actor.User.Name)
	}
	a.AddObservable("http_request.user_agent", ocsf.ObservableUserAgent, "HTTP User-Agent", ua)
}

// k8sEvent maps an audit.k8s.io Event.
func k8sEvent(a *ocsf.APIActivity, o rawObject, raw []byte) error {
	if k, _ := rawScalar(o["kind"]); k == "Event" {
		delete(o, "kind")
	}
	a.Metadata.LogVersion = o.str("apiVersion")
	auditID := o.str("auditID")
	a.Metadata.OriginalEventUID = firstNonEmpty(auditID, contentID(raw))
	verb := o.str("verb")
	k8sActivity(a, verb)
	for _, key := range []string{"requestReceivedTimestamp", "stageTimestamp", "timestamp"} {
		ts, _ := rawScalar(o[key])
		if ts == "" {
			continue
		}
		t, err := parseTime(ts)
		if err != nil {
			return &fieldError{key, err}
		}
		if a.Time == 0 {
			a.Time = ocsf.Millis(t)
			delete(o, key)
		} else if key == "stageTimestamp" {
			a.EndTime = ocsf.Millis(t)
			delete(o, key)
		}
	}
	var t k8sTarget
	if ref := o.obj("objectRef"); ref != nil {
		t = k8sTarget{resource: ref.str("resource"), subresource: ref.str("subresource"), namespace: ref.str("namespace"),
			name: ref.str("name"), uid: ref.str("uid"), group: ref.str("apiGroup"), version: ref.str("apiVersion")}
		if t.name == "" && t.uid == "" && t.namespace != "" {
			ref["namespace"], _ = json.Marshal(t.namespace) // no resource to hold it
		}
		ref.addRestTo(o, "objectRef")
	}
	if u := o.obj("user"); u != nil {
		a.Actor.User = k8sUser(u.str("username"), u.str("uid"), u.strs("groups"))
		u.addRestTo(o, "user")
	}
	if ips := o.strs("sourceIPs"); len(ips) > 0 {
		if ip := canonicalIP(ips[0]); ip != "" {
			a.SrcEndpoint.IP = ip
		}
		if len(ips) > 1 || a.SrcEndpoint.IP != ips[0] {
			o["sourceIPs"], _ = json.Marshal(ips)
		}
	}
	uri, ua := o.str("requestURI"), o.str("userAgent")
	if rs := o.obj("responseStatus"); rs != nil {
		resp := &ocsf.Response{Message: rs.str("message")}
		if code, ok := rs.int("code"); ok {
			resp.Code = int(code)
			a.StatusCode = strconv.FormatInt(code, 10)
			if code < 400 {
				a.SetStatus(ocsf.StatusSuccess, "")
			} else {
				a.SetStatus(ocsf.StatusFailure, "")
				resp.Error = rs.str("reason")
			}
		}
		a.StatusDetail = resp.Message
		a.API.Response = resp
		rs.addRestTo(o, "responseStatus")
	}
	if auditID != "" {
		a.API.Request = &ocsf.Request{UID: auditID, Data: o.value("requestObject")}
	}
	if ro := o.value("responseObject"); ro != nil {
		if a.API.Response == nil {
			a.API.Response = &ocsf.Response{}
		}
		a.API.Response.Data = ro
	}
	k8sFinish(a, verb, t, uri, ua)
	return nil
}

// mapGKEAudit maps a GKE Cloud Audit Log entry for the Kubernetes API
// (protoPayload.serviceName k8s.io).
func mapGKEAudit(o rawObject, raw []byte) (ocsf.Record, error) {
	a := &ocsf.APIActivity{}
	a.Metadata.Product = ocsf.Product{Name: "GKE", VendorName: "Google"}
	a.SetSeverity(ocsf.SeverityInformational, "")
	p := o.obj("protoPayload")
	if p == nil {
		return nil, missing("protoPayload")
	}
	method := p.str("methodName")
	if method == "" {
		return nil, missing("protoPayload.methodName")
	}
	// io.k8s.<group>.<version>.<resource>[.<subresource>].<verb>
	parts := strings.Split(method, ".")
	verb := parts[len(parts)-1]
	var t k8sTarget
	if len(parts) >= 6 && parts[0] == "io" && parts[1] == "k8s" {
		t.group, t.version, t.resource = parts[2], parts[3], parts[4]
		if len(parts) >= 7 {
			t.subresource = strings.Join(parts[5:len(parts)-1], ".")
		}
		if t.group == "core" {
			t.group = ""
		}
	}
	k8sActivity(a, verb)
	a.Metadata.EventCode = method
	a.Metadata.OriginalEventUID = firstNonEmpty(o.str("insertId"), contentID(raw))
	if ts := o.str("timestamp"); ts != "" {
		tm, err := parseTime(ts)
		if err != nil {
			return nil, &fieldError{"timestamp", err}
		}
		a.Time = ocsf.Millis(tm)
	}
	if rn := p.str("resourceName"); rn != "" {
		// <group>/<version>[/namespaces/<ns>]/<resource>/<name>
		segs := strings.Split(rn, "/")
		for i := 0; i+1 < len(segs); i++ {
			if segs[i] == "namespaces" && i+3 < len(segs) {
				t.namespace = segs[i+1]
			}
		}
		if len(segs) >= 4 {
			t.name = segs[len(segs)-1]
			if strings.Contains(segs[0], ".") {
				t.group = segs[0] // the full group name, which methodName shortens
			}
		}
		t.uid = rn
	}
	if ai := p.obj("authenticationInfo"); ai != nil {
		a.Actor.User = k8sUser(ai.str("principalEmail"), "", nil)
		ai.addRestTo(p, "authenticationInfo")
	}
	var ua string
	if rm := p.obj("requestMetadata"); rm != nil {
		for _, key := range []string{"callerIp", "callerIP"} {
			v, _ := rawScalar(rm[key])
			if ip := canonicalIP(v); ip != "" && a.SrcEndpoint.IP == "" {
				a.SrcEndpoint.IP = ip
				if ip == v {
					delete(rm, key)
				}
			}
		}
		ua = rm.str("callerSuppliedUserAgent")
		rm.addRestTo(p, "requestMetadata")
	}
	a.API.Service = &ocsf.Service{Name: p.str("serviceName")}
	if a.API.Service.Name == "" {
		a.API.Service = nil
	}
	if resp := p.value("response"); resp != nil {
		a.API.Response = &ocsf.Response{Data: resp}
	}
	var cluster *ocsf.ResourceDetails
	if res := o.obj("resource"); res != nil {
		typ := res.str("type")
		if labels := res.obj("labels"); labels != nil {
			project := labels.str("project_id")
			c := &ocsf.Cloud{Provider: "GCP", Region: labels.str("location")}
			if project != "" {
				c.Account = &ocsf.Account{UID: project, Type: "GCP Project", TypeID: 11}
			}
			a.SetCloud(c)
			if name := labels.str("cluster_name"); name != "" {
				cluster = &ocsf.ResourceDetails{Name: name, Type: typ, Region: c.Region, RoleID: ocsf.ResourceRoleRelated, Role: "Related"}
			} else {
				res["type"], _ = json.Marshal(typ)
			}
			labels.addRestTo(res, "labels")
		} else {
			a.SetCloud(&ocsf.Cloud{Provider: "GCP"})
			res["type"], _ = json.Marshal(typ)
		}
		res.addRestTo(o, "resource")
	}
	k8sFinish(a, verb, t, "", ua)
	if cluster != nil {
		a.Resources = append(a.Resources, *cluster)
	}
	p.addRest(&a.Base, "protoPayload")
	o.addRest(&a.Base, "")
	return a, nil
}
