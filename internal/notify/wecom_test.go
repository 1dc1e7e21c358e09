package notify

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
)

const wecomKey = "693a91f6-7aaa-4bc4-97a0-0ec2sifa5aaa"

// wecomRobot checks the key and the markdown message as the group robot
// documentation describes, including the 4096-byte content limit.
func wecomRobot(t *testing.T) *capture {
	return &capture{reply: func(_ int, r *http.Request, body []byte) (int, http.Header, string) {
		if r.URL.Path != "/cgi-bin/webhook/send" || r.URL.Query().Get("key") != wecomKey {
			return 200, nil, `{"errcode":93000,"errmsg":"invalid webhook url, hint: [1]"}`
		}
		m := decodeJSON(t, body)
		content, _ := path(t, m, "markdown", "content").(string)
		if m["msgtype"] != "markdown" || content == "" {
			return 200, nil, `{"errcode":40008,"errmsg":"invalid message type"}`
		}
		if len(content) > 4096 {
			return 200, nil, `{"errcode":40058,"errmsg":"markdown.content exceed max length 4096"}`
		}
		return 200, nil, `{"errcode":0,"errmsg":"ok"}`
	}}
}

func TestWeComMarkdown(t *testing.T) {
	rec := wecomRobot(t)
	srv := newReceiver(t, rec)
	ch, err := NewWeCom("wx", WeComConfig{URL: NewSecret(srv.URL + "/cgi-bin/webhook/send?key=" + wecomKey)}, loopbackClient(t))
	if err != nil {
		t.Fatal(err)
	}
	n := sampleNotice()
	if err := ch.Send(context.Background(), n, Contact{}); err != nil {
		t.Fatal(err)
	}
	content := str(t, decodeJSON(t, rec.last(t).body), "markdown", "content")
	for _, want := range []string{`### <font color="warning">[CRITICAL] Public S3 bucket`, "**Party:** customer-a",
		"[Acknowledge](https://canopy.example/notices/n-0001/ack)"} {
		if !strings.Contains(content, want) {
			t.Errorf("content lacks %q:\n%s", want, content)
		}
	}

	// A body far over the limit is shortened; the facts and the
	// acknowledgement line survive.
	n.Body = strings.Repeat("数据泄露风险 ", 2000)
	if err := ch.Send(context.Background(), n, Contact{}); err != nil {
		t.Fatalf("long body: %v", err)
	}
	content = str(t, decodeJSON(t, rec.last(t).body), "markdown", "content")
	if len(content) > 4096 || !strings.Contains(content, "[Acknowledge](") || !strings.Contains(content, "**Notice:** n-0001") {
		t.Errorf("long content: %d bytes, ack line kept: %v", len(content), strings.Contains(content, "[Acknowledge]("))
	}
}

func TestWeComErrcodes(t *testing.T) {
	tests := []struct {
		status    int
		reply     string
		code      string
		temporary bool
	}{
		{200, `{"errcode":93000,"errmsg":"invalid webhook url"}`, "93000", false},
		{200, `{"errcode":45009,"errmsg":"api freq out of limit"}`, "45009", true},
		{200, `{"errcode":-1,"errmsg":"system busy"}`, "-1", true},
		{502, `bad gateway`, "", true},
	}
	for _, tt := range tests {
		rec := &capture{reply: func(int, *http.Request, []byte) (int, http.Header, string) { return tt.status, nil, tt.reply }}
		srv := newReceiver(t, rec)
		ch, _ := NewWeCom("wx", WeComConfig{URL: NewSecret(srv.URL + "/cgi-bin/webhook/send?key=" + wecomKey)}, loopbackClient(t))
		err := ch.Send(context.Background(), sampleNotice(), Contact{})
		var se *SendError
		if !errors.As(err, &se) || se.Code != tt.code || se.Temporary != tt.temporary {
			t.Errorf("%s: err = %v", tt.reply, err)
		}
	}
}
