package cloud

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/canopy-sec/canopy/internal/respond"
)

const testTenant = "tenant-a"

// params decodes a JSON object the way a playbook's parameters reach an
// action: untyped values, checked against the action's schema by the
// engine first.
func params(t *testing.T, a respond.Action, raw string) respond.Params {
	t.Helper()
	var p respond.Params
	if err := json.Unmarshal([]byte(raw), &p); err != nil {
		t.Fatalf("params %s: %v", raw, err)
	}
	checked, err := a.Params().Check(p)
	if err != nil {
		t.Fatalf("params %s do not fit the schema: %v", raw, err)
	}
	return checked
}

// rawParams decodes without the schema check, for validation tests.
func rawParams(t *testing.T, raw string) respond.Params {
	t.Helper()
	var p respond.Params
	if err := json.Unmarshal([]byte(raw), &p); err != nil {
		t.Fatalf("params %s: %v", raw, err)
	}
	return p
}

func call(p respond.Params) respond.Call {
	return respond.Call{Tenant: testTenant, Run: "run-1", Step: "0", Key: "run-1/0", Actor: "system", Params: p}
}

// persisted is res after the JSON round trip a stored run makes.
func persisted(t *testing.T, res respond.Result) respond.Result {
	t.Helper()
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatalf("marshal result: %v", err)
	}
	var out respond.Result
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("unmarshal result: %v", err)
	}
	return out
}

func outcome(res respond.Result) string {
	s, _ := res.Output["outcome"].(string)
	return s
}

// assertErr checks that err is non-nil and its text has every part.
func assertErr(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one mentioning %q", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not mention %q", err, p)
		}
	}
}

var bg = context.Background()
