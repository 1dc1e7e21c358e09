// Package posture checks a cloud inventory against rules: it loads posture
// rules written as YAML data with CEL expressions, compiles each expression
// once, evaluates the rules over [inventory.Resource] values and turns the
// results into OCSF Compliance Findings (class 2003).
//
// # Place in the flow
//
// Posture is a source, like an ingest format: it reads resources (from the
// importers of package inventory, or the store) and emits findings that go
// through the same pipeline (dedup, correlate, score …) as everyone else's.
// The canonical control of each finding is "<pack id>:<control id>"
// (e.g. "cis-aws-3.0:2.1.4"), the form internal/dedup uses to join
// Canopy's own results with Prowler's and Security Hub's on the same
// control and resource.
//
// # Pieces
//
//   - [Rule] is one rule; [ParseRules] and [LoadDir] read rule files and
//     return every problem as a [RuleError] with file, line, column, rule id
//     and field.
//   - [RuleSet] indexes compiled rules by resource type; [Scan] evaluates a
//     rule set over a stream of resources and streams one [Result] per
//     applicable (rule, resource) pair.
//   - [NewFindings] converts a [Result] to OCSF Compliance Findings, one per
//     framework control the rule maps to.
//   - [Pack] is a built-in rule pack for a framework (CIS AWS 3.0, MLPS 2.0
//     level 3 cloud extension, …) with its reference control list;
//     [BuiltinPacks] loads the embedded packs, [Coverage] says which controls
//     are automated, manual (with an evidence task) or not expressible.
//
// The rule format is documented in README.md beside this file.
//
// # Concurrency
//
// Rules, rule sets and packs are immutable after loading and safe for
// concurrent use; each call to [Scan] keeps its own state. Nothing in the
// package holds mutable package-level state: the CEL environment and the
// embedded packs are built once, on first use, and never change.
//
// Not its job: importing inventories (package inventory), storing findings
// (internal/store) or deciding which findings matter (internal/risk).
package posture
