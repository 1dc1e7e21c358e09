package notify

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

const slackPath = "/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"

// slackWebhook checks the message as Slack's incoming webhook would: text
// or blocks present, block limits, and answers "ok" or an error string.
func slackWebhook(t *testing.T) *capture {
	return &capture{reply: func(_ int, r *http.Request, body []byte) (int, http.Header, string) {
		if r.URL.Path != slackPath {
			return 404, nil, "no_team"
		}
		m := decodeJSON(t, body)
		text, _ := m["text"].(string)
		blocks, _ := m["blocks"].([]any)
		if text == "" && len(blocks) == 0 {
			return 400, nil, "no_text"
		}
		for _, b := range blocks {
			b := b.(map[string]any)
			switch b["type"] {
			case "header":
				if utf8.RuneCountInString(str(t, b, "text", "text")) > 150 || str(t, b, "text", "type") != "plain_text" {
					return 400, nil, "invalid_blocks"
				}
			case "section":
				if f, ok := b["fields"].([]any); ok && len(f) > 10 {
					return 400, nil, "invalid_blocks"
				}
				if tx, ok := b["text"].(map[string]any); ok && utf8.RuneCountInString(tx["text"].(string)) > 3000 {
					return 400, nil, "invalid_blocks"
				}
			case "context", "actions":
			default:
				return 400, nil, "invalid_blocks"
			}
		}
		return 200, nil, "ok"
	}}
}

func TestSlackBlocks(t *testing.T) {
	rec := slackWebhook(t)
	srv := newReceiver(t, rec)
	ch, err := NewSlack("sec", SlackConfig{URL: NewSecret(srv.URL + slackPath)}, loopbackClient(t))
	if err != nil {
		t.Fatal(err)
	}
	n := sampleNotice()
	n.Title = "Attack on <!channel> & friends " + strings.Repeat("x", 200)
	n.Body = strings.Repeat("long body ", 500)
	if err := ch.Send(context.Background(), n, Contact{}); err != nil {
		t.Fatal(err)
	}
	m := decodeJSON(t, rec.last(t).body)
	fallback := str(t, m, "text")
	if !strings.HasPrefix(fallback, "[CRITICAL] Attack on &lt;!channel&gt; &amp; friends") {
		t.Errorf("fallback text = %q", fallback)
	}
	if str(t, m, "blocks", 0, "type") != "header" {
		t.Error("first block is not the header")
	}
	fields := path(t, m, "blocks", 1, "fields").([]any)
	if got := fields[2].(map[string]any)["text"]; got != "*Subject*\n<https://canopy.example/incidents/INC-42|incident INC-42>" {
		t.Errorf("subject field = %q", got)
	}
	last := path(t, m, "blocks").([]any)
	button := path(t, last[len(last)-1], "elements", 0)
	if str(t, button, "type") != "button" || str(t, button, "url") != "https://canopy.example/notices/n-0001/ack" {
		t.Errorf("ack button = %v", button)
	}
}

func TestSlackFailures(t *testing.T) {
	tests := []struct {
		status    int
		header    http.Header
		reply     string
		code      string
		temporary bool
		after     time.Duration
	}{
		{400, nil, "invalid_payload", "invalid_payload", false, 0},
		{403, nil, "action_prohibited", "action_prohibited", false, 0},
		{404, nil, "channel_not_found", "channel_not_found", false, 0},
		{410, nil, "channel_is_archived", "channel_is_archived", false, 0},
		{429, http.Header{"Retry-After": {"30"}}, "rate_limited", "rate_limited", true, 30 * time.Second},
		{500, nil, "rollup_error", "rollup_error", true, 0},
		{200, nil, "not ok", "", false, 0},
	}
	for _, tt := range tests {
		rec := &capture{reply: func(int, *http.Request, []byte) (int, http.Header, string) { return tt.status, tt.header, tt.reply }}
		srv := newReceiver(t, rec)
		ch, _ := NewSlack("sec", SlackConfig{URL: NewSecret(srv.URL + slackPath)}, loopbackClient(t))
		err := ch.Send(context.Background(), sampleNotice(), Contact{})
		var se *SendError
		if !errors.As(err, &se) || se.Code != tt.code || se.Temporary != tt.temporary || se.RetryAfter != tt.after {
			t.Errorf("%d %s: err = %#v", tt.status, tt.reply, se)
		}
		if err != nil && strings.Contains(err.Error(), "XXXXXXXXXXXXXXXXXXXXXXXX") {
			t.Errorf("error leaks the webhook path: %v", err)
		}
	}
}
