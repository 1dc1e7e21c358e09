package responsibility

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// TestLoadErrors loads every testdata/bad/<loader>-<case>.yaml with the
// loader its name starts with and compares the full error text with
// <case>.err: every problem, with file, line, column, entry and field.
func TestLoadErrors(t *testing.T) {
	files, err := filepath.Glob("testdata/bad/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatal("no bad files", err)
	}
	for _, path := range files {
		name := "bad/" + filepath.Base(path)
		t.Run(filepath.Base(path), func(t *testing.T) {
			data := readFile(t, name)
			var err error
			switch kind, _, _ := strings.Cut(filepath.Base(path), "-"); kind {
			case "override":
				_, err = BuiltinMatrix().Override(name, bytes.NewReader(data))
			case "contract":
				_, err = ParseContract(name, bytes.NewReader(data), nil)
			case "rules":
				_, err = ParseRules(name, bytes.NewReader(data))
			case "catalog":
				_, err = ParseCatalog(name, bytes.NewReader(data))
			default:
				t.Fatalf("unknown loader %q", kind)
			}
			if err == nil {
				t.Fatal("no error")
			}
			var fe *FileError
			if !errors.As(err, &fe) || fe.File != name || fe.Line == 0 {
				t.Errorf("error %v: want a *FileError for %s with a line", err, name)
			}
			golden(t, strings.TrimSuffix(name, ".yaml")+".err", []byte(err.Error()+"\n"))
		})
	}
}

// TestOverride merges testdata/overrides/soc-in-house.yaml over the
// built-in matrix: a changed cell, a new area with parts, a changed duty.
func TestOverride(t *testing.T) {
	base := BuiltinMatrix()
	const name = "overrides/soc-in-house.yaml"
	m, err := base.Override(name, bytes.NewReader(readFile(t, name)))
	if err != nil {
		t.Fatal(err)
	}
	c, _ := m.Cell("security_operations", IaaS)
	if c.Party != Customer || c.Override != name || c.Parts != nil || c.Sources[0] != "acme-policy" {
		t.Errorf("security_operations × IaaS = %+v", c)
	}
	if c, _ := m.Cell("security_operations", PaaS); c.Party != Shared || c.Override != "" {
		t.Errorf("security_operations × PaaS changed: %+v", c)
	}
	if c, _ := base.Cell("security_operations", IaaS); c.Party != Shared {
		t.Errorf("the override changed the built-in matrix: %+v", c)
	}
	if c, ok := m.Cell("model_endpoints", PaaS); !ok || c.Party != Shared || len(c.Parts) != 2 || c.Parts[1].Duty != "controls who may call the endpoint and what data it sees" {
		t.Errorf("model_endpoints × PaaS = %+v, %v", c, ok)
	}
	if got := len(m.Areas()); got != 14 {
		t.Errorf("%d areas, want 14", got)
	}
	if v, _ := m.Mode("云软件"); v.Override != name || v.Duties[slicesIndex(v.Duties, "alert_triage_and_response")].Holder != Shared {
		t.Errorf("mode cloud_software = %+v", v)
	}
	if got := m.Overrides(); len(got) != 1 || got[0] != name {
		t.Errorf("Overrides() = %v", got)
	}

	// Attribution follows the override and says so.
	a := mustAttributor(t, Options{Matrix: m})
	rec := findRecord(t, loadRecords(t, "corpus/guardduty/derived-resource-types.jsonl"), "Unprotected port")
	got := a.Attribute(rec, Context{})
	if got.Party != Customer || !strings.Contains(got.Basis, "matrix: security_operations × IaaS → customer (acme-policy), set by override "+name) {
		t.Errorf("attribution under the override: %+v", got)
	}
	// The changed mode now lets a 云软件 contract take security operations.
	contract := `schema_version: 1
tenant: acme
vendors:
  - id: edr-co
    name: EDR Co.
    services:
      - id: edr
        name: EDR with alert handling
        mode: 云软件
        clause: Order 12 §2
        areas: [security_operations]
`
	if _, err := ParseContract("c.yaml", strings.NewReader(contract), base); err == nil {
		t.Error("the built-in 云软件 mode took security_operations")
	}
	ct, err := ParseContract("c.yaml", strings.NewReader(contract), m)
	if err != nil {
		t.Fatal(err)
	}
	rec = findRecord(t, loadRecords(t, "corpus/guardduty/derived-resource-types.jsonl"), "privileged container")
	if got := a.Attribute(rec, Context{Contract: ct}); got.Party != Vendor {
		t.Errorf("with the 云软件 contract under the override: %+v", got)
	}
}

func slicesIndex(ds []Duty, id string) int {
	for i, d := range ds {
		if d.ID == id {
			return i
		}
	}
	return -1
}

func TestParseContract(t *testing.T) {
	c := mustContract(t, "contracts/acme.yaml")
	if c.Tenant != "acme" || len(c.Vendors) != 2 || c.File != "contracts/acme.yaml" {
		t.Fatalf("%+v", c)
	}
	mdr := c.Vendors[0].Services[0]
	if mdr.Mode.ID != "cloud_software_plus_managed_service" || mdr.Clause != "MSA-2026-017 §3.1" ||
		len(mdr.Scope.Providers) != 2 || mdr.Scope.Providers[1] != "alibaba" || mdr.Areas[0] != "security_operations" {
		t.Errorf("mdr = %+v", mdr)
	}
	agent := c.Vendors[1].Services[0]
	if agent.Mode.ID != "cloud_software" || len(agent.Products.Packages) != 1 || len(agent.Areas) != 0 {
		t.Errorf("agent = %+v", agent)
	}
}
