// Package report builds the compliance report of one posture pack (CIS AWS
// 3.0, CIS Alibaba Cloud 2.0, MLPS 2.0 level 3 …) and writes it as JSON,
// CSV or a self-contained, printable HTML page: the output of
// `canopy report compliance --pack P [--format html|json|csv]`.
//
// # Place in the flow
//
// The package reads what posture and the store already hold and writes
// files; it runs no scan and stores nothing. A caller fills an [Input]: the
// [posture.Pack], optionally its [posture.CoverageReport], the pack's scan
// results as [ControlResult] rows (from the store, or converted from a live
// [posture.Scan] with [ControlResults] or [AppendControlResults]), the scan
// time, and the evidence status of the manual controls ([Evidence], by
// control id). [Build] checks the input and returns a [Report]; [WriteJSON],
// [WriteCSV] and [WriteHTML] write it. The field names of the JSON and the
// columns of the CSV are documented in README.md beside this file and are
// stable: [FormatVersion] changes when one changes meaning or goes away.
//
// # Control status
//
// Every reference control of the pack gets one [ControlStatus]:
//
//   - passed: the pack automates it and every result is a pass;
//   - failed: at least one result is a fail;
//   - unknown: no fail, but at least one result is an error (a rule could
//     not be evaluated on a resource), so the control cannot be said to
//     pass; Security Hub's "Unknown" control status;
//   - no_data: automated, but no result (no resource of the checked types,
//     or not scanned), or a control the pack says nothing about;
//   - manual: checked by people, with an evidence task; its evidence status
//     is missing, submitted, accepted or rejected;
//   - not_expressible: inventory data cannot express it; the pack says why.
//
// An automated control may also carry an evidence task (the part its rules
// cannot see); its status still comes from its results.
//
// # Score
//
// The score is the one AWS Security Hub gives a standard, at control
// level: score = passed ÷ evaluated, where a control passes when all its
// evaluated resources pass, and evaluated = passed + failed + unknown, the
// controls that have evaluation data. Controls without data (no_data),
// manual and not-expressible controls are not counted. The percentage is
// rounded to the nearest whole number (halves up); with nothing evaluated
// there is no score (JSON null, "n/a"). The same rule gives each section's
// score. Source: "Calculating security scores",
// https://docs.aws.amazon.com/securityhub/latest/userguide/standards-security-score.html
// ("the proportion of passed controls to enabled controls", "displayed as
// a percentage rounded up or down to the nearest whole number"), and
// "Understanding the standard security score",
// https://docs.aws.amazon.com/securityhub/latest/userguide/securityhub-standards-view-controls.html
// (controls that "are enabled, and have evaluation data").
//
// # Untrusted text
//
// Resource names, uids and messages come from scanned inventories and are
// untrusted. The HTML is written with html/template, which escapes them;
// the page has no script and loads nothing. CSV cells that a spreadsheet
// would take for a formula (starting with =, +, -, @, tab or carriage
// return) are prefixed with a single quote; the JSON carries them as they
// are.
//
// # Concurrency
//
// [Build] does not change its input. A [Report] is not changed by the
// writers, so several may write the same report at once.
//
// Not its job: running scans (package posture), storing results or
// evidence (internal/store), command-line flags (cmd/canopy).
package report
