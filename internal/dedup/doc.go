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
// Canonical keys that join what different tools say about the same weakness
// (cross-tool deduplication) build on this package later in the flow.
package dedup
