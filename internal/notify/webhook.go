package notify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Generic webhook.
//
// Canopy POSTs a JSON document to the configured URL:
//
//	POST <url>
//	Content-Type: application/json
//	X-Canopy-Event: notice
//	X-Canopy-Delivery: <notice id>.<escalation level>
//	X-Canopy-Timestamp: <unix seconds>
//	X-Canopy-Signature: sha256=<hex HMAC-SHA256>
//
//	{"type":"canopy.notice","version":1,"delivery_id":"…",
//	 "contact":{"id":"…","name":"…"},"notice":{…Notice fields…}}
//
// The signature is HMAC-SHA256, keyed with the shared secret, over the
// timestamp header's value, a full stop and the raw body bytes:
//
//	signed = X-Canopy-Timestamp + "." + body
//	X-Canopy-Signature = "sha256=" + hex(HMAC-SHA256(secret, signed))
//
// A receiver verifies it so (this is [VerifyWebhook]):
//
//  1. read the raw body before parsing it;
//  2. reject the request if X-Canopy-Timestamp is not an integer or is more
//     than 5 minutes from the receiver's clock (this stops replays of a
//     captured request);
//  3. compute the HMAC above and compare it with the hex after "sha256="
//     in constant time (hmac.Equal, crypto.timingSafeEqual,
//     hmac.compare_digest); reject on mismatch;
//  4. deduplicate on X-Canopy-Delivery: retries of one delivery carry the
//     same delivery ID (with a fresh timestamp and signature).
//
// Any 2xx status is success; 408, 429 (with Retry-After) and 5xx are
// retried; other statuses fail the delivery. The format is Canopy's own;
// the signature is the timestamped-HMAC pattern common to webhook
// platforms (GitHub's X-Hub-Signature-256, Slack's request signing).

// Header names of the generic webhook.
const (
	HeaderSignature = "X-Canopy-Signature"
	HeaderTimestamp = "X-Canopy-Timestamp"
	HeaderDelivery  = "X-Canopy-Delivery"
	HeaderEvent     = "X-Canopy-Event"
)

// WebhookConfig configures a generic webhook channel.
type WebhookConfig struct {
	// URL is the receiver's endpoint. It is a Secret because such URLs
	// often carry a token.
	URL Secret `json:"url"`
	// Secret is the HMAC key shared with the receiver. Required.
	Secret Secret `json:"secret"`
}

// Webhook is the generic webhook [Channel].
type Webhook struct {
	channelBase
	cfg WebhookConfig
}

// NewWebhook returns a webhook channel named name that sends through c.
func NewWebhook(name string, cfg WebhookConfig, c *Client) (*Webhook, error) {
	if err := checkChannelURL(name, "webhook", cfg.URL, c); err != nil {
		return nil, err
	}
	if cfg.Secret.IsZero() {
		return nil, fmt.Errorf("notify: webhook channel %q: secret is required", name)
	}
	return &Webhook{
		channelBase: channelBase{name: name, kind: "webhook", client: c, scrub: newScrubber(cfg.URL, cfg.Secret)},
		cfg:         cfg,
	}, nil
}

// checkChannelURL parses a channel URL and checks it against the client.
// Errors name the host, never the URL.
func checkChannelURL(name, kind string, s Secret, c *Client) error {
	if c == nil {
		return fmt.Errorf("notify: %s channel %q: no client", kind, name)
	}
	if s.IsZero() {
		return fmt.Errorf("notify: %s channel %q: url is required", kind, name)
	}
	u, err := url.Parse(s.Reveal())
	if err != nil || u.Host == "" {
		return fmt.Errorf("notify: %s channel %q: url is not an absolute URL", kind, name)
	}
	if err := c.CheckURL(u); err != nil {
		return fmt.Errorf("notify: %s channel %q: %w", kind, name, err)
	}
	return nil
}

// webhookPayload is the generic webhook's JSON document.
type webhookPayload struct {
	Type       string         `json:"type"`
	Version    int            `json:"version"`
	DeliveryID string         `json:"delivery_id"`
	Contact    webhookContact `json:"contact"`
	Notice     Notice         `json:"notice"`
}

type webhookContact struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
}

// deliveryID is stable across retries of one delivery.
func deliveryID(n Notice) string { return n.ID + "." + strconv.Itoa(n.EscalationLevel) }

// buildWebhookPayload renders the webhook body.
func buildWebhookPayload(n Notice, to Contact) ([]byte, error) {
	return json.Marshal(webhookPayload{
		Type: "canopy.notice", Version: 1, DeliveryID: deliveryID(n),
		Contact: webhookContact{ID: to.ID, Name: to.Name},
		Notice:  n,
	})
}

// SignWebhook returns the X-Canopy-Signature value for body sent at
// timestamp ts (unix seconds).
func SignWebhook(secret []byte, ts string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// ErrBadSignature is returned by [VerifyWebhook] for a request that is not
// authentic or too old.
var ErrBadSignature = errors.New("webhook signature invalid")

// VerifyWebhook checks a generic webhook request as a receiver should: the
// timestamp is within tolerance of now (5 minutes if tolerance is 0) and
// the signature matches, compared in constant time. body is the raw body.
func VerifyWebhook(secret []byte, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	if tolerance <= 0 {
		tolerance = 5 * time.Minute
	}
	ts := h.Get(HeaderTimestamp)
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: bad timestamp", ErrBadSignature)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("%w: timestamp outside tolerance", ErrBadSignature)
	}
	got, ok := strings.CutPrefix(h.Get(HeaderSignature), "sha256=")
	if !ok {
		return fmt.Errorf("%w: missing sha256= signature", ErrBadSignature)
	}
	gotMAC, err := hex.DecodeString(got)
	if err != nil {
		return fmt.Errorf("%w: signature is not hex", ErrBadSignature)
	}
	want, _ := hex.DecodeString(strings.TrimPrefix(SignWebhook(secret, ts, body), "sha256="))
	if !hmac.Equal(gotMAC, want) {
		return fmt.Errorf("%w: mismatch", ErrBadSignature)
	}
	return nil
}

// Send posts the signed notice document.
func (w *Webhook) Send(ctx context.Context, n Notice, to Contact) error {
	body, err := buildWebhookPayload(n, to)
	if err != nil {
		return &SendError{Channel: w.name, Kind: w.kind, Message: "encoding payload", Err: err}
	}
	ts := strconv.FormatInt(w.client.now().Unix(), 10)
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set(HeaderEvent, "notice")
	h.Set(HeaderDelivery, deliveryID(n))
	h.Set(HeaderTimestamp, ts)
	h.Set(HeaderSignature, SignWebhook([]byte(w.cfg.Secret.Reveal()), ts, body))
	resp, err := w.client.post(ctx, w.cfg.URL.Reveal(), h, body)
	if err != nil {
		return w.transportError(err, resp.status)
	}
	if resp.status < 200 || resp.status > 299 {
		return w.statusError(resp, "", string(resp.body))
	}
	return nil
}
