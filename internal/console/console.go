package console

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	json "github.com/goccy/go-json"

	"github.com/canopy-sec/canopy/internal/api"
	"github.com/canopy-sec/canopy/internal/store"
	"github.com/canopy-sec/canopy/web"
)

// API is the REST API the console reads and writes through.
type API interface {
	// Do serves one API request in process as p.
	Do(ctx context.Context, p api.Principal, method, target string, body io.Reader) (api.Response, error)
	// InsecurePrincipal is who acts when the API runs without
	// authentication; ok is false when it does not.
	InsecurePrincipal() (p api.Principal, ok bool)
}

// Store keeps the console's sessions and resolves the API tokens they
// act as.
type Store interface {
	store.Sessions
	TokenByHash(ctx context.Context, hash string) (store.Token, error)
}

// Options configures a [Console].
type Options struct {
	// API is the REST API every page reads through. Required.
	API API
	// Store keeps sessions. Required.
	Store Store
	// Logger; default discards.
	Logger *slog.Logger
	// SessionTTL is how long a sign-in lasts; default 12 hours.
	SessionTTL time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Console is the web console's HTTP handler.
type Console struct {
	opts  Options
	mux   *http.ServeMux
	pages map[string]*template.Template
	cat   catalogs
	h     http.Handler
}

// New returns a console.
func New(opts Options) (*Console, error) {
	if opts.API == nil || opts.Store == nil {
		return nil, errors.New("console: Options.API and Options.Store are required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.SessionTTL <= 0 {
		opts.SessionTTL = 12 * time.Hour
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	cat, err := loadCatalogs(web.Messages())
	if err != nil {
		return nil, err
	}
	c := &Console{opts: opts, mux: http.NewServeMux(), cat: cat}
	if c.pages, err = parsePages(web.Templates(), c.funcs()); err != nil {
		return nil, err
	}
	static := http.StripPrefix("/static/", http.FileServerFS(web.Static()))
	c.mux.Handle("GET /static/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		static.ServeHTTP(w, r)
	}))
	c.mux.HandleFunc("GET /login", c.loginPage)
	c.mux.HandleFunc("POST /login", c.login)
	c.mux.HandleFunc("GET /signin/{code}", c.signinLink)
	c.mux.HandleFunc("POST /logout", c.signedIn(c.logout))
	c.mux.HandleFunc("GET /{$}", c.signedIn(c.overview))
	c.mux.HandleFunc("GET /findings", c.signedIn(c.findings))
	c.mux.HandleFunc("GET /raw/{kind}/{id}", c.signedIn(c.raw))
	c.mux.HandleFunc("GET /incidents", c.signedIn(c.incidents))
	c.mux.HandleFunc("GET /incidents/{id}", c.signedIn(c.incident))
	c.mux.HandleFunc("GET /posture", c.signedIn(c.posture))
	c.mux.HandleFunc("GET /posture/{pack}", c.signedIn(c.posturePack))
	c.mux.HandleFunc("GET /posture/{pack}/report", c.signedIn(c.postureReport))
	c.mux.HandleFunc("GET /responsibility", c.signedIn(c.responsibility))
	c.mux.HandleFunc("GET /approvals", c.signedIn(c.approvals))
	c.mux.HandleFunc("POST /approvals/{id}/approve", c.signedIn(c.decide(true)))
	c.mux.HandleFunc("POST /approvals/{id}/reject", c.signedIn(c.decide(false)))
	c.mux.HandleFunc("GET /data", c.signedIn(c.data))
	c.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		c.fail(w, r, nil, http.StatusNotFound, c.cat.lang(r).T("error.not_found"))
	})
	// a form posted from another origin is refused before any handler runs
	// (Sec-Fetch-Site / Origin); forms of a session also carry its CSRF
	// token (see signedIn)
	c.h = headers(http.NewCrossOriginProtection().Handler(c.mux))
	return c, nil
}

// ServeHTTP implements http.Handler.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) { c.h.ServeHTTP(w, r) }

// headers sets the security headers of every console answer.
func headers(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "same-origin")
		h.ServeHTTP(w, r)
	})
}

// view is what every page template gets.
type view struct {
	Lang  string
	Path  string // the page's path and query, for the language switch
	User  string
	Role  string
	CSRF  string
	Page  string // nav key of the page
	Title string
	Error string
	Data  any
}

// render writes page name with data.
func (c *Console) render(w http.ResponseWriter, r *http.Request, s *session, status int, name, titleKey string, data any) {
	t, ok := c.pages[name]
	if !ok {
		c.opts.Logger.Error("no such page template", "page", name)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	lg := c.cat.lang(r)
	v := view{Lang: lg.Code, Path: r.URL.RequestURI(), Page: name, Title: lg.T(titleKey), Data: data}
	if s != nil {
		v.User, v.Role, v.CSRF = s.p.Name, string(s.p.Role), s.csrf
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", pageData{view: v, lang: lg}); err != nil {
		c.opts.Logger.Error("rendering page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Language", lg.Code)
	w.Header().Set("Vary", "Cookie, Accept-Language")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// LangURL is the page's URL switching to language code.
func (v view) LangURL(code string) string {
	u, err := url.Parse(v.Path)
	if err != nil {
		return "/?lang=" + url.QueryEscape(code)
	}
	q := u.Query()
	q.Set("lang", code)
	u.RawQuery = q.Encode()
	return u.RequestURI()
}

// pageData is the dot of a template: the view and the language's messages.
type pageData struct {
	view
	lang *lang
}

// T translates a message key.
func (d pageData) T(key string, args ...any) string { return d.lang.T(key, args...) }

// fail renders an error page.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, s *session, status int, msg string) {
	c.render(w, r, s, status, "error", "error.title", map[string]any{"Status": status, "Message": msg})
}

// apiError is a non-2xx answer of the API.
type apiError struct {
	Status  int
	Code    string
	Message string
}

func (e *apiError) Error() string { return fmt.Sprintf("API %d %s: %s", e.Status, e.Code, e.Message) }

// call makes an API request as the session's principal and decodes a 2xx
// JSON answer into out (when not nil).
func (c *Console) call(ctx context.Context, s *session, method, target string, body any, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	body2xx, err := c.send(ctx, s, method, target, rd)
	if err != nil || out == nil {
		return err
	}
	if err := json.Unmarshal(body2xx, out); err != nil {
		return fmt.Errorf("API %s %s: decoding the answer: %w", method, target, err)
	}
	return nil
}

// send makes an API request as the session's principal and returns the
// body of a 2xx answer; any other answer is an *apiError.
func (c *Console) send(ctx context.Context, s *session, method, target string, body io.Reader) ([]byte, error) {
	resp, err := c.opts.API.Do(ctx, s.p, method, target, body)
	if err != nil {
		return nil, err
	}
	if resp.Status/100 != 2 {
		var e struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		json.Unmarshal(resp.Body, &e)
		return nil, &apiError{Status: resp.Status, Code: e.Error.Code, Message: e.Error.Message}
	}
	return resp.Body, nil
}

// get is call with GET; path is joined with the query q (nil: none).
func (c *Console) get(ctx context.Context, s *session, path string, q url.Values, out any) error {
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	return c.call(ctx, s, http.MethodGet, path, nil, out)
}

// apiFail renders the error of an API call: its status and message for
// client errors, a generic message (and a log line) otherwise.
func (c *Console) apiFail(w http.ResponseWriter, r *http.Request, s *session, err error) {
	var ae *apiError
	if errors.As(err, &ae) && ae.Status < 500 {
		c.fail(w, r, s, ae.Status, ae.Message)
		return
	}
	if errors.As(err, &ae) && ae.Status == http.StatusNotImplemented {
		c.fail(w, r, s, ae.Status, c.cat.lang(r).T("error.not_configured"))
		return
	}
	c.opts.Logger.Error("console request failed", "path", r.URL.Path, "err", err)
	c.fail(w, r, s, http.StatusInternalServerError, c.cat.lang(r).T("error.internal"))
}

// parsePages parses each page template (every *.html but layout.html)
// together with layout.html.
func parsePages(fsys fs.FS, funcs template.FuncMap) (map[string]*template.Template, error) {
	names, err := fs.Glob(fsys, "*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		if n == "layout.html" {
			continue
		}
		t, err := template.New(n).Funcs(funcs).ParseFS(fsys, "layout.html", n)
		if err != nil {
			return nil, fmt.Errorf("console template %s: %w", n, err)
		}
		pages[strings.TrimSuffix(n, ".html")] = t
	}
	return pages, nil
}
