package notify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

const (
	dingToken  = "d1n9t0k3n0123456789abcdef0123456789"
	dingSecret = "SECc0ffee0123456789abcdef"
)

// dingTalkRobot behaves as the custom robot documentation describes: it
// checks the access token, the signature when signing is on, and the
// markdown message, and answers with errcode.
func dingTalkRobot(t *testing.T, secret string, now time.Time) *capture {
	return &capture{reply: func(_ int, r *http.Request, body []byte) (int, http.Header, string) {
		q := r.URL.Query()
		if r.URL.Path != "/robot/send" || q.Get("access_token") != dingToken {
			return 200, nil, `{"errcode":300001,"errmsg":"token is not exist"}`
		}
		if secret != "" {
			ts, err := strconv.ParseInt(q.Get("timestamp"), 10, 64)
			if err != nil || now.Sub(time.UnixMilli(ts)).Abs() > time.Hour {
				return 200, nil, `{"errcode":310000,"errmsg":"invalid timestamp"}`
			}
			mac := hmac.New(sha256.New, []byte(secret))
			mac.Write([]byte(q.Get("timestamp") + "\n" + secret))
			want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
			raw := strings.Split(r.URL.RawQuery, "sign=")
			if q.Get("sign") != want || len(raw) != 2 || !strings.HasPrefix(raw[1], url.QueryEscape(want)) {
				return 200, nil, `{"errcode":310000,"errmsg":"sign not match, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]"}`
			}
		}
		m := decodeJSON(t, body)
		if m["msgtype"] != "markdown" || str(t, m, "markdown", "title") == "" || str(t, m, "markdown", "text") == "" {
			return 200, nil, `{"errcode":40035,"errmsg":"缺少参数 json"}`
		}
		return 200, nil, `{"errcode":0,"errmsg":"ok"}`
	}}
}

func TestDingTalkMarkdownSigned(t *testing.T) {
	for _, secret := range []string{dingSecret, ""} {
		rec := dingTalkRobot(t, secret, t0)
		srv := newReceiver(t, rec)
		ch, err := NewDingTalk("ops", DingTalkConfig{
			URL:    NewSecret(srv.URL + "/robot/send?access_token=" + dingToken),
			Secret: NewSecret(secret),
		}, loopbackClient(t))
		if err != nil {
			t.Fatal(err)
		}
		if err := ch.Send(context.Background(), sampleNotice(), Contact{}); err != nil {
			t.Fatalf("secret %q: %v", secret, err)
		}
		m := decodeJSON(t, rec.last(t).body)
		title := str(t, m, "markdown", "title")
		text := str(t, m, "markdown", "text")
		if title != "[CRITICAL] Public S3 bucket with PII exposed" {
			t.Errorf("title = %q", title)
		}
		for _, want := range []string{"### [CRITICAL]", "**Subject:** [incident INC-42](https://canopy.example/incidents/INC-42)",
			"**Acknowledge by:** 2025-03-14 09:41 UTC", "> Bucket acme-exports is public.",
			"[Runbook](https://wiki.example/runbooks/s3)", "[Acknowledge](https://canopy.example/notices/n-0001/ack)"} {
			if !strings.Contains(text, want) {
				t.Errorf("text lacks %q:\n%s", want, text)
			}
		}
		if at := path(t, m, "at", "isAtAll"); at != false {
			t.Errorf("isAtAll = %v", at)
		}
	}
}

func TestDingTalkErrcodes(t *testing.T) {
	tests := []struct {
		name      string
		reply     string
		code      string
		temporary bool
	}{
		{"sign mismatch", `{"errcode":310000,"errmsg":"sign not match"}`, "310000", false},
		{"too fast", `{"errcode":130101,"errmsg":"send too fast, exceed 20 times per minute"}`, "130101", true},
		{"not JSON", `<html>gateway</html>`, "", false},
		{"no errcode", `{"ok":true}`, "", false},
	}
	for _, tt := range tests {
		rec := &capture{reply: func(int, *http.Request, []byte) (int, http.Header, string) { return 200, nil, tt.reply }}
		srv := newReceiver(t, rec)
		ch, _ := NewDingTalk("ops", DingTalkConfig{URL: NewSecret(srv.URL + "/robot/send?access_token=" + dingToken)}, loopbackClient(t))
		err := ch.Send(context.Background(), sampleNotice(), Contact{})
		var se *SendError
		if !errors.As(err, &se) {
			t.Fatalf("%s: err = %v, want a SendError", tt.name, err)
		}
		if se.Code != tt.code || se.Temporary != tt.temporary {
			t.Errorf("%s: code %q temporary %v", tt.name, se.Code, se.Temporary)
		}
	}
}

// TestDingTalkWrongSecret runs the robot's own check against a channel
// signing with another secret: the failure is an error, not silence.
func TestDingTalkWrongSecret(t *testing.T) {
	rec := dingTalkRobot(t, dingSecret, t0)
	srv := newReceiver(t, rec)
	ch, _ := NewDingTalk("ops", DingTalkConfig{
		URL: NewSecret(srv.URL + "/robot/send?access_token=" + dingToken), Secret: NewSecret("SECwrongwrongwrong"),
	}, loopbackClient(t))
	err := ch.Send(context.Background(), sampleNotice(), Contact{})
	if err == nil || !strings.Contains(err.Error(), "310000") {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), dingToken) || strings.Contains(err.Error(), "SECwrong") {
		t.Errorf("error leaks a secret: %v", err)
	}
}
