// Package ocsfschema validates OCSF (Open Cybersecurity Schema Framework)
// records against a schema resolved from the OCSF schema JSON sources.
//
// Load reads the sources from an fs.FS laid out like the ocsf-schema
// repository (version.json, categories.json, dictionary.json, events/,
// objects/, profiles/, extensions/) and resolves them the way the official
// schema compiler does: profiles are merged in through $include and tagged
// with their profile name, classes and objects are flattened along their
// extends chains (enums merged, the child winning key by key), platform
// extensions are merged in and patch the core objects, every timestamp_t
// attribute X gains an X_dt (datetime_t) sibling in the datetime profile,
// and each attribute is finally merged over its dictionary.json entry. No
// rule is typed by hand: every check comes from the schema files.
//
// Validate then checks a decoded record at every depth, arrays included:
// the class and its classification arithmetic (category_uid, type_uid =
// class_uid*100+activity_id) and captions, required attributes, unknown
// attributes, profile gating through metadata.profiles, scalar types, enum
// values and their string siblings, at_least_one/just_one constraints, and
// that observables[].name points into the record.
//
// The schema is immutable once loaded and safe for concurrent use.
package ocsfschema
