// Package respond is the last stage of the flow: it answers incidents,
// issues and findings with playbooks, runs low-risk responses on its own,
// asks for approval — with an impact preview of two or three options — for
// high-risk ones, opens cases with SLA deadlines, and computes response
// KPIs from the audit chain.
//
// # Place in the flow
//
// respond reads what the stages to its left produce: a [Record] built from
// a pipeline.Incident ([FromIncident]) or from an issue or finding, with
// its risk (internal/risk), tactics and entities (internal/correlate) and
// responsible party (internal/responsibility). It writes only through
// interfaces it declares: [RunStore], [ApprovalStore], [CaseStore] and
// [RecordStore] for its state (store backends implement them), an
// [Auditor] for the audit chain (route.Router.Record has its signature), a
// [Notifier] for notices (notify.Escalator.Notify), and the [Action]s of
// its [Registry] for everything else — the cloud actions live in
// internal/respond/cloud. [NewDocStore] keeps that state in the store
// (store.Docs, SQLite or PostgreSQL), [LoadRecord] builds records from
// stored incidents and findings, and [NewStoreWorld] backs impact
// previews and [Enrich] with the stored inventory and events; cmd/canopy
// and internal/api use them.
//
// # Playbooks are data
//
// A playbook is a YAML file: a CEL trigger over the record, steps (an
// action name and parameters), an approval rule and, for high-risk
// responses, two or three alternative options. [LoadDir] and [Builtin]
// load them strictly (unknown keys are errors) and compile every CEL
// expression and parameter template once; every error names the file,
// the playbook, the step and the position. See README.md for the format.
//
// Parameters are rendered with text/template over the record (the
// functions are listed in README.md). The rendered text is data, never
// code: actions receive typed values checked against their [Schema]
// (patterns refuse anything but an id where an id is expected), HTTP
// bodies are built with encoding/json, URLs with url.PathEscape, and no
// value is ever passed to a shell.
//
// # Concurrency
//
// An [Engine] is safe for concurrent use; state changes go through the
// stores' Update methods, which must apply them atomically. Times come
// from the engine's injectable clock.
package respond
