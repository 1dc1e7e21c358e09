package ingest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// spoolMemBytes is how many bytes of records a [spool] keeps in memory
// before it moves them to a temporary file.
const spoolMemBytes = 8 << 20

// spool holds the raw records of a report that arrive before the context
// needed to map them (SARIF results before their run's tool, Grype matches
// before the scanned source). Records stay in memory up to spoolMemBytes
// and go to a temporary file beyond that, so memory stays bounded whatever
// the report size; if no temporary file can be created they stay in memory.
// Each record keeps its number and position for error messages.
type spool struct {
	mem   []byte
	f     *os.File
	w     *bufio.Writer
	count int
}

// spooled is one record read back from a spool; raw is valid only during
// the callback.
type spooled struct {
	index   int
	offset  int64
	pointer string
	raw     []byte
}

func (s *spool) len() int { return s.count }

// add appends a record.
func (s *spool) add(index int, offset int64, pointer string, raw []byte) error {
	var hdr [3*binary.MaxVarintLen64 + 1]byte
	h := binary.AppendUvarint(hdr[:0], uint64(index))
	h = binary.AppendVarint(h, offset)
	h = binary.AppendUvarint(h, uint64(len(pointer)))
	s.count++
	if s.w == nil && len(s.mem)+len(h)+len(pointer)+len(raw)+binary.MaxVarintLen64 > spoolMemBytes {
		if f, err := os.CreateTemp("", "canopy-spool-*"); err == nil {
			s.f = f
			s.w = bufio.NewWriterSize(f, 256<<10)
			if _, err := s.w.Write(s.mem); err != nil {
				return fmt.Errorf("spooling records: %w", err)
			}
			s.mem = nil
		}
	}
	if s.w == nil {
		s.mem = append(s.mem, h...)
		s.mem = append(s.mem, pointer...)
		s.mem = binary.AppendUvarint(s.mem, uint64(len(raw)))
		s.mem = append(s.mem, raw...)
		return nil
	}
	h = append(h, pointer...)
	h = binary.AppendUvarint(h, uint64(len(raw)))
	if _, err := s.w.Write(h); err != nil {
		return fmt.Errorf("spooling records: %w", err)
	}
	if _, err := s.w.Write(raw); err != nil {
		return fmt.Errorf("spooling records: %w", err)
	}
	return nil
}

// replay calls fn for every record in the order added, then empties the
// spool. ctx is checked every 1024 records.
func (s *spool) replay(ctx context.Context, fn func(spooled) error) error {
	defer s.reset()
	if s.count == 0 {
		return nil
	}
	var br io.ByteReader
	var r io.Reader
	if s.w != nil {
		if err := s.w.Flush(); err != nil {
			return fmt.Errorf("spooling records: %w", err)
		}
		if _, err := s.f.Seek(0, io.SeekStart); err != nil {
			return fmt.Errorf("spooling records: %w", err)
		}
		b := bufio.NewReaderSize(s.f, 256<<10)
		br, r = b, b
	} else {
		b := bytes.NewReader(s.mem)
		br, r = b, b
	}
	var buf []byte
	for i := 0; i < s.count; i++ {
		if i%1024 == 1023 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		idx, err := binary.ReadUvarint(br)
		if err != nil {
			return spoolErr(err)
		}
		off, err := binary.ReadVarint(br)
		if err != nil {
			return spoolErr(err)
		}
		plen, err := binary.ReadUvarint(br)
		if err != nil {
			return spoolErr(err)
		}
		ptr := make([]byte, plen)
		if _, err := io.ReadFull(r, ptr); err != nil {
			return spoolErr(err)
		}
		rlen, err := binary.ReadUvarint(br)
		if err != nil {
			return spoolErr(err)
		}
		if uint64(cap(buf)) < rlen {
			buf = make([]byte, rlen)
		}
		buf = buf[:rlen]
		if _, err := io.ReadFull(r, buf); err != nil {
			return spoolErr(err)
		}
		if err := fn(spooled{index: int(idx), offset: off, pointer: string(ptr), raw: buf}); err != nil {
			return err
		}
	}
	return nil
}

func spoolErr(err error) error {
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("reading spooled records: %w", err)
}

// reset empties the spool and removes its temporary file, if any.
func (s *spool) reset() {
	if s.f != nil {
		name := s.f.Name()
		s.f.Close()
		os.Remove(name)
	}
	*s = spool{mem: s.mem[:0]}
}
