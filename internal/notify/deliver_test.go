package notify

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// recorder collects OnAttempt reports.
type recorder struct {
	mu       sync.Mutex
	attempts []Attempt
}

func (r *recorder) hook(_ context.Context, a Attempt) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.attempts = append(r.attempts, a)
}

func newTestDeliverer(r *recorder, s *noSleep, log *slog.Logger) *Deliverer {
	return NewDeliverer(DeliveryOptions{
		MaxAttempts: 4, BaseDelay: time.Second, MaxDelay: 10 * time.Second,
		OnAttempt: r.hook, Sleep: s.sleep, Jitter: func() float64 { return 0.5 },
		Now: func() time.Time { return t0 }, Logger: log,
	})
}

func webhookTo(t *testing.T, rec *capture, rawURL string) *Webhook {
	t.Helper()
	ch, err := NewWebhook("soc", WebhookConfig{URL: NewSecret(rawURL), Secret: NewSecret(webhookKey)}, loopbackClient(t))
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

func TestDeliverRetriesThenSucceeds(t *testing.T) {
	rec := &capture{reply: func(n int, _ *http.Request, _ []byte) (int, http.Header, string) {
		if n == 1 {
			return 500, nil, "boom"
		}
		return 200, nil, ""
	}}
	srv := newReceiver(t, rec)
	r, s := &recorder{}, &noSleep{}
	err := newTestDeliverer(r, s, nil).Deliver(context.Background(), webhookTo(t, rec, srv.URL), sampleNotice(), Contact{ID: "oncall"})
	if err != nil {
		t.Fatal(err)
	}
	if rec.count() != 2 || len(r.attempts) != 2 {
		t.Fatalf("requests %d, attempts %d", rec.count(), len(r.attempts))
	}
	a1, a2 := r.attempts[0], r.attempts[1]
	if a1.Err == nil || a1.Final || a1.Number != 1 || a1.RetryIn != 750*time.Millisecond || a1.Channel != "soc" || a1.Contact != "oncall" {
		t.Errorf("first attempt: %+v", a1)
	}
	if a2.Err != nil || !a2.Final || a2.Number != 2 {
		t.Errorf("second attempt: %+v", a2)
	}
	if len(s.waits) != 1 || s.waits[0] != 750*time.Millisecond {
		t.Errorf("waits = %v", s.waits)
	}
}

func TestDeliverPermanentFailure(t *testing.T) {
	rec := &capture{reply: func(int, *http.Request, []byte) (int, http.Header, string) { return 403, nil, "forbidden" }}
	srv := newReceiver(t, rec)
	r, s := &recorder{}, &noSleep{}
	err := newTestDeliverer(r, s, nil).Deliver(context.Background(), webhookTo(t, rec, srv.URL), sampleNotice(), Contact{})
	var se *SendError
	if !errors.As(err, &se) || se.Status != 403 || se.Temporary {
		t.Fatalf("err = %v", err)
	}
	if rec.count() != 1 || len(r.attempts) != 1 || !r.attempts[0].Final || r.attempts[0].Err == nil || len(s.waits) != 0 {
		t.Errorf("requests %d attempts %+v waits %v", rec.count(), r.attempts, s.waits)
	}
}

func TestDeliverGivesUpAfterMaxAttempts(t *testing.T) {
	rec := &capture{reply: func(int, *http.Request, []byte) (int, http.Header, string) { return 503, nil, "unavailable" }}
	srv := newReceiver(t, rec)
	r, s := &recorder{}, &noSleep{}
	err := newTestDeliverer(r, s, nil).Deliver(context.Background(), webhookTo(t, rec, srv.URL), sampleNotice(), Contact{})
	if err == nil || !strings.Contains(err.Error(), "gave up after 4 attempts") {
		t.Fatalf("err = %v", err)
	}
	if rec.count() != 4 || len(r.attempts) != 4 || !r.attempts[3].Final {
		t.Errorf("requests %d attempts %d", rec.count(), len(r.attempts))
	}
	// Equal jitter at 0.5: 3/4 of 1s, 2s, 4s.
	want := []time.Duration{750 * time.Millisecond, 1500 * time.Millisecond, 3 * time.Second}
	if len(s.waits) != 3 || s.waits[0] != want[0] || s.waits[1] != want[1] || s.waits[2] != want[2] {
		t.Errorf("waits = %v, want %v", s.waits, want)
	}
}

func TestDeliverHonoursRetryAfter(t *testing.T) {
	for _, tt := range []struct {
		retryAfter int
		attempts   int
		ok         bool
	}{
		{5, 2, true},    // waits 5s as asked, then succeeds
		{120, 1, false}, // over MaxDelay: gives up at once, reported
	} {
		rec := &capture{reply: func(n int, _ *http.Request, _ []byte) (int, http.Header, string) {
			if n == 1 {
				return 429, http.Header{"Retry-After": {strconv.Itoa(tt.retryAfter)}}, "slow down"
			}
			return 200, nil, ""
		}}
		srv := newReceiver(t, rec)
		r, s := &recorder{}, &noSleep{}
		err := newTestDeliverer(r, s, nil).Deliver(context.Background(), webhookTo(t, rec, srv.URL), sampleNotice(), Contact{})
		if (err == nil) != tt.ok || len(r.attempts) != tt.attempts {
			t.Errorf("Retry-After %d: err %v, attempts %d", tt.retryAfter, err, len(r.attempts))
		}
		if tt.ok && (len(s.waits) != 1 || s.waits[0] != time.Duration(tt.retryAfter)*time.Second) {
			t.Errorf("waits = %v", s.waits)
		}
	}
}

func TestBackoffBounds(t *testing.T) {
	for _, j := range []float64{0, 0.999} {
		d := NewDeliverer(DeliveryOptions{BaseDelay: time.Second, MaxDelay: 8 * time.Second, Jitter: func() float64 { return j }})
		for n := 1; n <= 10; n++ {
			exp := min(time.Second<<(n-1), 8*time.Second)
			if got := d.backoff(n); got < exp/2 || got > exp {
				t.Errorf("jitter %v attempt %d: %v outside [%v, %v]", j, n, got, exp/2, exp)
			}
		}
	}
}

func TestDeliverAll(t *testing.T) {
	ok := &capture{}
	bad := &capture{reply: func(int, *http.Request, []byte) (int, http.Header, string) { return 400, nil, "no" }}
	okSrv, badSrv := newReceiver(t, ok), newReceiver(t, bad)
	r, s := &recorder{}, &noSleep{}
	d := newTestDeliverer(r, s, nil)
	okCh := webhookTo(t, ok, okSrv.URL)
	badCh, _ := NewWebhook("broken", WebhookConfig{URL: NewSecret(badSrv.URL), Secret: NewSecret("k")}, loopbackClient(t))

	res, err := d.DeliverAll(context.Background(), []Channel{badCh, okCh}, sampleNotice(), Contact{ID: "oncall"})
	if err != nil || res[0].Err == nil || res[1].Err != nil {
		t.Errorf("one good channel: err %v results %+v", err, res)
	}
	_, err = d.DeliverAll(context.Background(), []Channel{badCh}, sampleNotice(), Contact{ID: "oncall"})
	if !errors.Is(err, ErrUndelivered) || !strings.Contains(err.Error(), "status 400") {
		t.Errorf("only bad channels: err = %v", err)
	}
}

// TestSecretsStayOutOfErrorsAndLogs delivers to URLs that carry tokens:
// an unreachable port (a transport error that Go reports with the URL),
// and a platform that echoes the token back. Neither the returned errors,
// the attempt reports nor the log output may contain a secret.
func TestSecretsStayOutOfErrorsAndLogs(t *testing.T) {
	const token = "tkn-5ecre7-0123456789abcdef"
	const signKey = "SECsignkey-abcdef0123456789"
	// A port that refuses connections.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedURL := "http://" + ln.Addr().String()
	ln.Close()
	echo := &capture{reply: func(_ int, r *http.Request, _ []byte) (int, http.Header, string) {
		return 200, nil, `{"errcode":310000,"errmsg":"sign ` + r.URL.Query().Get("sign") + ` not match for token ` +
			r.URL.Query().Get("access_token") + ` url ` + r.URL.String() + `"}`
	}}
	echoSrv := newReceiver(t, echo)
	slackEcho := &capture{reply: func(_ int, r *http.Request, _ []byte) (int, http.Header, string) {
		return 404, nil, "no_service " + r.URL.Path
	}}
	slackSrv := newReceiver(t, slackEcho)

	c := loopbackClient(t)
	ding1, _ := NewDingTalk("ding-down", DingTalkConfig{URL: NewSecret(closedURL + "/robot/send?access_token=" + token), Secret: NewSecret(signKey)}, c)
	ding2, _ := NewDingTalk("ding-echo", DingTalkConfig{URL: NewSecret(echoSrv.URL + "/robot/send?access_token=" + token), Secret: NewSecret(signKey)}, c)
	hook, _ := NewWebhook("hook-down", WebhookConfig{URL: NewSecret(closedURL + "/in/" + token), Secret: NewSecret(signKey)}, c)
	slack, _ := NewSlack("slack-echo", SlackConfig{URL: NewSecret(slackSrv.URL + "/services/T0/B0/" + token)}, c)

	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	r, s := &recorder{}, &noSleep{}
	d := newTestDeliverer(r, s, log)
	_, err = d.DeliverAll(context.Background(), []Channel{ding1, ding2, hook, slack}, sampleNotice(), Contact{ID: "oncall"})
	if !errors.Is(err, ErrUndelivered) {
		t.Fatalf("err = %v", err)
	}
	var texts []string
	texts = append(texts, err.Error(), logs.String())
	for _, a := range r.attempts {
		texts = append(texts, a.Err.Error())
	}
	// The escalator logs errors with slog too; check a JSON handler.
	var jlogs bytes.Buffer
	slog.New(slog.NewJSONHandler(&jlogs, nil)).Error("delivery failed", "err", err, "channel", ding1)
	texts = append(texts, jlogs.String())
	for _, txt := range texts {
		if strings.Contains(txt, token) || strings.Contains(txt, "5ecre7") || strings.Contains(txt, signKey) {
			t.Errorf("secret leaked:\n%s", txt)
		}
	}
	if !strings.Contains(logs.String(), "retrying") || !strings.Contains(err.Error(), "[redacted]") {
		t.Errorf("expected retries in the log and a redaction marker in the error:\n%s\n%v", logs.String(), err)
	}
}
