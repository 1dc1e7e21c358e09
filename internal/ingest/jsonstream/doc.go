// Package jsonstream reads large JSON inputs one record at a time, with
// bounded memory, and says where each record sits (byte offset and JSON
// pointer) so that decoders can report positioned errors.
//
// [Reader] is a pull tokenizer for walking into a document
// (BeginObject/NextKey, BeginArray/More) and taking whole values as raw
// bytes ([Reader.Raw]) that a fast decoder then unmarshals once. Only the
// bytes of the value being read are held, so a report with millions of
// records needs memory for one record, not the report. Values are framed
// (strings, nesting and bracket matching are checked) but not fully
// validated: the decoder of the raw value does that.
//
// [Items] handles the envelopes security tools wrap records in: a bare
// array, an object holding the array under a known key ({"Findings":[…]}),
// one object, or many objects one after another (JSON Lines).
//
// The package belongs to internal/ingest: it knows nothing of formats or OCSF.
// A Reader is not safe for concurrent use.
package jsonstream
