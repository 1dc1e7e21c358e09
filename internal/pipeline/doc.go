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
// Later stages (enrich, correlate, score, route) attach here; the pipeline
// owns the transaction they run in.
package pipeline
