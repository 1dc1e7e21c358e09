package notify

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"strings"
	"time"
)

// E-mail over SMTP.
//
// References: RFC 5321 (SMTP), RFC 3207 (STARTTLS), RFC 2046 §5.1.4
// (multipart/alternative), RFC 2047 (encoded subject), and the net/smtp
// documentation (https://pkg.go.dev/net/smtp).
//
// Canopy connects (through the outbound guard: the SMTP host must be in
// the allow-list), says EHLO, upgrades with STARTTLS when the server offers
// it, authenticates with PLAIN when a username is configured (only over
// TLS: net/smtp refuses PLAIN on a clear connection to anything but
// localhost, and Canopy refuses before trying), and sends one message per
// notice to the contact's addresses (or the channel's):
//
//	From, To, Subject (RFC 2047 encoded), Date, Message-ID, MIME-Version,
//	X-Canopy-Notice: <id>
//	Content-Type: multipart/alternative
//	  text/plain; charset=utf-8 (quoted-printable)
//	  text/html; charset=utf-8 (quoted-printable)
//
// SMTP 4xx replies and network errors are retried; 5xx replies fail.

// EmailTLS selects how the SMTP connection is protected.
type EmailTLS string

// The TLS modes.
const (
	// EmailSTARTTLS upgrades with STARTTLS when the server offers it; when
	// it does not, the message goes in clear only if no password is
	// configured. The default.
	EmailSTARTTLS EmailTLS = "starttls"
	// EmailRequireSTARTTLS fails unless STARTTLS succeeds.
	EmailRequireSTARTTLS EmailTLS = "starttls_required"
	// EmailImplicitTLS speaks TLS from the first byte (SMTPS, usually port
	// 465).
	EmailImplicitTLS EmailTLS = "implicit"
)

// EmailConfig configures an SMTP e-mail channel.
type EmailConfig struct {
	// Host is the SMTP server's host name; it must be in the allow-list.
	Host string `json:"host"`
	// Port defaults to 587 (465 with implicit TLS).
	Port int `json:"port,omitempty"`
	// Username enables SMTP AUTH PLAIN; empty sends without
	// authentication.
	Username string `json:"username,omitempty"`
	// Password is the SMTP password.
	Password Secret `json:"password,omitzero"`
	// TLS is starttls (default), starttls_required or implicit.
	TLS EmailTLS `json:"tls,omitempty"`
	// From is the sender address ("Canopy <canopy@example.com>").
	From string `json:"from"`
	// To are the default recipients, used when the contact has no e-mail
	// addresses.
	To []string `json:"to,omitempty"`
	// HelloName is the name sent with EHLO. Default "localhost".
	HelloName string `json:"hello_name,omitempty"`
}

// Email is the SMTP e-mail [Channel].
type Email struct {
	channelBase
	cfg  EmailConfig
	from *mail.Address
	to   []*mail.Address
}

// NewEmail returns an e-mail channel named name that connects through c.
func NewEmail(name string, cfg EmailConfig, c *Client) (*Email, error) {
	where := fmt.Sprintf("notify: email channel %q", name)
	if c == nil {
		return nil, fmt.Errorf("%s: no client", where)
	}
	if cfg.Host == "" {
		return nil, fmt.Errorf("%s: host is required", where)
	}
	if !c.HostAllowed(cfg.Host) {
		return nil, fmt.Errorf("%s: %s: %w", where, cfg.Host, ErrHostNotAllowed)
	}
	switch cfg.TLS {
	case "":
		cfg.TLS = EmailSTARTTLS
	case EmailSTARTTLS, EmailRequireSTARTTLS, EmailImplicitTLS:
	default:
		return nil, fmt.Errorf("%s: tls %q: want starttls, starttls_required or implicit", where, cfg.TLS)
	}
	if cfg.Port == 0 {
		cfg.Port = 587
		if cfg.TLS == EmailImplicitTLS {
			cfg.Port = 465
		}
	}
	if cfg.Port < 1 || cfg.Port > 65535 {
		return nil, fmt.Errorf("%s: port %d out of range", where, cfg.Port)
	}
	if cfg.HelloName == "" {
		cfg.HelloName = "localhost"
	}
	if cfg.Username == "" && !cfg.Password.IsZero() {
		return nil, fmt.Errorf("%s: password without username", where)
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("%s: from %q: %w", where, cfg.From, err)
	}
	to, err := parseAddresses(cfg.To)
	if err != nil {
		return nil, fmt.Errorf("%s: to: %w", where, err)
	}
	return &Email{
		channelBase: channelBase{name: name, kind: "email", client: c, scrub: newScrubber(cfg.Password)},
		cfg:         cfg, from: from, to: to,
	}, nil
}

// parseAddresses parses each address; a parsed address cannot carry a
// header line break.
func parseAddresses(list []string) ([]*mail.Address, error) {
	var out []*mail.Address
	for _, s := range list {
		a, err := mail.ParseAddress(s)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", s, err)
		}
		out = append(out, a)
	}
	return out, nil
}

// emailMessage is a composed message ready for DATA.
type emailMessage struct {
	from *mail.Address
	to   []*mail.Address
	data []byte
}

var emailHTML = template.Must(template.New("notice").Parse(`<!DOCTYPE html>
<html><body style="font-family:sans-serif">
<h2>{{.Headline}}</h2>
<table>{{range .Facts}}<tr><th align="left">{{.Label}}</th><td>{{if .Link}}<a href="{{.Link}}">{{.Value}}</a>{{else}}{{.Value}}{{end}}</td></tr>
{{end}}</table>
{{if .Body}}<pre style="white-space:pre-wrap">{{.Body}}</pre>{{end}}
{{if .Links}}<ul>{{range .Links}}<li><a href="{{.URL}}">{{.Title}}</a></li>{{end}}</ul>{{end}}
<p>{{if .AckURL}}<a href="{{.AckURL}}"><strong>Acknowledge</strong></a>{{else}}Acknowledge: <code>{{.AckHint}}</code>{{end}}</p>
</body></html>
`))

type emailFact struct{ Label, Value, Link string }

// newMessageID returns a random Message-ID for host.
func newMessageID(host string) string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return "<" + hex.EncodeToString(b[:]) + "@" + host + ">"
}

// buildEmail composes the multipart/alternative message.
func buildEmail(n Notice, from *mail.Address, to []*mail.Address, now time.Time, messageID string) ([]byte, error) {
	var html bytes.Buffer
	data := struct {
		Headline, Body, AckURL, AckHint string
		Facts                           []emailFact
		Links                           []Link
	}{Headline: headline(n), Body: strings.TrimSpace(n.Body), AckURL: safeLink(n.AckURL), AckHint: ackHint(n), Links: links(n)}
	for _, f := range facts(n) {
		data.Facts = append(data.Facts, emailFact{Label: f.label, Value: f.value, Link: f.link})
	}
	if err := emailHTML.Execute(&html, data); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	addrs := make([]string, len(to))
	for i, a := range to {
		addrs[i] = a.String()
	}
	h := []struct{ k, v string }{
		{"From", from.String()},
		{"To", strings.Join(addrs, ", ")},
		{"Subject", mime.QEncoding.Encode("utf-8", headline(n))},
		{"Date", now.UTC().Format(time.RFC1123Z)},
		{"Message-ID", messageID},
		{"MIME-Version", "1.0"},
		{"X-Canopy-Notice", oneLine(n.ID)},
		{"Content-Type", `multipart/alternative; boundary="` + mw.Boundary() + `"`},
	}
	var head bytes.Buffer
	for _, kv := range h {
		fmt.Fprintf(&head, "%s: %s\r\n", kv.k, kv.v)
	}
	head.WriteString("\r\n")
	for _, part := range []struct{ ctype, body string }{
		{"text/plain; charset=utf-8", renderText(n)},
		{"text/html; charset=utf-8", html.String()},
	} {
		w, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {part.ctype},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return nil, err
		}
		qp := quotedprintable.NewWriter(w)
		if _, err := qp.Write([]byte(strings.ReplaceAll(part.body, "\n", "\r\n"))); err != nil {
			return nil, err
		}
		if err := qp.Close(); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	return append(head.Bytes(), buf.Bytes()...), nil
}

// Send delivers the notice by SMTP to the contact's addresses, or the
// channel's when the contact has none.
func (e *Email) Send(ctx context.Context, n Notice, to Contact) error {
	rcpt := e.to
	if len(to.Email) > 0 {
		var err error
		if rcpt, err = parseAddresses(to.Email); err != nil {
			return &SendError{Channel: e.name, Kind: e.kind, Message: "contact " + to.ID + ": " + err.Error()}
		}
	}
	if len(rcpt) == 0 {
		return &SendError{Channel: e.name, Kind: e.kind, Message: "no recipients (neither the contact nor the channel has addresses)"}
	}
	data, err := buildEmail(n, e.from, rcpt, e.client.now(), newMessageID(e.from.Address[strings.LastIndex(e.from.Address, "@")+1:]))
	if err != nil {
		return &SendError{Channel: e.name, Kind: e.kind, Message: "composing message", Err: err}
	}
	if err := e.deliver(ctx, emailMessage{from: e.from, to: rcpt, data: data}); err != nil {
		return e.smtpError(err)
	}
	return nil
}

// errPlaintextAuth refuses to send a password over a clear connection.
var errPlaintextAuth = errors.New("server does not offer STARTTLS; refusing to authenticate in clear")

// deliver runs one SMTP session.
func (e *Email) deliver(ctx context.Context, m emailMessage) (err error) {
	conn, err := e.client.dial(ctx, e.cfg.Host, e.cfg.Port)
	if err != nil {
		return err
	}
	// The session is bounded by the client timeout and by ctx.
	_ = conn.SetDeadline(time.Now().Add(e.client.opts.Timeout))
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if e.cfg.TLS == EmailImplicitTLS {
		conn = tls.Client(conn, e.client.tlsConfig(e.cfg.Host))
	}
	c, err := smtp.NewClient(conn, e.cfg.Host)
	if err != nil {
		conn.Close()
		return err
	}
	defer c.Close()
	if err := c.Hello(e.cfg.HelloName); err != nil {
		return err
	}
	secure := e.cfg.TLS == EmailImplicitTLS
	if !secure {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(e.client.tlsConfig(e.cfg.Host)); err != nil {
				return fmt.Errorf("STARTTLS: %w", err)
			}
			secure = true
		} else if e.cfg.TLS == EmailRequireSTARTTLS {
			return errors.New("server does not offer STARTTLS and tls is starttls_required")
		}
	}
	if e.cfg.Username != "" {
		if !secure {
			return errPlaintextAuth
		}
		if err := c.Auth(smtp.PlainAuth("", e.cfg.Username, e.cfg.Password.Reveal(), e.cfg.Host)); err != nil {
			return fmt.Errorf("AUTH: %w", err)
		}
	}
	if err := c.Mail(m.from.Address); err != nil {
		return fmt.Errorf("MAIL FROM: %w", err)
	}
	for _, a := range m.to {
		if err := c.Rcpt(a.Address); err != nil {
			return fmt.Errorf("RCPT TO: %w", err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if _, err := w.Write(m.data); err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	return c.Quit()
}

// smtpError classifies an SMTP session error: 4xx replies and network
// errors are temporary, 5xx replies and refusals are not.
func (e *Email) smtpError(err error) *SendError {
	se := &SendError{Channel: e.name, Kind: e.kind, Message: e.scrub.scrub(err.Error()),
		Err: scrubbedError{msg: e.scrub.scrub(err.Error()), err: err}}
	var te *textproto.Error
	var ne net.Error
	switch {
	case errors.As(err, &te):
		se.Status = te.Code
		se.Temporary = te.Code >= 400 && te.Code < 500
	case errors.Is(err, ErrHostNotAllowed), errors.Is(err, ErrAddressNotAllowed),
		errors.Is(err, errPlaintextAuth), errors.Is(err, context.Canceled):
	case errors.As(err, &ne):
		se.Temporary = true
	case errors.Is(err, net.ErrClosed), errors.Is(err, context.DeadlineExceeded):
		se.Temporary = true
	}
	return se
}
