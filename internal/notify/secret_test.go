package notify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
)

const topSecret = "tok-9f8e7d6c5b4a39281706"

func TestSecretRedacts(t *testing.T) {
	s := NewSecret(topSecret)
	type holder struct {
		Pub  Secret
		priv Secret
	}
	h := holder{Pub: s, priv: s}
	var logged bytes.Buffer
	text := slog.New(slog.NewTextHandler(&logged, nil))
	text.Info("x", "secret", s, "holder", h)
	js := slog.New(slog.NewJSONHandler(&logged, nil))
	js.Info("x", "secret", s, "holder", h)
	jsonOut, _ := json.Marshal(h)
	yamlOut, _ := yaml.Marshal(h)
	textOut, _ := s.MarshalText()
	outputs := map[string]string{
		"%v": fmt.Sprintf("%v", s), "%+v": fmt.Sprintf("%+v", s), "%#v": fmt.Sprintf("%#v", s),
		"%s": fmt.Sprintf("%s", s), "%q": fmt.Sprintf("%q", s), "%x": fmt.Sprintf("%x", s),
		"%d":         fmt.Sprintf("%d", s),
		"struct %+v": fmt.Sprintf("%+v", h), "struct %#v": fmt.Sprintf("%#v", h),
		"String": s.String(), "json": string(jsonOut), "yaml": string(yamlOut), "text": string(textOut),
		"slog": logged.String(),
	}
	for name, out := range outputs {
		if strings.Contains(out, topSecret) || strings.Contains(out, "9f8e7d") {
			t.Errorf("%s leaks the secret: %s", name, out)
		}
	}
	if !strings.Contains(outputs["%v"], "[redacted]") || !strings.Contains(outputs["json"], "[redacted]") {
		t.Errorf("redacted form missing: %q %q", outputs["%v"], outputs["json"])
	}
	if s.Reveal() != topSecret {
		t.Errorf("Reveal = %q", s.Reveal())
	}
	var zero Secret
	if !zero.IsZero() || zero.String() != "" || zero.Reveal() != "" || !NewSecret("").IsZero() {
		t.Error("zero secret not empty")
	}
}

func TestScrubber(t *testing.T) {
	sc := newScrubber(
		NewSecret("https://oapi.dingtalk.com/robot/send?access_token=abcdef0123456789abcdef"),
		NewSecret("https://hooks.slack.com/services/T0000/B0000/XXXXXXXXXXXXXXXXXXXXXXXX"),
		NewSecret("SECsigningkey42"),
	)
	for _, in := range []string{
		`Post "https://oapi.dingtalk.com/robot/send?access_token=abcdef0123456789abcdef": refused`,
		"token abcdef0123456789abcdef is invalid",
		"path /services/T0000/B0000/XXXXXXXXXXXXXXXXXXXXXXXX gone",
		"bad sign for SECsigningkey42",
	} {
		out := sc.scrub(in)
		for _, leak := range []string{"abcdef0123456789abcdef", "XXXXXXXXXXXXXXXXXXXXXXXX", "SECsigningkey42"} {
			if strings.Contains(out, leak) {
				t.Errorf("scrub(%q) = %q: leaks %q", in, out, leak)
			}
		}
	}
	if got := sc.scrub("services are fine"); got != "services are fine" {
		t.Errorf("scrubbed an innocent text: %q", got)
	}
}
