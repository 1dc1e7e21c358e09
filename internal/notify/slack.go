package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// Slack incoming webhook.
//
// Documentation: https://api.slack.com/messaging/webhooks (sending),
// https://api.slack.com/reference/block-kit/blocks (blocks) and
// https://api.slack.com/changelog/2016-05-17-changes-to-errors-for-incoming-webhooks
// (errors).
//
// The webhook URL is https://hooks.slack.com/services/T…/B…/…; its path is
// the credential. Canopy POSTs blocks with a text fallback:
//
//	{"text":"[CRITICAL] …",            // notifications and clients without blocks
//	 "blocks":[{"type":"header","text":{"type":"plain_text","text":"…"}},
//	           {"type":"section","fields":[{"type":"mrkdwn","text":"*Severity*\ncritical"},…]},
//	           {"type":"section","text":{"type":"mrkdwn","text":"…body…"}},
//	           {"type":"context","elements":[{"type":"mrkdwn","text":"…links…"}]},
//	           {"type":"actions","elements":[{"type":"button","text":{…},"url":"…","style":"danger"}]}]}
//
// Limits honoured: header text 150 characters, section text 3000, a field
// 2000, at most 10 fields. Text from records is escaped (&, <, >) so that
// it cannot form links or mentions such as <!channel>.
//
// Slack answers HTTP 200 with the body "ok" on success. Failures are HTTP
// 400 (invalid_payload, user_not_found), 403 (action_prohibited), 404
// (channel_not_found), 410 (channel_is_archived) and 500 (rollup_error),
// the error string in the body; 429 carries Retry-After. 5xx and 429 are
// retried, the others are permanent.

// SlackConfig configures a Slack incoming webhook channel.
type SlackConfig struct {
	// URL is the incoming webhook URL.
	URL Secret `json:"url"`
}

// Slack is the Slack incoming webhook [Channel].
type Slack struct {
	channelBase
	cfg SlackConfig
}

// NewSlack returns a Slack channel named name that sends through c.
func NewSlack(name string, cfg SlackConfig, c *Client) (*Slack, error) {
	if err := checkChannelURL(name, "slack", cfg.URL, c); err != nil {
		return nil, err
	}
	return &Slack{
		channelBase: channelBase{name: name, kind: "slack", client: c, scrub: newScrubber(cfg.URL)},
		cfg:         cfg,
	}, nil
}

type slackMessage struct {
	Text   string `json:"text"`
	Blocks []any  `json:"blocks"`
}

type slackText struct {
	Type  string `json:"type"`
	Text  string `json:"text"`
	Emoji bool   `json:"emoji,omitempty"`
}

type slackBlock struct {
	Type     string      `json:"type"`
	Text     *slackText  `json:"text,omitempty"`
	Fields   []slackText `json:"fields,omitempty"`
	Elements []any       `json:"elements,omitempty"`
}

type slackButton struct {
	Type  string    `json:"type"`
	Text  slackText `json:"text"`
	URL   string    `json:"url"`
	Style string    `json:"style,omitempty"`
}

// slackEscape escapes the three characters Slack's mrkdwn treats as
// control characters.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// slackLink renders a link, escaping its label; the URL is already safe.
func slackLink(u, label string) string {
	return fmt.Sprintf("<%s|%s>", strings.ReplaceAll(u, "|", "%7C"), strings.ReplaceAll(slackEscape(label), "|", "¦"))
}

// buildSlackPayload renders the blocks and the fallback text.
func buildSlackPayload(n Notice) ([]byte, error) {
	h := headline(n)
	var fields []slackText
	for _, f := range facts(n) {
		v := slackEscape(f.value)
		if f.link != "" {
			v = slackLink(f.link, f.value)
		}
		if len(fields) < 10 {
			fields = append(fields, slackText{Type: "mrkdwn", Text: truncateRunes("*"+f.label+"*\n"+v, 2000)})
		}
	}
	blocks := []any{
		slackBlock{Type: "header", Text: &slackText{Type: "plain_text", Text: truncateRunes(h, 150), Emoji: true}},
		slackBlock{Type: "section", Fields: fields},
	}
	if body := strings.TrimSpace(n.Body); body != "" {
		blocks = append(blocks, slackBlock{Type: "section", Text: &slackText{Type: "mrkdwn", Text: truncateRunes(slackEscape(body), 3000)}})
	}
	if ls := links(n); len(ls) > 0 {
		var parts []string
		for _, l := range ls {
			parts = append(parts, slackLink(l.URL, l.Title))
		}
		blocks = append(blocks, slackBlock{Type: "context", Elements: []any{
			slackText{Type: "mrkdwn", Text: truncateRunes(strings.Join(parts, " · "), 3000)},
		}})
	}
	if u := safeLink(n.AckURL); u != "" {
		blocks = append(blocks, slackBlock{Type: "actions", Elements: []any{
			slackButton{Type: "button", Text: slackText{Type: "plain_text", Text: "Acknowledge"}, URL: u, Style: "danger"},
		}})
	} else {
		blocks = append(blocks, slackBlock{Type: "context", Elements: []any{
			slackText{Type: "mrkdwn", Text: "Acknowledge: `" + slackEscape(ackHint(n)) + "`"},
		}})
	}
	return json.Marshal(slackMessage{Text: slackEscape(h), Blocks: blocks})
}

// Send posts the message; only HTTP 200 with the body "ok" is success.
func (s *Slack) Send(ctx context.Context, n Notice, _ Contact) error {
	body, err := buildSlackPayload(n)
	if err != nil {
		return &SendError{Channel: s.name, Kind: s.kind, Message: "encoding payload", Err: err}
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json; charset=utf-8")
	resp, err := s.client.post(ctx, s.cfg.URL.Reveal(), h, body)
	if err != nil {
		return s.transportError(err, resp.status)
	}
	reply := strings.TrimSpace(string(resp.body))
	if resp.status == http.StatusOK && reply == "ok" {
		return nil
	}
	if resp.status == http.StatusOK {
		return &SendError{Channel: s.name, Kind: s.kind, Status: resp.status,
			Message: "unexpected reply: " + s.scrub.scrub(excerpt(reply))}
	}
	return s.statusError(resp, s.scrub.scrub(excerpt(reply)), "")
}
