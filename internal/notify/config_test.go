package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

var exampleEnv = map[string]string{
	"ACME_DINGTALK_URL":    "https://oapi.dingtalk.com/robot/send?access_token=ding-token-0123456789",
	"ACME_DINGTALK_SECRET": "SECding-secret-0123456789",
	"ACME_SMTP_PASSWORD":   "smtp-password-0123456789",
	"CLOUD_FEISHU_URL":     "https://open.feishu.cn/open-apis/bot/v2/hook/feishu-hook-0123456789",
	"CLOUD_FEISHU_SECRET":  "feishu-secret-0123456789",
	"CLOUD_SLACK_URL":      "https://hooks.slack.com/services/T000/B000/slack-path-0123456789",
}

var exampleFiles = map[string]string{
	"/run/secrets/acme-wecom-url":     "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=wecom-key-0123456789\n",
	"/run/secrets/vendor-webhook-key": "vendor-hmac-key-0123456789\n",
}

func exampleLoadOptions() LoadOptions {
	return LoadOptions{
		LookupEnv: func(k string) (string, bool) { v, ok := exampleEnv[k]; return v, ok },
		ReadFile: func(p string) ([]byte, error) {
			if v, ok := exampleFiles[p]; ok {
				return []byte(v), nil
			}
			return nil, &fs.PathError{Op: "open", Path: p, Err: fs.ErrNotExist}
		},
	}
}

func loadExample(t *testing.T) *Config {
	t.Helper()
	f, err := os.Open("testdata/notify.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := LoadConfig(f, exampleLoadOptions())
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestLoadExampleConfig(t *testing.T) {
	cfg := loadExample(t)
	if len(cfg.Outbound.AllowHosts) != 7 || cfg.Outbound.Timeout != 10*time.Second || cfg.Outbound.MaxResponseBytes != 65536 {
		t.Errorf("outbound: %+v", cfg.Outbound)
	}
	if cfg.Delivery.MaxAttempts != 4 || cfg.Delivery.BaseDelay != time.Second || cfg.Delivery.MaxDelay != time.Minute {
		t.Errorf("delivery: %+v", cfg.Delivery)
	}
	if d := cfg.Policy.Deadlines; d[SeverityCritical] != 15*time.Minute || d[SeverityInformational] != 0 {
		t.Errorf("deadlines: %v", d)
	}
	if got := cfg.Policy.Deadline("vendor", SeverityCritical); got != 10*time.Minute {
		t.Errorf("vendor critical deadline: %v", got)
	}
	if got := cfg.Policy.Deadline("vendor", SeverityHigh); got != time.Hour {
		t.Errorf("vendor high deadline: %v", got)
	}
	var kinds []string
	for _, s := range cfg.Channels {
		kinds = append(kinds, s.Name+"="+s.Kind)
	}
	if got := strings.Join(kinds, ","); got != "acme-dingtalk=dingtalk,acme-mail=email,acme-wecom=wecom,cloud-feishu=feishu,cloud-slack=slack,vendor-webhook=webhook" {
		t.Errorf("channels: %s", got)
	}
	ding := cfg.Channels[0].Config.(DingTalkConfig)
	if ding.URL.Reveal() != exampleEnv["ACME_DINGTALK_URL"] || ding.Secret.Reveal() != exampleEnv["ACME_DINGTALK_SECRET"] {
		t.Error("dingtalk secrets not resolved from the environment")
	}
	wecom := cfg.Channels[2].Config.(WeComConfig)
	if wecom.URL.Reveal() != strings.TrimSpace(exampleFiles["/run/secrets/acme-wecom-url"]) {
		t.Error("wecom url not read from its file (trimmed)")
	}
	acme := cfg.Policy.Parties["acme"]
	if acme.Kind != PartyCustomer || len(acme.Chain) != 3 || acme.Chain[1].Email[0] != "lead@acme.example" {
		t.Errorf("acme: %+v", acme)
	}
	chans, err := cfg.NewChannels(nil)
	if err != nil || len(chans) != 6 {
		t.Errorf("channels: %d, %v", len(chans), err)
	}
}

// TestConfigNeverShowsSecrets prints, marshals and logs a loaded
// configuration and looks for every secret value.
func TestConfigNeverShowsSecrets(t *testing.T) {
	cfg := loadExample(t)
	js, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	outs := []string{fmt.Sprintf("%v", cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", *cfg), string(js)}
	for _, s := range cfg.Channels {
		outs = append(outs, fmt.Sprintf("%+v", s), fmt.Sprintf("%#v", s.Config))
	}
	var secrets []string
	for _, v := range exampleEnv {
		secrets = append(secrets, v)
	}
	for _, v := range exampleFiles {
		secrets = append(secrets, strings.TrimSpace(v))
	}
	for _, out := range outs {
		for _, s := range secrets {
			if strings.Contains(out, s) || strings.Contains(out, "0123456789") {
				t.Fatalf("configuration output shows a secret:\n%s", out)
			}
		}
	}
	if !strings.Contains(string(js), `"url":"[redacted]"`) {
		t.Errorf("JSON lacks redacted URLs: %s", js)
	}
}

func TestLoadConfigErrors(t *testing.T) {
	base := `outbound:
  allow_hosts: [hooks.slack.com]
channels:
  s:
    type: slack
    url_env: SLACK_URL
parties:
  - id: p
    kind: customer
    escalation:
      - id: c
        channels: [s]
`
	env := LoadOptions{LookupEnv: func(k string) (string, bool) {
		if k == "SLACK_URL" {
			return "https://hooks.slack.com/services/T/B/secret-slack-path", true
		}
		return "", false
	}}
	if _, err := LoadConfig(strings.NewReader(base), env); err != nil {
		t.Fatalf("base config: %v", err)
	}
	tests := []struct {
		name string
		yaml string
		opts LoadOptions
		want string
	}{
		{"unknown top-level key", base + "escalaton: {}\n", env, "unknown field"},
		{"misspelt channel key", strings.Replace(base, "url_env: SLACK_URL", "url_env: SLACK_URL\n    secert: x", 1), env, `secert`},
		{"key of another kind", strings.Replace(base, "url_env: SLACK_URL", "url_env: SLACK_URL\n    secret_env: X", 1), env, "secret_env"},
		{"unknown channel type", strings.Replace(base, "type: slack", "type: pager", 1), env, `type "pager"`},
		{"env not set", base, LoadOptions{LookupEnv: func(string) (string, bool) { return "", false }}, "SLACK_URL is not set"},
		{"no environment given", base, LoadOptions{}, "no environment"},
		{"url twice", strings.Replace(base, "url_env: SLACK_URL", "url_env: SLACK_URL\n    url: https://hooks.slack.com/x", 1), env, "only one of url"},
		{"file missing", strings.Replace(base, "url_env: SLACK_URL", "url_file: /nope", 1), LoadOptions{ReadFile: os.ReadFile}, "/nope"},
		{"host not allowed", strings.Replace(base, "[hooks.slack.com]", "[example.com]", 1), env, "hooks.slack.com: host not in the outbound allow-list"},
		{"unknown channel in chain", strings.Replace(base, "channels: [s]", "channels: [s, t]", 1), env, `unknown channel "t"`},
		{"bad party kind", strings.Replace(base, "kind: customer", "kind: landlord", 1), env, "landlord"},
		{"bad deadline", base + "deadlines:\n  critical: soon\n", env, `"soon" is not a duration`},
		{"bad severity", base + "deadlines:\n  urgent: 5m\n", env, "unknown severity"},
		{"duplicate key", strings.Replace(base, "type: slack", "type: slack\n    type: slack", 1), env, "already defined"},
		{"wrong type", base + "delivery:\n  max_attempts: many\n", env, "[14:17]"},
		{"bad contact email", strings.Replace(base, "channels: [s]", "channels: [s]\n        email: [\"not an address\"]", 1), env, "email"},
		{"duplicate party", base + "  - id: p\n    kind: vendor\n    escalation: [{id: c, channels: [s]}]\n", env, "duplicate party"},
		{"bad wildcard", strings.Replace(base, "[hooks.slack.com]", "[\"*\"]", 1), env, "bare wildcard"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadConfig(strings.NewReader(tt.yaml), tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "secret-slack-path") {
				t.Errorf("error shows a secret: %v", err)
			}
		})
	}
	// Positions: a misspelt key names its line.
	_, err := LoadConfig(strings.NewReader(strings.Replace(base, "url_env: SLACK_URL", "url_env: SLACK_URL\n    secert: x", 1)), env)
	if err == nil || !strings.Contains(err.Error(), "[7:") {
		t.Errorf("no line in %v", err)
	}
}

// TestConfigEndToEnd loads a configuration pointing at loopback receivers
// and sends a notice through the escalator it builds.
func TestConfigEndToEnd(t *testing.T) {
	slack := slackWebhook(t)
	srv := newReceiver(t, slack)
	yml := `outbound:
  allow_hosts: ["127.0.0.1"]
  allow_loopback: true
  allow_insecure_http: true
channels:
  s:
    type: slack
    url_env: SLACK_URL
parties:
  - id: p
    kind: customer
    escalation:
      - id: c
        channels: [s]
`
	cfg, err := LoadConfig(strings.NewReader(yml), LoadOptions{LookupEnv: func(string) (string, bool) { return srv.URL + slackPath, true }})
	if err != nil {
		t.Fatal(err)
	}
	r := &recorder{}
	esc, err := cfg.NewEscalator(NewMemoryStore(), Options{}, DeliveryOptions{OnAttempt: r.hook})
	if err != nil {
		t.Fatal(err)
	}
	n, err := esc.Notify(context.Background(), Request{Party: "p", Severity: SeverityLow, Title: "Weak TLS on lb-1",
		Subject: Subject{Kind: SubjectFinding, ID: "F-7"}}, t0)
	if err != nil || n.DeliveredAt.IsZero() || slack.count() != 1 || len(r.attempts) != 1 {
		t.Fatalf("notify: %+v %v (requests %d)", n, err, slack.count())
	}
	if got := slack.last(t).r.Method; got != http.MethodPost {
		t.Errorf("method %s", got)
	}
}

func TestLoadEmptyConfig(t *testing.T) {
	cfg, err := LoadConfig(strings.NewReader(""), LoadOptions{})
	if err != nil || len(cfg.Policy.Parties) != 0 || cfg.Policy.Deadlines[SeverityHigh] != time.Hour {
		t.Fatalf("%+v %v", cfg, err)
	}
	if _, err := NewEscalator(Options{Store: NewMemoryStore(), Policy: &cfg.Policy}); err != nil {
		t.Fatal(err)
	}
	if _, err := NewEscalator(Options{Policy: &cfg.Policy}); err == nil || errors.Is(err, ErrNotFound) {
		t.Errorf("escalator without store: %v", err)
	}
}
