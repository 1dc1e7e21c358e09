package inventory

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"strings"

	"github.com/goccy/go-yaml"
)

// KubernetesFormat names the importer of Kubernetes manifests and
// `kubectl get -o json|yaml` output.
const KubernetesFormat = "kubernetes"

func init() {
	register(Importer{
		Name:    KubernetesFormat,
		Title:   "Kubernetes manifests and kubectl get output",
		Version: 1,
		Notes: "YAML (multi-document) or JSON objects and List objects (kubectl get -o json|yaml); " +
			"one resource per object, type <group>/<Kind>, uid <namespace>/<kind>/<name>",
		Sniff:  SniffKubernetes,
		Import: ImportKubernetes,
	})
}

// SniffKubernetes scores head as Kubernetes objects: 70 when it has both
// apiVersion and kind (as YAML keys or JSON members), 0 otherwise.
// Kubernetes audit events (audit.k8s.io) are activity, not inventory.
func SniffKubernetes(head []byte) int {
	if bytes.Contains(head, []byte("audit.k8s.io/")) {
		return 0
	}
	t := bytes.TrimLeft(head, " \t\r\n\ufeff")
	if len(t) > 0 && (t[0] == '{' || t[0] == '[') {
		if bytes.Contains(head, []byte(`"apiVersion"`)) && bytes.Contains(head, []byte(`"kind"`)) {
			return 70
		}
		return 0
	}
	hasKey := func(k string) bool {
		for _, line := range bytes.Split(head, []byte("\n")) {
			line = bytes.TrimLeft(line, " -")
			if bytes.HasPrefix(line, []byte(k+":")) {
				return true
			}
		}
		return false
	}
	if hasKey("apiVersion") && hasKey("kind") {
		return 70
	}
	return 0
}

// ImportKubernetes reads Kubernetes objects, as manifests (YAML documents
// separated by ---, or JSON) or as kubectl List output, and emits one
// [Resource] per object:
//
//   - Provider "kubernetes", Account "" (the input does not name its
//     cluster), Region "";
//   - Type "<group>/<Kind>" with the core group empty ("/Pod",
//     "apps/Deployment", "rbac.authorization.k8s.io/ClusterRoleBinding");
//   - UID "<namespace>/<kind in lower case>/<name>", the namespace empty for
//     cluster-scoped objects and "default" for namespaced core kinds that a
//     manifest leaves without one;
//   - Name the object's name, Tags its labels;
//   - Attributes the object itself (apiVersion, kind, metadata, spec, and
//     top-level fields such as rules, roleRef, subjects, data) without
//     status, metadata.managedFields and the last-applied-configuration
//     annotation; Secret values are replaced by "" (keys are kept);
//     workloads also get `pod_spec`, their pod template's spec (the Pod's
//     own spec for a Pod, jobTemplate's for a CronJob), so one rule covers
//     every workload kind;
//   - Relationships: owner references ("owned_by"), the pod's service
//     account ("uses"), a binding's role ("binds").
//
// A syntax error ends the input; an object without kind or name is
// reported in the returned error after the others are emitted.
func ImportKubernetes(ctx context.Context, r io.Reader, emit Emit) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("kubernetes: reading input: %w", err)
	}
	var errs []error
	for doc, chunk := range k8sDocuments(data) {
		if err := ctx.Err(); err != nil {
			return err
		}
		var v any
		if err := yaml.Unmarshal(chunk.text, &v); err != nil {
			return fmt.Errorf("kubernetes: document %d (line %d): %w", doc+1, chunk.line, err)
		}
		if v == nil {
			continue // empty document
		}
		var objs []map[string]any
		if err := k8sObjects(k8sNormalize(v), "", "", &objs); err != nil {
			errs = append(errs, fmt.Errorf("kubernetes: document %d (line %d): %w", doc+1, chunk.line, err))
			continue
		}
		for i, o := range objs {
			res, err := k8sResource(o)
			if err != nil {
				errs = append(errs, fmt.Errorf("kubernetes: document %d (line %d), object %d: %w", doc+1, chunk.line, i+1, err))
				continue
			}
			if err := emit(res); err != nil {
				return err
			}
		}
	}
	return errors.Join(errs...)
}

type k8sChunk struct {
	text []byte
	line int // 1-based line of the document's first line
}

// k8sDocuments splits a YAML stream at "---" lines. JSON (which never has
// such lines) is one document.
func k8sDocuments(data []byte) []k8sChunk {
	var out []k8sChunk
	start, startLine, line := 0, 1, 1
	for i := 0; i <= len(data); {
		end := bytes.IndexByte(data[i:], '\n')
		if end < 0 {
			end = len(data) - i
		}
		l := bytes.TrimRight(data[i:i+end], " \t\r")
		if bytes.Equal(l, []byte("---")) || bytes.HasPrefix(l, []byte("--- ")) {
			out = append(out, k8sChunk{data[start:i], startLine})
			start, startLine = i+end+1, line+1
			if start > len(data) {
				start = len(data)
			}
		}
		i += end + 1
		line++
	}
	if start < len(data) {
		out = append(out, k8sChunk{data[start:], startLine})
	}
	return out
}

// k8sObjects flattens lists (kind: List, PodList …, or a JSON array) into
// objects; items of a typed list inherit its apiVersion and item kind.
func k8sObjects(v any, apiVersion, kind string, out *[]map[string]any) error {
	switch t := v.(type) {
	case []any:
		for _, e := range t {
			if err := k8sObjects(e, apiVersion, kind, out); err != nil {
				return err
			}
		}
		return nil
	case map[string]any:
		k := str(t["kind"])
		if items, ok := t["items"].([]any); ok && strings.HasSuffix(k, "List") {
			itemKind := strings.TrimSuffix(k, "List") // "" for a plain List
			return k8sObjects(items, str(t["apiVersion"]), itemKind, out)
		}
		if _, ok := t["apiVersion"]; !ok && apiVersion != "" {
			t["apiVersion"] = apiVersion
		}
		if k == "" && kind != "" {
			t["kind"] = kind
		}
		*out = append(*out, t)
		return nil
	}
	return fmt.Errorf("not a Kubernetes object (a %T)", v)
}

var k8sClusterScoped = map[string]bool{
	"Namespace": true, "Node": true, "PersistentVolume": true, "StorageClass": true, "ClusterRole": true,
	"ClusterRoleBinding": true, "CustomResourceDefinition": true, "ValidatingWebhookConfiguration": true,
	"MutatingWebhookConfiguration": true, "PodSecurityPolicy": true, "PriorityClass": true, "APIService": true,
	"CSIDriver": true, "CSINode": true, "IngressClass": true, "RuntimeClass": true, "VolumeAttachment": true,
	"ValidatingAdmissionPolicy": true, "ValidatingAdmissionPolicyBinding": true,
}

var k8sNamespacedCore = map[string]bool{
	"Pod": true, "Deployment": true, "StatefulSet": true, "DaemonSet": true, "ReplicaSet": true, "Job": true,
	"CronJob": true, "Service": true, "ConfigMap": true, "Secret": true, "ServiceAccount": true, "Role": true,
	"RoleBinding": true, "Ingress": true, "NetworkPolicy": true, "PersistentVolumeClaim": true,
	"ReplicationController": true, "HorizontalPodAutoscaler": true, "PodDisruptionBudget": true,
	"LimitRange": true, "ResourceQuota": true, "Endpoints": true,
}

func k8sResource(o map[string]any) (Resource, error) {
	kind := str(o["kind"])
	if kind == "" {
		return Resource{}, fmt.Errorf("kind: %w", ErrMissingField)
	}
	meta := asMap(o["metadata"])
	name := str(meta["name"])
	if name == "" {
		name = str(meta["generateName"])
	}
	if name == "" {
		return Resource{}, fmt.Errorf("%s: metadata.name: %w", kind, ErrMissingField)
	}
	group := ""
	if gv := str(o["apiVersion"]); strings.Contains(gv, "/") {
		group = gv[:strings.LastIndexByte(gv, '/')]
	}
	ns := str(meta["namespace"])
	if k8sClusterScoped[kind] {
		ns = ""
	} else if ns == "" && k8sNamespacedCore[kind] {
		ns = "default"
	}
	attrs := make(map[string]any, len(o))
	for k, v := range o {
		if k != "status" {
			attrs[k] = v
		}
	}
	if meta != nil {
		m := maps.Clone(meta)
		delete(m, "managedFields")
		if ann := asMap(m["annotations"]); ann != nil {
			if _, ok := ann["kubectl.kubernetes.io/last-applied-configuration"]; ok {
				ann = maps.Clone(ann)
				delete(ann, "kubectl.kubernetes.io/last-applied-configuration")
				m["annotations"] = ann
			}
		}
		if ns != "" {
			m["namespace"] = ns
		}
		attrs["metadata"] = m
	}
	if kind == "Secret" && group == "" {
		for _, k := range []string{"data", "stringData"} {
			if d := asMap(attrs[k]); d != nil {
				red := make(map[string]any, len(d))
				for dk := range d {
					red[dk] = ""
				}
				attrs[k] = red
			}
		}
	}
	spec := asMap(o["spec"])
	var pod map[string]any
	switch kind {
	case "Pod":
		pod = spec
	case "CronJob":
		pod = asMap(path(spec, "jobTemplate", "spec", "template", "spec"))
	default:
		pod = asMap(path(spec, "template", "spec"))
	}
	r := Resource{
		Provider:   "kubernetes",
		Type:       group + "/" + kind,
		UID:        ns + "/" + strings.ToLower(kind) + "/" + name,
		Name:       name,
		Attributes: attrs,
		Source:     KubernetesFormat,
	}
	if pod != nil {
		attrs["pod_spec"] = pod
		sa := str(pod["serviceAccountName"])
		if sa == "" {
			sa = "default"
		}
		r.Relationships = append(r.Relationships, Relationship{Type: "uses", Target: ns + "/serviceaccount/" + sa, TargetType: "/ServiceAccount"})
	}
	for k, v := range asMap(meta["labels"]) {
		if r.Tags == nil {
			r.Tags = map[string]string{}
		}
		r.Tags[k] = str(v)
	}
	for _, ref := range objects(meta["ownerReferences"], "") {
		r.Relationships = append(r.Relationships, Relationship{
			Type: "owned_by", Target: ns + "/" + strings.ToLower(str(ref["kind"])) + "/" + str(ref["name"]),
			TargetType: k8sGroup(str(ref["apiVersion"])) + "/" + str(ref["kind"]),
		})
	}
	if rr := asMap(o["roleRef"]); rr != nil {
		rk := str(rr["kind"])
		rns := ns
		if rk == "ClusterRole" {
			rns = ""
		}
		r.Relationships = append(r.Relationships, Relationship{
			Type: "binds", Target: rns + "/" + strings.ToLower(rk) + "/" + str(rr["name"]),
			TargetType: str(rr["apiGroup"]) + "/" + rk,
		})
	}
	return r, nil
}

func k8sGroup(apiVersion string) string {
	if i := strings.LastIndexByte(apiVersion, '/'); i >= 0 {
		return apiVersion[:i]
	}
	return ""
}

// k8sNormalize turns what the YAML decoder produced into the JSON-like
// values attributes use: map[string]any, []any, string, bool, int64,
// float64.
func k8sNormalize(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			t[k] = k8sNormalize(e)
		}
		return t
	case map[any]any:
		m := make(map[string]any, len(t))
		for k, e := range t {
			m[fmt.Sprint(k)] = k8sNormalize(e)
		}
		return m
	case []any:
		for i, e := range t {
			t[i] = k8sNormalize(e)
		}
		return t
	case uint64:
		if t > math.MaxInt64 {
			return float64(t)
		}
		return int64(t)
	case int:
		return int64(t)
	case uint:
		return int64(t)
	case int32:
		return int64(t)
	case float32:
		return float64(t)
	}
	return v
}
