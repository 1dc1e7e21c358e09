package notify

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Channel delivers notices on one platform to one destination (a group
// robot, a webhook endpoint, a mailbox list). Implementations format the
// notice as the platform documents, send it through the shared [Client],
// and return an error whenever the platform did not accept it, including
// the platforms that answer HTTP 200 with an error code in the body.
//
// Errors are *[SendError] values that say whether retrying may help; Send
// itself does not retry (the [Deliverer] does). Send must be safe for
// concurrent use.
type Channel interface {
	// Name is the channel's configured name ("ops-dingtalk").
	Name() string
	// Kind is the channel type ("dingtalk", "wecom", "feishu", "slack",
	// "webhook", "email").
	Kind() string
	// Send delivers n to the channel's destination; to is the contact the
	// notice is addressed to (e-mail channels use its addresses).
	Send(ctx context.Context, n Notice, to Contact) error
}

// SendError is a failed delivery attempt on one channel. Its text never
// contains secrets: transport errors name the host only, and platform
// messages are scrubbed of the channel's secrets.
type SendError struct {
	// Channel and Kind identify the channel.
	Channel string
	Kind    string
	// Status is the HTTP status or SMTP reply code; 0 when there was none.
	Status int
	// Code is the platform's error code (errcode, code, Slack's error
	// string); empty when there was none.
	Code string
	// Message is the platform's or transport's explanation.
	Message string
	// Temporary reports whether a later attempt may succeed: network
	// errors, timeouts, HTTP 5xx, 408 and 429, SMTP 4xx, and the platforms'
	// rate-limit codes.
	Temporary bool
	// RetryAfter is the delay the platform asked for (HTTP Retry-After);
	// 0 when none.
	RetryAfter time.Duration
	// Err is the underlying error, when there is one.
	Err error
}

// Error formats the failure: channel, status, platform code, message and
// whether it is temporary.
func (e *SendError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "notify: %s channel %q", e.Kind, e.Channel)
	if e.Status != 0 {
		fmt.Fprintf(&b, ": status %d", e.Status)
	}
	if e.Code != "" {
		fmt.Fprintf(&b, ": code %s", e.Code)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	if e.Temporary {
		b.WriteString(" (temporary)")
	}
	return b.String()
}

// Unwrap returns the underlying error.
func (e *SendError) Unwrap() error { return e.Err }

// channelBase holds what every HTTP channel has: its name, kind, the
// shared client and the scrubber for its secrets.
type channelBase struct {
	name   string
	kind   string
	client *Client
	scrub  scrubber
}

func (b *channelBase) Name() string { return b.name }
func (b *channelBase) Kind() string { return b.kind }

// transportError turns an error from the client into a *SendError. Policy
// refusals and cancellation are permanent; other transport failures are
// temporary.
func (b *channelBase) transportError(err error, status int) *SendError {
	temporary := true
	if errors.Is(err, ErrHostNotAllowed) || errors.Is(err, ErrAddressNotAllowed) ||
		errors.Is(err, ErrSchemeNotAllowed) || errors.Is(err, context.Canceled) {
		temporary = false
	}
	return &SendError{
		Channel: b.name, Kind: b.kind, Status: status,
		Message: b.scrub.scrub(err.Error()), Temporary: temporary,
		Err: scrubbedError{msg: b.scrub.scrub(err.Error()), err: err},
	}
}

// statusError turns a non-success HTTP status into a *SendError: 5xx, 408
// and 429 are temporary, honouring Retry-After; other statuses are
// permanent. detail is a short excerpt of the response body.
func (b *channelBase) statusError(resp response, code, detail string) *SendError {
	e := &SendError{
		Channel: b.name, Kind: b.kind, Status: resp.status, Code: code,
		Message: b.scrub.scrub(excerpt(detail)),
	}
	switch {
	case resp.status >= 500, resp.status == http.StatusRequestTimeout, resp.status == http.StatusTooManyRequests:
		e.Temporary = true
		e.RetryAfter = retryAfter(resp.header.Get("Retry-After"), b.client.now())
	}
	if e.Message == "" {
		e.Message = http.StatusText(resp.status)
	}
	return e
}

// scrubbedError keeps an error's chain for errors.Is while showing a
// scrubbed message.
type scrubbedError struct {
	msg string
	err error
}

func (e scrubbedError) Error() string { return e.msg }
func (e scrubbedError) Unwrap() error { return e.err }

// retryAfter parses an HTTP Retry-After value: delay-seconds or an
// HTTP-date. It returns 0 when the value is absent or invalid.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil {
		if s < 0 {
			return 0
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// excerpt shortens a platform message for an error: one line, at most 200
// bytes, valid UTF-8.
func excerpt(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	return truncateBytes(s, 200)
}

// truncateBytes cuts s to at most n bytes on a rune boundary, marking the
// cut with "…".
func truncateBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const ell = "…"
	cut := n - len(ell)
	if cut < 0 {
		cut = 0
	}
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + ell
}

// truncateRunes cuts s to at most n characters, marking the cut with "…".
func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
