// Package ingest turns the output of security tools into OCSF records: it
// holds the format registry, picks a format by sniffing the content (never the
// file name), and runs one streaming decoder per format.
//
// It is the first stage of the flow: files, stdin and HTTP bodies come in;
// [ocsf.Record] values go out through an [Emit] callback, one at a time, so
// memory stays bounded whatever the input size. The caller (internal/pipeline)
// decides batching and transactions; when Emit returns an error the decoder
// stops and returns it, which is how the pipeline pushes back or cancels.
//
// Adding a format takes one file: <format>.go with an init that passes one
// [Format] literal to register, a Sniff that scores a bounded prefix of the
// input, and a Decode. The built-in registry is filled by those init
// functions and never changes afterwards ([Builtin]); tests build their own
// with [NewRegistry].
//
// Errors name the format, the record (1-based), its JSON pointer and byte
// offset, and the field where known: see [RecordError]. A syntax error ends
// a stream; a record that cannot be mapped is reported, never skipped.
// Whatever a source says that OCSF has no attribute for goes under the
// record's unmapped object.
package ingest
