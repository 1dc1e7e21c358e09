// Package dedup computes the identity of findings and events, so that
// re-ingesting a report updates what Canopy already has instead of adding
// copies.
//
// A fingerprint is a hash of (tenant, source product, the source's own stable
// id). Decoders in internal/ingest put that id in finding_info.uid (findings)
// or metadata.original_event_uid (events); where a source has none they
// derive one from the rule or check id, the resource uid and the location, or
// from the record's content. The pipeline fingerprints every record before it
// is stored; the store upserts on the fingerprint.
//
// An issue key ([IssueKey]) joins what different tools say about the same
// thing: the same CVE in the same package of the same image, the same
// control (named as the CIS control it checks, see [CanonicalControl])
// failing on the same resource, or one rule's repeated alerts about one
// entity within an hour. Findings keep their own fingerprints; the store
// groups them into issues by key.
//
// The control tables are data: controls.json is generated from the CIS
// reference files by gencontrols (go generate), securityhub-cis.json is kept
// by hand. Both are embedded and read once.
package dedup
