package ocsf

// This file holds the OCSF objects used by Canopy's classes. Each type carries
// the attributes Canopy maps today; attribute names and JSON keys follow the
// OCSF 1.8.0 dictionary. Optional objects are pointers so that they are
// omitted when absent.

// Metadata is the OCSF metadata object.
type Metadata struct {
	Version          string     `json:"version"`
	Product          Product    `json:"product"`
	Profiles         []string   `json:"profiles,omitempty"`
	UID              string     `json:"uid,omitempty"`
	OriginalEventUID string     `json:"original_event_uid,omitempty"`
	CorrelationUID   string     `json:"correlation_uid,omitempty"`
	EventCode        string     `json:"event_code,omitempty"`
	LogName          string     `json:"log_name,omitempty"`
	LogProvider      string     `json:"log_provider,omitempty"`
	LogFormat        string     `json:"log_format,omitempty"`
	LogVersion       string     `json:"log_version,omitempty"`
	Labels           []string   `json:"labels,omitempty"`
	OriginalTime     string     `json:"original_time,omitempty"`
	LoggedTime       int64      `json:"logged_time,omitempty"`
	ModifiedTime     int64      `json:"modified_time,omitempty"`
	TenantUID        string     `json:"tenant_uid,omitempty"`
	Tags             []KeyValue `json:"tags,omitempty"`
}

// Product is the OCSF product object.
type Product struct {
	Name       string   `json:"name,omitempty"`
	VendorName string   `json:"vendor_name,omitempty"`
	Version    string   `json:"version,omitempty"`
	UID        string   `json:"uid,omitempty"`
	URLString  string   `json:"url_string,omitempty"`
	Feature    *Feature `json:"feature,omitempty"`
}

// Feature is the OCSF feature object (a part of a product).
type Feature struct {
	Name    string `json:"name,omitempty"`
	UID     string `json:"uid,omitempty"`
	Version string `json:"version,omitempty"`
}

// KeyValue is the OCSF key_value_object.
type KeyValue struct {
	Name   string   `json:"name"`
	Value  string   `json:"value,omitempty"`
	Values []string `json:"values,omitempty"`
}

// Cloud is the OCSF cloud object (cloud profile).
type Cloud struct {
	Provider       string        `json:"provider"`
	Region         string        `json:"region,omitempty"`
	Zone           string        `json:"zone,omitempty"`
	Account        *Account      `json:"account,omitempty"`
	Org            *Organization `json:"org,omitempty"`
	CloudPartition string        `json:"cloud_partition,omitempty"`
}

// Account is the OCSF account object.
type Account struct {
	UID    string   `json:"uid,omitempty"`
	Name   string   `json:"name,omitempty"`
	Type   string   `json:"type,omitempty"`
	TypeID int      `json:"type_id,omitempty"`
	Labels []string `json:"labels,omitempty"`
}

// Account type ids used by Canopy.
const (
	AccountTypeAWS   = 10
	AccountTypeAzure = 6 // Azure AD Account
	AccountTypeGCP   = 5 // GCP Account
	AccountTypeOther = 99
)

// Organization is the OCSF organization object.
type Organization struct {
	UID    string `json:"uid,omitempty"`
	Name   string `json:"name,omitempty"`
	OuUID  string `json:"ou_uid,omitempty"`
	OuName string `json:"ou_name,omitempty"`
}

// FindingInfo is the OCSF finding_info object.
type FindingInfo struct {
	UID           string    `json:"uid"`
	Title         string    `json:"title,omitempty"`
	Desc          string    `json:"desc,omitempty"`
	Types         []string  `json:"types,omitempty"`
	CreatedTime   int64     `json:"created_time,omitempty"`
	ModifiedTime  int64     `json:"modified_time,omitempty"`
	FirstSeenTime int64     `json:"first_seen_time,omitempty"`
	LastSeenTime  int64     `json:"last_seen_time,omitempty"`
	SrcURL        string    `json:"src_url,omitempty"`
	Analytic      *Analytic `json:"analytic,omitempty"`
	Attacks       []Attack  `json:"attacks,omitempty"`
	DataSources   []string  `json:"data_sources,omitempty"`
	Product       *Product  `json:"product,omitempty"`
	UIDAlt        string    `json:"uid_alt,omitempty"`
}

// Analytic is the OCSF analytic object: the rule, check or signature that
// produced a finding.
type Analytic struct {
	UID      string `json:"uid,omitempty"`
	Name     string `json:"name,omitempty"`
	Desc     string `json:"desc,omitempty"`
	Category string `json:"category,omitempty"`
	Type     string `json:"type,omitempty"`
	TypeID   int    `json:"type_id"`
	Version  string `json:"version,omitempty"`
}

// Analytic type ids.
const (
	AnalyticTypeUnknown     = 0
	AnalyticTypeRule        = 1
	AnalyticTypeBehavioral  = 2
	AnalyticTypeStatistical = 3
	AnalyticTypeLearning    = 4
	AnalyticTypeFingerprint = 5
	AnalyticTypeTagging     = 6
	AnalyticTypeKeyword     = 7
	AnalyticTypeRegex       = 8
	AnalyticTypeExact       = 9
	AnalyticTypePartial     = 10
	AnalyticTypeNLP         = 11
	AnalyticTypeOther       = 99
)

var analyticTypeCaptions = map[int]string{0: "Unknown", 1: "Rule", 2: "Behavioral", 3: "Statistical", 4: "Learning (ML/DL)",
	5: "Fingerprinting", 6: "Tagging", 7: "Keyword Match", 8: "Regular Expressions", 9: "Exact Data Match", 10: "Partial Data Match", 11: "Natural Language Processing", 99: "Other"}

// NewAnalytic returns an analytic of the given type with its caption set.
func NewAnalytic(typeID int, uid, name string) *Analytic {
	return &Analytic{UID: uid, Name: name, TypeID: typeID, Type: analyticTypeCaptions[typeID]}
}

// Attack is the OCSF attack object (MITRE ATT&CK).
type Attack struct {
	Version      string     `json:"version,omitempty"`
	Tactic       *Tactic    `json:"tactic,omitempty"`
	Technique    *Technique `json:"technique,omitempty"`
	SubTechnique *Technique `json:"sub_technique,omitempty"`
	Tactics      []Tactic   `json:"tactics,omitempty"`
}

// Tactic is the OCSF tactic object.
type Tactic struct {
	UID    string `json:"uid,omitempty"`
	Name   string `json:"name,omitempty"`
	SrcURL string `json:"src_url,omitempty"`
}

// Technique is the OCSF technique (and sub_technique) object.
type Technique struct {
	UID    string `json:"uid,omitempty"`
	Name   string `json:"name,omitempty"`
	SrcURL string `json:"src_url,omitempty"`
}

// ResourceDetails is the OCSF resource_details object: an affected resource.
// Region, Zone, Provider and CloudPartition belong to the cloud profile.
type ResourceDetails struct {
	UID            string     `json:"uid,omitempty"`
	UIDAlt         string     `json:"uid_alt,omitempty"`
	Name           string     `json:"name,omitempty"`
	Type           string     `json:"type,omitempty"`
	Hostname       string     `json:"hostname,omitempty"`
	IP             string     `json:"ip,omitempty"`
	Namespace      string     `json:"namespace,omitempty"`
	Region         string     `json:"region,omitempty"`
	Zone           string     `json:"zone,omitempty"`
	Provider       string     `json:"provider,omitempty"`
	CloudPartition string     `json:"cloud_partition,omitempty"`
	Labels         []string   `json:"labels,omitempty"`
	Tags           []KeyValue `json:"tags,omitempty"`
	Owner          *User      `json:"owner,omitempty"`
	Group          *Group     `json:"group,omitempty"`
	Version        string     `json:"version,omitempty"`
	Criticality    string     `json:"criticality,omitempty"`
	RoleID         int        `json:"role_id,omitempty"`
	Role           string     `json:"role,omitempty"`
	CreatedTime    int64      `json:"created_time,omitempty"`
	ModifiedTime   int64      `json:"modified_time,omitempty"`
	Data           any        `json:"data,omitempty"`
}

// Resource role ids (resource_details.role_id).
const (
	ResourceRoleTarget   = 1
	ResourceRoleActor    = 2
	ResourceRoleAffected = 3
	ResourceRoleRelated  = 4
)

// Group is the OCSF group object.
type Group struct {
	UID  string `json:"uid,omitempty"`
	Name string `json:"name,omitempty"`
	Type string `json:"type,omitempty"`
}

// Vulnerability is the OCSF vulnerability object. Exactly one of CVE, CWE and
// Advisory must be set.
type Vulnerability struct {
	Title              string            `json:"title,omitempty"`
	Desc               string            `json:"desc,omitempty"`
	Severity           string            `json:"severity,omitempty"`
	Category           string            `json:"category,omitempty"`
	VendorName         string            `json:"vendor_name,omitempty"`
	CVE                *CVE              `json:"cve,omitempty"`
	CWE                *CWE              `json:"cwe,omitempty"`
	Advisory           *Advisory         `json:"advisory,omitempty"`
	AffectedPackages   []AffectedPackage `json:"affected_packages,omitempty"`
	AffectedCode       []AffectedCode    `json:"affected_code,omitempty"`
	IsFixAvailable     *bool             `json:"is_fix_available,omitempty"`
	IsExploitAvailable *bool             `json:"is_exploit_available,omitempty"`
	References         []string          `json:"references,omitempty"`
	RelatedVulns       []string          `json:"related_vulnerabilities,omitempty"`
	Remediation        *Remediation      `json:"remediation,omitempty"`
	FirstSeenTime      int64             `json:"first_seen_time,omitempty"`
	LastSeenTime       int64             `json:"last_seen_time,omitempty"`
	DependencyChain    string            `json:"dependency_chain,omitempty"`
}

// CVE is the OCSF cve object.
type CVE struct {
	UID          string   `json:"uid"`
	Title        string   `json:"title,omitempty"`
	Desc         string   `json:"desc,omitempty"`
	Type         string   `json:"type,omitempty"`
	CVSS         []CVSS   `json:"cvss,omitempty"`
	EPSS         *EPSS    `json:"epss,omitempty"`
	RelatedCWEs  []CWE    `json:"related_cwes,omitempty"`
	References   []string `json:"references,omitempty"`
	CreatedTime  int64    `json:"created_time,omitempty"`
	ModifiedTime int64    `json:"modified_time,omitempty"`
}

// CVSS is the OCSF cvss object.
type CVSS struct {
	Version      string  `json:"version"`
	BaseScore    float64 `json:"base_score"`
	VectorString string  `json:"vector_string,omitempty"`
	Severity     string  `json:"severity,omitempty"`
	VendorName   string  `json:"vendor_name,omitempty"`
	Depth        string  `json:"depth,omitempty"`
}

// EPSS is the OCSF epss object.
type EPSS struct {
	Score       string  `json:"score"`
	Percentile  float64 `json:"percentile,omitempty"`
	CreatedTime int64   `json:"created_time,omitempty"`
	Version     string  `json:"version,omitempty"`
}

// CWE is the OCSF cwe object.
type CWE struct {
	UID     string `json:"uid"`
	Caption string `json:"caption,omitempty"`
	SrcURL  string `json:"src_url,omitempty"`
}

// Advisory is the OCSF advisory object: a vendor advisory or, for weaknesses
// without a CVE or CWE, the source's own identifier of the weakness.
type Advisory struct {
	UID            string   `json:"uid"`
	Title          string   `json:"title,omitempty"`
	Desc           string   `json:"desc,omitempty"`
	SrcURL         string   `json:"src_url,omitempty"`
	References     []string `json:"references,omitempty"`
	Classification string   `json:"classification,omitempty"`
	CreatedTime    int64    `json:"created_time,omitempty"`
	ModifiedTime   int64    `json:"modified_time,omitempty"`
}

// AffectedPackage is the OCSF affected_package object.
type AffectedPackage struct {
	Name           string `json:"name"`
	Version        string `json:"version"`
	FixedInVersion string `json:"fixed_in_version,omitempty"`
	Purl           string `json:"purl,omitempty"`
	Type           string `json:"type,omitempty"`
	TypeID         int    `json:"type_id,omitempty"`
	PackageManager string `json:"package_manager,omitempty"`
	Path           string `json:"path,omitempty"`
	Architecture   string `json:"architecture,omitempty"`
	Epoch          int    `json:"epoch,omitempty"`
	Release        string `json:"release,omitempty"`
	License        string `json:"license,omitempty"`
	UID            string `json:"uid,omitempty"`
	VendorName     string `json:"vendor_name,omitempty"`
}

// Package type ids (affected_package.type_id).
const (
	PackageTypeUnknown     = 0
	PackageTypeApplication = 1
	PackageTypeOS          = 2
	PackageTypeOther       = 99
)

// AffectedCode is the OCSF affected_code object: a location in source code.
type AffectedCode struct {
	File        File         `json:"file"`
	StartLine   int          `json:"start_line,omitempty"`
	EndLine     int          `json:"end_line,omitempty"`
	StartColumn int          `json:"start_column,omitempty"`
	EndColumn   int          `json:"end_column,omitempty"`
	Remediation *Remediation `json:"remediation,omitempty"`
	Rule        *Rule        `json:"rule,omitempty"`
}

// Rule is the OCSF rule object.
type Rule struct {
	UID      string `json:"uid,omitempty"`
	Name     string `json:"name,omitempty"`
	Desc     string `json:"desc,omitempty"`
	Category string `json:"category,omitempty"`
	Type     string `json:"type,omitempty"`
	Version  string `json:"version,omitempty"`
}

// File is the OCSF file object.
type File struct {
	Name     string        `json:"name"`
	Path     string        `json:"path,omitempty"`
	Type     string        `json:"type,omitempty"`
	TypeID   int           `json:"type_id"`
	UID      string        `json:"uid,omitempty"`
	Size     int64         `json:"size,omitempty"`
	MimeType string        `json:"mime_type,omitempty"`
	Hashes   []Fingerprint `json:"hashes,omitempty"`
	Desc     string        `json:"desc,omitempty"`
}

// File type ids (file.type_id).
const (
	FileTypeUnknown = 0
	FileTypeRegular = 1
	FileTypeFolder  = 2
	FileTypeOther   = 99
)

// Fingerprint is the OCSF fingerprint object (a hash).
type Fingerprint struct {
	Algorithm   string `json:"algorithm,omitempty"`
	AlgorithmID int    `json:"algorithm_id"`
	Value       string `json:"value"`
}

// Compliance is the OCSF compliance object.
type Compliance struct {
	Standards         []string   `json:"standards,omitempty"`
	Control           string     `json:"control,omitempty"`
	Requirements      []string   `json:"requirements,omitempty"`
	Desc              string     `json:"desc,omitempty"`
	Category          string     `json:"category,omitempty"`
	StatusID          int        `json:"status_id,omitempty"`
	Status            string     `json:"status,omitempty"`
	StatusCode        string     `json:"status_code,omitempty"`
	StatusDetails     []string   `json:"status_details,omitempty"`
	Checks            []Check    `json:"checks,omitempty"`
	ControlParameters []KeyValue `json:"control_parameters,omitempty"`
}

var complianceStatusCaptions = map[int]string{0: "Unknown", 1: "Pass", 2: "Warning", 3: "Fail", 99: "Other"}

// SetStatus sets compliance.status_id and its caption.
func (c *Compliance) SetStatus(id int) {
	c.StatusID = id
	c.Status = complianceStatusCaptions[id]
}

// Check is the OCSF check object (one control check of a compliance standard).
type Check struct {
	UID        string   `json:"uid,omitempty"`
	Name       string   `json:"name,omitempty"`
	Desc       string   `json:"desc,omitempty"`
	Standards  []string `json:"standards,omitempty"`
	Severity   string   `json:"severity,omitempty"`
	SeverityID int      `json:"severity_id,omitempty"`
	Status     string   `json:"status,omitempty"`
	StatusID   int      `json:"status_id,omitempty"`
	Version    string   `json:"version,omitempty"`
}

// Remediation is the OCSF remediation object.
type Remediation struct {
	Desc       string   `json:"desc"`
	References []string `json:"references,omitempty"`
	KBArticles []string `json:"kb_articles,omitempty"`
}

// Observable is the OCSF observable object.
type Observable struct {
	Name   string `json:"name"`
	Type   string `json:"type,omitempty"`
	TypeID int    `json:"type_id"`
	Value  string `json:"value,omitempty"`
}

// Observable type ids used by Canopy.
const (
	ObservableHostname    = 1
	ObservableIP          = 2
	ObservableMAC         = 3
	ObservableUserName    = 4
	ObservableEmail       = 5
	ObservableURL         = 6
	ObservableFileName    = 7
	ObservableHash        = 8
	ObservableProcessName = 9
	ObservableResourceUID = 10
	ObservablePort        = 11
	ObservableCommandLine = 13
	ObservableCVE         = 18
	ObservableUserAgent   = 16
	ObservableUser        = 21
	ObservableContainer   = 27
	ObservableOther       = 99
)

// Evidence is the OCSF evidences object: the artifacts a detection is based on.
// At least one of its objects must be set.
type Evidence struct {
	Actor          *Actor            `json:"actor,omitempty"`
	API            *API              `json:"api,omitempty"`
	ConnectionInfo *ConnectionInfo   `json:"connection_info,omitempty"`
	Container      *Container        `json:"container,omitempty"`
	Device         *Device           `json:"device,omitempty"`
	DstEndpoint    *NetworkEndpoint  `json:"dst_endpoint,omitempty"`
	SrcEndpoint    *NetworkEndpoint  `json:"src_endpoint,omitempty"`
	File           *File             `json:"file,omitempty"`
	HTTPRequest    *HTTPRequest      `json:"http_request,omitempty"`
	HTTPResponse   *HTTPResponse     `json:"http_response,omitempty"`
	Process        *Process          `json:"process,omitempty"`
	Query          *DNSQuery         `json:"query,omitempty"`
	Resources      []ResourceDetails `json:"resources,omitempty"`
	TLS            *TLS              `json:"tls,omitempty"`
	URL            *URL              `json:"url,omitempty"`
	User           *User             `json:"user,omitempty"`
	Data           any               `json:"data,omitempty"`
	Name           string            `json:"name,omitempty"`
	UID            string            `json:"uid,omitempty"`
}

// Actor is the OCSF actor object.
type Actor struct {
	User    *User    `json:"user,omitempty"`
	Process *Process `json:"process,omitempty"`
	Session *Session `json:"session,omitempty"`
	AppName string   `json:"app_name,omitempty"`
	AppUID  string   `json:"app_uid,omitempty"`
	IDP     *IDP     `json:"idp,omitempty"`
}

// IDP is the OCSF identity provider object.
type IDP struct {
	Name string `json:"name,omitempty"`
	UID  string `json:"uid,omitempty"`
}

// User is the OCSF user object.
type User struct {
	UID         string   `json:"uid,omitempty"`
	UIDAlt      string   `json:"uid_alt,omitempty"`
	Name        string   `json:"name,omitempty"`
	FullName    string   `json:"full_name,omitempty"`
	DisplayName string   `json:"display_name,omitempty"`
	Type        string   `json:"type,omitempty"`
	TypeID      int      `json:"type_id,omitempty"`
	Domain      string   `json:"domain,omitempty"`
	EmailAddr   string   `json:"email_addr,omitempty"`
	Account     *Account `json:"account,omitempty"`
	Groups      []Group  `json:"groups,omitempty"`
	HasMFA      *bool    `json:"has_mfa,omitempty"`
}

// User type ids (user.type_id).
const (
	UserTypeUnknown = 0
	UserTypeUser    = 1
	UserTypeAdmin   = 2
	UserTypeSystem  = 3
	UserTypeService = 4
	UserTypeOther   = 99
)

var userTypeCaptions = map[int]string{0: "Unknown", 1: "User", 2: "Admin", 3: "System", 4: "Service", 99: "Other"}

// SetType sets user.type_id and its caption; for [UserTypeOther] the
// caption is the source's own word.
func (u *User) SetType(id int, other string) {
	u.TypeID = id
	u.Type = userTypeCaptions[id]
	if id == UserTypeOther && other != "" {
		u.Type = other
	}
}

// Session is the OCSF session object.
type Session struct {
	UID           string `json:"uid,omitempty"`
	Issuer        string `json:"issuer,omitempty"`
	CreatedTime   int64  `json:"created_time,omitempty"`
	IsMFA         *bool  `json:"is_mfa,omitempty"`
	IsRemote      *bool  `json:"is_remote,omitempty"`
	CredentialUID string `json:"credential_uid,omitempty"`
	Terminal      string `json:"terminal,omitempty"`
}

// API is the OCSF api object.
type API struct {
	Operation string    `json:"operation"`
	Version   string    `json:"version,omitempty"`
	Service   *Service  `json:"service,omitempty"`
	Request   *Request  `json:"request,omitempty"`
	Response  *Response `json:"response,omitempty"`
	Group     *Group    `json:"group,omitempty"`
}

// Service is the OCSF service object.
type Service struct {
	Name    string `json:"name,omitempty"`
	UID     string `json:"uid,omitempty"`
	Version string `json:"version,omitempty"`
}

// Request is the OCSF request object.
type Request struct {
	UID  string `json:"uid"`
	Data any    `json:"data,omitempty"`
}

// Response is the OCSF response object.
type Response struct {
	Code         int    `json:"code,omitempty"`
	Error        string `json:"error,omitempty"`
	ErrorMessage string `json:"error_message,omitempty"`
	Message      string `json:"message,omitempty"`
	Data         any    `json:"data,omitempty"`
}

// NetworkEndpoint is the OCSF network_endpoint object.
type NetworkEndpoint struct {
	IP            string            `json:"ip,omitempty"`
	Port          int               `json:"port,omitempty"`
	Hostname      string            `json:"hostname,omitempty"`
	Domain        string            `json:"domain,omitempty"`
	Name          string            `json:"name,omitempty"`
	UID           string            `json:"uid,omitempty"`
	InstanceUID   string            `json:"instance_uid,omitempty"`
	InterfaceName string            `json:"interface_name,omitempty"`
	SvcName       string            `json:"svc_name,omitempty"`
	MAC           string            `json:"mac,omitempty"`
	VpcUID        string            `json:"vpc_uid,omitempty"`
	SubnetUID     string            `json:"subnet_uid,omitempty"`
	Zone          string            `json:"zone,omitempty"`
	Location      *Location         `json:"location,omitempty"`
	AS            *AutonomousSystem `json:"autonomous_system,omitempty"`
	Type          string            `json:"type,omitempty"`
	TypeID        int               `json:"type_id,omitempty"`
	Owner         *User             `json:"owner,omitempty"`
	ISP           string            `json:"isp,omitempty"`
}

// AutonomousSystem is the OCSF autonomous_system object.
type AutonomousSystem struct {
	Number int    `json:"number,omitempty"`
	Name   string `json:"name,omitempty"`
}

// Location is the OCSF location object.
type Location struct {
	City      string  `json:"city,omitempty"`
	Country   string  `json:"country,omitempty"`
	Continent string  `json:"continent,omitempty"`
	Region    string  `json:"region,omitempty"`
	Lat       float64 `json:"lat,omitempty"`
	Long      float64 `json:"long,omitempty"`
	Desc      string  `json:"desc,omitempty"`
}

// Device is the OCSF device object.
type Device struct {
	UID         string     `json:"uid,omitempty"`
	Name        string     `json:"name,omitempty"`
	Hostname    string     `json:"hostname,omitempty"`
	IP          string     `json:"ip,omitempty"`
	Type        string     `json:"type,omitempty"`
	TypeID      int        `json:"type_id"`
	InstanceUID string     `json:"instance_uid,omitempty"`
	Region      string     `json:"region,omitempty"`
	Zone        string     `json:"zone,omitempty"`
	Domain      string     `json:"domain,omitempty"`
	OS          *OS        `json:"os,omitempty"`
	Image       *Image     `json:"image,omitempty"`
	VpcUID      string     `json:"vpc_uid,omitempty"`
	SubnetUID   string     `json:"subnet_uid,omitempty"`
	Desc        string     `json:"desc,omitempty"`
	Container   *Container `json:"container,omitempty"`
}

// Device type ids (device.type_id).
const (
	DeviceTypeUnknown = 0
	DeviceTypeServer  = 1
	DeviceTypeDesktop = 2
	DeviceTypeVirtual = 6
	DeviceTypeOther   = 99
)

var deviceTypeCaptions = map[int]string{0: "Unknown", 1: "Server", 2: "Desktop", 3: "Laptop", 4: "Tablet", 5: "Mobile", 6: "Virtual", 7: "IOT", 99: "Other"}

// SetType sets device.type_id and its caption.
func (d *Device) SetType(id int) {
	d.TypeID = id
	d.Type = deviceTypeCaptions[id]
}

// OS is the OCSF os object.
type OS struct {
	Name    string `json:"name"`
	Type    string `json:"type,omitempty"`
	TypeID  int    `json:"type_id"`
	Version string `json:"version,omitempty"`
	Build   string `json:"build,omitempty"`
}

// Image is the OCSF image object (a container or VM image).
type Image struct {
	UID    string   `json:"uid"`
	Name   string   `json:"name,omitempty"`
	Tag    string   `json:"tag,omitempty"`
	Path   string   `json:"path,omitempty"`
	Labels []string `json:"labels,omitempty"`
}

// Container is the OCSF container object.
type Container struct {
	UID          string   `json:"uid,omitempty"`
	Name         string   `json:"name,omitempty"`
	Image        *Image   `json:"image,omitempty"`
	Runtime      string   `json:"runtime,omitempty"`
	Orchestrator string   `json:"orchestrator,omitempty"`
	PodUUID      string   `json:"pod_uuid,omitempty"`
	Tag          string   `json:"tag,omitempty"`
	Labels       []string `json:"labels,omitempty"`
}

// Process is the OCSF process object.
type Process struct {
	PID              int        `json:"pid,omitempty"`
	UID              string     `json:"uid,omitempty"`
	Name             string     `json:"name,omitempty"`
	CmdLine          string     `json:"cmd_line,omitempty"`
	Path             string     `json:"path,omitempty"`
	File             *File      `json:"file,omitempty"`
	User             *User      `json:"user,omitempty"`
	ParentProcess    *Process   `json:"parent_process,omitempty"`
	Container        *Container `json:"container,omitempty"`
	CreatedTime      int64      `json:"created_time,omitempty"`
	WorkingDirectory string     `json:"working_directory,omitempty"`
	Session          *Session   `json:"session,omitempty"`
	TerminatedTime   int64      `json:"terminated_time,omitempty"`
}

// HTTPRequest is the OCSF http_request object.
type HTTPRequest struct {
	HTTPMethod    string       `json:"http_method,omitempty"`
	URL           *URL         `json:"url,omitempty"`
	UserAgent     string       `json:"user_agent,omitempty"`
	Version       string       `json:"version,omitempty"`
	Referrer      string       `json:"referrer,omitempty"`
	Length        int          `json:"length,omitempty"`
	HTTPHeaders   []HTTPHeader `json:"http_headers,omitempty"`
	UID           string       `json:"uid,omitempty"`
	XForwardedFor []string     `json:"x_forwarded_for,omitempty"`
}

// HTTPHeader is the OCSF http_header object.
type HTTPHeader struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// HTTPResponse is the OCSF http_response object.
type HTTPResponse struct {
	Code        int    `json:"code"`
	Status      string `json:"status,omitempty"`
	Message     string `json:"message,omitempty"`
	ContentType string `json:"content_type,omitempty"`
	Length      int    `json:"length,omitempty"`
}

// URL is the OCSF url object.
type URL struct {
	URLString   string `json:"url_string,omitempty"`
	Scheme      string `json:"scheme,omitempty"`
	Hostname    string `json:"hostname,omitempty"`
	Port        int    `json:"port,omitempty"`
	Path        string `json:"path,omitempty"`
	QueryString string `json:"query_string,omitempty"`
	Domain      string `json:"domain,omitempty"`
}

// DNSQuery is the OCSF dns_query object.
type DNSQuery struct {
	Hostname  string `json:"hostname"`
	Type      string `json:"type,omitempty"`
	Class     string `json:"class,omitempty"`
	PacketUID int    `json:"packet_uid,omitempty"`
	Opcode    string `json:"opcode,omitempty"`
	OpcodeID  int    `json:"opcode_id,omitempty"`
}

// DNSAnswer is the OCSF dns_answer object.
type DNSAnswer struct {
	Rdata     string   `json:"rdata"`
	Type      string   `json:"type,omitempty"`
	Class     string   `json:"class,omitempty"`
	TTL       int      `json:"ttl,omitempty"`
	PacketUID int      `json:"packet_uid,omitempty"`
	Flags     []string `json:"flags,omitempty"`
	FlagIDs   []int    `json:"flag_ids,omitempty"`
}

// ConnectionInfo is the OCSF network_connection_info object.
type ConnectionInfo struct {
	UID          string `json:"uid,omitempty"`
	ProtocolName string `json:"protocol_name,omitempty"`
	ProtocolNum  int    `json:"protocol_num,omitempty"`
	ProtocolVer  string `json:"protocol_ver,omitempty"`
	Direction    string `json:"direction,omitempty"`
	DirectionID  int    `json:"direction_id"`
	TCPFlags     int    `json:"tcp_flags,omitempty"`
	Boundary     string `json:"boundary,omitempty"`
	BoundaryID   int    `json:"boundary_id,omitempty"`
	CommunityUID string `json:"community_uid,omitempty"`
}

// Connection direction ids.
const (
	DirectionUnknown  = 0
	DirectionInbound  = 1
	DirectionOutbound = 2
	DirectionLateral  = 3
	DirectionOther    = 99
)

var directionCaptions = map[int]string{0: "Unknown", 1: "Inbound", 2: "Outbound", 3: "Lateral", 99: "Other"}

// SetDirection sets direction_id and its caption; for [DirectionOther]
// the caption is the source's own word.
func (c *ConnectionInfo) SetDirection(id int, other string) {
	c.DirectionID = id
	c.Direction = directionCaptions[id]
	if id == DirectionOther && other != "" {
		c.Direction = other
	}
}

// Traffic is the OCSF network_traffic object.
type Traffic struct {
	Bytes      int64 `json:"bytes,omitempty"`
	BytesIn    int64 `json:"bytes_in,omitempty"`
	BytesOut   int64 `json:"bytes_out,omitempty"`
	Packets    int64 `json:"packets,omitempty"`
	PacketsIn  int64 `json:"packets_in,omitempty"`
	PacketsOut int64 `json:"packets_out,omitempty"`
}

// TLS is the OCSF tls object.
type TLS struct {
	Version     string       `json:"version"`
	SNI         string       `json:"sni,omitempty"`
	Cipher      string       `json:"cipher,omitempty"`
	Certificate *Certificate `json:"certificate,omitempty"`
	JA3Hash     *Fingerprint `json:"ja3_hash,omitempty"`
	JA3SHash    *Fingerprint `json:"ja3s_hash,omitempty"`
}

// Certificate is the OCSF certificate object.
type Certificate struct {
	Issuer         string        `json:"issuer"`
	SerialNumber   string        `json:"serial_number"`
	Subject        string        `json:"subject,omitempty"`
	Version        string        `json:"version,omitempty"`
	CreatedTime    int64         `json:"created_time,omitempty"`
	ExpirationTime int64         `json:"expiration_time,omitempty"`
	Fingerprints   []Fingerprint `json:"fingerprints,omitempty"`
}
