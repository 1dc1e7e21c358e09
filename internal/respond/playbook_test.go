package respond_test

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/canopy-sec/canopy/internal/respond"
	"github.com/canopy-sec/canopy/internal/respond/respondtest"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// registry returns the built-in record actions, notify and the cloud
// fakes.
func registry(t testing.TB, mem *respondtest.Memory, n *respondtest.Notifier, calls *respondtest.Calls) *respond.Registry {
	t.Helper()
	acts, err := respond.RecordActions(respond.RecordActionOptions{Records: mem, Cases: mem})
	if err != nil {
		t.Fatal(err)
	}
	na, err := respond.NewNotifyAction(respond.NotifyOptions{Notifier: n})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := respond.NewRegistry(append(acts, na)...)
	if err != nil {
		t.Fatal(err)
	}
	reg, err = reg.With(respondtest.CloudFakes(calls)...)
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs:\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// TestParsePlaybooksErrors loads every testdata/bad/<case>.yaml and
// compares the errors, one a line, with <case>.err.
func TestParsePlaybooksErrors(t *testing.T) {
	reg := registry(t, respondtest.NewMemory(), &respondtest.Notifier{}, &respondtest.Calls{})
	files, err := filepath.Glob("testdata/bad/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no bad playbooks: %v", err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			pbs, err := respond.ParsePlaybooks(filepath.ToSlash(file), data, reg)
			if err == nil {
				t.Fatalf("loaded %d playbooks, want errors", len(pbs))
			}
			if !errors.Is(err, respond.ErrInvalidPlaybook) {
				t.Errorf("error does not match ErrInvalidPlaybook: %v", err)
			}
			for _, pe := range respond.PlaybookErrors(err) {
				if pe.File != filepath.ToSlash(file) || pe.Line == 0 {
					t.Errorf("error without file or line: %#v", pe)
				}
			}
			golden(t, strings.TrimSuffix(file, ".yaml")+".err", err.Error()+"\n")
		})
	}
}

func TestBuiltin(t *testing.T) {
	reg := registry(t, respondtest.NewMemory(), &respondtest.Notifier{}, &respondtest.Calls{})
	pbs, missing, err := respond.Builtin(reg)
	if err != nil {
		t.Fatal(err)
	}
	if len(missing) != 0 {
		t.Errorf("missing actions with every fake registered: %v", missing)
	}
	var ids []string
	for _, p := range pbs {
		ids = append(ids, p.ID)
	}
	want := []string{"compromised-access-key", "contain-public-exposure", "triage-low-risk"}
	if !slices.Equal(ids, want) {
		t.Errorf("builtin playbooks = %v, want %v", ids, want)
	}

	// without the cloud actions, only the playbooks that need none load
	acts, _ := respond.RecordActions(respond.RecordActionOptions{Records: respondtest.NewMemory()})
	na, _ := respond.NewNotifyAction(respond.NotifyOptions{Notifier: &respondtest.Notifier{}})
	small, err := respond.NewRegistry(append(acts, na)...)
	if err != nil {
		t.Fatal(err)
	}
	pbs, missing, err = respond.Builtin(small)
	if err != nil {
		t.Fatal(err)
	}
	if len(pbs) != 1 || pbs[0].ID != "triage-low-risk" {
		t.Errorf("without cloud actions: %d playbooks", len(pbs))
	}
	if got := missing["contain-public-exposure"]; !slices.Contains(got, "aws.ec2.revoke_security_group_rule") {
		t.Errorf("missing[contain-public-exposure] = %v", got)
	}
}

func TestLoadDir(t *testing.T) {
	reg := registry(t, respondtest.NewMemory(), &respondtest.Notifier{}, &respondtest.Calls{})
	ok := "id: %s\ntitle: t\ntrigger: record.risk > 1\nsteps:\n  - action: record.tag\n    params: {tags: [a]}\n"
	fsys := fstest.MapFS{
		"pb/a.yaml":             {Data: []byte(strings.ReplaceAll(ok, "%s", "one"))},
		"pb/sub/b.yml":          {Data: []byte(strings.ReplaceAll(ok, "%s", "two"))},
		"pb/sub/c.yaml":         {Data: []byte(strings.ReplaceAll(ok, "%s", "one"))},
		"pb/testdata/bad.yaml":  {Data: []byte("nonsense: [")},
		"pb/README.md":          {Data: []byte("# not a playbook")},
		"pb/sub/empty.yaml":     {Data: []byte("")},
		"pb/sub/comments.yaml":  {Data: []byte("# nothing here\n")},
		"pb/sub/disabled.yaml~": {Data: []byte("garbage")},
	}
	pbs, err := respond.LoadDir(fsys, "pb", reg)
	if err == nil || !strings.Contains(err.Error(), "pb/sub/c.yaml:1: playbook one: id: duplicate: also defined at pb/a.yaml:1") {
		t.Errorf("err = %v, want the duplicate id", err)
	}
	if len(pbs) != 3 {
		t.Errorf("%d playbooks", len(pbs))
	}
}
