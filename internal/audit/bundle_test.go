package audit_test

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/canopy-sec/canopy/internal/audit"
)

func export(t *testing.T, es []audit.Entry, since time.Time, pub ed25519.PublicKey) (string, audit.Head) {
	t.Helper()
	var b bytes.Buffer
	head, err := audit.Export(&b, audit.All(es), since, pub)
	if err != nil {
		t.Fatal(err)
	}
	return b.String(), head
}

// TestBundleGolden pins the bundle format: a signed chain of six entries,
// exported from the fourth.
func TestBundleGolden(t *testing.T) {
	es := chain(t, 6, key1)
	out, head := export(t, es, es[3].Time, pub1)
	golden(t, "bundle.golden.jsonl", []byte(out))
	if head.FirstSeq != 4 || head.Prev != es[2].Hash || head.LastSeq != 6 || head.Hash != es[5].Hash || head.Count != 3 {
		t.Errorf("head %+v", head)
	}
}

func TestExportAndVerifyBundle(t *testing.T) {
	es := chain(t, 10, key1)
	full, fullHead := export(t, es, time.Time{}, pub1)
	chainHead, err := audit.Verify(audit.All(es), pub1)
	if err != nil {
		t.Fatal(err)
	}
	if fullHead.FirstSeq != 1 || fullHead.Count != 10 || fullHead.Hash != chainHead.Hash {
		t.Errorf("full export head %+v, chain head %+v", fullHead, chainHead)
	}
	for _, tc := range []struct {
		name   string
		bundle string
		pub    ed25519.PublicKey
		want   audit.Head
	}{
		{"whole chain, trusted key", full, pub1, fullHead},
		{"whole chain, signatures not checked", full, nil, fullHead},
	} {
		got, err := audit.VerifyBundle(strings.NewReader(tc.bundle), tc.pub)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got.FirstSeq != tc.want.FirstSeq || got.LastSeq != tc.want.LastSeq || got.Hash != tc.want.Hash || got.Count != tc.want.Count {
			t.Errorf("%s: head %+v, want %+v", tc.name, got, tc.want)
		}
	}

	// A bundle from the middle of the chain verifies from its anchor: the
	// prev of its first entry, which is the hash of the entry before.
	mid, midHead := export(t, es, es[6].Time, pub1)
	got, err := audit.VerifyBundle(strings.NewReader(mid), pub1)
	if err != nil {
		t.Fatal(err)
	}
	if got.FirstSeq != 7 || got.Prev != es[5].Hash || got.LastSeq != 10 || got.Count != 4 || got.Hash != midHead.Hash || !bytes.Equal(got.PublicKey, midHead.PublicKey) {
		t.Errorf("mid-chain head %+v (export said %+v)", got, midHead)
	}

	// Nothing since: a head alone, attesting where the chain stood.
	empty, emptyHead := export(t, es, es[9].Time.Add(time.Second), pub1)
	if strings.Count(empty, "\n") != 1 || emptyHead.Count != 0 || emptyHead.LastSeq != 10 || emptyHead.Hash != es[9].Hash {
		t.Errorf("empty export %q, head %+v", empty, emptyHead)
	}
	if got, err := audit.VerifyBundle(strings.NewReader(empty), pub1); err != nil || got.LastSeq != 10 || got.Hash != es[9].Hash {
		t.Errorf("empty bundle: %+v, %v", got, err)
	}

	// Export refuses a broken chain.
	broken := slices.Clone(es)
	broken[4].Actor = "mallory"
	var b bytes.Buffer
	if _, err := audit.Export(&b, audit.All(broken), time.Time{}, pub1); err == nil {
		t.Error("Export of an edited chain: no error")
	}
	// A chain handed over mid-way is exported from where it starts.
	if out, head := export(t, es[3:], es[5].Time, pub1); head.FirstSeq != 6 || strings.Count(out, "\n") != 6 {
		t.Errorf("export from entry 4 since entry 6: head %+v\n%s", head, out)
	}
}

// TestBundleTampering edits bundles as text, as someone holding the file
// would, and checks the first problem VerifyBundle names.
func TestBundleTampering(t *testing.T) {
	es := chain(t, 8, key1)
	bundle, _ := export(t, es, time.Time{}, pub1)
	lines := strings.SplitAfter(bundle, "\n")
	lines = lines[:len(lines)-1] // the empty string after the last newline
	join := func(ls []string) string { return strings.Join(ls, "") }
	head := lines[len(lines)-1]

	// A copy of the chain re-signed with another key, with its key in the head.
	forged := slices.Clone(es)
	rehash(forged, 0, key2)
	forgedBundle, _ := export(t, forged, time.Time{}, pub2)

	for _, tc := range []struct {
		name   string
		bundle string
		seq    uint64
		index  int
		reason audit.Reason
	}{
		{"edit a field", strings.Replace(bundle, `"actor":"system","action":"notice.acked","object":"finding:0"`, `"actor":"mallory","action":"notice.acked","object":"finding:0"`, 1), 3, 2, audit.ReasonHashMismatch},
		{"edit details", strings.Replace(bundle, `"severity":"high"}`, `"severity":"low"}`, 1), 1, 0, audit.ReasonHashMismatch},
		{"delete an entry", join(slices.Delete(slices.Clone(lines), 3, 4)), 5, 3, audit.ReasonSeqGap},
		{"swap two entries", join(swap(lines, 2, 3)), 4, 2, audit.ReasonReordered},
		{"truncate the tail, keep the head", join(append(slices.Clone(lines[:6]), head)), 0, 6, audit.ReasonTruncated},
		{"cut off with the head", join(lines[:5]), 0, 5, audit.ReasonTruncated},
		{"forge with another key", forgedBundle, 1, 0, audit.ReasonBadSignature},
		{"name another key in the head", strings.Replace(bundle, hexKey(pub1), hexKey(pub2), 1), 0, 8, audit.ReasonHeadMismatch},
		{"change the head's hash", join(append(slices.Clone(lines[:8]), strings.Replace(head, es[7].Hash.String(), es[6].Hash.String(), 1))), 0, 8, audit.ReasonHeadMismatch},
		{"a line after the head", bundle + lines[0], 0, 9, audit.ReasonMalformed},
		{"an unknown key", strings.Replace(bundle, `{"entry":{"seq":1,`, `{"entry":{"seq":1,"note":"x",`, 1), 0, 0, audit.ReasonMalformed},
		{"a line with neither entry nor head", `{}` + "\n" + bundle, 0, 0, audit.ReasonMalformed},
		{"not JSON", bundle[:40] + "\n", 0, 0, audit.ReasonMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.bundle == bundle {
				t.Fatal("the tampering changed nothing")
			}
			_, err := audit.VerifyBundle(strings.NewReader(tc.bundle), pub1)
			var ve *audit.VerifyError
			if !errors.As(err, &ve) {
				t.Fatalf("VerifyBundle: %v; want a *VerifyError", err)
			}
			if ve.Seq != tc.seq || ve.Index != tc.index || ve.Reason != tc.reason {
				t.Errorf("got entry %d at %d: %s; want entry %d at %d: %s\n%v", ve.Seq, ve.Index, ve.Reason, tc.seq, tc.index, tc.reason, err)
			}
		})
	}
	// The forged bundle is consistent in itself: only the trusted key tells.
	if _, err := audit.VerifyBundle(strings.NewReader(forgedBundle), nil); err != nil {
		t.Errorf("forged bundle without a trusted key: %v", err)
	}
}

func swap(ls []string, i, j int) []string {
	c := slices.Clone(ls)
	c[i], c[j] = c[j], c[i]
	return c
}

func hexKey(k ed25519.PublicKey) string {
	b, _ := audit.PublicKey(k).MarshalText()
	return string(b)
}
