package ocsf

import (
	"reflect"
	"time"
)

// Record is one OCSF event or finding of any class Canopy emits.
type Record interface {
	// Common returns the attributes every class shares.
	Common() *Base
	// SourceUID is the source's own stable identifier of the record:
	// finding_info.uid for findings; metadata.original_event_uid (else
	// metadata.uid) for events. Decoders must set it; deduplication keys on it.
	SourceUID() string
	// Title is a one-line human summary.
	Title() string
	// ResourceUID is the uid of the primary affected resource, if any.
	ResourceUID() string
}

// Base holds the attributes of OCSF's base_event that all Canopy classes
// share. Profile-gated attributes (Cloud, Device under "host" for some
// classes) require the profile to be listed in Metadata.Profiles; see
// [Base.AddProfile].
type Base struct {
	ActivityID     int            `json:"activity_id"`
	ActivityName   string         `json:"activity_name,omitempty"`
	CategoryUID    int            `json:"category_uid"`
	CategoryName   string         `json:"category_name,omitempty"`
	ClassUID       int            `json:"class_uid"`
	ClassName      string         `json:"class_name,omitempty"`
	TypeUID        int            `json:"type_uid"`
	TypeName       string         `json:"type_name,omitempty"`
	SeverityID     int            `json:"severity_id"`
	Severity       string         `json:"severity,omitempty"`
	StatusID       int            `json:"status_id,omitempty"`
	Status         string         `json:"status,omitempty"`
	StatusCode     string         `json:"status_code,omitempty"`
	StatusDetail   string         `json:"status_detail,omitempty"`
	Time           int64          `json:"time"`
	StartTime      int64          `json:"start_time,omitempty"`
	EndTime        int64          `json:"end_time,omitempty"`
	TimezoneOffset *int           `json:"timezone_offset,omitempty"`
	Count          int            `json:"count,omitempty"`
	Message        string         `json:"message,omitempty"`
	Metadata       Metadata       `json:"metadata"`
	Cloud          *Cloud         `json:"cloud,omitempty"`
	Device         *Device        `json:"device,omitempty"`
	Observables    []Observable   `json:"observables,omitempty"`
	RawData        string         `json:"raw_data,omitempty"`
	Unmapped       map[string]any `json:"unmapped,omitempty"`
}

// Common implements [Record].
func (b *Base) Common() *Base { return b }

// SourceUID implements [Record] for events.
func (b *Base) SourceUID() string {
	if b.Metadata.OriginalEventUID != "" {
		return b.Metadata.OriginalEventUID
	}
	return b.Metadata.UID
}

// Title implements [Record] for events: the message, else the type name.
func (b *Base) Title() string {
	if b.Message != "" {
		return b.Message
	}
	return b.TypeName
}

// ResourceUID implements [Record] for events: the device, if any.
func (b *Base) ResourceUID() string {
	if b.Device != nil {
		if b.Device.UID != "" {
			return b.Device.UID
		}
		return b.Device.Hostname
	}
	return ""
}

// SetClass fills class_uid, class_name, category_uid, category_name,
// activity_id, activity_name, type_uid and type_name for a class Canopy
// knows. For activity 99 (Other) pass the source's own activity name as
// other; it becomes activity_name. It also sets metadata.version.
func (b *Base) SetClass(classUID, activityID int, other string) {
	c, ok := classes[classUID]
	b.ClassUID = classUID
	b.ActivityID = activityID
	b.TypeUID = classUID*100 + activityID
	b.Metadata.Version = Version
	if !ok {
		return
	}
	b.ClassName = c.Caption
	b.CategoryUID = c.CategoryUID
	b.CategoryName = c.Category
	act, known := c.Activities[activityID]
	if !known {
		act = "Unknown"
	}
	b.ActivityName = act
	if activityID == ActivityOther && other != "" {
		b.ActivityName = other
	}
	b.TypeName = c.Caption + ": " + act
}

// SetSeverity sets severity_id and its caption. For 99 (Other), pass the
// source's own word as other.
func (b *Base) SetSeverity(id int, other string) {
	b.SeverityID = id
	b.Severity = SeverityCaption(id)
	if id == SeverityOther && other != "" {
		b.Severity = other
	}
}

// SetStatus sets status_id and its caption for the record's class (finding
// workflow status for findings, outcome for events). Call it after SetClass.
func (b *Base) SetStatus(id int, other string) {
	b.StatusID = id
	b.Status = classes[b.ClassUID].StatusLabels[id]
	if id == 99 && other != "" {
		b.Status = other
	}
}

// SetTime sets time (epoch milliseconds, UTC) from t; a zero t leaves it 0.
func (b *Base) SetTime(t time.Time) { b.Time = Millis(t) }

// AddProfile lists profile p in metadata.profiles once.
func (b *Base) AddProfile(p string) {
	for _, x := range b.Metadata.Profiles {
		if x == p {
			return
		}
	}
	b.Metadata.Profiles = append(b.Metadata.Profiles, p)
}

// SetCloud sets the cloud object and lists the cloud profile.
func (b *Base) SetCloud(c *Cloud) {
	if c == nil || c.Provider == "" {
		return
	}
	b.Cloud = c
	b.AddProfile("cloud")
}

// AddUnmapped stores v under unmapped[key] unless v is empty.
func (b *Base) AddUnmapped(key string, v any) {
	if isEmpty(v) {
		return
	}
	if b.Unmapped == nil {
		b.Unmapped = make(map[string]any)
	}
	b.Unmapped[key] = v
}

func isEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case map[string]any:
		return len(x) == 0
	case []any:
		return len(x) == 0
	case []string:
		return len(x) == 0
	}
	switch rv := reflect.ValueOf(v); rv.Kind() {
	case reflect.Map, reflect.Slice:
		return rv.Len() == 0
	case reflect.Pointer, reflect.Interface:
		return rv.IsNil()
	}
	return false
}

// AddObservable appends an observable unless value is empty. Its type is
// the schema's caption of typeID; typeName is used only for ids the caption
// table lacks.
func (b *Base) AddObservable(name string, typeID int, typeName, value string) {
	if value == "" {
		return
	}
	if c, ok := observableCaptions[typeID]; ok {
		typeName = c
	}
	b.Observables = append(b.Observables, Observable{Name: name, TypeID: typeID, Type: typeName, Value: value})
}

// observableCaptions are the captions of observable.type_id in OCSF 1.8.0
// (assembled by the schema compiler from the dictionary, objects and classes).
var observableCaptions = map[int]string{
	0: "Unknown", 1: "Hostname", 2: "IP Address", 3: "MAC Address", 4: "User Name", 5: "Email Address",
	6: "URL String", 7: "File Name", 8: "Hash", 9: "Process Name", 10: "Resource UID", 11: "Port",
	12: "Subnet", 13: "Command Line", 14: "Country", 15: "Process ID", 16: "HTTP User-Agent",
	17: "CWE Object: uid", 18: "CVE Object: uid", 19: "User Credential ID", 20: "Endpoint", 21: "User",
	22: "Email", 23: "Uniform Resource Locator", 24: "File", 25: "Process", 26: "Geo Location",
	27: "Container", 30: "Fingerprint", 31: "User Object: uid", 32: "Group Object: name",
	33: "Group Object: uid", 34: "Account Object: name", 35: "Account Object: uid", 36: "Script Content",
	37: "Serial Number", 38: "Resource Details Object: name", 39: "Process Entity Object: uid",
	40: "Email Object: subject", 41: "Email Object: uid", 42: "Message UID", 44: "Advisory Object: uid",
	45: "File Path", 47: "Device Object: uid", 48: "Network Endpoint Object: uid", 99: "Other",
}

// ObservableCaption returns the caption of an observable type id.
func ObservableCaption(typeID int) string { return observableCaptions[typeID] }

// Millis converts t to epoch milliseconds; the zero time gives 0.
func Millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// Finding holds what the OCSF finding classes share.
type Finding struct {
	Base
	FindingInfo FindingInfo       `json:"finding_info"`
	Resources   []ResourceDetails `json:"resources,omitempty"`
	// Remediation is allowed by Compliance and Detection Findings only;
	// Vulnerability Findings carry it in each vulnerability.
	Remediation      *Remediation      `json:"remediation,omitempty"`
	ConfidenceID     int               `json:"confidence_id,omitempty"`
	Confidence       string            `json:"confidence,omitempty"`
	ConfidenceScore  int               `json:"confidence_score,omitempty"`
	Comment          string            `json:"comment,omitempty"`
	VendorAttributes *VendorAttributes `json:"vendor_attributes,omitempty"`
}

// VendorAttributes is the OCSF vendor_attributes object: the vendor's own
// severity when the normalized one differs.
type VendorAttributes struct {
	SeverityID int    `json:"severity_id,omitempty"`
	Severity   string `json:"severity,omitempty"`
}

// SourceUID implements [Record]: finding_info.uid.
func (f *Finding) SourceUID() string { return f.FindingInfo.UID }

// Info returns the finding's finding_info.
func (f *Finding) Info() *FindingInfo { return &f.FindingInfo }

// Title implements [Record]: finding_info.title, else the message.
func (f *Finding) Title() string {
	if f.FindingInfo.Title != "" {
		return f.FindingInfo.Title
	}
	return f.Message
}

// ResourceUID implements [Record]: the first resource's uid (else name).
func (f *Finding) ResourceUID() string {
	for _, r := range f.Resources {
		if r.UID != "" {
			return r.UID
		}
		if r.Name != "" {
			return r.Name
		}
	}
	return f.Base.ResourceUID()
}

// VulnerabilityFinding is OCSF class 2002.
type VulnerabilityFinding struct {
	Finding
	Vulnerabilities []Vulnerability `json:"vulnerabilities"`
}

// ComplianceFinding is OCSF class 2003.
type ComplianceFinding struct {
	Finding
	Compliance Compliance `json:"compliance"`
}

// DetectionFinding is OCSF class 2004.
type DetectionFinding struct {
	Finding
	Evidences []Evidence `json:"evidences,omitempty"`
	IsAlert   *bool      `json:"is_alert,omitempty"`

	// security_control profile
	ActionID      int    `json:"action_id,omitempty"`
	Action        string `json:"action,omitempty"`
	DispositionID int    `json:"disposition_id,omitempty"`
	Disposition   string `json:"disposition,omitempty"`
}

// DataSecurityFinding is OCSF class 2006.
type DataSecurityFinding struct {
	Finding
	DataSecurity *DataSecurity `json:"data_security,omitempty"`
	Database     *Database     `json:"database,omitempty"`
	Databucket   *Databucket   `json:"databucket,omitempty"`
	Table        *Table        `json:"table,omitempty"`
	File         *File         `json:"file,omitempty"`
	Actor        *Actor        `json:"actor,omitempty"`
}

// DataSecurity is the OCSF data_security object. It extends
// data_classification, whose attributes (classifier_details,
// discovery_details, status, total, size …) it carries too.
type DataSecurity struct {
	Category             string             `json:"category,omitempty"`
	CategoryID           int                `json:"category_id,omitempty"`
	Confidentiality      string             `json:"confidentiality,omitempty"`
	ConfidentialityID    int                `json:"confidentiality_id,omitempty"`
	DataLifecycleState   string             `json:"data_lifecycle_state,omitempty"`
	DataLifecycleStateID int                `json:"data_lifecycle_state_id,omitempty"`
	DetectionSystem      string             `json:"detection_system,omitempty"`
	DetectionSystemID    int                `json:"detection_system_id,omitempty"`
	DetectionPattern     string             `json:"detection_pattern,omitempty"`
	PatternMatch         string             `json:"pattern_match,omitempty"`
	Policy               *Policy            `json:"policy,omitempty"`
	ClassifierDetails    *ClassifierDetails `json:"classifier_details,omitempty"`
	DiscoveryDetails     []DiscoveryDetails `json:"discovery_details,omitempty"`
	Status               string             `json:"status,omitempty"`
	StatusID             int                `json:"status_id,omitempty"`
	StatusDetails        []string           `json:"status_details,omitempty"`
	Total                int                `json:"total,omitempty"`
	Size                 int64              `json:"size,omitempty"`
	UID                  string             `json:"uid,omitempty"`
	SrcURL               string             `json:"src_url,omitempty"`
}

// Data classification and data security enum ids used by Canopy.
const (
	DataCategoryPersonal     = 1
	DataCategoryGovernmental = 2
	DataCategoryFinancial    = 3
	DataCategoryBusiness     = 4
	DataCategoryMilitary     = 5
	DataCategorySecurity     = 6
	DataCategoryOther        = 99

	ConfidentialityOther = 99

	DetectionSystemDiscovery = 4 // Data Discovery & Classification

	DataLifecycleAtRest = 1

	ClassificationStatusComplete = 1
	ClassificationStatusPartial  = 2
	ClassificationStatusFail     = 3

	DatabaseTypeRelational = 1
	DatabucketTypeS3       = 1
	DatabucketTypeOther    = 99
)

var dataCategoryCaptions = map[int]string{0: "Unknown", 1: "Personal", 2: "Governmental", 3: "Financial", 4: "Business",
	5: "Military and Law Enforcement", 6: "Security", 99: "Other"}

// DataCategoryCaption returns the caption of a data_classification
// category_id.
func DataCategoryCaption(id int) string { return dataCategoryCaptions[id] }

// ClassifierDetails is the OCSF classifier_details object.
type ClassifierDetails struct {
	Name string `json:"name,omitempty"`
	Type string `json:"type"`
	UID  string `json:"uid,omitempty"`
}

// DiscoveryDetails is the OCSF discovery_details object: how many entities
// of one type a classification job found, and where.
type DiscoveryDetails struct {
	Count       int                 `json:"count,omitempty"`
	Type        string              `json:"type,omitempty"`
	Value       string              `json:"value,omitempty"`
	Occurrences []OccurrenceDetails `json:"occurrences,omitempty"`
}

// OccurrenceDetails is the OCSF occurrence_details object.
type OccurrenceDetails struct {
	CellName           string `json:"cell_name,omitempty"`
	ColumnName         string `json:"column_name,omitempty"`
	ColumnNumber       int    `json:"column_number,omitempty"`
	EndLine            int    `json:"end_line,omitempty"`
	JSONPath           string `json:"json_path,omitempty"`
	PageNumber         int    `json:"page_number,omitempty"`
	RecordIndexInArray int    `json:"record_index_in_array,omitempty"`
	RowNumber          int    `json:"row_number,omitempty"`
	StartLine          int    `json:"start_line,omitempty"`
}

// Policy is the OCSF policy object.
type Policy struct {
	UID  string `json:"uid,omitempty"`
	Name string `json:"name,omitempty"`
	Desc string `json:"desc,omitempty"`
}

// Database is the OCSF database object.
type Database struct {
	UID    string `json:"uid,omitempty"`
	Name   string `json:"name,omitempty"`
	Type   string `json:"type,omitempty"`
	TypeID int    `json:"type_id"`
}

// Databucket is the OCSF databucket object (an object store bucket).
type Databucket struct {
	UID    string `json:"uid,omitempty"`
	Name   string `json:"name,omitempty"`
	Type   string `json:"type,omitempty"`
	TypeID int    `json:"type_id"`
}

// Table is the OCSF table object.
type Table struct {
	UID  string `json:"uid,omitempty"`
	Name string `json:"name,omitempty"`
}

// APIActivity is OCSF class 6003.
type APIActivity struct {
	Base
	Actor        Actor             `json:"actor"`
	API          API               `json:"api"`
	SrcEndpoint  NetworkEndpoint   `json:"src_endpoint"`
	DstEndpoint  *NetworkEndpoint  `json:"dst_endpoint,omitempty"`
	HTTPRequest  *HTTPRequest      `json:"http_request,omitempty"`
	HTTPResponse *HTTPResponse     `json:"http_response,omitempty"`
	Resources    []ResourceDetails `json:"resources,omitempty"`
}

// ResourceUID implements [Record]: the first resource's uid.
func (a *APIActivity) ResourceUID() string {
	for _, r := range a.Resources {
		if r.UID != "" {
			return r.UID
		}
		if r.Name != "" {
			return r.Name
		}
	}
	return a.Base.ResourceUID()
}

// Title implements [Record]: "service operation" unless a message is set.
func (a *APIActivity) Title() string {
	if a.Message != "" {
		return a.Message
	}
	if a.API.Service != nil && a.API.Service.Name != "" {
		return a.API.Service.Name + " " + a.API.Operation
	}
	return a.API.Operation
}

// Authentication is OCSF class 3002.
type Authentication struct {
	Base
	User           User             `json:"user"`
	Actor          *Actor           `json:"actor,omitempty"`
	API            *API             `json:"api,omitempty"`
	SrcEndpoint    *NetworkEndpoint `json:"src_endpoint,omitempty"`
	DstEndpoint    *NetworkEndpoint `json:"dst_endpoint,omitempty"`
	Service        *Service         `json:"service,omitempty"`
	Session        *Session         `json:"session,omitempty"`
	IsMFA          *bool            `json:"is_mfa,omitempty"`
	IsRemote       *bool            `json:"is_remote,omitempty"`
	AuthProtocol   string           `json:"auth_protocol,omitempty"`
	AuthProtocolID int              `json:"auth_protocol_id,omitempty"`
	LogonType      string           `json:"logon_type,omitempty"`
	LogonTypeID    int              `json:"logon_type_id,omitempty"`
	HTTPRequest    *HTTPRequest     `json:"http_request,omitempty"`
}

// Network holds what the OCSF network activity classes share.
type Network struct {
	Base
	SrcEndpoint     *NetworkEndpoint `json:"src_endpoint,omitempty"`
	DstEndpoint     *NetworkEndpoint `json:"dst_endpoint,omitempty"`
	ConnectionInfo  *ConnectionInfo  `json:"connection_info,omitempty"`
	Traffic         *Traffic         `json:"traffic,omitempty"`
	TLS             *TLS             `json:"tls,omitempty"`
	AppName         string           `json:"app_name,omitempty"`
	AppProtocolName string           `json:"app_protocol_name,omitempty"`
	Actor           *Actor           `json:"actor,omitempty"`
	API             *API             `json:"api,omitempty"`
}

// ResourceUID implements [Record]: the source endpoint's IP.
func (n *Network) ResourceUID() string {
	if n.SrcEndpoint != nil && n.SrcEndpoint.IP != "" {
		return n.SrcEndpoint.IP
	}
	return n.Base.ResourceUID()
}

// NetworkActivity is OCSF class 4001.
type NetworkActivity struct {
	Network
	URL *URL `json:"url,omitempty"`
}

// HTTPActivity is OCSF class 4002.
type HTTPActivity struct {
	Network
	HTTPRequest  *HTTPRequest  `json:"http_request,omitempty"`
	HTTPResponse *HTTPResponse `json:"http_response,omitempty"`
	HTTPStatus   int           `json:"http_status,omitempty"`
	File         *File         `json:"file,omitempty"`
}

// DNSActivity is OCSF class 4003.
type DNSActivity struct {
	Network
	Query        *DNSQuery   `json:"query,omitempty"`
	Answers      []DNSAnswer `json:"answers,omitempty"`
	Rcode        string      `json:"rcode,omitempty"`
	RcodeID      int         `json:"rcode_id,omitempty"`
	QueryTime    int64       `json:"query_time,omitempty"`
	ResponseTime int64       `json:"response_time,omitempty"`
}

// ProcessActivity is OCSF class 1007.
type ProcessActivity struct {
	Base
	Actor    Actor   `json:"actor"`
	Process  Process `json:"process"`
	ExitCode *int    `json:"exit_code,omitempty"`
}

// Title implements [Record]: the process command line unless a message is set.
func (p *ProcessActivity) Title() string {
	if p.Message != "" {
		return p.Message
	}
	if p.Process.CmdLine != "" {
		return p.Process.CmdLine
	}
	return p.Process.Name
}

// IncidentFinding is OCSF class 2005: an incident built from findings and
// events. The incident profile is implied and listed (see NewIncidentFinding).
type IncidentFinding struct {
	Base
	FindingInfoList []FindingInfo `json:"finding_info_list"`
	Desc            string        `json:"desc,omitempty"`
	Assignee        *User         `json:"assignee,omitempty"`
	AssigneeGroup   *Group        `json:"assignee_group,omitempty"`
	PriorityID      int           `json:"priority_id,omitempty"`
	Priority        string        `json:"priority,omitempty"`
	ImpactScore     *int          `json:"impact_score,omitempty"`
	ConfidenceID    int           `json:"confidence_id,omitempty"`
	Confidence      string        `json:"confidence,omitempty"`
}

// SourceUID implements [Record]: the first member's uid stands for the
// incident only when the incident has no uid of its own (metadata.uid).
func (f *IncidentFinding) SourceUID() string {
	if f.Metadata.UID != "" {
		return f.Metadata.UID
	}
	if len(f.FindingInfoList) > 0 {
		return f.FindingInfoList[0].UID
	}
	return ""
}

// Title implements [Record]: the description.
func (f *IncidentFinding) Title() string { return f.Desc }

var priorityCaptions = map[int]string{0: "Unknown", 1: "Low", 2: "Medium", 3: "High", 4: "Critical", 99: "Other"}

// SetPriority sets priority_id and its caption.
func (f *IncidentFinding) SetPriority(id int) {
	f.PriorityID = id
	f.Priority = priorityCaptions[id]
}
