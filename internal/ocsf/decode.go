package ocsf

import (
	"fmt"

	json "github.com/goccy/go-json"
)

// Decode reads one record's OCSF JSON (as stored) back into its class type.
func Decode(data []byte) (Record, error) {
	var head struct {
		ClassUID int `json:"class_uid"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("ocsf: decoding: %w", err)
	}
	var rec Record
	switch head.ClassUID {
	case ClassProcessActivity:
		rec = &ProcessActivity{}
	case ClassVulnerabilityFinding:
		rec = &VulnerabilityFinding{}
	case ClassComplianceFinding:
		rec = &ComplianceFinding{}
	case ClassDetectionFinding:
		rec = &DetectionFinding{}
	case ClassIncidentFinding:
		rec = &IncidentFinding{}
	case ClassDataSecurityFinding:
		rec = &DataSecurityFinding{}
	case ClassAuthentication:
		rec = &Authentication{}
	case ClassNetworkActivity:
		rec = &NetworkActivity{}
	case ClassHTTPActivity:
		rec = &HTTPActivity{}
	case ClassDNSActivity:
		rec = &DNSActivity{}
	case ClassAPIActivity:
		rec = &APIActivity{}
	default:
		rec = &Base{}
	}
	if err := json.Unmarshal(data, rec); err != nil {
		return nil, fmt.Errorf("ocsf: decoding class %d: %w", head.ClassUID, err)
	}
	return rec, nil
}
