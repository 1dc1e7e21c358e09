package notify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

const webhookKey = "whsec-shared-key-for-tests"

// verifyAsDocumented is a receiver's verification written from the recipe
// in webhook.go, independently of VerifyWebhook.
func verifyAsDocumented(r *http.Request, body []byte, now time.Time) error {
	ts := r.Header.Get("X-Canopy-Timestamp")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return errors.New("no timestamp")
	}
	if d := now.Sub(time.Unix(sec, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return errors.New("stale")
	}
	mac := hmac.New(sha256.New, []byte(webhookKey))
	mac.Write([]byte(ts + "." + string(body)))
	want := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	if !hmac.Equal([]byte(want), []byte(r.Header.Get("X-Canopy-Signature"))) {
		return errors.New("bad signature")
	}
	return nil
}

func TestWebhookSendsSignedJSON(t *testing.T) {
	var verr error
	rec := &capture{}
	rec.reply = func(_ int, r *http.Request, body []byte) (int, http.Header, string) {
		if verr = verifyAsDocumented(r, body, t0.Add(30*time.Second)); verr != nil {
			return 401, nil, "bad signature"
		}
		return 204, nil, ""
	}
	srv := newReceiver(t, rec)
	ch, err := NewWebhook("soc", WebhookConfig{URL: NewSecret(srv.URL + "/canopy?token=abc123abc123"), Secret: NewSecret(webhookKey)}, loopbackClient(t))
	if err != nil {
		t.Fatal(err)
	}
	n := sampleNotice()
	if err := ch.Send(context.Background(), n, Contact{ID: "oncall", Name: "On-call"}); err != nil {
		t.Fatalf("Send: %v (receiver: %v)", err, verr)
	}
	got := rec.last(t)
	if ct := got.r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	if d := got.r.Header.Get(HeaderDelivery); d != "n-0001.0" {
		t.Errorf("delivery id = %q", d)
	}
	m := decodeJSON(t, got.body)
	for _, c := range []struct {
		path []any
		want string
	}{
		{[]any{"type"}, "canopy.notice"},
		{[]any{"delivery_id"}, "n-0001.0"},
		{[]any{"contact", "id"}, "oncall"},
		{[]any{"notice", "id"}, "n-0001"},
		{[]any{"notice", "severity"}, "critical"},
		{[]any{"notice", "subject", "kind"}, "incident"},
		{[]any{"notice", "subject", "id"}, "INC-42"},
		{[]any{"notice", "deadline"}, "2025-03-14T09:41:00Z"},
		{[]any{"notice", "state"}, "open"},
		{[]any{"notice", "links", 0, "title"}, "Runbook"},
	} {
		if got := str(t, m, c.path...); got != c.want {
			t.Errorf("payload %v = %q, want %q", c.path, got, c.want)
		}
	}
	if v := path(t, m, "version"); v != float64(1) {
		t.Errorf("version = %v", v)
	}
}

func TestVerifyWebhook(t *testing.T) {
	body := []byte(`{"type":"canopy.notice"}`)
	ts := strconv.FormatInt(t0.Unix(), 10)
	good := http.Header{}
	good.Set(HeaderTimestamp, ts)
	good.Set(HeaderSignature, SignWebhook([]byte(webhookKey), ts, body))
	tests := []struct {
		name   string
		key    string
		header http.Header
		body   []byte
		now    time.Time
		ok     bool
	}{
		{"valid", webhookKey, good, body, t0.Add(time.Minute), true},
		{"tampered body", webhookKey, good, []byte(`{"type":"canopy.noticE"}`), t0, false},
		{"wrong key", "other", good, body, t0, false},
		{"replayed later", webhookKey, good, body, t0.Add(6 * time.Minute), false},
		{"from the future", webhookKey, good, body, t0.Add(-6 * time.Minute), false},
		{"no signature", webhookKey, http.Header{HeaderTimestamp: {ts}}, body, t0, false},
		{"no timestamp", webhookKey, http.Header{HeaderSignature: good[HeaderSignature]}, body, t0, false},
	}
	for _, tt := range tests {
		err := VerifyWebhook([]byte(tt.key), tt.header, tt.body, tt.now, 0)
		if (err == nil) != tt.ok {
			t.Errorf("%s: err = %v", tt.name, err)
		}
		if err != nil && !errors.Is(err, ErrBadSignature) {
			t.Errorf("%s: %v is not ErrBadSignature", tt.name, err)
		}
	}
}

func TestWebhookStatuses(t *testing.T) {
	tests := []struct {
		status    int
		retry     string
		wantErr   bool
		temporary bool
		after     time.Duration
	}{
		{200, "", false, false, 0},
		{202, "", false, false, 0},
		{400, "", true, false, 0},
		{401, "", true, false, 0},
		{408, "", true, true, 0},
		{429, "7", true, true, 7 * time.Second},
		{500, "", true, true, 0},
		{503, "Fri, 14 Mar 2025 09:27:00 GMT", true, true, time.Minute},
	}
	for _, tt := range tests {
		rec := &capture{reply: func(int, *http.Request, []byte) (int, http.Header, string) {
			h := http.Header{}
			if tt.retry != "" {
				h.Set("Retry-After", tt.retry)
			}
			return tt.status, h, "nope"
		}}
		srv := newReceiver(t, rec)
		ch, _ := NewWebhook("soc", WebhookConfig{URL: NewSecret(srv.URL), Secret: NewSecret(webhookKey)}, loopbackClient(t))
		err := ch.Send(context.Background(), sampleNotice(), Contact{ID: "oncall"})
		if (err != nil) != tt.wantErr {
			t.Errorf("%d: err = %v", tt.status, err)
			continue
		}
		if err == nil {
			continue
		}
		var se *SendError
		if !errors.As(err, &se) || se.Temporary != tt.temporary || se.RetryAfter != tt.after || se.Status != tt.status {
			t.Errorf("%d: %#v", tt.status, se)
		}
	}
}

func TestWebhookNeedsSecretAndAllowedURL(t *testing.T) {
	c := loopbackClient(t)
	if _, err := NewWebhook("w", WebhookConfig{URL: NewSecret("http://127.0.0.1:9/x")}, c); err == nil {
		t.Error("webhook without secret accepted")
	}
	_, err := NewWebhook("w", WebhookConfig{URL: NewSecret("https://elsewhere.example/x?token=zzzzzzzzzzzz"), Secret: NewSecret("k")}, c)
	if !errors.Is(err, ErrHostNotAllowed) {
		t.Errorf("err = %v, want ErrHostNotAllowed", err)
	}
	if err != nil && (strings.Contains(err.Error(), "zzzzzzzzzzzz") || strings.Contains(err.Error(), "/x")) {
		t.Errorf("error shows the URL: %v", err)
	}
}
