// Package notify tells the parties of shared responsibility (provider,
// customer, security vendor) about the findings, incidents and advisories
// that concern them, and tracks that they acknowledge in time: a notice
// left unacknowledged past its deadline escalates to the next contact.
//
// # Place in the flow
//
// notify sits after route, beside respond: once a finding or an incident
// has a responsible party (the responsibility attribution), the caller
// asks an [Escalator] to [Escalator.Notify] that party; a provider's
// advisory to its customers goes through [Escalator.Publish] on the same
// path. The package reads its configuration ([LoadConfig]: parties,
// escalation chains, channels, outbound allow-list, deadlines) and writes
// [Notice] records through the small [Store] interface, which
// internal/pipeline's NoticeStore implements over internal/store (SQLite
// or PostgreSQL); [MemoryStore] serves tests and the single process, and
// notifytest holds other implementations to its behaviour. It does not import the store, the API or the CLI: cmd/canopy
// wires an Escalator with a Store, runs [Escalator.Run] (or calls
// [Escalator.Tick]) and exposes [Escalator.Ack].
//
// # Notices, deadlines and escalation
//
// A notice is addressed to one contact of its party's escalation chain at
// a time. It is created open, with a deadline from the [Policy] by
// severity (defaults: critical 15m, high 1h, medium 8h, low 24h,
// informational none), and delivered at once on all the contact's
// channels. Tick escalates every open notice that is overdue, or whose
// delivery reached no channel, to the next contact (level+1, a new
// deadline, a new delivery); past the last contact the notice becomes
// exhausted, and stays listed. [Escalator.Ack] stops escalation for good;
// acknowledging twice, or an unknown notice, is an error.
//
// # Channels and delivery
//
// Each channel type lives in its own file with a pure payload builder:
// the generic signed webhook (webhook.go), DingTalk (dingtalk.go), WeCom
// (wecom.go), Feishu/Lark (feishu.go), Slack (slack.go) and SMTP e-mail
// (email.go); each file's comment cites the platform documentation it
// follows. A platform that answers HTTP 200 with an error code is a
// failure. The [Deliverer] retries temporary failures (network errors,
// 5xx, 408, 429 with Retry-After, rate-limit codes, SMTP 4xx) with
// exponential backoff and jitter, a bounded number of times, and reports
// every attempt to an OnAttempt hook for the audit log; the final failure
// is returned and recorded on the notice.
//
// # Outbound safety and secrets
//
// Every channel reaches the network through one [Client], which only
// connects to allow-listed hosts, over https, to public addresses
// (loopback and private ranges only when explicitly allowed), checking the
// address it actually connects to so that DNS rebinding cannot bypass the
// check; it uses no proxy, follows redirects only to allowed hosts, and
// bounds time and response size. Credentials are [Secret] values that
// print, marshal and log as "[redacted]"; errors name hosts, never URLs,
// and platform messages are scrubbed of the channel's secrets.
//
// # Concurrency
//
// There is no package-level mutable state. Clients, channels, Deliverers,
// Escalators and MemoryStores are safe for concurrent use; a loaded
// [Config] is read-only.
//
// # Not its job
//
// Deciding who is responsible (the responsibility attribution), storing
// notices durably (internal/store), the audit chain (internal/audit, fed
// by the OnAttempt hook and the notices' state changes), and the CLI and
// API surfaces.
package notify
