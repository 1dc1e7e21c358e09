// Package bustest is the behavioural suite every bus.Queue implementation
// must pass: bus/inproc and bus/nats run [Run] in their tests. A behaviour
// that is not in the suite is not in the contract.
//
// The suite covers the round trip of batches (payload equality), input
// validation and the size bound, PublishAll, acknowledgement only after the
// handler succeeds, dropping a batch whose handler reports bus.ErrPoison,
// two consumers sharing the work, large batches cut by a bus.Splitter,
// Close draining running handlers, and redelivery of a batch whose
// consumer was cancelled. Implementation-specific behaviour (durability,
// crash recovery, undecodable messages) is tested beside each
// implementation. [Rows] makes realistic rows for tests and benchmarks.
//
// It is test support: nothing outside tests imports it.
package bustest
