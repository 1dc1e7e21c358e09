package ingest

import (
	"testing"

	"github.com/canopy-sec/canopy/internal/ocsf"
)

func TestAzureResource(t *testing.T) {
	tests := []struct {
		id               string
		name, typ, group string
	}{
		{"/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.KeyVault/vaults/v1/keys/k1", "k1", "Microsoft.KeyVault/vaults/keys", "rg1"},
		{"/SUBSCRIPTIONS/S1/RESOURCEGROUPS/RG1/PROVIDERS/MICROSOFT.STORAGE/STORAGEACCOUNTS/SA1", "SA1", "MICROSOFT.STORAGE/STORAGEACCOUNTS", "RG1"},
		{"/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.Storage/storageAccounts/sa1/providers/Microsoft.Insights/diagnosticSettings/d1", "d1", "Microsoft.Insights/diagnosticSettings", "rg1"},
		{"/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/c1/rbac.authorization.k8s.io/rolebindings/b1", "b1", "Microsoft.ContainerService/managedClusters/rbac.authorization.k8s.io/rolebindings", "rg1"},
		{"/subscriptions/s1/providers/Microsoft.Authorization/roleAssignments/ra1", "ra1", "Microsoft.Authorization/roleAssignments", ""},
		{"/tenants/t1/providers/Microsoft.aadiam", "", "Microsoft.aadiam", ""},
		{"/subscriptions/s1/resourceGroups/rg1", "rg1", "Resource Group", ""},
		{"/subscriptions/s1", "s1", "Subscription", ""},
	}
	for _, tt := range tests {
		rd := azureResource(tt.id)
		group := ""
		if rd.Group != nil {
			group = rd.Group.Name
		}
		if rd.UID != tt.id || rd.Name != tt.name || rd.Type != tt.typ || group != tt.group {
			t.Errorf("azureResource(%q) = uid %q name %q type %q group %q; want name %q type %q group %q",
				tt.id, rd.UID, rd.Name, rd.Type, group, tt.name, tt.typ, tt.group)
		}
	}
}

func TestAzureActivity(t *testing.T) {
	tests := []struct {
		op        string
		props     fields
		resultSig string
		want      int
	}{
		{"Microsoft.Compute/virtualMachines/write", nil, "Started.", apiUpdate},
		{"Microsoft.Compute/virtualMachines/write", fields{"statusCode": "Created"}, "", apiCreate},
		{"Microsoft.Compute/virtualMachines/write", nil, "Succeeded.Created", apiCreate},
		{"MICROSOFT.COMPUTE/VIRTUALMACHINES/READ", nil, "", apiRead},
		{"microsoft.compute/disks/delete", nil, "", apiDelete},
		{"Microsoft.KeyVault/vaults/secrets/getSecret/action", nil, "", ocsf.ActivityOther},
		{"Add member to role", fields{"operationType": "Assign"}, "", apiCreate},
		{"Update user", fields{"operationType": "Update"}, "", apiUpdate},
		{"Hard delete user", fields{"operationType": "Delete"}, "", apiDelete},
		{"Get Guest Usages resource", fields{"operationType": ""}, "", apiRead},
		{"Sign-in activity", nil, "", ocsf.ActivityOther},
	}
	for _, tt := range tests {
		if got := azureActivity(tt.op, tt.props, tt.resultSig); got != tt.want {
			t.Errorf("azureActivity(%q, %v, %q) = %d, want %d", tt.op, tt.props, tt.resultSig, got, tt.want)
		}
	}
}

func TestAzureStatusAndSeverity(t *testing.T) {
	status := []struct {
		in   string
		id   int
		word string
	}{
		{"Success", ocsf.StatusSuccess, ""},
		{"Succeeded", ocsf.StatusSuccess, ""},
		{"Failure", ocsf.StatusFailure, ""},
		{"Failed", ocsf.StatusFailure, ""},
		{"Start", 99, "Start"},
		{"Accept", 99, "Accept"},
		{"Active", 99, "Active"},
		{"", 0, ""},
	}
	for _, tt := range status {
		if id, word := azureStatus(tt.in); id != tt.id || word != tt.word {
			t.Errorf("azureStatus(%q) = %d %q, want %d %q", tt.in, id, word, tt.id, tt.word)
		}
	}
	severity := []struct {
		in   string
		want int
	}{
		{"Verbose", ocsf.SeverityInformational},
		{"Informational", ocsf.SeverityInformational},
		{"Information", ocsf.SeverityInformational},
		{"Warning", ocsf.SeverityLow},
		{"Error", ocsf.SeverityMedium},
		{"Critical", ocsf.SeverityHigh},
		{"4", ocsf.SeverityInformational},
		{"3", ocsf.SeverityLow},
		{"2", ocsf.SeverityMedium},
		{"1", ocsf.SeverityHigh},
		{"", ocsf.SeverityUnknown},
	}
	for _, tt := range severity {
		if got := azureSeverity(tt.in); got != tt.want {
			t.Errorf("azureSeverity(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}
