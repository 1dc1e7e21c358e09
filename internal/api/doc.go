// Package api serves Canopy's REST API under /api/v1: ingestion, findings
// and events with filters and cursor pagination, formats, tokens, health,
// Prometheus metrics and the OpenAPI 3.1 document that describes every route.
//
// It reads the store and calls the pipeline; it holds no state of its own
// besides metrics. Every route but /healthz and /openapi.json needs a bearer
// token (see [NewToken]); a token belongs to one tenant and has a role
// (viewer < analyst < admin), and every query is scoped to the token's
// tenant, so a tenant never sees another's data. Insecure mode (no tokens)
// exists for a server bound to loopback only; cmd/canopy enforces that.
//
// Errors are JSON {"error":{"code","message"}} with stable codes.
package api
