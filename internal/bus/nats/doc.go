// Package nats is the NATS JetStream bus.Queue, for running any number of
// ingest and worker processes against one NATS server or cluster.
//
// In the flow, an ingest process publishes each batch, encoded by
// bus.Marshal, to the subject <SubjectPrefix>.<tenant token> of a
// file-storage stream with work-queue retention (default CANOPY_INGEST on
// canopy.ingest.>); Publish returns after the stream's acknowledgement, and
// the batch ID, sent as Nats-Msg-Id, makes a re-published batch a no-op
// within the duplicate window. PublishAll keeps a bounded number of
// asynchronous publications in flight and waits for every acknowledgement.
// Workers of every process pull from one durable consumer (default
// canopy-workers) with explicit acknowledgement: a worker fetches one batch,
// runs the handler (which commits to the store) while telling the server
// every AckWait/3 that the batch is in progress, then acknowledges it and
// waits for the server to confirm. A handler error asks for redelivery
// after a backoff that doubles per delivery; a worker that dies stops its
// heartbeats, and the batch is delivered to another worker once AckWait
// passes. A message that does not decode, or a batch whose handler returns
// bus.ErrPoison, is terminated and logged. Acknowledged batches leave the
// stream.
//
// New creates or updates the stream and the consumer, so every process
// should be given the same options. Credentials in the URL are used to
// connect but never logged or put in errors; the connection reconnects
// without limit.
//
// Concurrency: every method is safe for concurrent use. Close stops the
// workers from fetching (a batch that arrives meanwhile is handed back at
// once), waits for running handlers and their acknowledgements and for
// running publications, then drains the connection.
//
// Not its job: deduplicating deliveries (the store's batch claim does),
// ordering between batches, running the NATS server.
package nats
