package inventory

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// importFile runs imp over a testdata file and returns what it emitted.
func importFile(t testing.TB, imp func(context.Context, []byte, Emit) error, file string) ([]Resource, error) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var got []Resource
	err = imp(context.Background(), data, func(r Resource) error {
		if verr := r.Validate(); verr != nil {
			t.Errorf("%s: emitted an invalid resource %s: %v", file, r.Key(), verr)
		}
		got = append(got, r)
		return nil
	})
	return got, err
}

// checkGolden compares resources (and an error text) with file.golden.json.
func checkGolden(t *testing.T, file string, got []Resource, err error) {
	t.Helper()
	type golden struct {
		Resources []Resource `json:"resources"`
		Error     string     `json:"error,omitempty"`
	}
	g := golden{Resources: got}
	if g.Resources == nil {
		g.Resources = []Resource{}
	}
	if err != nil {
		g.Error = err.Error()
	}
	out, merr := json.MarshalIndent(g, "", "  ")
	if merr != nil {
		t.Fatal(merr)
	}
	out = append(out, '\n')
	gf := strings.TrimSuffix(file, filepath.Ext(file)) + ".golden"
	if *update {
		if err := os.WriteFile(gf, out, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, rerr := os.ReadFile(gf)
	if rerr != nil {
		t.Fatalf("%v (run go test -update to create it)", rerr)
	}
	if !bytes.Equal(out, want) {
		t.Errorf("%s: output differs from %s (run go test -update and review the diff):\n%s", file, gf, out)
	}
}

func aliyunBytes(ctx context.Context, data []byte, emit Emit) error {
	return ImportAliyun(ctx, bytes.NewReader(data), emit)
}

func TestImportAliyunGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/aliyun/*.json")
	if len(files) == 0 {
		t.Fatal("no testdata")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			got, err := importFile(t, aliyunBytes, f)
			checkGolden(t, f, got, err)
		})
	}
}

func TestImportAliyunFacts(t *testing.T) {
	// Spot checks of the normalization the golden files also pin, stated
	// as the rules rely on them.
	byKey := func(file string) map[string]Resource {
		got, _ := importFile(t, aliyunBytes, file)
		m := map[string]Resource{}
		for _, r := range got {
			m[r.Type+"|"+r.UID] = r
		}
		return m
	}
	sg := byKey("testdata/aliyun/ecs_describe_security_group_attribute.json")["ALIYUN::ECS::SecurityGroup|sg-bp1gxw6bznjjvhu3gtrz"]
	perms, _ := sg.Attributes["permissions"].([]any)
	if len(perms) != 4 {
		t.Fatalf("security group permissions = %d, want 4", len(perms))
	}
	ssh := perms[0].(map[string]any)
	if ssh["ip_protocol"] != "tcp" || ssh["port_from"] != int64(22) || ssh["port_to"] != int64(22) || ssh["direction"] != "ingress" || ssh["policy"] != "accept" {
		t.Errorf("ssh rule = %v", ssh)
	}
	icmp := perms[3].(map[string]any)
	if icmp["port_from"] != int64(1) || icmp["port_to"] != int64(65535) {
		t.Errorf("-1/-1 rule = %v, want ports 1..65535", icmp)
	}

	oss := byKey("testdata/aliyun/oss_collection.json")
	app := oss["ALIYUN::OSS::Bucket|app-data"]
	if app.Account != "1234567890123456" || app.Attributes["acl"] != "public-read" || app.Attributes["policy_exists"] != false {
		t.Errorf("app-data = %+v", app)
	}
	logs := oss["ALIYUN::OSS::Bucket|trail-logs"]
	if logs.Region != "cn-shanghai" || logs.Attributes["acl"] != "private" || logs.Attributes["versioning"] != "Suspended" {
		t.Errorf("trail-logs = %+v", logs)
	}
	if !strings.Contains(logs.Source, "aliyun:oss:getbucketacl") || !strings.Contains(logs.Source, "aliyun:oss:listbuckets") {
		t.Errorf("trail-logs source = %q, want every call that described it", logs.Source)
	}

	ram := byKey("testdata/aliyun/ram_collection.json")
	alice := ram["ALIYUN::RAM::User|alice"]
	if alice.Attributes["console_access"] != true || alice.Attributes["mfa_enabled"] != false {
		t.Errorf("alice = %v", alice.Attributes)
	}
	bot := ram["ALIYUN::RAM::User|ci-bot"]
	if bot.Attributes["console_access"] != false || len(bot.Attributes["attached_policies"].([]any)) != 1 {
		t.Errorf("ci-bot = %v", bot.Attributes)
	}
	if pp := ram["ALIYUN::RAM::PasswordPolicy|1234567890123456"]; pp.Attributes["max_login_attempts"] != int64(5) {
		t.Errorf("password policy = %v", pp.Attributes)
	}
	if acct := ram["ALIYUN::::Account|ALIYUN::::Account:1234567890123456"]; acct.Attributes["root_mfa_enabled"] != true {
		t.Errorf("account = %v", acct.Attributes)
	}
	pol := ram["ALIYUN::RAM::ManagedPolicy|Custom/ops-admin"]
	stmt := pol.Attributes["document"].(map[string]any)["statement"].([]any)[0].(map[string]any)
	if stmt["effect"] != "Allow" || stmt["action"].([]any)[0] != "*" {
		t.Errorf("ops-admin statement = %v", stmt)
	}
}

func TestImportAliyunErrors(t *testing.T) {
	tests := []struct {
		name, in string
		emitted  int
		want     []string
	}{
		{"syntax", `{"PasswordPolicy": {`, 0, []string{"document 1 (byte 0)", "unexpected EOF"}},
		{"unknown shape", `{"Foo": 1}`, 0, []string{"document 1", "unknown aliyun response shape (keys Foo)"}},
		{"needs a parameter", `{"AccessControlPolicy": {"AccessControlList": {"Grant": "private"}}}`, 0,
			[]string{"oss:getbucketacl", "params.bucket: missing"}},
		{"unsupported api", `{"canopy":"aliyun-call","api":"ecs:DescribeNothing","response":{}}`, 0, []string{`api "ecs:describenothing": not supported`}},
		{"not an object", `42`, 0, []string{"not a JSON object or array"}},
		{"later documents still count", `{"Foo": 1}` + "\n" + `{"PasswordPolicy": {"MinimumPasswordLength": 8}}`, 1, []string{"document 1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := 0
			err := ImportAliyun(context.Background(), strings.NewReader(tt.in), func(Resource) error { n++; return nil })
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if n != tt.emitted {
				t.Errorf("emitted %d, want %d", n, tt.emitted)
			}
		})
	}
}

func TestImportAliyunStopsWhenEmitFails(t *testing.T) {
	stop := errors.New("stop")
	err := ImportAliyun(context.Background(), strings.NewReader(`{"Users":{"User":[{"UserName":"a"},{"UserName":"b"}]}}`),
		func(Resource) error { return stop })
	if !errors.Is(err, stop) {
		t.Fatalf("err = %v, want the emit error", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := ImportAliyun(ctx, strings.NewReader(`{}`), func(Resource) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestSniffAliyun(t *testing.T) {
	files, _ := filepath.Glob("testdata/aliyun/*.json")
	for _, f := range files {
		data, _ := os.ReadFile(f)
		if s := SniffAliyun(data); s < 60 {
			t.Errorf("%s: sniff = %d, want ≥ 60", f, s)
		}
		imp, err := Builtin().Sniff(data)
		if err != nil || imp.Name != AliyunFormat {
			t.Errorf("%s: registry sniffed %q, %v; want %s", f, imp.Name, err, AliyunFormat)
		}
	}
	for _, s := range []string{"", "apiVersion: v1\nkind: Pod\n", `{"resourceType": "AWS::S3::Bucket"}`, `{"format_version":"1.2","terraform_version":"1.9.0"}`} {
		if got := SniffAliyun([]byte(s)); got != 0 {
			t.Errorf("SniffAliyun(%q) = %d, want 0", s, got)
		}
	}
}

func FuzzImportAliyun(f *testing.F) {
	files, _ := filepath.Glob("testdata/aliyun/*.json")
	for _, file := range files {
		data, _ := os.ReadFile(file)
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_ = SniffAliyun(data)
		_ = ImportAliyun(context.Background(), bytes.NewReader(data), func(r Resource) error {
			if err := r.Validate(); err != nil {
				t.Fatalf("invalid resource %s: %v", r.Key(), err)
			}
			if _, err := json.Marshal(r); err != nil {
				t.Fatalf("resource %s does not marshal: %v", r.Key(), err)
			}
			return nil
		})
	})
}
