// Package inproc is the in-process bus.Queue: a bounded queue of batches
// between the goroutines of one Canopy process, the default when no NATS
// URL is configured.
//
// In the flow, the ingest side publishes batches (Publish blocks while the
// queue holds Options.Capacity batches, which bounds memory whatever the
// input size) and workers consume them: each Consume call runs
// Options.Workers handlers, a batch is acknowledged (its place freed) only
// after its handler returned nil, a failed batch goes back on the queue
// after a backoff, and one whose handler reports bus.ErrPoison is dropped.
// Batches are passed by reference, not encoded: the publisher hands over
// its slices.
//
// Concurrency: every method is safe for concurrent use; Close waits for the
// running handlers.
//
// Not its job: durability. Batches queued when the process stops are lost,
// so a crash loses accepted work; the store's batch claims still make any
// redelivery harmless. Use bus/nats when that matters.
package inproc
