package bus

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/canopy-sec/canopy/internal/store"
)

// Encoding, version 1. Integers are varints (encoding/binary), strings and
// byte strings are a uvarint length followed by the bytes, times are a
// varint of Unix seconds and a uvarint of nanoseconds (UTC instants).
//
//	batch  = magic version id job_id tenant seq total n_findings n_events row*
//	magic  = 0xCB
//	version = 0x01
//	row    = tenant fingerprint class_uid severity_id product format
//	         source_uid resource_uid title time seen ocsf
//
// The rows' OCSF JSON is carried as raw bytes, never re-encoded.
const (
	magic   = 0xCB
	version = 1
	// minRowSize is the smallest encoded row: seven empty strings, two
	// one-byte varints, two two-byte times and an empty byte string.
	minRowSize = 7 + 2 + 4 + 1
)

// Marshal encodes b in the bus's binary format, version 1. The result's
// length is [EncodedSize](b).
func Marshal(b Batch) []byte {
	buf := make([]byte, 0, EncodedSize(b))
	buf = append(buf, magic, version)
	buf = appendString(buf, b.ID)
	buf = appendString(buf, b.JobID)
	buf = appendString(buf, b.Tenant)
	buf = binary.AppendVarint(buf, int64(b.Seq))
	buf = binary.AppendVarint(buf, int64(b.Total))
	buf = binary.AppendUvarint(buf, uint64(len(b.Findings)))
	buf = binary.AppendUvarint(buf, uint64(len(b.Events)))
	for i := range b.Findings {
		buf = appendRow(buf, &b.Findings[i])
	}
	for i := range b.Events {
		buf = appendRow(buf, &b.Events[i])
	}
	return buf
}

// EncodedSize returns the length of [Marshal](b) without encoding it.
func EncodedSize(b Batch) int {
	n := headerSize(b.ID, b.JobID, b.Tenant, b.Seq, b.Total, len(b.Findings), len(b.Events))
	for i := range b.Findings {
		n += RowSize(&b.Findings[i])
	}
	for i := range b.Events {
		n += RowSize(&b.Events[i])
	}
	return n
}

func headerSize(id, job, tenant string, seq, total, findings, events int) int {
	return 2 + strSize(id) + strSize(job) + strSize(tenant) +
		varintSize(int64(seq)) + varintSize(int64(total)) +
		uvarintSize(uint64(findings)) + uvarintSize(uint64(events))
}

// RowSize returns the number of bytes r takes in an encoded batch.
func RowSize(r *store.Row) int {
	return strSize(r.Tenant) + strSize(r.Fingerprint) +
		varintSize(int64(r.ClassUID)) + varintSize(int64(r.SeverityID)) +
		strSize(r.Product) + strSize(r.Format) + strSize(r.SourceUID) +
		strSize(r.ResourceUID) + strSize(r.Title) +
		timeSize(r.Time) + timeSize(r.Seen) +
		uvarintSize(uint64(len(r.OCSF))) + len(r.OCSF)
}

func appendRow(buf []byte, r *store.Row) []byte {
	buf = appendString(buf, r.Tenant)
	buf = appendString(buf, r.Fingerprint)
	buf = binary.AppendVarint(buf, int64(r.ClassUID))
	buf = binary.AppendVarint(buf, int64(r.SeverityID))
	buf = appendString(buf, r.Product)
	buf = appendString(buf, r.Format)
	buf = appendString(buf, r.SourceUID)
	buf = appendString(buf, r.ResourceUID)
	buf = appendString(buf, r.Title)
	buf = appendTime(buf, r.Time)
	buf = appendTime(buf, r.Seen)
	buf = binary.AppendUvarint(buf, uint64(len(r.OCSF)))
	return append(buf, r.OCSF...)
}

func appendString(buf []byte, s string) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(s)))
	return append(buf, s...)
}

func appendTime(buf []byte, t time.Time) []byte {
	buf = binary.AppendVarint(buf, t.Unix())
	return binary.AppendUvarint(buf, uint64(t.Nanosecond()))
}

func strSize(s string) int { return uvarintSize(uint64(len(s))) + len(s) }

func timeSize(t time.Time) int {
	return varintSize(t.Unix()) + uvarintSize(uint64(t.Nanosecond()))
}

func uvarintSize(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

func varintSize(x int64) int {
	ux := uint64(x) << 1
	if x < 0 {
		ux = ^ux
	}
	return uvarintSize(ux)
}

// Unmarshal decodes a batch made by [Marshal]. Errors wrap [ErrCorrupt].
//
// The rows' OCSF slices share data's memory (they are not copied), so the
// caller must not modify data afterwards. Empty row lists and empty OCSF
// decode as nil; times decode as UTC.
func Unmarshal(data []byte) (Batch, error) {
	d := decoder{data: data}
	if len(data) < 2 || data[0] != magic {
		return Batch{}, fmt.Errorf("%w: not a bus batch", ErrCorrupt)
	}
	if data[1] != version {
		return Batch{}, fmt.Errorf("%w: unknown encoding version %d", ErrCorrupt, data[1])
	}
	d.off = 2
	var b Batch
	b.ID = d.string("id")
	b.JobID = d.string("job id")
	b.Tenant = d.string("tenant")
	b.Seq = d.int("seq")
	b.Total = d.int("total")
	nf := d.count("findings")
	ne := d.count("events")
	if d.err == nil && (nf+ne)*minRowSize > len(data)-d.off {
		d.fail("row counts", "more rows than bytes")
	}
	if d.err != nil {
		return Batch{}, d.err
	}
	if nf > 0 {
		b.Findings = make([]store.Row, nf)
		for i := range b.Findings {
			d.row(&b.Findings[i])
		}
	}
	if ne > 0 {
		b.Events = make([]store.Row, ne)
		for i := range b.Events {
			d.row(&b.Events[i])
		}
	}
	if d.err == nil && d.off != len(data) {
		d.fail("end", fmt.Sprintf("%d trailing bytes", len(data)-d.off))
	}
	if d.err != nil {
		return Batch{}, d.err
	}
	return b, nil
}

type decoder struct {
	data []byte
	off  int
	err  error
	// the previous row's values, reused to spare allocations: a batch's
	// rows mostly share them
	tenant, product, format string
}

func (d *decoder) fail(field, msg string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s at byte %d: %s", ErrCorrupt, field, d.off, msg)
	}
}

func (d *decoder) uvarint(field string) uint64 {
	if d.err != nil {
		return 0
	}
	x, n := binary.Uvarint(d.data[d.off:])
	if n <= 0 {
		d.fail(field, "bad varint")
		return 0
	}
	d.off += n
	return x
}

func (d *decoder) varint(field string) int64 {
	if d.err != nil {
		return 0
	}
	x, n := binary.Varint(d.data[d.off:])
	if n <= 0 {
		d.fail(field, "bad varint")
		return 0
	}
	d.off += n
	return x
}

func (d *decoder) int(field string) int {
	x := d.varint(field)
	if int64(int(x)) != x {
		d.fail(field, "out of range")
		return 0
	}
	return int(x)
}

func (d *decoder) count(field string) int {
	x := d.uvarint(field)
	if x > uint64(len(d.data)) {
		d.fail(field, "count out of range")
		return 0
	}
	return int(x)
}

func (d *decoder) bytes(field string) []byte {
	n := d.uvarint(field)
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.data)-d.off) {
		d.fail(field, "length past the end")
		return nil
	}
	b := d.data[d.off : d.off+int(n) : d.off+int(n)]
	d.off += int(n)
	return b
}

func (d *decoder) string(field string) string { return string(d.bytes(field)) }

// reuse returns prev when b spells it, else a new string.
func (d *decoder) reuse(prev *string, field string) string {
	b := d.bytes(field)
	if string(b) != *prev { // no allocation for the comparison
		*prev = string(b)
	}
	return *prev
}

func (d *decoder) time(field string) time.Time {
	sec := d.varint(field)
	nsec := d.uvarint(field)
	if d.err != nil {
		return time.Time{}
	}
	if nsec >= 1e9 {
		d.fail(field, "nanoseconds out of range")
		return time.Time{}
	}
	return time.Unix(sec, int64(nsec)).UTC()
}

func (d *decoder) row(r *store.Row) {
	r.Tenant = d.reuse(&d.tenant, "row tenant")
	r.Fingerprint = d.string("fingerprint")
	r.ClassUID = d.int("class_uid")
	r.SeverityID = d.int("severity_id")
	r.Product = d.reuse(&d.product, "product")
	r.Format = d.reuse(&d.format, "format")
	r.SourceUID = d.string("source uid")
	r.ResourceUID = d.string("resource uid")
	r.Title = d.string("title")
	r.Time = d.time("time")
	r.Seen = d.time("seen")
	if b := d.bytes("ocsf"); len(b) > 0 {
		r.OCSF = b
	}
}
