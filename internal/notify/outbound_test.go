package notify

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

func TestHostAllowed(t *testing.T) {
	c, err := NewClient(ClientOptions{AllowHosts: []string{"oapi.dingtalk.com", "*.feishu.cn", "HOOKS.slack.com.", "10.1.2.3", "::1"}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		host string
		want bool
	}{
		{"oapi.dingtalk.com", true},
		{"OAPI.DingTalk.com.", true},
		{"evil-oapi.dingtalk.com", false},
		{"oapi.dingtalk.com.evil.net", false},
		{"open.feishu.cn", true},
		{"a.b.feishu.cn", true},
		{"feishu.cn", false},
		{"notfeishu.cn", false},
		{"hooks.slack.com", true},
		{"10.1.2.3", true},
		{"::ffff:10.1.2.3", true},
		{"[::1]", true},
		{"127.0.0.1", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := c.HostAllowed(tt.host); got != tt.want {
			t.Errorf("HostAllowed(%q) = %v, want %v", tt.host, got, tt.want)
		}
	}
}

func TestBadAllowPatterns(t *testing.T) {
	for _, p := range []string{"*", "*.com", "a*.example.com", "https://x.example.com", ""} {
		if _, err := NewClient(ClientOptions{AllowHosts: []string{p}}); err == nil {
			t.Errorf("pattern %q accepted", p)
		}
	}
}

func TestAddressClass(t *testing.T) {
	tests := []struct {
		addr string
		want string
	}{
		{"8.8.8.8", ""},
		{"2606:4700:4700::1111", ""},
		{"127.0.0.1", "loopback"},
		{"127.8.9.10", "loopback"},
		{"::1", "loopback"},
		{"::ffff:127.0.0.1", "loopback"},
		{"10.0.0.1", "private"},
		{"172.16.5.4", "private"},
		{"192.168.1.1", "private"},
		{"fd00::1", "private"},
		{"::ffff:192.168.1.1", "private"},
		{"169.254.169.254", "link-local"},
		{"fe80::1", "link-local"},
		{"224.0.0.1", "multicast"},
		{"ff02::1", "multicast"},
		{"100.64.0.1", "cgnat"},
		{"100.127.255.254", "cgnat"},
		{"0.0.0.0", "unspecified"},
		{"::", "unspecified"},
		{"0.1.2.3", "unspecified"},
		{"255.255.255.255", "reserved"},
		{"198.18.0.1", "reserved"},
		{"64:ff9b::7f00:1", "loopback (embedded IPv4)"},
		{"64:ff9b::808:808", ""},
		{"2002:a00:1::", "private (embedded IPv4)"},
		{"::127.0.0.1", "reserved"},
	}
	for _, tt := range tests {
		if got := addressClass(netip.MustParseAddr(tt.addr)); got != tt.want {
			t.Errorf("addressClass(%s) = %q, want %q", tt.addr, got, tt.want)
		}
	}
}

func TestCheckAddrOptions(t *testing.T) {
	tests := []struct {
		opts ClientOptions
		addr string
		ok   bool
	}{
		{ClientOptions{}, "127.0.0.1", false},
		{ClientOptions{AllowLoopback: true}, "127.0.0.1", true},
		{ClientOptions{AllowLoopback: true}, "10.0.0.1", false},
		{ClientOptions{AllowPrivate: true}, "10.0.0.1", true},
		{ClientOptions{AllowPrivate: true}, "100.64.1.1", true},
		{ClientOptions{AllowPrivate: true}, "127.0.0.1", false},
		{ClientOptions{AllowPrivate: true, AllowLoopback: true}, "169.254.169.254", false},
		{ClientOptions{AllowPrivate: true, AllowLoopback: true}, "0.0.0.0", false},
		{ClientOptions{}, "93.184.216.34", true},
	}
	for _, tt := range tests {
		c, _ := NewClient(tt.opts)
		err := c.checkAddr("h", netip.MustParseAddr(tt.addr))
		if (err == nil) != tt.ok {
			t.Errorf("%+v %s: err = %v", tt.opts, tt.addr, err)
		}
		if err != nil && !errors.Is(err, ErrAddressNotAllowed) {
			t.Errorf("%s: error %v is not ErrAddressNotAllowed", tt.addr, err)
		}
	}
}

// TestOutboundRefusals sends through the client to an httptest server and
// checks each refusal happens before any request reaches it.
func TestOutboundRefusals(t *testing.T) {
	rec := &capture{}
	srv := newReceiver(t, rec)
	port := srv.URL[strings.LastIndex(srv.URL, ":")+1:]
	lookup := func(ctx context.Context, host string) ([]netip.Addr, error) {
		switch host {
		case "rebind.example":
			return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
		case "mixed.corp.example":
			return []netip.Addr{netip.MustParseAddr("10.0.0.7"), netip.MustParseAddr("::ffff:127.0.0.1")}, nil
		}
		return nil, errors.New("no such host")
	}
	tests := []struct {
		name string
		opts ClientOptions
		url  string
		want error
	}{
		{"host not listed", ClientOptions{AllowHosts: []string{"hooks.example.com"}, AllowLoopback: true, AllowInsecureHTTP: true},
			srv.URL + "/hook", ErrHostNotAllowed},
		{"loopback literal not allowed", ClientOptions{AllowHosts: []string{"127.0.0.1"}, AllowInsecureHTTP: true},
			srv.URL + "/hook", ErrAddressNotAllowed},
		{"name resolving to 127.0.0.1", ClientOptions{AllowHosts: []string{"rebind.example"}, AllowInsecureHTTP: true, LookupIP: lookup},
			"http://rebind.example:" + port + "/hook", ErrAddressNotAllowed},
		{"name resolving to private and mapped loopback", ClientOptions{AllowHosts: []string{"*.corp.example"}, AllowInsecureHTTP: true, LookupIP: lookup},
			"http://mixed.corp.example:" + port + "/hook", ErrAddressNotAllowed},
		{"localhost by the system resolver", ClientOptions{AllowHosts: []string{"localhost"}, AllowInsecureHTTP: true},
			"http://localhost:" + port + "/hook", ErrAddressNotAllowed},
		{"http refused by default", ClientOptions{AllowHosts: []string{"127.0.0.1"}, AllowLoopback: true},
			srv.URL + "/hook", ErrSchemeNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewClient(tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.post(context.Background(), tt.url+"?token=s3cr3t-token-value", nil, []byte("{}"))
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if strings.Contains(err.Error(), "s3cr3t-token-value") {
				t.Errorf("error leaks the URL: %v", err)
			}
		})
	}
	if n := rec.count(); n != 0 {
		t.Errorf("receiver got %d requests, want 0", n)
	}
}

// TestControlRechecks checks the dial-time hook on its own: whatever
// resolved the name, a socket to a refused address is not connected.
func TestControlRechecks(t *testing.T) {
	c, _ := NewClient(ClientOptions{AllowHosts: []string{"x.example"}})
	for _, a := range []string{"127.0.0.1:443", "[::1]:443", "[::ffff:10.0.0.1]:443", "169.254.169.254:80"} {
		if err := c.control("tcp", a, nil); !errors.Is(err, ErrAddressNotAllowed) {
			t.Errorf("control(%s) = %v", a, err)
		}
	}
	if err := c.control("tcp", "93.184.216.34:443", nil); err != nil {
		t.Errorf("control(public) = %v", err)
	}
}

func TestRedirectToOtherHostRefused(t *testing.T) {
	target := &capture{}
	tsrv := newReceiver(t, target)
	// The redirect target is reached by name; the name is not allowed.
	other := strings.Replace(tsrv.URL, "127.0.0.1", "localhost", 1)
	redirector := &capture{reply: func(int, *http.Request, []byte) (int, http.Header, string) {
		return http.StatusTemporaryRedirect, http.Header{"Location": {other + "/stolen"}}, ""
	}}
	rsrv := newReceiver(t, redirector)
	c := loopbackClient(t)
	_, err := c.post(context.Background(), rsrv.URL+"/hook", nil, []byte("{}"))
	if !errors.Is(err, ErrHostNotAllowed) {
		t.Fatalf("err = %v, want ErrHostNotAllowed", err)
	}
	if target.count() != 0 {
		t.Error("redirect target was reached")
	}
}

func TestResponseSizeBounded(t *testing.T) {
	big := &capture{reply: func(int, *http.Request, []byte) (int, http.Header, string) {
		return 200, nil, strings.Repeat("x", 1<<20)
	}}
	srv := newReceiver(t, big)
	c, _ := NewClient(ClientOptions{AllowHosts: []string{"127.0.0.1"}, AllowLoopback: true, AllowInsecureHTTP: true, MaxResponseBytes: 1024})
	_, err := c.post(context.Background(), srv.URL, nil, nil)
	if !errors.Is(err, ErrResponseTooLarge) {
		t.Fatalf("err = %v", err)
	}
}

func TestHTTPSWithCustomRoots(t *testing.T) {
	rec := &capture{reply: func(int, *http.Request, []byte) (int, http.Header, string) { return 200, nil, "ok" }}
	srv := httptest.NewTLSServer(rec)
	defer srv.Close()
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	c, err := NewClient(ClientOptions{AllowHosts: []string{"127.0.0.1"}, AllowLoopback: true, TLSConfig: &tls.Config{RootCAs: pool}})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.post(context.Background(), srv.URL+"/x", nil, []byte("{}"))
	if err != nil || resp.status != 200 || string(resp.body) != "ok" {
		t.Fatalf("resp = %+v, err = %v", resp, err)
	}
}

// TestDo: an API request goes through the same guard as channels: an
// allowed loopback host is reached, a host off the list and plain http
// (when not allowed) are refused before connecting, and the body is cut
// at MaxResponseBytes.
func TestDo(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("User-Agent") != "canopy-notify" {
			t.Errorf("user agent %q", r.Header.Get("User-Agent"))
		}
		w.Write([]byte(strings.Repeat("x", 100)))
	}))
	defer srv.Close()
	tests := []struct {
		name    string
		opts    ClientOptions
		url     string
		wantErr error
		body    int
	}{
		{"allowed", ClientOptions{AllowHosts: []string{"127.0.0.1"}, AllowLoopback: true, AllowInsecureHTTP: true}, srv.URL + "/rest/api/2/issue", nil, 100},
		{"not listed", ClientOptions{AllowHosts: []string{"jira.example.com"}, AllowLoopback: true, AllowInsecureHTTP: true}, srv.URL, ErrHostNotAllowed, 0},
		{"http", ClientOptions{AllowHosts: []string{"127.0.0.1"}, AllowLoopback: true}, srv.URL, ErrSchemeNotAllowed, 0},
		{"loopback", ClientOptions{AllowHosts: []string{"127.0.0.1"}, AllowInsecureHTTP: true}, srv.URL, ErrAddressNotAllowed, 0},
		{"too large", ClientOptions{AllowHosts: []string{"127.0.0.1"}, AllowLoopback: true, AllowInsecureHTTP: true, MaxResponseBytes: 10}, srv.URL, ErrResponseTooLarge, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewClient(tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, tt.url, strings.NewReader("{}"))
			resp, err := c.Do(req)
			if err == nil {
				defer resp.Body.Close()
				var b []byte
				b, err = io.ReadAll(resp.Body)
				if len(b) != tt.body {
					t.Errorf("read %d bytes, want %d", len(b), tt.body)
				}
			}
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("error %v, want %v", err, tt.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "/rest/") {
				t.Errorf("the error shows the URL: %v", err)
			}
		})
	}
}
