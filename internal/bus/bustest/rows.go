package bustest

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/canopy-sec/canopy/internal/store"
)

// Rows returns n findings of the tenant whose OCSF JSON is about ocsfBytes
// long (at least a hundred bytes), deterministic for a given seed. The
// JSON is valid and shaped like a finding, with text that does not
// compress to nothing.
func Rows(seed uint64, tenant string, n, ocsfBytes int) []store.Row {
	rng := rand.New(rand.NewPCG(seed, 0x6361_6e6f_7079))
	seen := time.Date(2026, 3, 4, 5, 6, 7, 890_000_000, time.UTC)
	rows := make([]store.Row, n)
	const letters = "abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789 -_/:.,"
	var sb strings.Builder
	for i := range rows {
		fp := fmt.Sprintf("%016x%016x", rng.Uint64(), rng.Uint64())
		sev := 1 + rng.IntN(5)
		uid := fmt.Sprintf("CVE-2026-%05d", rng.IntN(100000))
		res := fmt.Sprintf("pkg:golang/example.com/mod%d@v1.%d.0", rng.IntN(50), rng.IntN(20))
		sb.Reset()
		fmt.Fprintf(&sb, `{"class_uid":2002,"category_uid":2,"severity_id":%d,"time":%d,"metadata":{"version":"1.3.0","product":{"name":"Trivy","vendor_name":"Aqua Security"}},"finding_info":{"uid":%q,"title":"%s in %s"},"resources":[{"uid":%q,"type":"package"}],"message":"`,
			sev, seen.UnixMilli(), uid, uid, res, res)
		for sb.Len() < ocsfBytes-30 {
			sb.WriteByte(letters[rng.IntN(len(letters))])
		}
		sb.WriteString(`","status_id":1,"é":"ü"}`)
		rows[i] = store.Row{
			Tenant:      tenant,
			Fingerprint: fp,
			ClassUID:    2002,
			SeverityID:  sev,
			Product:     "Trivy",
			Format:      "trivy/1",
			SourceUID:   uid,
			ResourceUID: res,
			Title:       uid + " in " + res,
			Time:        seen.Add(-time.Duration(rng.IntN(1e6)) * time.Second),
			Seen:        seen,
			OCSF:        []byte(sb.String()),
		}
	}
	return rows
}
