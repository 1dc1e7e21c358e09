// Package datagrade discovers sensitive data in data stores and grades it
// under GB/T 43697-2024 (数据安全技术 数据分类分级规则): 核心数据 (core),
// 重要数据 (important) or 一般数据 (general, sub-levels 1–4), and reports each
// store as an OCSF Data Security Finding (class 2006).
//
// # Place in the flow
//
// datagrade is a source of findings and an enrichment: its findings enter
// the pipeline like any tool's, and the grade it records feeds the risk
// engine's data-grade factor. It reads the stores it is pointed at and
// nothing else: it never touches Canopy's store, reads no flags or
// environment, and keeps no package-level mutable state (the embedded
// reference, categories and policy are parsed once and read-only).
//
// # API
//
// Scan targets → results → grading → findings:
//
//	t, _ := datagrade.ParseTarget("postgres://scanner@db:5432/crm")   // or a dir, archive, SQLite file, mysql:DSN, objects:LISTING?dir=D
//	src, _ := datagrade.Open(ctx, t)                                   // a Source
//	defer src.Close()
//	scanner, _ := datagrade.NewScanner(datagrade.Options{Logger: log})  // Budget: rows per table, tables, objects …
//	res, _ := scanner.Scan(ctx, src)                                   // *Result: per table, per column: categories, counts, masked examples
//	grader, _ := datagrade.NewGrader(datagrade.GraderOptions{Catalogues: cats, Policy: policy})
//	a := grader.Grade(res)                                             // *Assessment: level per store and table, with every step
//	f := a.Finding(datagrade.FindingOptions{})                         // *ocsf.DataSecurityFinding
//
// [Source] is the seam for more stores: [NewDirSource], [NewArchiveSource]
// (CSV, TSV, JSON Lines, JSON, text), [NewSQLiteSource],
// [NewPostgresSource], [NewMySQLSource] and [NewObjectListingSource] (a
// bucket listing exported as JSON with sampled objects copied locally).
// Database sources read in one read-only transaction; every source reads
// at most [Budget.RowsPerTable] rows per table, large tables being sampled
// (TABLESAMPLE SYSTEM in PostgreSQL, RAND() in MySQL, rowid stride in
// SQLite, a prefix of files with the row count scaled from bytes).
//
// # Detection
//
// [Detectors] recognise values by shape and, where the kind has one, a
// checksum: resident ID numbers (GB 11643 check digit, birth date, province),
// unified social credit codes (GB 32100 and GB 11714), payment cards (Luhn,
// issuer prefix and length), IMEI (Luhn), mobile numbers (allocated
// ranges), e-mail, IPv4/IPv6, MAC addresses, licence plates (incl.
// new-energy), passport and Hong Kong/Macao permit numbers, Chinese names
// and addresses, coordinates, biometric templates, clinical text, AWS and
// Alibaba Cloud access key ids and PEM private keys. Which category each
// detector reports, and the column-name hints (Chinese and English) of every
// category, are data: data/categories.yaml, checked against the reference's
// Appendix B. A column holds a category when enough of its values match, or
// its name hints at it and some do, or a checksum-backed value occurs in
// its free text; a name alone gives a low-confidence hit that is reported
// but not graded (unless the category is free-form, such as an address,
// where the name suffices). Weak hints ("name", "amount", "weight") count
// only in tables that hold other personal information. A value never
// leaves the scan: detectors do not allocate or keep values, the result
// holds counts, hashes-based distinct estimates and at most two examples
// per column masked by [Mask].
//
// # Grading
//
// [Grader.Grade] follows the reference's method for each table: the data
// classes present (sensitive PI, general PI, credentials, organisation
// identifiers) → the affected object and impact degree of each (policy) →
// the level of that object and degree in the decision table → for general
// data the sub-level whose trigger names them; volume rules of the policy
// (estimated individuals) can move the affected object to public interest;
// the reference's minimum levels for personal information apply; entries
// of user catalogues ([LoadCatalogue], 重要数据目录) designate data as
// important or core. The table takes the highest level (就高从严), the store
// the highest of its tables. Every step is recorded with its source: a path
// in the reference, the policy entry, or the catalogue entry.
//
// The reference (data/gbt43697-data-grading.yaml) is a verbatim copy of
// shared/reference and is never edited here. Its cells marked
// `unverified: true` — the upper four rows of the decision table (国家安全,
// 经济运行, 社会秩序, 公共利益), the trigger of 一般数据2级 and every floor
// rule — are used as they stand, flagged Unverified in the steps that rely
// on them, and can be replaced: decision_overrides and floor_rules in a
// policy ([LoadPolicy]). The policy's impacts and volume thresholds
// (data/grading-policy.yaml) are project defaults, not values of the
// standard, which gives none.
//
// # Output
//
// [Assessment.Finding] builds the OCSF finding: the grade in
// data_security.confidentiality (confidentiality_id 99), the categories in
// data_security.category_id, discovery_details and detection_pattern, the
// store as database, databucket or file, tables as resources, and the
// grade, reasoning and per-table results under unmapped.gbt43697.
// [GradeOf] reads the grade back from a stored finding; [GradeIndex] maps
// resources to grades so that the risk engine can set
// risk.Input.DataGrade = risk.DataGrade(level.Class()) for findings of
// other tools on the same store.
//
// # Concurrency
//
// A [Scanner] and a [Grader] are safe for concurrent use; a Source is used
// by one scan at a time.
//
// # Not its job
//
// Storing findings, scheduling scans, credentials management (connection
// strings come from the caller), and deciding what a sector's catalogue
// says.
package datagrade
