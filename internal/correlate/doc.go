// Package correlate finds what records have in common: the entities they
// name and the ATT&CK tactics they stand for, the material from which
// incidents are built.
//
// It sits after dedup in the flow and reads only internal/ocsf records; it knows no
// store, source format or I/O. Everything here is a pure function of its
// arguments and safe for concurrent use.
//
// [Entities] walks a typed record (resources, actor and user, endpoints,
// device, evidences, process and container, API request and response data,
// vulnerabilities, observables) and returns the IPs, domains, identities,
// cloud resources, hosts, containers and pods, image digests and CVEs it
// names, normalized so that the same thing reported by different tools is
// the same [Entity]: see [Entities] for the rules. Entities shared by nearly
// everything (cloud API domains, a bare account id, AWS-managed policies)
// are marked [Entity].Common; weighting by rarity is the incident builder's
// job, not this package's.
//
// [Tactics] gives the ATT&CK Enterprise tactics of a record in kill-chain
// order ([TacticOrder], [SortByKillChain]): from the source's own ATT&CK
// tags when it has them, otherwise from a mapping kept as data in
// data/tactics.yaml (CloudTrail and ActionTrail API operations, GuardDuty
// finding types, Suricata alert categories, Falco tags), each entry citing
// the technique it stands for. Techniques resolve to tactics through
// data/technique-to-tactics.json, a copy of MITRE's mapping (see
// data/LICENSE-ATTACK.txt). The embedded data is parsed once, on first use.
//
// [Build] groups records into incidents: two records are linked when they
// share an entity that is not common (Common entities, and entities seen in
// more than a share of all records, like a NAT address, are skipped) within
// a time window; an incident is a connected group, with its linking entities
// (rarest first), its tactics in kill-chain order, its span and a title.
//
// Not its job yet: storing incidents as OCSF Incident Findings, updating
// them on ingest, and their risk (internal/risk scores what it is given).
package correlate
