package inventory

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func kubernetesBytes(ctx context.Context, data []byte, emit Emit) error {
	return ImportKubernetes(ctx, bytes.NewReader(data), emit)
}

func kubernetesFiles(t testing.TB) []string {
	var files []string
	for _, pat := range []string{"testdata/kubernetes/*.yaml", "testdata/kubernetes/*.json"} {
		m, _ := filepath.Glob(pat)
		files = append(files, m...)
	}
	if len(files) == 0 {
		t.Fatal("no testdata")
	}
	return files
}

func TestImportKubernetesGolden(t *testing.T) {
	for _, f := range kubernetesFiles(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			got, err := importFile(t, kubernetesBytes, f)
			checkGolden(t, f, got, err)
		})
	}
}

func TestImportKubernetesShape(t *testing.T) {
	got, err := importFile(t, kubernetesBytes, "testdata/kubernetes/manifests.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ typ, uid string }{
		{"apps/Deployment", "default/deployment/nginx-deployment"},
		{"rbac.authorization.k8s.io/ClusterRoleBinding", "/clusterrolebinding/read-secrets-global"},
		{"/Secret", "web/secret/secret-basic-auth"},
		{"/Pod", "ops/pod/debug"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d resources, want %d", len(got), len(want))
	}
	for i, w := range want {
		if got[i].Type != w.typ || got[i].UID != w.uid || got[i].Provider != "kubernetes" {
			t.Errorf("resource %d = %s %s, want %s %s", i, got[i].Type, got[i].UID, w.typ, w.uid)
		}
	}
	if pw := asMap(got[2].Attributes["stringData"])["password"]; pw != "" {
		t.Errorf("secret value kept: %v", pw)
	}
	pod := asMap(got[3].Attributes["pod_spec"])
	c := asMap(pod["containers"].([]any)[0])
	if asMap(c["securityContext"])["runAsUser"] != int64(0) || pod["hostPID"] != true {
		t.Errorf("pod_spec = %v", pod)
	}
	if d := asMap(got[0].Attributes["pod_spec"]); d == nil || d["containers"] == nil {
		t.Errorf("deployment pod_spec = %v", got[0].Attributes["pod_spec"])
	}

	list, err := importFile(t, kubernetesBytes, "testdata/kubernetes/kubectl_get_pods.json")
	if err != nil || len(list) != 1 {
		t.Fatalf("list: %v, %d resources", err, len(list))
	}
	meta := asMap(list[0].Attributes["metadata"])
	if _, ok := meta["managedFields"]; ok {
		t.Error("managedFields kept")
	}
	if _, ok := list[0].Attributes["status"]; ok {
		t.Error("status kept")
	}
	if len(asMap(meta["annotations"])) != 0 {
		t.Errorf("last-applied annotation kept: %v", meta["annotations"])
	}
}

func TestImportKubernetesErrors(t *testing.T) {
	tests := []struct {
		name, in string
		emitted  int
		want     string
	}{
		{"syntax", "apiVersion: v1\nkind: [Pod\n", 0, "document 1"},
		{"no kind", "apiVersion: v1\nmetadata: {name: x}\n", 0, "kind: missing"},
		{"no name", "apiVersion: v1\nkind: Pod\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n", 1, "Pod: metadata.name: missing"},
		{"scalar", "42\n", 0, "not a Kubernetes object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := 0
			err := ImportKubernetes(context.Background(), strings.NewReader(tt.in), func(Resource) error { n++; return nil })
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
			if n != tt.emitted {
				t.Errorf("emitted %d, want %d", n, tt.emitted)
			}
		})
	}
}

func TestSniffConfusion(t *testing.T) {
	// Every importer test input sniffs as its own importer and no other.
	reg := Builtin()
	cases := map[string]string{}
	for _, f := range kubernetesFiles(t) {
		cases[f] = KubernetesFormat
	}
	al, _ := filepath.Glob("testdata/aliyun/*.json")
	for _, f := range al {
		cases[f] = AliyunFormat
	}
	for f, want := range cases {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		imp, err := reg.Sniff(data)
		if err != nil || imp.Name != want {
			t.Errorf("%s: sniffed %q (%v), want %q", f, imp.Name, err, want)
		}
		for _, other := range reg.Importers() {
			if other.Name != want && other.Sniff(data) >= imp.Sniff(data) && imp.Name == want {
				t.Errorf("%s: %s scores as high as %s", f, other.Name, want)
			}
		}
	}
	if SniffKubernetes([]byte(`{"apiVersion":"audit.k8s.io/v1","kind":"Event"}`)) != 0 {
		t.Error("audit events sniffed as inventory")
	}
}

func FuzzImportKubernetes(f *testing.F) {
	for _, file := range kubernetesFiles(f) {
		data, _ := os.ReadFile(file)
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_ = SniffKubernetes(data)
		_ = ImportKubernetes(context.Background(), bytes.NewReader(data), func(r Resource) error {
			if err := r.Validate(); err != nil {
				t.Fatalf("invalid resource %s: %v", r.Key(), err)
			}
			return nil
		})
	})
}
