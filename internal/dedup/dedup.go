package dedup

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Fingerprint returns the identity of a record: 32 hex digits of
// SHA-256(tenant, lower-case product name, source uid), with the parts
// separated so that no two different triples collide by concatenation.
func Fingerprint(tenant, product, sourceUID string) string {
	h := sha256.New()
	h.Write([]byte(tenant))
	h.Write([]byte{0})
	h.Write([]byte(strings.ToLower(strings.TrimSpace(product))))
	h.Write([]byte{0})
	h.Write([]byte(sourceUID))
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0])[:16])
}
