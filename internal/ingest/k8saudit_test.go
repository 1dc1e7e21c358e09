package ingest

import (
	"testing"

	"github.com/canopy-sec/canopy/internal/ocsf"
)

func TestK8sActivity(t *testing.T) {
	tests := []struct {
		verb string
		id   int
		name string
	}{
		{"create", 1, "Create"}, {"get", 2, "Read"}, {"list", 2, "Read"}, {"watch", 2, "Read"},
		{"update", 3, "Update"}, {"patch", 3, "Update"}, {"delete", 4, "Delete"}, {"deletecollection", 4, "Delete"},
		{"impersonate", 99, "impersonate"}, {"", 0, "Unknown"},
	}
	for _, tt := range tests {
		a := &ocsf.APIActivity{}
		k8sActivity(a, tt.verb)
		if a.ActivityID != tt.id || a.ActivityName != tt.name {
			t.Errorf("verb %q: activity %d %q, want %d %q", tt.verb, a.ActivityID, a.ActivityName, tt.id, tt.name)
		}
	}
}

func TestK8sUserType(t *testing.T) {
	tests := map[string]int{
		"system:serviceaccount:kube-system:default": ocsf.UserTypeService,
		"system:node:ip-10-0-0-1":                   ocsf.UserTypeSystem,
		"system:anonymous":                          ocsf.UserTypeSystem,
		"alice@example.com":                         ocsf.UserTypeUser,
	}
	for name, want := range tests {
		if u := k8sUser(name, "", nil); u == nil || u.TypeID != want {
			t.Errorf("k8sUser(%q) type = %+v, want %d", name, u, want)
		}
	}
	if k8sUser("", "", []string{"g"}) != nil {
		t.Error("a user without name or uid must be nil")
	}
}
