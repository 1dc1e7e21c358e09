// Package risk computes an explainable 0–100 risk score for an issue or an
// incident: every factor that went into the score is returned beside it with
// its value, its weight and its integer contribution.
//
// # Place in the flow
//
// The package sits after deduplication and correlation. Its caller (the
// store-side job that scores issues and incidents) gathers the OCSF findings
// of one issue or incident, turns them into an [Input] with [FromFindings]
// (or fills an Input itself), and calls [Score] with the [Weights] loaded from
// the operator's weights file ([LoadWeights], defaults in
// default-weights.yaml via [DefaultWeights]). The [Result] is stored beside
// the record and printed by [Explain]. The package reads nothing but what it
// is given: it does no I/O beyond the io.Reader handed to its loaders, never
// touches the store and never uses the network.
//
// # The score
//
// Each factor has a signal between 0 and 1 derived from its value (see
// [Score] for each mapping) and a weight: the points it adds at full
// strength. The raw score is the sum of weight × signal. When the weights
// sum to 100 (the defaults do) each weight is the factor's share of the
// maximum score; a larger sum lets strong signals saturate (a raw sum above
// 100 is scaled down proportionally to 100); a smaller sum caps the score
// below 100.
//
// # Invariants
//
//   - 0 ≤ Result.Score ≤ 100.
//   - The factors' Contribution values sum exactly to Result.Score: raw
//     contributions are rounded with a largest-remainder scheme, ties broken
//     by the fixed factor order.
//   - Result.Factors lists every factor once, whether or not it contributed,
//     ordered by contribution (largest first), then by the fixed factor order.
//   - Score is a pure function of its arguments: the same Input and Weights
//     give the same Result.
//
// # Concurrency
//
// The package has no package-level mutable state. [Weights], [AssetContext]
// and [KEV] values are read-only once loaded and safe for concurrent use.
//
// # Not its job
//
// Deciding which findings form an issue (internal/dedup) or an incident
// (internal/correlate), grading data (internal/datagrade fills
// [Input.DataGrade] later), and storing the result.
package risk
