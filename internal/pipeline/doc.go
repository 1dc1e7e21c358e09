// Package pipeline runs one input through the flow: it picks the input's
// format (internal/ingest), takes the decoder's OCSF records, fingerprints
// them (internal/dedup), and writes them in batches through a store.Appender
// inside one transaction per input, so an input lands whole or not at all.
//
// Decoding and marshalling run on one goroutine, writing on another, joined
// by a small bounded channel of batches: memory stays bounded by a few
// batches whatever the input size, and the writer's transaction is the only
// one open. A decoder error, a cancelled context or a store error rolls the
// transaction back.
//
// Scaled out, [Pipeline.Enqueue] decodes an input completely into a spool,
// records an ingest job and publishes its bounded batches on the bus, and
// workers apply each batch with [Apply] in one transaction that claims the
// batch id, so that a redelivered batch changes nothing.
//
// [Incidents] runs the correlate and score stages (internal/correlate,
// internal/risk) over what the store holds, on demand. Later stages
// (enrich, route) attach here too; the pipeline owns the transactions they
// run in.
//
// [NoticeStore] and [AuditChain] keep internal/notify's notices and
// internal/audit's chains (one per tenant) in the store: they map the
// packages' types to the store's rows and its errors to theirs.
package pipeline
