package console

import (
	"fmt"
	"io/fs"
	"net/http"
	"slices"
	"strconv"
	"strings"

	json "github.com/goccy/go-json"
)

// The console's languages; the first is the default.
var languages = []string{"en", "zh-CN"}

// langCookie remembers the language chosen with the switch.
const langCookie = "canopy_lang"

// lang is one language's message catalog.
type lang struct {
	Code string
	msgs map[string]string
}

// T returns the message for key, formatted with args (fmt verbs); a
// missing key shows as itself, so it is seen (and the catalog test fails).
func (l *lang) T(key string, args ...any) string {
	m, ok := l.msgs[key]
	if !ok {
		return key
	}
	if len(args) > 0 {
		return fmt.Sprintf(m, args...)
	}
	return m
}

// Has reports whether the catalog has key.
func (l *lang) Has(key string) bool { _, ok := l.msgs[key]; return ok }

// catalogs are the languages by code.
type catalogs map[string]*lang

// loadCatalogs reads <code>.json for every language: a flat JSON object of
// message keys to strings. Every catalog must have the same keys.
func loadCatalogs(fsys fs.FS) (catalogs, error) {
	out := catalogs{}
	for _, code := range languages {
		b, err := fs.ReadFile(fsys, code+".json")
		if err != nil {
			return nil, fmt.Errorf("console messages: %w", err)
		}
		l := &lang{Code: code}
		if err := json.Unmarshal(b, &l.msgs); err != nil {
			return nil, fmt.Errorf("console messages %s.json: %w", code, err)
		}
		out[code] = l
	}
	base := out[languages[0]]
	for _, code := range languages[1:] {
		for k := range base.msgs {
			if !out[code].Has(k) {
				return nil, fmt.Errorf("console messages %s.json: no %q (in %s.json)", code, k, base.Code)
			}
		}
		for k := range out[code].msgs {
			if !base.Has(k) {
				return nil, fmt.Errorf("console messages %s.json: %q is not in %s.json", code, k, base.Code)
			}
		}
	}
	return out, nil
}

// lang picks the request's language: the switch's cookie, else the best
// match of Accept-Language, else the default.
func (cs catalogs) lang(r *http.Request) *lang {
	if ck, err := r.Cookie(langCookie); err == nil {
		if l, ok := cs[ck.Value]; ok {
			return l
		}
	}
	if l := cs[negotiate(r.Header.Get("Accept-Language"))]; l != nil {
		return l
	}
	return cs[languages[0]]
}

// negotiate returns the supported language the Accept-Language header
// prefers most ("" when none fits): any Chinese tag picks zh-CN, any
// English tag en.
func negotiate(header string) string {
	best, bestQ := "", 0.0
	for part := range strings.SplitSeq(header, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				continue
			}
			q = f
		}
		primary, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
		var code string
		switch primary {
		case "zh":
			code = "zh-CN"
		case "en":
			code = "en"
		default:
			continue
		}
		if q > bestQ {
			best, bestQ = code, q
		}
	}
	return best
}

// switchLang handles ?lang=: it remembers a supported choice in a cookie
// and redirects to the same page without the parameter. It reports
// whether it answered.
func (cs catalogs) switchLang(w http.ResponseWriter, r *http.Request) bool {
	code := r.URL.Query().Get("lang")
	if code == "" || r.Method != http.MethodGet {
		return false
	}
	if slices.Contains(languages, code) {
		http.SetCookie(w, &http.Cookie{Name: langCookie, Value: code, Path: "/", MaxAge: 365 * 24 * 3600, SameSite: http.SameSiteStrictMode, HttpOnly: true, Secure: r.TLS != nil})
	}
	u := *r.URL
	q := u.Query()
	q.Del("lang")
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.RequestURI(), http.StatusSeeOther)
	return true
}
