package notify

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"
)

// smtpServer is a tiny SMTP server on loopback: EHLO, optional STARTTLS,
// AUTH PLAIN, MAIL, RCPT, DATA, QUIT. It records each session.
type smtpServer struct {
	ln        net.Listener
	tls       *tls.Config // offer STARTTLS when set
	rcptReply string      // reply to RCPT, default "250 2.1.5 ok"
	mu        sync.Mutex
	sessions  []*smtpSession
	wg        sync.WaitGroup
}

type smtpSession struct {
	tlsBeforeAuth bool
	auth          string // decoded AUTH PLAIN response
	authInClear   bool
	from          string
	to            []string
	data          []byte
}

func startSMTP(t *testing.T, tlsConf *tls.Config, rcptReply string) *smtpServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &smtpServer{ln: ln, tls: tlsConf, rcptReply: rcptReply}
	s.wg.Add(1)
	go s.serve()
	t.Cleanup(func() { ln.Close(); s.wg.Wait() })
	return s
}

func (s *smtpServer) port() int { return s.ln.Addr().(*net.TCPAddr).Port }

func (s *smtpServer) serve() {
	defer s.wg.Done()
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer conn.Close()
			s.session(conn)
		}()
	}
}

func (s *smtpServer) last(t *testing.T) *smtpSession {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.sessions) == 0 {
		t.Fatal("no SMTP session")
	}
	return s.sessions[len(s.sessions)-1]
}

func (s *smtpServer) session(conn net.Conn) {
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	sess := &smtpSession{}
	s.mu.Lock()
	s.sessions = append(s.sessions, sess)
	s.mu.Unlock()
	tp := textproto.NewConn(conn)
	secure := false
	reply := func(lines ...string) {
		for _, l := range lines {
			tp.PrintfLine("%s", l)
		}
	}
	reply("220 mx.test ESMTP ready")
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO", "HELO":
			lines := []string{"250-mx.test greets you", "250-8BITMIME"}
			if s.tls != nil && !secure {
				lines = append(lines, "250-STARTTLS")
			}
			lines = append(lines, "250-AUTH PLAIN", "250 SIZE 1048576")
			reply(lines...)
		case "STARTTLS":
			if s.tls == nil || secure {
				reply("502 5.5.1 not offered")
				continue
			}
			reply("220 2.0.0 go ahead")
			tc := tls.Server(conn, s.tls)
			if tc.Handshake() != nil {
				return
			}
			conn, secure = tc, true
			tp = textproto.NewConn(tc)
		case "AUTH":
			mech, resp, _ := strings.Cut(arg, " ")
			dec, err := base64.StdEncoding.DecodeString(resp)
			if mech != "PLAIN" || err != nil {
				reply("504 5.5.4 unsupported")
				continue
			}
			s.mu.Lock()
			sess.auth, sess.tlsBeforeAuth, sess.authInClear = string(dec), secure, !secure
			s.mu.Unlock()
			reply("235 2.7.0 authenticated")
		case "MAIL":
			s.mu.Lock()
			sess.from = arg
			s.mu.Unlock()
			reply("250 2.1.0 ok")
		case "RCPT":
			if s.rcptReply != "" {
				reply(s.rcptReply)
				continue
			}
			s.mu.Lock()
			sess.to = append(sess.to, arg)
			s.mu.Unlock()
			reply("250 2.1.5 ok")
		case "DATA":
			reply("354 end with .")
			data, err := tp.ReadDotBytes()
			if err != nil {
				return
			}
			s.mu.Lock()
			sess.data = data
			s.mu.Unlock()
			reply("250 2.0.0 queued")
		case "RSET", "NOOP":
			reply("250 ok")
		case "QUIT":
			reply("221 2.0.0 bye")
			return
		default:
			reply("502 5.5.2 unknown command")
		}
	}
}

// serverTLS borrows httptest's certificate (valid for 127.0.0.1) for the
// SMTP server, and returns a client configuration that trusts it.
func serverTLS(t *testing.T) (server, client *tls.Config) {
	t.Helper()
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	t.Cleanup(srv.Close)
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	return &tls.Config{Certificates: srv.TLS.Certificates}, &tls.Config{RootCAs: pool}
}

func emailClient(t *testing.T, tlsConf *tls.Config) *Client {
	t.Helper()
	c, err := NewClient(ClientOptions{AllowHosts: []string{"127.0.0.1"}, AllowLoopback: true,
		TLSConfig: tlsConf, Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// readMessage parses a received message into its headers and the decoded
// text and HTML parts.
func readMessage(t *testing.T, data []byte) (mail.Header, string, string) {
	t.Helper()
	msg, err := mail.ReadMessage(strings.NewReader(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type %q: %v", msg.Header.Get("Content-Type"), err)
	}
	parts := map[string]string{}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if p.Header.Get("Content-Transfer-Encoding") != "quoted-printable" {
			t.Errorf("part %s not quoted-printable", p.Header.Get("Content-Type"))
		}
		body, err := io.ReadAll(quotedprintable.NewReader(p))
		if err != nil {
			t.Fatal(err)
		}
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		parts[ct] = string(body)
	}
	return msg.Header, parts["text/plain"], parts["text/html"]
}

func TestEmailPlainSession(t *testing.T) {
	srv := startSMTP(t, nil, "")
	ch, err := NewEmail("mail", EmailConfig{Host: "127.0.0.1", Port: srv.port(), From: "Canopy <canopy@canopy.example>",
		To: []string{"secops@acme.example"}}, emailClient(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	n := sampleNotice()
	n.Title = "Exfiltration <script>alert(1)</script> détectée\r\nBcc: evil@attacker.example"
	if err := ch.Send(context.Background(), n, Contact{ID: "oncall", Email: []string{"Duty <duty@acme.example>", "lead@acme.example"}}); err != nil {
		t.Fatal(err)
	}
	sess := srv.last(t)
	if !strings.HasPrefix(sess.from, "FROM:<canopy@canopy.example>") || strings.Join(sess.to, ",") != "TO:<duty@acme.example>,TO:<lead@acme.example>" {
		t.Errorf("envelope from %q to %q", sess.from, sess.to)
	}
	h, text, html := readMessage(t, sess.data)
	subject, err := new(mime.WordDecoder).DecodeHeader(h.Get("Subject"))
	if err != nil || subject != "[CRITICAL] Exfiltration <script>alert(1)</script> détectée Bcc: evil@attacker.example" {
		t.Errorf("subject = %q (%v)", subject, err)
	}
	if h.Get("Bcc") != "" {
		t.Error("a Bcc header was injected")
	}
	if h.Get("X-Canopy-Notice") != "n-0001" || h.Get("MIME-Version") != "1.0" || h.Get("Message-Id") == "" {
		t.Errorf("headers: %v", h)
	}
	if d, err := h.Date(); err != nil || !d.Equal(t0) {
		t.Errorf("Date = %v, %v", d, err)
	}
	if to := h.Get("To"); to != `"Duty" <duty@acme.example>, <lead@acme.example>` {
		t.Errorf("To = %q", to)
	}
	for _, want := range []string{"Acknowledge by: 2025-03-14 09:41 UTC", "Subject: incident INC-42", "Bucket acme-exports is public.",
		"- Runbook: https://wiki.example/runbooks/s3", "Acknowledge: https://canopy.example/notices/n-0001/ack"} {
		if !strings.Contains(text, want) {
			t.Errorf("text part lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(html, "<script>") || !strings.Contains(html, "&lt;script&gt;") ||
		!strings.Contains(html, `<a href="https://canopy.example/notices/n-0001/ack">`) {
		t.Errorf("html part:\n%s", html)
	}
}

func TestEmailSTARTTLSAndAuth(t *testing.T) {
	serverConf, clientConf := serverTLS(t)
	srv := startSMTP(t, serverConf, "")
	ch, err := NewEmail("mail", EmailConfig{Host: "127.0.0.1", Port: srv.port(), Username: "canopy",
		Password: NewSecret("smtp-pass-123"), From: "canopy@canopy.example", To: []string{"secops@acme.example"}},
		emailClient(t, clientConf))
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.Send(context.Background(), sampleNotice(), Contact{}); err != nil {
		t.Fatal(err)
	}
	sess := srv.last(t)
	if !sess.tlsBeforeAuth || sess.auth != "\x00canopy\x00smtp-pass-123" {
		t.Errorf("auth %q after TLS %v", sess.auth, sess.tlsBeforeAuth)
	}
	if len(sess.data) == 0 || len(sess.to) != 1 {
		t.Errorf("message not delivered: %+v", sess)
	}
}

func TestEmailRefusals(t *testing.T) {
	t.Run("password without STARTTLS", func(t *testing.T) {
		srv := startSMTP(t, nil, "")
		ch, _ := NewEmail("mail", EmailConfig{Host: "127.0.0.1", Port: srv.port(), Username: "canopy",
			Password: NewSecret("smtp-pass-123"), From: "canopy@canopy.example", To: []string{"a@acme.example"}}, emailClient(t, nil))
		err := ch.Send(context.Background(), sampleNotice(), Contact{})
		var se *SendError
		if !errors.As(err, &se) || se.Temporary || !errors.Is(err, errPlaintextAuth) {
			t.Fatalf("err = %v", err)
		}
		if sess := srv.last(t); sess.auth != "" || sess.authInClear || len(sess.data) != 0 {
			t.Errorf("credentials or data sent in clear: %+v", sess)
		}
		if strings.Contains(err.Error(), "smtp-pass-123") {
			t.Errorf("error leaks the password: %v", err)
		}
	})
	t.Run("starttls required", func(t *testing.T) {
		srv := startSMTP(t, nil, "")
		ch, _ := NewEmail("mail", EmailConfig{Host: "127.0.0.1", Port: srv.port(), TLS: EmailRequireSTARTTLS,
			From: "canopy@canopy.example", To: []string{"a@acme.example"}}, emailClient(t, nil))
		if err := ch.Send(context.Background(), sampleNotice(), Contact{}); err == nil || len(srv.last(t).data) != 0 {
			t.Fatalf("err = %v", err)
		}
	})
	for _, tt := range []struct {
		reply     string
		status    int
		temporary bool
	}{
		{"450 4.2.1 mailbox busy", 450, true},
		{"550 5.1.1 no such user", 550, false},
	} {
		t.Run(tt.reply, func(t *testing.T) {
			srv := startSMTP(t, nil, tt.reply)
			ch, _ := NewEmail("mail", EmailConfig{Host: "127.0.0.1", Port: srv.port(),
				From: "canopy@canopy.example", To: []string{"a@acme.example"}}, emailClient(t, nil))
			err := ch.Send(context.Background(), sampleNotice(), Contact{})
			var se *SendError
			if !errors.As(err, &se) || se.Status != tt.status || se.Temporary != tt.temporary {
				t.Fatalf("err = %v", err)
			}
		})
	}
	t.Run("host not allowed", func(t *testing.T) {
		_, err := NewEmail("mail", EmailConfig{Host: "smtp.elsewhere.example", From: "c@c.example"}, emailClient(t, nil))
		if !errors.Is(err, ErrHostNotAllowed) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("bad addresses", func(t *testing.T) {
		if _, err := NewEmail("mail", EmailConfig{Host: "127.0.0.1", From: "not an address"}, emailClient(t, nil)); err == nil {
			t.Error("bad from accepted")
		}
		if _, err := NewEmail("mail", EmailConfig{Host: "127.0.0.1", From: "c@c.example", To: []string{"x@y\r\nBcc: z@w"}}, emailClient(t, nil)); err == nil {
			t.Error("bad to accepted")
		}
	})
}
