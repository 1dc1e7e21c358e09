package console_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/canopy-sec/canopy/internal/api"
	"github.com/canopy-sec/canopy/internal/console"
	"github.com/canopy-sec/canopy/internal/demo"
	"github.com/canopy-sec/canopy/internal/pipeline"
	"github.com/canopy-sec/canopy/internal/store"
	"github.com/canopy-sec/canopy/internal/store/sqlite"
)

// fixture is a console in front of a real API and SQLite store holding two
// tenants: alpha (a Trivy report) and beta (Falco alerts).
type fixture struct {
	t      *testing.T
	st     *sqlite.Store
	con    *console.Console
	srv    *httptest.Server
	tokens map[string]string // tenant → token secret
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "canopy.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	p, err := pipeline.New(pipeline.Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	files, err := demo.Files()
	if err != nil {
		t.Fatal(err)
	}
	load := map[string]string{"trivy-ubuntu-18.04.json": "alpha", "falco-alerts.jsonl": "beta"}
	for _, f := range files {
		if tenant, ok := load[f.Name]; ok {
			if _, err := p.Ingest(ctx, pipeline.Input{Name: f.Name, Tenant: tenant, R: bytes.NewReader(f.Data)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	a, err := api.New(api.Options{Store: st, Pipeline: p})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, st: st, tokens: map[string]string{}}
	for _, tenant := range []string{"alpha", "beta"} {
		secret, tok, err := api.NewToken("analyst-"+tenant, tenant, store.RoleAnalyst, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if err := st.CreateToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
		f.tokens[tenant] = secret
	}
	if f.con, err = console.New(console.Options{API: a, Store: st}); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/api/", a)
	mux.Handle("/", f.con)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

// client returns a browser-like client: a cookie jar, no redirects
// followed.
func (f *fixture) client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

type answer struct {
	status int
	header http.Header
	body   string
}

func (f *fixture) do(c *http.Client, method, path string, form url.Values, hdr map[string]string) answer {
	f.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, f.srv.URL+path, body)
	if err != nil {
		f.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, string(b)}
}

// signIn signs c in with the tenant's token and returns the CSRF token of
// its forms.
func (f *fixture) signIn(c *http.Client, tenant string) string {
	f.t.Helper()
	a := f.do(c, "POST", "/login", url.Values{"token": {f.tokens[tenant]}}, nil)
	if a.status != http.StatusSeeOther || a.header.Get("Location") != "/" {
		f.t.Fatalf("sign-in: %d %s\n%s", a.status, a.header.Get("Location"), a.body)
	}
	home := f.do(c, "GET", "/", nil, nil)
	if home.status != 200 {
		f.t.Fatalf("overview after sign-in: %d\n%s", home.status, home.body)
	}
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(home.body)
	if m == nil {
		f.t.Fatal("no CSRF token in the overview")
	}
	return m[1]
}

var pages = []string{"/", "/findings", "/findings?severity=high&q=openssl", "/incidents", "/posture", "/posture/cis-aws-3.0",
	"/responsibility", "/approvals", "/data", "/raw/finding/1"}

func TestNoPageWithoutSession(t *testing.T) {
	f := newFixture(t)
	c := f.client()
	for _, p := range pages {
		a := f.do(c, "GET", p, nil, nil)
		if a.status != http.StatusSeeOther || !strings.HasPrefix(a.header.Get("Location"), "/login") {
			t.Errorf("GET %s without a session: %d %s, want a redirect to /login", p, a.status, a.header.Get("Location"))
		}
	}
	for _, p := range []string{"/approvals/x/approve", "/approvals/x/reject", "/logout"} {
		if a := f.do(c, "POST", p, url.Values{"option": {"a"}}, nil); a.status != http.StatusUnauthorized {
			t.Errorf("POST %s without a session: %d, want 401", p, a.status)
		}
	}
	// a forged or stale cookie is no session either
	u, _ := url.Parse(f.srv.URL)
	c.Jar.SetCookies(u, []*http.Cookie{{Name: "canopy_session", Value: "forged"}})
	if a := f.do(c, "GET", "/findings", nil, nil); a.status != http.StatusSeeOther {
		t.Errorf("forged cookie: %d", a.status)
	}
	// the login page itself and the static files need none
	if a := f.do(c, "GET", "/login", nil, nil); a.status != 200 || !strings.Contains(a.body, `id="login"`) {
		t.Errorf("login page: %d", a.status)
	}
	if a := f.do(c, "GET", "/static/vendor/htmx/htmx.min.js", nil, nil); a.status != 200 {
		t.Errorf("static: %d", a.status)
	}
}

func TestSignInCookieAndSignOut(t *testing.T) {
	f := newFixture(t)
	c := f.client()
	bad := f.do(c, "POST", "/login", url.Values{"token": {"cnp_wrong"}}, nil)
	if bad.status != http.StatusUnauthorized || !strings.Contains(bad.body, `class="error"`) {
		t.Fatalf("bad token: %d", bad.status)
	}
	a := f.do(c, "POST", "/login", url.Values{"token": {f.tokens["alpha"]}, "next": {"//evil.example/"}}, nil)
	if a.status != http.StatusSeeOther || a.header.Get("Location") != "/" {
		t.Fatalf("sign-in: %d %q (an off-site next must not be followed)", a.status, a.header.Get("Location"))
	}
	ck := a.header.Get("Set-Cookie")
	for _, want := range []string{"canopy_session=", "HttpOnly", "SameSite=Strict", "Path=/"} {
		if !strings.Contains(ck, want) {
			t.Errorf("session cookie %q lacks %s", ck, want)
		}
	}
	if strings.Contains(ck, f.tokens["alpha"]) {
		t.Error("the session cookie holds the API token")
	}
	home := f.do(c, "GET", "/", nil, nil)
	if home.status != 200 {
		t.Fatalf("overview: %d\n%s", home.status, home.body)
	}
	for _, h := range []string{"Content-Security-Policy", "X-Frame-Options"} {
		if home.header.Get(h) == "" {
			t.Errorf("no %s header", h)
		}
	}
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(home.body)[1]
	// a form without the session's CSRF token, or from another origin, is refused
	if a := f.do(c, "POST", "/logout", url.Values{}, nil); a.status != http.StatusForbidden {
		t.Errorf("logout without CSRF token: %d, want 403", a.status)
	}
	if a := f.do(c, "POST", "/logout", url.Values{"csrf": {"x" + csrf}}, nil); a.status != http.StatusForbidden {
		t.Errorf("logout with a wrong CSRF token: %d, want 403", a.status)
	}
	if a := f.do(c, "POST", "/logout", url.Values{"csrf": {csrf}}, map[string]string{"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"}); a.status != http.StatusForbidden {
		t.Errorf("cross-origin logout: %d, want 403", a.status)
	}
	if a := f.do(c, "POST", "/logout", url.Values{"csrf": {csrf}}, nil); a.status != http.StatusSeeOther {
		t.Fatalf("logout: %d", a.status)
	}
	if a := f.do(c, "GET", "/findings", nil, nil); a.status != http.StatusSeeOther {
		t.Errorf("after sign-out: %d, want a redirect", a.status)
	}
}

func TestRevokedTokenEndsSession(t *testing.T) {
	f := newFixture(t)
	c := f.client()
	f.signIn(c, "alpha")
	toks, err := f.st.ListTokens(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, tk := range toks {
		if tk.Tenant == "alpha" {
			if err := f.st.RevokeToken(context.Background(), tk.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	if a := f.do(c, "GET", "/findings", nil, nil); a.status != http.StatusSeeOther {
		t.Errorf("session of a revoked token: %d, want a redirect to /login", a.status)
	}
}

func TestSignInLinkWorksOnce(t *testing.T) {
	f := newFixture(t)
	tok, err := f.st.TokenByHash(context.Background(), api.HashToken(f.tokens["beta"]))
	if err != nil {
		t.Fatal(err)
	}
	path, err := f.con.SignInLink(context.Background(), tok.Hash)
	if err != nil {
		t.Fatal(err)
	}
	c := f.client()
	if a := f.do(c, "GET", path, nil, nil); a.status != http.StatusSeeOther || a.header.Get("Location") != "/" {
		t.Fatalf("first use: %d %s", a.status, a.header.Get("Location"))
	}
	if a := f.do(c, "GET", "/findings", nil, nil); a.status != 200 || !strings.Contains(a.body, "Falco") {
		t.Fatalf("findings after the link: %d", a.status)
	}
	if a := f.do(f.client(), "GET", path, nil, nil); a.status != http.StatusUnauthorized {
		t.Errorf("second use: %d, want 401", a.status)
	}
}

// TestTenantIsolation: a session of tenant alpha never shows beta's data,
// on any page, nor through the raw JSON links.
func TestTenantIsolation(t *testing.T) {
	f := newFixture(t)
	alpha, beta := f.client(), f.client()
	f.signIn(alpha, "alpha")
	f.signIn(beta, "beta")

	betaPage := f.do(beta, "GET", "/findings", nil, nil)
	ids := regexp.MustCompile(`/raw/finding/(\d+)`).FindAllStringSubmatch(betaPage.body, -1)
	if len(ids) == 0 || !strings.Contains(betaPage.body, "Falco") {
		t.Fatalf("beta sees no findings of its own:\n%s", betaPage.body)
	}
	for _, p := range pages {
		a := f.do(alpha, "GET", p, nil, nil)
		if a.status != 200 && a.status != 404 {
			t.Errorf("alpha GET %s: %d\n%s", p, a.status, a.body)
		}
		for _, leak := range []string{"Falco", "falco", "Terminal shell in container"} {
			if strings.Contains(a.body, leak) {
				t.Errorf("alpha's %s shows beta's data (%q)", p, leak)
			}
		}
	}
	for _, m := range ids {
		if a := f.do(alpha, "GET", "/raw/finding/"+m[1], nil, nil); a.status != http.StatusNotFound {
			t.Errorf("alpha reads beta's finding %s: %d", m[1], a.status)
		}
	}
	if a := f.do(alpha, "GET", "/findings", nil, nil); !strings.Contains(a.body, "Trivy") {
		t.Error("alpha does not see its own Trivy findings")
	}
}

func TestFindingsFiltersAndRaw(t *testing.T) {
	f := newFixture(t)
	c := f.client()
	f.signIn(c, "alpha")
	all := f.do(c, "GET", "/findings", nil, nil)
	high := f.do(c, "GET", "/findings?severity=medium", nil, nil)
	if high.status != 200 {
		t.Fatalf("filtered: %d", high.status)
	}
	sevs := regexp.MustCompile(`<td class="sev [^"]*">([^<]+)</td>`).FindAllStringSubmatch(high.body, -1)
	if len(sevs) == 0 {
		t.Fatal("no medium findings listed")
	}
	for _, s := range sevs {
		if s[1] != "Medium" {
			t.Errorf("severity filter medium lists a %s finding", s[1])
		}
	}
	if strings.Count(all.body, "raw-link") <= strings.Count(high.body, "raw-link") {
		t.Error("the filter did not narrow the list")
	}
	// search narrows to titles or resources containing the word
	title := regexp.MustCompile(`<td class="title">([^<]+)</td>`).FindStringSubmatch(high.body)[1]
	word := strings.Fields(title)[0]
	found := f.do(c, "GET", "/findings?q="+url.QueryEscape(word), nil, nil)
	rows := regexp.MustCompile(`<td class="title">([^<]+)</td>`).FindAllStringSubmatch(found.body, -1)
	if len(rows) == 0 {
		t.Fatalf("search %q found nothing", word)
	}
	id := regexp.MustCompile(`/raw/finding/(\d+)`).FindStringSubmatch(high.body)[1]
	raw := f.do(c, "GET", "/raw/finding/"+id, nil, nil)
	if raw.status != 200 || !strings.HasPrefix(raw.header.Get("Content-Type"), "application/json") || !strings.Contains(raw.body, `"class_uid"`) {
		t.Errorf("raw JSON: %d %s", raw.status, raw.header.Get("Content-Type"))
	}
}

func TestLanguage(t *testing.T) {
	f := newFixture(t)
	c := f.client()
	zh := f.do(c, "GET", "/login", nil, map[string]string{"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"})
	if !strings.Contains(zh.body, `<html lang="zh-CN"`) || !strings.Contains(zh.body, "登录") {
		t.Errorf("Accept-Language zh-CN does not give the Chinese page")
	}
	en := f.do(c, "GET", "/login", nil, map[string]string{"Accept-Language": "en-US,en;q=0.8"})
	if !strings.Contains(en.body, `<html lang="en"`) {
		t.Errorf("Accept-Language en does not give the English page")
	}
	f.signIn(c, "alpha")
	sw := f.do(c, "GET", "/findings?severity=high&lang=zh-CN", nil, map[string]string{"Accept-Language": "en"})
	if sw.status != http.StatusSeeOther || sw.header.Get("Location") != "/findings?severity=high" {
		t.Fatalf("switch: %d %s", sw.status, sw.header.Get("Location"))
	}
	page := f.do(c, "GET", "/findings?severity=high", nil, map[string]string{"Accept-Language": "en"})
	if !strings.Contains(page.body, `<html lang="zh-CN"`) || !strings.Contains(page.body, ">发现<") {
		t.Error("the switch's choice does not win over Accept-Language")
	}
}

func TestPostureReportThroughConsole(t *testing.T) {
	f := newFixture(t)
	c := f.client()
	f.signIn(c, "alpha")
	if a := f.do(c, "GET", "/posture/cis-aws-3.0/report", nil, nil); a.status != http.StatusNotFound {
		t.Errorf("report before any scan: %d, want 404", a.status)
	}
	// import the demo inventory and scan it, through the API
	inv, err := demo.Inventory()
	if err != nil {
		t.Fatal(err)
	}
	bearer := map[string]string{"Authorization": "Bearer " + f.tokens["alpha"]}
	for _, step := range []struct{ path, body string }{{"/api/v1/inventory", string(inv[0].Data)}, {"/api/v1/scans", "{}"}} {
		req, _ := http.NewRequest("POST", f.srv.URL+step.path, strings.NewReader(step.body))
		for k, v := range bearer {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("POST %s: %d", step.path, resp.StatusCode)
		}
	}
	a := f.do(c, "GET", "/posture/cis-aws-3.0/report", nil, nil)
	if a.status != 200 || !strings.HasPrefix(a.header.Get("Content-Type"), "text/html") || !strings.Contains(a.body, "CIS") {
		t.Errorf("report: %d %s", a.status, a.header.Get("Content-Type"))
	}
	if a := f.do(c, "GET", "/posture/no-such-pack/report", nil, nil); a.status != http.StatusNotFound {
		t.Errorf("unknown pack: %d, want 404", a.status)
	}
	if a := f.do(f.client(), "GET", "/posture/cis-aws-3.0/report", nil, nil); a.status != http.StatusSeeOther {
		t.Errorf("report without a session: %d, want a redirect", a.status)
	}
}
