package notify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
)

// DingTalk (钉钉) custom group robot (自定义机器人).
//
// Documentation: https://open.dingtalk.com/document/robots/custom-robot-access
// (access, signing, errors) and
// https://open.dingtalk.com/document/orgapp/custom-bot-send-message-type
// (message types).
//
// The robot's webhook URL is https://oapi.dingtalk.com/robot/send?access_token=…
// Canopy POSTs a markdown message:
//
//	{"msgtype":"markdown","markdown":{"title":"…","text":"…"},"at":{"isAtAll":false}}
//
// title is what the conversation list and the notification show; text is
// the markdown body. With the "加签" (signing) security setting, two query
// parameters are added: timestamp, the current time in milliseconds, and
// sign = urlEncode(base64(HmacSHA256(key = secret, message =
// timestamp + "\n" + secret))). DingTalk rejects a timestamp more than one
// hour from its clock. With the keyword setting, a configured keyword must
// appear in the message; put it in the notice titles or use signing.
//
// DingTalk answers HTTP 200 with {"errcode":0,"errmsg":"ok"} on success and
// a non-zero errcode on failure (310000 for keyword, signature, timestamp
// or IP allow-list failures); every non-zero errcode is an error. A robot
// may send 20 messages a minute; 130101 ("send too fast") is retried.

// DingTalkConfig configures a DingTalk custom robot channel.
type DingTalkConfig struct {
	// URL is the robot's webhook URL, with its access_token.
	URL Secret `json:"url"`
	// Secret is the signing secret ("SEC…"), when the robot uses signing.
	Secret Secret `json:"secret,omitzero"`
}

// DingTalk is the DingTalk custom robot [Channel].
type DingTalk struct {
	channelBase
	cfg DingTalkConfig
}

// NewDingTalk returns a DingTalk channel named name that sends through c.
func NewDingTalk(name string, cfg DingTalkConfig, c *Client) (*DingTalk, error) {
	if err := checkChannelURL(name, "dingtalk", cfg.URL, c); err != nil {
		return nil, err
	}
	return &DingTalk{
		channelBase: channelBase{name: name, kind: "dingtalk", client: c, scrub: newScrubber(cfg.URL, cfg.Secret)},
		cfg:         cfg,
	}, nil
}

type dingTalkMessage struct {
	MsgType  string           `json:"msgtype"`
	Markdown dingTalkMarkdown `json:"markdown"`
	At       dingTalkAt       `json:"at"`
}

type dingTalkMarkdown struct {
	Title string `json:"title"`
	Text  string `json:"text"`
}

type dingTalkAt struct {
	IsAtAll bool `json:"isAtAll"`
}

// dingTalkMaxText bounds the markdown text; the platform rejects very
// large messages (the whole request must stay well under 20 KB).
const dingTalkMaxText = 15000

// buildDingTalkPayload renders the markdown message.
func buildDingTalkPayload(n Notice) ([]byte, error) {
	return json.Marshal(dingTalkMessage{
		MsgType: "markdown",
		Markdown: dingTalkMarkdown{
			Title: truncateRunes(headline(n), 64),
			Text:  fitMarkdown(n, mdDingTalk, true, dingTalkMaxText),
		},
	})
}

// dingTalkSign computes the sign parameter (before URL encoding).
func dingTalkSign(secret string, timestampMillis int64) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(strconv.FormatInt(timestampMillis, 10) + "\n" + secret))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// platformReply is the JSON answer of DingTalk and WeCom.
type platformReply struct {
	ErrCode *int   `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
}

// Send posts the markdown message, signed when a secret is configured.
func (d *DingTalk) Send(ctx context.Context, n Notice, _ Contact) error {
	body, err := buildDingTalkPayload(n)
	if err != nil {
		return &SendError{Channel: d.name, Kind: d.kind, Message: "encoding payload", Err: err}
	}
	target := d.cfg.URL.Reveal()
	if !d.cfg.Secret.IsZero() {
		u, err := url.Parse(target)
		if err != nil {
			return &SendError{Channel: d.name, Kind: d.kind, Message: "invalid URL"}
		}
		ts := d.client.now().UnixMilli()
		q := u.Query()
		q.Set("timestamp", strconv.FormatInt(ts, 10))
		q.Set("sign", dingTalkSign(d.cfg.Secret.Reveal(), ts)) // Encode URL-encodes it
		u.RawQuery = q.Encode()
		target = u.String()
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json; charset=utf-8")
	resp, err := d.client.post(ctx, target, h, body)
	if err != nil {
		return d.transportError(err, resp.status)
	}
	return d.checkReply(resp, 130101)
}

// checkReply applies the errcode convention shared by DingTalk and WeCom:
// HTTP 200 with errcode 0 is success, anything else an error; the listed
// codes (rate limits, "system busy") are temporary.
func (b *channelBase) checkReply(resp response, temporaryCodes ...int) error {
	var r platformReply
	parsed := json.Unmarshal(resp.body, &r) == nil && r.ErrCode != nil
	if resp.status != http.StatusOK {
		code := ""
		if parsed {
			code = strconv.Itoa(*r.ErrCode)
		}
		return b.statusError(resp, code, string(resp.body))
	}
	if !parsed {
		return &SendError{Channel: b.name, Kind: b.kind, Status: resp.status,
			Message: "unexpected reply: " + b.scrub.scrub(excerpt(string(resp.body)))}
	}
	if *r.ErrCode == 0 {
		return nil
	}
	e := &SendError{Channel: b.name, Kind: b.kind, Status: resp.status,
		Code: strconv.Itoa(*r.ErrCode), Message: b.scrub.scrub(excerpt(r.ErrMsg))}
	for _, c := range temporaryCodes {
		if *r.ErrCode == c {
			e.Temporary = true
		}
	}
	return e
}
