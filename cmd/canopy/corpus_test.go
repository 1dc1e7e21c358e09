package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	json "github.com/goccy/go-json"
)

// corpusFiles lists the tool outputs under internal/ingest/testdata (copies of
// the public corpus plus a few derived samples), by format directory.
func corpusFiles(t *testing.T) map[string][]string {
	t.Helper()
	root := filepath.Join("..", "..", "internal", "ingest", "testdata")
	dirs, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, d := range dirs {
		if !d.IsDir() || d.Name() == "not-tool-output" || d.Name() == "fuzz" {
			continue
		}
		files, _ := filepath.Glob(filepath.Join(root, d.Name(), "*"))
		for _, f := range files {
			base := filepath.Base(f)
			if strings.HasPrefix(base, "bad-") || strings.HasSuffix(base, ".golden.json") || strings.HasSuffix(base, ".err") {
				continue
			}
			out[d.Name()] = append(out[d.Name()], f)
		}
	}
	if len(out) < 15 {
		t.Fatalf("found samples of %d formats, want 15", len(out))
	}
	return out
}

type counts struct{ findings, events int }

func storeCounts(t *testing.T, data string) (counts, map[string]int) {
	t.Helper()
	var c counts
	byFP := map[string]int{}
	for _, what := range []string{"findings", "events"} {
		r := canopy(t, "", what, "--data", data, "--output", "json", "--limit", "0")
		if r.code != 0 {
			t.Fatalf("%s: %+v", what, r)
		}
		var list []struct {
			Fingerprint string
			Count       int
		}
		if err := json.Unmarshal([]byte(r.stdout), &list); err != nil {
			t.Fatal(err)
		}
		for _, x := range list {
			byFP[what+"/"+x.Fingerprint] = x.Count
		}
		if what == "findings" {
			c.findings = len(list)
		} else {
			c.events = len(list)
		}
	}
	return c, byFP
}

// TestCorpusEndToEnd is the ingest acceptance check over every sample: each
// file is recognised from its content and ingests with at least one record;
// re-ingesting everything adds nothing and raises every count; a truncated
// copy of each file fails naming the file and a record and leaves the store
// exactly as it was; JSON Schemas are refused.
func TestCorpusEndToEnd(t *testing.T) {
	data := t.TempDir()
	files := corpusFiles(t)
	for format, paths := range files {
		for _, p := range paths {
			r := canopy(t, "", "ingest", "--data", data, "--output", "json", p)
			if r.code != 0 {
				t.Errorf("%s: exit %d: %s", p, r.code, r.stderr)
				continue
			}
			var sum struct {
				Files []struct {
					Format  string
					Records int
				}
			}
			if err := json.Unmarshal([]byte(r.stdout), &sum); err != nil || len(sum.Files) != 1 {
				t.Fatalf("%s: %v %s", p, err, r.stdout)
			}
			if sum.Files[0].Format != format || sum.Files[0].Records < 1 {
				t.Errorf("%s: format %s, %d records; want %s and at least one", p, sum.Files[0].Format, sum.Files[0].Records, format)
			}
		}
	}
	before, countsBefore := storeCounts(t, data)
	if before.findings == 0 || before.events == 0 {
		t.Fatalf("store after the corpus: %+v", before)
	}

	// re-ingest everything: nothing new, every count up
	for _, paths := range files {
		args := append([]string{"ingest", "--data", data}, paths...)
		if r := canopy(t, "", args...); r.code != 0 {
			t.Fatalf("re-ingest: %s", r.stderr)
		}
	}
	after, countsAfter := storeCounts(t, data)
	if after != before {
		t.Errorf("re-ingest changed the number of records: %+v -> %+v", before, after)
	}
	for fp, n := range countsBefore {
		if countsAfter[fp] <= n {
			t.Errorf("%s: count %d -> %d after re-ingest, want it to rise", fp, n, countsAfter[fp])
			break
		}
	}

	// truncated copies fail, name file and record, and change nothing
	tmp := t.TempDir()
	for _, paths := range files {
		for _, p := range paths {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			b = []byte(strings.TrimRight(string(b), " \r\n\t"))
			cut := filepath.Join(tmp, "cut-"+filepath.Base(p))
			if err := os.WriteFile(cut, b[:len(b)*2/3], 0o644); err != nil {
				t.Fatal(err)
			}
			r := canopy(t, "", "ingest", "--data", data, cut)
			if r.code != 1 || !strings.HasPrefix(r.stderr, "canopy: ingest "+cut+": ") || !strings.Contains(r.stderr, ": record ") {
				t.Errorf("truncated %s: exit %d, stderr %q", p, r.code, r.stderr)
			}
		}
	}
	final, countsFinal := storeCounts(t, data)
	if final != after {
		t.Errorf("failed ingests changed the store: %+v -> %+v", after, final)
	}
	for fp, n := range countsAfter {
		if countsFinal[fp] != n {
			t.Errorf("%s: count %d -> %d after failed ingests", fp, n, countsFinal[fp])
			break
		}
	}

	// not tool outputs are refused
	schemas, _ := filepath.Glob(filepath.Join("..", "..", "internal", "ingest", "testdata", "not-tool-output", "*"))
	if len(schemas) == 0 {
		t.Fatal("no not-tool-output samples")
	}
	for _, p := range schemas {
		r := canopy(t, "", "ingest", "--data", data, p)
		if r.code != 1 || !strings.Contains(r.stderr, "not a tool output") {
			t.Errorf("%s: exit %d, stderr %q", p, r.code, r.stderr)
		}
	}
}
