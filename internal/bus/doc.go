// Package bus carries ingested records from the nodes that decode inputs to
// the workers that write them to the store, as bounded batches with
// at-least-once delivery.
//
// Flow: an ingest node decodes an input into store rows, cuts them into
// [Batch] values with a [Splitter] (a row count and an encoded size bound,
// so a large report is many messages, never one huge one), and publishes
// them on a [Queue]; Publish and PublishAll return once the queue durably
// accepted the batches. Workers [Queue.Consume] batches: the [Handler]
// applies a batch in one store transaction that also claims the batch's ID
// (store.Appender.Claim), commits, and only then returns nil, upon which the
// queue acknowledges the batch. A handler error, a crash or a lost
// acknowledgement means the batch is delivered again; the claim makes that
// harmless, so the bus itself does not deduplicate deliveries. A message
// that cannot be decoded, or a batch whose handler reports [ErrPoison], is
// dropped with a logged error instead of being redelivered forever.
//
// Implementations: bus/inproc, a bounded in-memory queue for the default
// single process (not durable across restarts), and bus/nats, NATS
// JetStream for any number of ingest and worker processes. Both pass the
// behavioural suite in bus/bustest. [Marshal] and [Unmarshal] define the
// wire format, a versioned binary encoding whose rows carry their OCSF JSON
// as raw bytes.
//
// Concurrency: a Queue is safe for concurrent use, and Consume runs a
// configured number of handlers at once; a [Splitter] belongs to one
// goroutine.
//
// Not its job: decoding inputs and building rows (internal/pipeline),
// deduplicating records or batches (the store), job bookkeeping (store
// jobs), ordering between batches (there is none), and retry policy beyond
// a backoff between deliveries.
package bus
