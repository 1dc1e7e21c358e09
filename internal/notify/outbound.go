package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Errors of the outbound guard, tested with [errors.Is]. They are
// permanent: a delivery refused by the guard is not retried.
var (
	// ErrHostNotAllowed: the host is not in the outbound allow-list.
	ErrHostNotAllowed = errors.New("host not in the outbound allow-list")
	// ErrAddressNotAllowed: the host resolves only to addresses the guard
	// refuses (loopback, private, link-local, multicast, CGNAT, unspecified
	// or reserved), or its DNS lookup returned nothing usable.
	ErrAddressNotAllowed = errors.New("address not allowed")
	// ErrSchemeNotAllowed: the URL is not https (http only with
	// [ClientOptions.AllowInsecureHTTP]).
	ErrSchemeNotAllowed = errors.New("URL scheme not allowed")
	// ErrResponseTooLarge: the response body exceeded
	// [ClientOptions.MaxResponseBytes].
	ErrResponseTooLarge = errors.New("response too large")
)

// ClientOptions configures a [Client]. The zero value allows no host at
// all.
type ClientOptions struct {
	// AllowHosts lists the hosts channels may reach: an exact host name
	// ("oapi.dingtalk.com"), an IP literal ("127.0.0.1") or a suffix pattern
	// "*.example.com" that matches any name below example.com but not
	// example.com itself. Matching ignores case and a trailing dot. Empty:
	// nothing is allowed.
	AllowHosts []string
	// AllowLoopback lets allowed hosts resolve to loopback addresses
	// (127.0.0.0/8, ::1). Default false; tests set it to reach httptest
	// servers.
	AllowLoopback bool
	// AllowPrivate lets allowed hosts resolve to private (RFC 1918, fc00::/7)
	// and CGNAT (100.64.0.0/10) addresses, for on-premises receivers.
	// Default false. Link-local (which includes cloud metadata endpoints),
	// multicast, unspecified and reserved addresses are refused regardless.
	AllowPrivate bool
	// AllowInsecureHTTP permits http:// URLs. Default false: https only.
	AllowInsecureHTTP bool
	// Timeout bounds one request, connection to last byte. Default 10s.
	Timeout time.Duration
	// DialTimeout bounds one TCP connection attempt. Default 5s.
	DialTimeout time.Duration
	// MaxResponseBytes bounds the response body read. Default 64 KiB.
	MaxResponseBytes int64
	// LookupIP resolves a host name. Default: the system resolver
	// (net.DefaultResolver.LookupNetIP). Tests inject names that resolve to
	// chosen addresses.
	LookupIP func(ctx context.Context, host string) ([]netip.Addr, error) `json:"-"`
	// TLSConfig is cloned for HTTPS and SMTP STARTTLS; nil uses the system
	// roots. TLS 1.2 is the minimum either way.
	TLSConfig *tls.Config `json:"-"`
	// Now is the clock for request timestamps and signatures. Default
	// time.Now.
	Now func() time.Time `json:"-"`
	// UserAgent is sent with every HTTP request. Default "canopy-notify".
	UserAgent string
}

// Client is the one way channels reach the network. It enforces the
// outbound policy: only allow-listed hosts, only https (unless allowed
// otherwise), only public addresses (unless loopback or private addresses
// are explicitly allowed), no proxy, bounded time and response size.
//
// Addresses are checked when connecting: the client resolves the host
// itself, drops refused addresses and connects to a checked IP literal, and
// the dialer's Control hook checks the socket's address again, so a DNS
// answer that changes between a check and the connection (DNS rebinding)
// cannot reach a refused address. Redirects are followed (at most 3) only
// to allowed hosts.
//
// Errors never contain the request URL (webhook URLs carry tokens): they
// name the host only. A Client is safe for concurrent use.
type Client struct {
	opts     ClientOptions
	patterns []string
	http     *http.Client
	dialer   *net.Dialer
}

// NewClient validates opts, applies the defaults and returns a Client.
func NewClient(opts ClientOptions) (*Client, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	if opts.DialTimeout <= 0 {
		opts.DialTimeout = 5 * time.Second
	}
	if opts.MaxResponseBytes <= 0 {
		opts.MaxResponseBytes = 64 << 10
	}
	if opts.LookupIP == nil {
		opts.LookupIP = func(ctx context.Context, host string) ([]netip.Addr, error) {
			return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.UserAgent == "" {
		opts.UserAgent = "canopy-notify"
	}
	c := &Client{opts: opts}
	var errs []error
	for _, h := range opts.AllowHosts {
		p, err := normalizePattern(h)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		c.patterns = append(c.patterns, p)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	c.dialer = &net.Dialer{
		Timeout:   opts.DialTimeout,
		KeepAlive: 30 * time.Second,
		Control:   c.control,
	}
	tr := &http.Transport{
		Proxy:                 nil, // a proxy would connect on our behalf, past the address checks
		DialContext:           c.dialContext,
		TLSClientConfig:       c.tlsConfig(""),
		ForceAttemptHTTP2:     true,
		TLSHandshakeTimeout:   opts.Timeout,
		ResponseHeaderTimeout: opts.Timeout,
		MaxIdleConns:          16,
		IdleConnTimeout:       90 * time.Second,
	}
	c.http = &http.Client{Transport: tr, Timeout: opts.Timeout, CheckRedirect: c.checkRedirect}
	return c, nil
}

// now returns the client's clock reading.
func (c *Client) now() time.Time { return c.opts.Now() }

// tlsConfig returns a fresh TLS configuration for serverName.
func (c *Client) tlsConfig(serverName string) *tls.Config {
	var cfg *tls.Config
	if c.opts.TLSConfig != nil {
		cfg = c.opts.TLSConfig.Clone()
	} else {
		cfg = &tls.Config{}
	}
	if cfg.MinVersion < tls.VersionTLS12 {
		cfg.MinVersion = tls.VersionTLS12
	}
	if serverName != "" {
		cfg.ServerName = serverName
	}
	return cfg
}

// normalizePattern checks and lower-cases one allow-list entry.
func normalizePattern(h string) (string, error) {
	p := normalizeHost(h)
	switch {
	case p == "" || p == "*" || p == "*.":
		return "", fmt.Errorf("notify: allow_hosts: %q: empty or bare wildcard", h)
	case strings.HasPrefix(p, "*."):
		rest := p[2:]
		if strings.ContainsAny(rest, "*/:@") || !strings.Contains(rest, ".") && rest != "localhost" {
			return "", fmt.Errorf("notify: allow_hosts: %q: a wildcard needs a domain of at least two labels", h)
		}
	case strings.ContainsAny(p, "*/@ "):
		return "", fmt.Errorf("notify: allow_hosts: %q: want a host name, an IP or *.domain", h)
	}
	return p, nil
}

// normalizeHost lower-cases a host, strips IPv6 brackets and a trailing dot.
func normalizeHost(h string) string {
	h = strings.ToLower(strings.TrimSpace(h))
	h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	return strings.TrimSuffix(h, ".")
}

// HostAllowed reports whether host matches the allow-list.
func (c *Client) HostAllowed(host string) bool {
	h := normalizeHost(host)
	if h == "" {
		return false
	}
	if a, err := netip.ParseAddr(h); err == nil {
		h = a.Unmap().String()
	}
	for _, p := range c.patterns {
		if suffix, ok := strings.CutPrefix(p, "*"); ok {
			if strings.HasSuffix(h, suffix) && len(h) > len(suffix) {
				return true
			}
			continue
		}
		if a, err := netip.ParseAddr(p); err == nil {
			p = a.Unmap().String()
		}
		if h == p {
			return true
		}
	}
	return false
}

// CheckURL reports whether u may be requested: its scheme is https (or
// http when allowed) and its host is allowed. Channels call it when they
// are built, so a misconfiguration fails at start-up; the checks run again
// on every request. The error names the host, never the URL.
func (c *Client) CheckURL(u *url.URL) error {
	switch u.Scheme {
	case "https":
	case "http":
		if !c.opts.AllowInsecureHTTP {
			return fmt.Errorf("notify: %s: http: %w (https required)", u.Hostname(), ErrSchemeNotAllowed)
		}
	default:
		return fmt.Errorf("notify: %s: %q: %w", u.Hostname(), u.Scheme, ErrSchemeNotAllowed)
	}
	if u.Hostname() == "" {
		return fmt.Errorf("notify: URL has no host: %w", ErrHostNotAllowed)
	}
	if !c.HostAllowed(u.Hostname()) {
		return fmt.Errorf("notify: %s: %w", u.Hostname(), ErrHostNotAllowed)
	}
	return nil
}

// checkRedirect follows at most 3 redirects, only to allowed URLs.
func (c *Client) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 3 {
		return fmt.Errorf("redirected %d times: stopped", len(via))
	}
	if err := c.CheckURL(req.URL); err != nil {
		return fmt.Errorf("redirect refused: %w", err)
	}
	return nil
}

// addressClass names why an address is special, or returns "" for a
// public unicast address.
func addressClass(a netip.Addr) string {
	a = a.Unmap()
	switch {
	case !a.IsValid():
		return "invalid"
	case a.IsUnspecified():
		return "unspecified"
	case a.IsLoopback():
		return "loopback"
	case a.IsLinkLocalUnicast():
		return "link-local"
	case a.IsMulticast():
		return "multicast"
	case a.IsPrivate():
		return "private"
	}
	if a.Is6() {
		b := a.As16()
		// Addresses that embed an IPv4 address are judged by it.
		switch {
		case nat64.Contains(a): // 64:ff9b::/96
			return embeddedClass(netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}))
		case sixToFour.Contains(a): // 2002::/16
			return embeddedClass(netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}))
		}
	}
	for _, r := range specialPrefixes {
		if r.prefix.Contains(a) {
			return r.class
		}
	}
	return ""
}

func embeddedClass(v4 netip.Addr) string {
	if c := addressClass(v4); c != "" {
		return c + " (embedded IPv4)"
	}
	return ""
}

var (
	nat64     = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour = netip.MustParsePrefix("2002::/16")
	// specialPrefixes are refused besides what netip classifies; "private"
	// and "cgnat" ones are allowed with AllowPrivate. Read-only.
	specialPrefixes = []struct {
		prefix netip.Prefix
		class  string
	}{
		{netip.MustParsePrefix("100.64.0.0/10"), "cgnat"},
		{netip.MustParsePrefix("0.0.0.0/8"), "unspecified"},
		{netip.MustParsePrefix("192.0.0.0/24"), "reserved"},
		{netip.MustParsePrefix("192.0.2.0/24"), "reserved"},
		{netip.MustParsePrefix("198.18.0.0/15"), "reserved"},
		{netip.MustParsePrefix("198.51.100.0/24"), "reserved"},
		{netip.MustParsePrefix("203.0.113.0/24"), "reserved"},
		{netip.MustParsePrefix("240.0.0.0/4"), "reserved"}, // includes 255.255.255.255
		{netip.MustParsePrefix("::/96"), "reserved"},       // IPv4-compatible (deprecated)
		{netip.MustParsePrefix("64:ff9b:1::/48"), "private"},
		{netip.MustParsePrefix("100::/64"), "reserved"},
		{netip.MustParsePrefix("2001::/32"), "reserved"}, // Teredo
		{netip.MustParsePrefix("2001:db8::/32"), "reserved"},
		{netip.MustParsePrefix("fec0::/10"), "private"}, // site-local (deprecated)
	}
)

// checkAddr returns nil when the client may connect to a.
func (c *Client) checkAddr(host string, a netip.Addr) error {
	class := addressClass(a)
	switch {
	case class == "":
		return nil
	case class == "loopback" && c.opts.AllowLoopback:
		return nil
	case (class == "private" || class == "cgnat") && c.opts.AllowPrivate:
		return nil
	}
	return fmt.Errorf("%s resolves to %s (%s): %w", host, a.Unmap(), class, ErrAddressNotAllowed)
}

// dialContext connects to an allowed host on one of its allowed addresses.
func (c *Client) dialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("dial %s: bad port %q", host, portStr)
	}
	host = normalizeHost(host)
	if !c.HostAllowed(host) {
		return nil, fmt.Errorf("dial %s: %w", host, ErrHostNotAllowed)
	}
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{a}
	} else {
		addrs, err = c.opts.LookupIP(ctx, host)
		if err != nil {
			return nil, fmt.Errorf("resolve %s: %w", host, err)
		}
		if len(addrs) == 0 {
			return nil, fmt.Errorf("resolve %s: no addresses: %w", host, ErrAddressNotAllowed)
		}
	}
	var errs []error
	for _, a := range addrs {
		if err := c.checkAddr(host, a); err != nil {
			errs = append(errs, err)
			continue
		}
		conn, err := c.dialer.DialContext(ctx, "tcp", netip.AddrPortFrom(a.Unmap(), uint16(port)).String())
		if err == nil {
			return conn, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return nil, errors.Join(errs...)
}

// control re-checks the address of every socket about to connect.
func (c *Client) control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("dial %s: not an IP address: %w", address, ErrAddressNotAllowed)
	}
	return c.checkAddr(ap.Addr().String(), ap.Addr())
}

// dial opens a guarded TCP connection to host:port, for SMTP.
func (c *Client) dial(ctx context.Context, host string, port int) (net.Conn, error) {
	return c.dialContext(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(port)))
}

// response is what post returns: status, headers and a bounded body.
type response struct {
	status int
	header http.Header
	body   []byte
}

// post sends body to rawURL. rawURL may carry a token: it never appears
// in the returned error, which names the host instead.
func (c *Client) post(ctx context.Context, rawURL string, header http.Header, body []byte) (response, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return response{}, errors.New("invalid URL") // url.Parse's error quotes the URL
	}
	host := u.Hostname()
	if err := c.CheckURL(u); err != nil {
		return response{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return response{}, fmt.Errorf("POST %s: %w", host, stripURL(err))
	}
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	req.Header.Set("User-Agent", c.opts.UserAgent)
	resp, err := c.http.Do(req)
	if err != nil {
		return response{}, fmt.Errorf("POST %s: %w", host, stripURL(err))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, c.opts.MaxResponseBytes+1))
	if err != nil {
		return response{status: resp.StatusCode, header: resp.Header}, fmt.Errorf("POST %s: reading response: %w", host, stripURL(err))
	}
	if int64(len(data)) > c.opts.MaxResponseBytes {
		return response{status: resp.StatusCode, header: resp.Header}, fmt.Errorf("POST %s: %w (over %d bytes)", host, ErrResponseTooLarge, c.opts.MaxResponseBytes)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: data}, nil
}

// stripURL removes the *url.Error layer, whose message quotes the URL.
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// Do sends req under the outbound policy, for callers that speak an API
// of their own (ticketing systems: internal/respond's ticket actions take
// any value with this method): the URL must pass [Client.CheckURL], the
// connection the address checks, and the response body is cut after
// MaxResponseBytes (reading past it is an error wrapping
// [ErrResponseTooLarge]). As with channels, errors name the host and never
// the URL. The caller closes the response body.
func (c *Client) Do(req *http.Request) (*http.Response, error) {
	if req.URL == nil {
		return nil, errors.New("notify: request without a URL")
	}
	host := req.URL.Hostname()
	if err := c.CheckURL(req.URL); err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", c.opts.UserAgent)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", req.Method, host, stripURL(err))
	}
	resp.Body = &limitedBody{rc: resp.Body, left: c.opts.MaxResponseBytes, host: host, max: c.opts.MaxResponseBytes}
	return resp, nil
}

// limitedBody ends a response body with an error after max bytes.
type limitedBody struct {
	rc   io.ReadCloser
	left int64
	max  int64
	host string
}

func (l *limitedBody) Read(p []byte) (int, error) {
	if l.left <= 0 {
		// one more byte means the body is longer than allowed
		var b [1]byte
		if n, _ := l.rc.Read(b[:]); n > 0 {
			return 0, fmt.Errorf("%s: %w (over %d bytes)", l.host, ErrResponseTooLarge, l.max)
		}
		return 0, io.EOF
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.rc.Read(p)
	l.left -= int64(n)
	return n, err
}

func (l *limitedBody) Close() error { return l.rc.Close() }
