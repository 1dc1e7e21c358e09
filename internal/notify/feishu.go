package notify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
)

// Feishu / Lark custom bot (自定义机器人).
//
// Documentation: https://open.feishu.cn/document/client-docs/bot-v3/add-custom-bot
// (Lark: https://open.larksuite.com/document/client-docs/bot-v3/add-custom-bot).
//
// The bot's webhook URL is https://open.feishu.cn/open-apis/bot/v2/hook/<id>
// (open.larksuite.com for Lark); the hook id is the credential. Canopy
// POSTs either an interactive message card (the default):
//
//	{"msg_type":"interactive","card":{"config":{"wide_screen_mode":true},
//	 "header":{"template":"red","title":{"tag":"plain_text","content":"…"}},
//	 "elements":[{"tag":"div","text":{"tag":"lark_md","content":"…"}},
//	             {"tag":"action","actions":[{"tag":"button",…,"url":"…"}]}]}}
//
// or a rich-text post (format "post"):
//
//	{"msg_type":"post","content":{"post":{"zh_cn":{"title":"…",
//	 "content":[[{"tag":"text","text":"…"}],[{"tag":"a","text":"…","href":"…"}]]}}}}
//
// The card header's colour follows the severity (red, orange, yellow, blue,
// grey). With the signature security setting the body also carries
// "timestamp" (seconds, as a string) and "sign": the HMAC-SHA256 keyed with
// timestamp + "\n" + secret over an empty message, base64-encoded (note:
// the key and message are the other way round from DingTalk's). Feishu
// rejects a timestamp more than an hour from its clock (code 19021).
//
// Feishu answers {"code":0,"msg":"success",…} on success and a non-zero
// code on failure (9499 bad request, 19021 signature, 19022 IP, 19024
// keyword), with HTTP 200 or 4xx; every non-zero code is an error. The
// request body must stay under 20 KB. 11232 (frequency limited) is retried.

// FeishuConfig configures a Feishu/Lark custom bot channel.
type FeishuConfig struct {
	// URL is the bot's webhook URL.
	URL Secret `json:"url"`
	// Secret is the signature-verification secret, when the bot uses it.
	Secret Secret `json:"secret,omitzero"`
	// Format is "card" (interactive card, the default) or "post".
	Format string `json:"format,omitempty"`
}

// Feishu is the Feishu/Lark custom bot [Channel].
type Feishu struct {
	channelBase
	cfg FeishuConfig
}

// NewFeishu returns a Feishu channel named name that sends through c.
func NewFeishu(name string, cfg FeishuConfig, c *Client) (*Feishu, error) {
	if err := checkChannelURL(name, "feishu", cfg.URL, c); err != nil {
		return nil, err
	}
	switch cfg.Format {
	case "":
		cfg.Format = "card"
	case "card", "post":
	default:
		return nil, fmt.Errorf("notify: feishu channel %q: format %q: want card or post", name, cfg.Format)
	}
	return &Feishu{
		channelBase: channelBase{name: name, kind: "feishu", client: c, scrub: newScrubber(cfg.URL, cfg.Secret)},
		cfg:         cfg,
	}, nil
}

// feishuMaxMarkdown bounds the card's markdown so the request stays under
// the documented 20 KB.
const feishuMaxMarkdown = 16000

type feishuMessage struct {
	Timestamp string         `json:"timestamp,omitempty"`
	Sign      string         `json:"sign,omitempty"`
	MsgType   string         `json:"msg_type"`
	Card      *feishuCard    `json:"card,omitempty"`
	Content   *feishuContent `json:"content,omitempty"`
}

type feishuCard struct {
	Config   feishuCardConfig `json:"config"`
	Header   feishuCardHeader `json:"header"`
	Elements []any            `json:"elements"`
}

type feishuCardConfig struct {
	WideScreenMode bool `json:"wide_screen_mode"`
}

type feishuCardHeader struct {
	Template string     `json:"template"`
	Title    feishuText `json:"title"`
}

type feishuText struct {
	Tag     string `json:"tag"`
	Content string `json:"content"`
}

type feishuDiv struct {
	Tag  string     `json:"tag"`
	Text feishuText `json:"text"`
}

type feishuAction struct {
	Tag     string         `json:"tag"`
	Actions []feishuButton `json:"actions"`
}

type feishuButton struct {
	Tag  string     `json:"tag"`
	Text feishuText `json:"text"`
	Type string     `json:"type"`
	URL  string     `json:"url"`
}

type feishuContent struct {
	Post map[string]feishuPost `json:"post"`
}

type feishuPost struct {
	Title   string             `json:"title"`
	Content [][]feishuPostElem `json:"content"`
}

type feishuPostElem struct {
	Tag  string `json:"tag"`
	Text string `json:"text"`
	Href string `json:"href,omitempty"`
}

func feishuTemplate(s Severity) string {
	switch s {
	case SeverityCritical:
		return "red"
	case SeverityHigh:
		return "orange"
	case SeverityMedium:
		return "yellow"
	case SeverityLow:
		return "blue"
	}
	return "grey"
}

// buildFeishuCard renders the notice as an interactive card message.
func buildFeishuCard(n Notice) feishuMessage {
	elems := []any{
		feishuDiv{Tag: "div", Text: feishuText{Tag: "lark_md", Content: fitMarkdown(n, mdFeishu, false, feishuMaxMarkdown)}},
	}
	var buttons []feishuButton
	if u := safeLink(n.AckURL); u != "" {
		buttons = append(buttons, feishuButton{Tag: "button", Type: "danger", URL: u,
			Text: feishuText{Tag: "plain_text", Content: "Acknowledge"}})
	}
	if u := safeLink(n.Subject.URL); u != "" {
		buttons = append(buttons, feishuButton{Tag: "button", Type: "default", URL: u,
			Text: feishuText{Tag: "plain_text", Content: "Open " + string(n.Subject.Kind)}})
	}
	if len(buttons) > 0 {
		elems = append(elems, feishuAction{Tag: "action", Actions: buttons})
	}
	return feishuMessage{
		MsgType: "interactive",
		Card: &feishuCard{
			Config:   feishuCardConfig{WideScreenMode: true},
			Header:   feishuCardHeader{Template: feishuTemplate(n.Severity), Title: feishuText{Tag: "plain_text", Content: truncateRunes(headline(n), 100)}},
			Elements: elems,
		},
	}
}

// buildFeishuPost renders the notice as a rich-text post message.
func buildFeishuPost(n Notice) feishuMessage {
	var lines [][]feishuPostElem
	for _, f := range facts(n) {
		line := []feishuPostElem{{Tag: "text", Text: f.label + ": "}}
		if f.link != "" {
			line = append(line, feishuPostElem{Tag: "a", Text: f.value, Href: f.link})
		} else {
			line = append(line, feishuPostElem{Tag: "text", Text: f.value})
		}
		lines = append(lines, line)
	}
	if n.Body != "" {
		lines = append(lines, []feishuPostElem{{Tag: "text", Text: truncateBytes(n.Body, feishuMaxMarkdown/2)}})
	}
	for _, l := range links(n) {
		lines = append(lines, []feishuPostElem{{Tag: "a", Text: l.Title, Href: l.URL}})
	}
	if u := safeLink(n.AckURL); u != "" {
		lines = append(lines, []feishuPostElem{{Tag: "a", Text: "Acknowledge", Href: u}})
	} else {
		lines = append(lines, []feishuPostElem{{Tag: "text", Text: "Acknowledge: " + ackHint(n)}})
	}
	return feishuMessage{
		MsgType: "post",
		Content: &feishuContent{Post: map[string]feishuPost{
			"zh_cn": {Title: truncateRunes(headline(n), 100), Content: lines},
		}},
	}
}

// buildFeishuPayload renders the message in the configured format and
// signs it when secret is not empty.
func buildFeishuPayload(n Notice, format, secret string, ts int64) ([]byte, error) {
	var m feishuMessage
	if format == "post" {
		m = buildFeishuPost(n)
	} else {
		m = buildFeishuCard(n)
	}
	if secret != "" {
		m.Timestamp = strconv.FormatInt(ts, 10)
		m.Sign = feishuSign(secret, ts)
	}
	return json.Marshal(m)
}

// feishuSign computes the sign field.
func feishuSign(secret string, timestampSeconds int64) string {
	m := hmac.New(sha256.New, []byte(strconv.FormatInt(timestampSeconds, 10)+"\n"+secret))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

type feishuReply struct {
	Code       *int   `json:"code"`
	Msg        string `json:"msg"`
	StatusCode *int   `json:"StatusCode"` // legacy field of older replies
}

// Send posts the card or post, signed when a secret is configured.
func (f *Feishu) Send(ctx context.Context, n Notice, _ Contact) error {
	body, err := buildFeishuPayload(n, f.cfg.Format, f.cfg.Secret.Reveal(), f.client.now().Unix())
	if err != nil {
		return &SendError{Channel: f.name, Kind: f.kind, Message: "encoding payload", Err: err}
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json; charset=utf-8")
	resp, err := f.client.post(ctx, f.cfg.URL.Reveal(), h, body)
	if err != nil {
		return f.transportError(err, resp.status)
	}
	var r feishuReply
	parsed := json.Unmarshal(resp.body, &r) == nil && (r.Code != nil || r.StatusCode != nil)
	code := 0
	if parsed {
		if r.Code != nil {
			code = *r.Code
		} else {
			code = *r.StatusCode
		}
	}
	switch {
	case parsed && code == 0 && resp.status == http.StatusOK:
		return nil
	case resp.status != http.StatusOK:
		c := ""
		if parsed {
			c = strconv.Itoa(code)
		}
		e := f.statusError(resp, c, string(resp.body))
		if parsed && code == 11232 {
			e.Temporary = true
		}
		return e
	case !parsed:
		return &SendError{Channel: f.name, Kind: f.kind, Status: resp.status,
			Message: "unexpected reply: " + f.scrub.scrub(excerpt(string(resp.body)))}
	}
	return &SendError{Channel: f.name, Kind: f.kind, Status: resp.status, Code: strconv.Itoa(code),
		Message: f.scrub.scrub(excerpt(r.Msg)), Temporary: code == 11232}
}
