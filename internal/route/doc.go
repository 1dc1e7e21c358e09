// Package route is the route stage of the flow: after correlation has
// attributed findings to a party (internal/responsibility), it records the
// attribution in the tenant's tamper-evident audit chain (internal/audit)
// and notifies the responsible party (internal/notify) when the finding is
// severe enough; it acknowledges, escalates and publishes advisories, and
// computes the parties' time-to-acknowledge and time-to-resolve from the
// audit chain. The CLI and the API call it; it keeps its state in the
// store.
package route
