package route

import (
	"slices"
	"testing"

	"github.com/canopy-sec/canopy/internal/notify"
	"github.com/canopy-sec/canopy/internal/responsibility"
)

// TestTargets: an attribution reaches the configured party of its kind;
// a vendor by its id when the attribution names it; a shared one every
// party with a part.
func TestTargets(t *testing.T) {
	r := &Router{opts: Options{Notify: &notify.Config{Policy: notify.Policy{Parties: map[string]notify.Party{
		"acme":         {ID: "acme", Kind: "customer"},
		"cloud":        {ID: "cloud", Kind: "provider"},
		"example-mssp": {ID: "example-mssp", Kind: "vendor"},
		"a-vendor":     {ID: "a-vendor", Kind: "vendor"},
	}}}}}
	tests := []struct {
		name string
		a    responsibility.Attribution
		want []string
	}{
		{"customer", responsibility.Attribution{Party: "customer"}, []string{"acme"}},
		{"provider", responsibility.Attribution{Party: "provider"}, []string{"cloud"}},
		{"named vendor", responsibility.Attribution{Party: "vendor", Parts: []responsibility.Part{{Party: "vendor", Name: "example-mssp"}}}, []string{"example-mssp"}},
		{"unnamed vendor: the first by id", responsibility.Attribution{Party: "vendor"}, []string{"a-vendor"}},
		{"shared", responsibility.Attribution{Party: "shared", Parts: []responsibility.Part{{Party: "provider"}, {Party: "customer"}}}, []string{"acme", "cloud"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, p := range r.targets(tt.a) {
				got = append(got, p.ID)
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("targets = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSeverityOf(t *testing.T) {
	for id, want := range map[int]notify.Severity{1: notify.SeverityInformational, 2: notify.SeverityLow, 3: notify.SeverityMedium, 4: notify.SeverityHigh, 5: notify.SeverityCritical, 6: notify.SeverityCritical, 99: notify.SeverityInformational} {
		if got := severityOf(id); got != want {
			t.Errorf("severityOf(%d) = %s, want %s", id, got, want)
		}
	}
}

// TestPartyID maps the response stage's parties to the policy's ids as
// targets does; ids of the policy pass through.
func TestPartyID(t *testing.T) {
	r := &Router{opts: Options{Notify: &notify.Config{Policy: notify.Policy{Parties: map[string]notify.Party{
		"acme":         {ID: "acme", Kind: "customer"},
		"cloud":        {ID: "cloud", Kind: "provider"},
		"example-mssp": {ID: "example-mssp", Kind: "vendor"},
		"a-vendor":     {ID: "a-vendor", Kind: "vendor"},
	}}}}}
	tests := []struct{ party, name, want string }{
		{"customer", "", "acme"},
		{"shared", "", "acme"},
		{"provider", "", "cloud"},
		{"vendor", "example-mssp", "example-mssp"},
		{"vendor", "", "a-vendor"},
		{"example-mssp", "", "example-mssp"},
		{"nobody", "", ""},
		{"", "", ""},
	}
	for _, tt := range tests {
		if got := r.PartyID(tt.party, tt.name); got != tt.want {
			t.Errorf("PartyID(%q, %q) = %q, want %q", tt.party, tt.name, got, tt.want)
		}
	}
	if got := (&Router{}).PartyID("customer", ""); got != "" {
		t.Errorf("without notices: %q", got)
	}
}
