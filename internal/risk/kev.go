package risk

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// KEV is a set of CVE ids known to be exploited, such as CISA's Known
// Exploited Vulnerabilities catalog. The zero KEV is empty. A KEV is
// read-only once loaded and safe for concurrent use.
type KEV struct {
	ids map[string]struct{}
}

// isCVE reports whether s has the form CVE-YYYY-NNNN (four or more digits).
func isCVE(s string) bool {
	rest, ok := strings.CutPrefix(s, "CVE-")
	if !ok || len(rest) < 9 || rest[4] != '-' {
		return false
	}
	for i, c := range rest {
		if i != 4 && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// LoadKEV reads a list of known-exploited CVE ids from r, in one of three
// forms, told apart by the first non-blank byte:
//
//   - '{': a CISA KEV catalog, {"vulnerabilities":[{"cveID":"CVE-…"},…]};
//     other fields are ignored;
//   - '[': a JSON array of CVE id strings;
//   - otherwise plain text, one CVE id per line; blank lines and lines
//     starting with '#' are skipped.
//
// Ids are matched case-insensitively. An entry that is not a CVE id is an
// error naming it (and its line, for plain text). LoadKEV never uses the
// network.
func LoadKEV(r io.Reader) (KEV, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return KEV{}, fmt.Errorf("risk: kev: %w", err)
	}
	k := KEV{ids: make(map[string]struct{})}
	trimmed := bytes.TrimSpace(data)
	switch {
	case len(trimmed) == 0:
		return k, nil
	case trimmed[0] == '{':
		var cat struct {
			Vulnerabilities []struct {
				CVEID string `json:"cveID"`
			} `json:"vulnerabilities"`
		}
		if err := json.Unmarshal(trimmed, &cat); err != nil {
			return KEV{}, fmt.Errorf("risk: kev: catalog: %w", err)
		}
		for i, v := range cat.Vulnerabilities {
			if err := k.add(v.CVEID); err != nil {
				return KEV{}, fmt.Errorf("risk: kev: vulnerabilities[%d].cveID: %w", i, err)
			}
		}
	case trimmed[0] == '[':
		var ids []string
		if err := json.Unmarshal(trimmed, &ids); err != nil {
			return KEV{}, fmt.Errorf("risk: kev: list: %w", err)
		}
		for i, id := range ids {
			if err := k.add(id); err != nil {
				return KEV{}, fmt.Errorf("risk: kev: [%d]: %w", i, err)
			}
		}
	default:
		sc := bufio.NewScanner(bytes.NewReader(data))
		for line := 1; sc.Scan(); line++ {
			s := strings.TrimSpace(sc.Text())
			if s == "" || strings.HasPrefix(s, "#") {
				continue
			}
			if err := k.add(s); err != nil {
				return KEV{}, fmt.Errorf("risk: kev: line %d: %w", line, err)
			}
		}
		if err := sc.Err(); err != nil {
			return KEV{}, fmt.Errorf("risk: kev: %w", err)
		}
	}
	return k, nil
}

// NewKEV returns a KEV holding ids, which must be CVE ids.
func NewKEV(ids ...string) (KEV, error) {
	k := KEV{ids: make(map[string]struct{}, len(ids))}
	for _, id := range ids {
		if err := k.add(id); err != nil {
			return KEV{}, fmt.Errorf("risk: kev: %w", err)
		}
	}
	return k, nil
}

func (k *KEV) add(id string) error {
	id = strings.ToUpper(strings.TrimSpace(id))
	if !isCVE(id) {
		return fmt.Errorf("%q is not a CVE id", id)
	}
	k.ids[id] = struct{}{}
	return nil
}

// Contains reports whether the CVE id is listed, ignoring case.
func (k KEV) Contains(id string) bool {
	if len(k.ids) == 0 {
		return false
	}
	_, ok := k.ids[strings.ToUpper(strings.TrimSpace(id))]
	return ok
}

// Len returns the number of CVE ids listed.
func (k KEV) Len() int { return len(k.ids) }
