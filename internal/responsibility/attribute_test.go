package responsibility

import (
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
)

type attributionCase struct {
	Name          string   `yaml:"name"`
	File          string   `yaml:"file"`
	Record        string   `yaml:"record"`
	Want          want     `yaml:"want"`
	Basis         []string `yaml:"basis"`
	Contract      *want    `yaml:"contract"`
	ContractBasis []string `yaml:"contract_basis"`
}

type want struct {
	Party Party        `yaml:"party"`
	Area  string       `yaml:"area"`
	Model ServiceModel `yaml:"model"`
}

// TestAttribute runs testdata/cases.yaml: findings across IaaS, PaaS and
// SaaS resources get the party and area of their matrix cell, and the
// tenant's contract moves the right ones to its vendors.
func TestAttribute(t *testing.T) {
	var cases []attributionCase
	if err := yaml.UnmarshalWithOptions(readFile(t, "cases.yaml"), &cases, yaml.Strict()); err != nil {
		t.Fatal(err)
	}
	a := mustAttributor(t, Options{})
	contract := mustContract(t, "contracts/acme.yaml")
	files := map[string]bool{}
	for _, c := range cases {
		files[c.File] = true
		t.Run(c.Name, func(t *testing.T) {
			rec := findRecord(t, loadRecords(t, c.File), c.Record)
			got := a.Attribute(rec, Context{})
			check(t, "without contract", got, c.Want, c.Basis)
			withContract := a.Attribute(rec, Context{Contract: contract})
			w := c.Want
			if c.Contract != nil {
				w.Party = c.Contract.Party
			}
			check(t, "with contract", withContract, w, c.ContractBasis)
			if c.Contract == nil && !equalAttribution(got, withContract) {
				t.Errorf("the contract changed an attribution it should not:\n without: %+v\n with:    %+v", got, withContract)
			}
		})
	}
	if len(cases) < 30 {
		t.Errorf("only %d cases", len(cases))
	}
}

func check(t *testing.T, label string, got Attribution, w want, basis []string) {
	t.Helper()
	if got.Party != w.Party || got.Area != w.Area || (w.Model != "" && got.ServiceModel != w.Model) {
		t.Errorf("%s: got %s / %s / %s, want %s / %s / %s\nbasis: %s", label, got.Party, got.Area, got.ServiceModel, w.Party, w.Area, w.Model, got.Basis)
	}
	for _, b := range basis {
		if !strings.Contains(got.Basis, b) {
			t.Errorf("%s: basis lacks %q:\n%s", label, b, got.Basis)
		}
	}
	if got.Party == Shared || got.Party == Vendor {
		if len(got.Parts) < 2 {
			t.Errorf("%s: party %s with parts %+v: want each party's part", label, got.Party, got.Parts)
		}
	}
	// The matrix cell named in the basis is the one the party comes from.
	if got.Party != Vendor && !strings.Contains(got.Basis, "matrix: "+got.Area+" × "+string(got.ServiceModel)+" → "+string(got.Party)) {
		t.Errorf("%s: basis does not name the cell %s × %s → %s:\n%s", label, got.Area, got.ServiceModel, got.Party, got.Basis)
	}
}

func equalAttribution(a, b Attribution) bool {
	if a.Party != b.Party || a.Area != b.Area || a.ServiceModel != b.ServiceModel || a.Basis != b.Basis || len(a.Parts) != len(b.Parts) {
		return false
	}
	for i := range a.Parts {
		if a.Parts[i] != b.Parts[i] {
			return false
		}
	}
	return true
}

// TestAttributeMatchesMatrix checks, for every area and model, that a
// finding carrying that area explicitly on a resource of that model gets
// exactly the matrix's party.
func TestAttributeMatchesMatrix(t *testing.T) {
	a := mustAttributor(t, Options{})
	resources := map[ServiceModel]string{IaaS: "AWS::EC2::Instance", PaaS: "AWS::RDS::DBInstance", SaaS: "Microsoft 365 Tenant"}
	for _, area := range a.Matrix().Areas() {
		for _, model := range ServiceModels() {
			rec := explicitFinding(area.ID, resources[model])
			got := a.Attribute(rec, Context{})
			cell := area.Cells[model]
			if got.Party != cell.Party || got.Area != area.ID || got.ServiceModel != model {
				t.Errorf("%s × %s: got %s / %s / %s, want %s", area.ID, model, got.Party, got.Area, got.ServiceModel, cell.Party)
			}
			if (cell.Party == Shared) != (len(got.Parts) == 2) {
				t.Errorf("%s × %s: party %s with %d parts", area.ID, model, got.Party, len(got.Parts))
			}
		}
	}
}
