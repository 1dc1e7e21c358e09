package store

import (
	"context"
	"encoding/json"
	"time"
)

// Resource is one stored inventory resource: Canopy's columns and the
// resource as the posture importers normalized it (Doc, JSON of
// inventory.Resource).
type Resource struct {
	Tenant     string
	Key        string // provider|account|type|uid, unique per tenant
	Provider   string
	Account    string
	Region     string
	Type       string
	UID        string
	Name       string
	Source     string
	ObservedAt time.Time // zero when the source did not say
	UpdatedAt  time.Time
	Doc        json.RawMessage
}

// ResourceQuery selects a tenant's resources, by key.
type ResourceQuery struct {
	Tenant   string
	Types    []string // only these types
	Provider string   // only this provider
	After    string   // keys after this one (the last key of the previous page)
	Limit    int      // 0: MaxPage
}

// ControlResult is one rule's outcome on one resource for one control of
// a pack, as the latest scan of the pack left it.
type ControlResult struct {
	Pack         string `json:"pack"`
	Control      string `json:"control"`
	RuleID       string `json:"rule_id"`
	ResourceKey  string `json:"resource_key"`
	ResourceUID  string `json:"resource_uid"`
	ResourceType string `json:"resource_type"`
	ResourceName string `json:"resource_name,omitempty"`
	Account      string `json:"account,omitempty"`
	Region       string `json:"region,omitempty"`
	Status       string `json:"status"` // pass, fail or error
	Severity     string `json:"severity"`
	Message      string `json:"message,omitempty"`
}

// Scan describes one posture scan of a tenant.
type Scan struct {
	ID         string    `json:"id"`
	Tenant     string    `json:"-"`
	Packs      []string  `json:"packs"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
	Resources  int       `json:"resources"`
	Evaluated  int       `json:"evaluated"` // (rule, resource) pairs
	Passed     int       `json:"passed"`
	Failed     int       `json:"failed"`
	Errors     int       `json:"errors"`
	Findings   int       `json:"findings"` // compliance findings stored for failures
}

// Evidence is the state of a manual control's evidence.
type Evidence struct {
	Pack      string    `json:"pack"`
	Control   string    `json:"control"`
	Status    string    `json:"status"` // missing, submitted, accepted or rejected
	Reference string    `json:"reference,omitempty"`
	By        string    `json:"by,omitempty"`
	Note      string    `json:"note,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Posture keeps the inventory, the results of the latest scan of each
// pack, and manual controls' evidence.
type Posture interface {
	// PutResources upserts resources by key, in one transaction; it
	// returns how many were new.
	PutResources(ctx context.Context, tenant string, rows []Resource) (int, error)
	Resources(ctx context.Context, q ResourceQuery) ([]Resource, error)
	// SaveScan stores a scan and its results in one transaction; for each
	// of the scan's packs they replace the results of the previous scan.
	SaveScan(ctx context.Context, s Scan, results []ControlResult) error
	// LatestScan returns the latest scan that covered the pack, with the
	// pack's results (ErrNotFound: never scanned).
	LatestScan(ctx context.Context, tenant, pack string) (Scan, []ControlResult, error)
	PutEvidence(ctx context.Context, tenant string, e Evidence) error
	// Evidence returns the pack's evidence by control.
	Evidence(ctx context.Context, tenant, pack string) (map[string]Evidence, error)
}
