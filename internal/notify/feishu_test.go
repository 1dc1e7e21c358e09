package notify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

const (
	feishuHook   = "/open-apis/bot/v2/hook/0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9"
	feishuSecret = "fs-secret-9b8a7c6d5e"
)

// feishuBot checks the body as the custom bot documentation describes:
// the signature (key timestamp+"\n"+secret over an empty message), and the
// shape of an interactive card or a post.
func feishuBot(t *testing.T, secret string, now time.Time) *capture {
	return &capture{reply: func(_ int, r *http.Request, body []byte) (int, http.Header, string) {
		if r.URL.Path != feishuHook {
			return 404, nil, `{"code":19001,"msg":"param invalid: incoming webhook access token invalid"}`
		}
		m := decodeJSON(t, body)
		if secret != "" {
			ts, _ := m["timestamp"].(string)
			sec, err := strconv.ParseInt(ts, 10, 64)
			mac := hmac.New(sha256.New, []byte(ts+"\n"+secret))
			want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
			if err != nil || now.Sub(time.Unix(sec, 0)).Abs() > time.Hour || m["sign"] != want {
				return 200, nil, `{"code":19021,"msg":"sign match fail or timestamp is not within one hour from current time"}`
			}
		}
		switch m["msg_type"] {
		case "interactive":
			if str(t, m, "card", "header", "title", "content") == "" || str(t, m, "card", "elements", 0, "tag") != "div" ||
				str(t, m, "card", "elements", 0, "text", "tag") != "lark_md" {
				return 400, nil, `{"code":9499,"msg":"Bad Request"}`
			}
		case "post":
			if str(t, m, "content", "post", "zh_cn", "title") == "" || len(path(t, m, "content", "post", "zh_cn", "content").([]any)) == 0 {
				return 400, nil, `{"code":9499,"msg":"Bad Request"}`
			}
		default:
			return 400, nil, `{"code":9499,"msg":"Bad Request"}`
		}
		return 200, nil, `{"StatusCode":0,"StatusMessage":"success","code":0,"data":{},"msg":"success"}`
	}}
}

func TestFeishuCardSigned(t *testing.T) {
	rec := feishuBot(t, feishuSecret, t0)
	srv := newReceiver(t, rec)
	ch, err := NewFeishu("lark", FeishuConfig{URL: NewSecret(srv.URL + feishuHook), Secret: NewSecret(feishuSecret)}, loopbackClient(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.Send(context.Background(), sampleNotice(), Contact{}); err != nil {
		t.Fatal(err)
	}
	m := decodeJSON(t, rec.last(t).body)
	if got := str(t, m, "card", "header", "template"); got != "red" {
		t.Errorf("template = %q", got)
	}
	if got := str(t, m, "card", "header", "title", "content"); got != "[CRITICAL] Public S3 bucket with PII exposed" {
		t.Errorf("title = %q", got)
	}
	md := str(t, m, "card", "elements", 0, "text", "content")
	if !strings.Contains(md, "**Acknowledge by:** 2025-03-14 09:41 UTC") || strings.Contains(md, "### ") {
		t.Errorf("card markdown:\n%s", md)
	}
	if got := str(t, m, "card", "elements", 1, "actions", 0, "url"); got != "https://canopy.example/notices/n-0001/ack" {
		t.Errorf("ack button url = %q", got)
	}
	if got := str(t, m, "timestamp"); got != strconv.FormatInt(t0.Unix(), 10) {
		t.Errorf("timestamp = %q", got)
	}
}

func TestFeishuPostUnsigned(t *testing.T) {
	rec := feishuBot(t, "", t0)
	srv := newReceiver(t, rec)
	ch, err := NewFeishu("lark", FeishuConfig{URL: NewSecret(srv.URL + feishuHook), Format: "post"}, loopbackClient(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.Send(context.Background(), sampleNotice(), Contact{}); err != nil {
		t.Fatal(err)
	}
	m := decodeJSON(t, rec.last(t).body)
	if _, signed := m["sign"]; signed {
		t.Error("unsigned channel sent a sign")
	}
	lines := path(t, m, "content", "post", "zh_cn", "content").([]any)
	var hasLink bool
	for _, l := range lines {
		for _, e := range l.([]any) {
			if e.(map[string]any)["tag"] == "a" && e.(map[string]any)["href"] == "https://wiki.example/runbooks/s3" {
				hasLink = true
			}
		}
	}
	if !hasLink {
		t.Errorf("post lacks the runbook link: %v", lines)
	}
}

func TestFeishuFailures(t *testing.T) {
	// Wrong secret against the bot's own check.
	rec := feishuBot(t, feishuSecret, t0)
	srv := newReceiver(t, rec)
	ch, _ := NewFeishu("lark", FeishuConfig{URL: NewSecret(srv.URL + feishuHook), Secret: NewSecret("another-secret")}, loopbackClient(t))
	err := ch.Send(context.Background(), sampleNotice(), Contact{})
	var se *SendError
	if !errors.As(err, &se) || se.Code != "19021" || se.Temporary {
		t.Errorf("wrong secret: %v", err)
	}
	tests := []struct {
		status    int
		reply     string
		code      string
		temporary bool
	}{
		{400, `{"code":9499,"msg":"Bad Request","data":{}}`, "9499", false},
		{200, `{"code":19024,"msg":"Key Words Not Found"}`, "19024", false},
		{200, `{"code":11232,"msg":"frequency limited"}`, "11232", true},
		{200, `not json`, "", false},
		{500, `oops`, "", true},
	}
	for _, tt := range tests {
		rec := &capture{reply: func(int, *http.Request, []byte) (int, http.Header, string) { return tt.status, nil, tt.reply }}
		srv := newReceiver(t, rec)
		ch, _ := NewFeishu("lark", FeishuConfig{URL: NewSecret(srv.URL + feishuHook)}, loopbackClient(t))
		err := ch.Send(context.Background(), sampleNotice(), Contact{})
		if !errors.As(err, &se) || se.Code != tt.code || se.Temporary != tt.temporary {
			t.Errorf("%d %s: err = %v", tt.status, tt.reply, err)
		}
	}
	if _, err := NewFeishu("lark", FeishuConfig{URL: NewSecret("http://127.0.0.1/x"), Format: "text"}, loopbackClient(t)); err == nil {
		t.Error("format text accepted")
	}
}
