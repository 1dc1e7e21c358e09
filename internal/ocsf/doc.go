// Package ocsf is Canopy's canonical data model: Go types for the Open
// Cybersecurity Schema Framework (OCSF 1.8.0) classes that Canopy emits, their
// enum captions, and the helpers that keep a record's derived identifiers
// (class_name, type_uid, severity caption …) consistent.
//
// Every stage of the flow speaks these types: decoders in internal/ingest
// produce them, the pipeline fingerprints and stores them, and the API returns
// their JSON, which is valid OCSF. Whatever a source says that OCSF has no
// attribute for goes under Unmapped; nothing is dropped.
//
// A record is one of the class types ([VulnerabilityFinding],
// [ComplianceFinding], [DetectionFinding], [DataSecurityFinding],
// [APIActivity], [Authentication], [NetworkActivity], [HTTPActivity],
// [DNSActivity], [ProcessActivity]); all of them implement [Record]. Call
// [Base.SetClass] and [Base.SetSeverity] rather than filling the
// derived captions by hand.
//
// Canopy's own facts about a record (fingerprint, tenant, first/last seen …)
// are not part of these types: they live beside the OCSF JSON in the store.
//
// The package has no state and no I/O; its types are safe to share once built.
package ocsf
