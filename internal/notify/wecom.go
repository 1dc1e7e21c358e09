package notify

import (
	"context"
	"encoding/json"
	"net/http"
)

// WeCom (企业微信) group robot (群机器人).
//
// Documentation: https://developer.work.weixin.qq.com/document/path/91770
// (群机器人配置说明; also at https://work.weixin.qq.com/api/doc/90000/90136/91770).
//
// The robot's webhook URL is
// https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=… and the key is the
// credential. Canopy POSTs a markdown message:
//
//	{"msgtype":"markdown","markdown":{"content":"…"}}
//
// content is UTF-8 markdown of at most 4096 bytes (Canopy truncates the
// body to fit). The markdown subset has headings, bold, links, inline code,
// quotes and <font color="info|comment|warning">; the headline is coloured
// by severity. The robot has no signature option: the key in the URL is
// the only credential.
//
// WeCom answers {"errcode":0,"errmsg":"ok"} on success and a non-zero
// errcode on failure, usually with HTTP 200; every non-zero errcode is an
// error. -1 (system busy) and 45009 (API frequency limit; a robot may send
// 20 messages a minute) are retried.

// WeComConfig configures a WeCom group robot channel.
type WeComConfig struct {
	// URL is the robot's webhook URL, with its key.
	URL Secret `json:"url"`
}

// WeCom is the WeCom group robot [Channel].
type WeCom struct {
	channelBase
	cfg WeComConfig
}

// NewWeCom returns a WeCom channel named name that sends through c.
func NewWeCom(name string, cfg WeComConfig, c *Client) (*WeCom, error) {
	if err := checkChannelURL(name, "wecom", cfg.URL, c); err != nil {
		return nil, err
	}
	return &WeCom{
		channelBase: channelBase{name: name, kind: "wecom", client: c, scrub: newScrubber(cfg.URL)},
		cfg:         cfg,
	}, nil
}

// wecomMaxContent is the documented limit of markdown.content, in bytes.
const wecomMaxContent = 4096

type wecomMessage struct {
	MsgType  string        `json:"msgtype"`
	Markdown wecomMarkdown `json:"markdown"`
}

type wecomMarkdown struct {
	Content string `json:"content"`
}

// buildWeComPayload renders the markdown message within the size limit.
func buildWeComPayload(n Notice) ([]byte, error) {
	return json.Marshal(wecomMessage{
		MsgType:  "markdown",
		Markdown: wecomMarkdown{Content: fitMarkdown(n, mdWeCom, true, wecomMaxContent)},
	})
}

// Send posts the markdown message.
func (w *WeCom) Send(ctx context.Context, n Notice, _ Contact) error {
	body, err := buildWeComPayload(n)
	if err != nil {
		return &SendError{Channel: w.name, Kind: w.kind, Message: "encoding payload", Err: err}
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json; charset=utf-8")
	resp, err := w.client.post(ctx, w.cfg.URL.Reveal(), h, body)
	if err != nil {
		return w.transportError(err, resp.status)
	}
	return w.checkReply(resp, -1, 45009)
}
