package console_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	json "github.com/goccy/go-json"

	"github.com/canopy-sec/canopy/internal/api"
	"github.com/canopy-sec/canopy/internal/console"
	"github.com/canopy-sec/canopy/internal/pipeline"
	"github.com/canopy-sec/canopy/internal/store"
	"github.com/canopy-sec/canopy/internal/store/sqlite"
)

// TestWriteBenchReports writes the reports of the console benchmark into
// $CANOPY_CONSOLE_GEN (skipped when unset): ten SARIF logs of ten tools,
// 100,000 results each (1M findings), over 50,000 rules, four levels and
// security severities, 2,000 files. Ingest them with
//
//	CANOPY_CONSOLE_GEN=/tmp/console-gen go test ./internal/console -run WriteBenchReports
//	canopy --data /tmp/console1m ingest /tmp/console-gen/*.sarif
func TestWriteBenchReports(t *testing.T) {
	dir := os.Getenv("CANOPY_CONSOLE_GEN")
	if dir == "" {
		t.Skip("CANOPY_CONSOLE_GEN not set")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	const tools, perTool = 10, 100_000
	sevs := []string{"9.5", "8.1", "5.5", "2.0", "0.0"}
	for tool := range tools {
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("tool%02d.sarif", tool)))
		if err != nil {
			t.Fatal(err)
		}
		w := bufio.NewWriterSize(f, 1<<20)
		name := fmt.Sprintf("Scanner%02d", tool)
		var rules []map[string]any
		for r := range 5_000 {
			rules = append(rules, map[string]any{"id": fmt.Sprintf("R%05d", tool*5_000+r),
				"shortDescription": map[string]string{"text": fmt.Sprintf("Weakness %d in %s", r, word(r))},
				"properties":       map[string]string{"security-severity": sevs[r%len(sevs)]}})
		}
		head, _ := json.Marshal(map[string]any{"name": name, "version": "1.0", "rules": rules})
		fmt.Fprintf(w, `{"version":"2.1.0","runs":[{"tool":{"driver":%s},"results":[`, head)
		for i := range perTool {
			if i > 0 {
				w.WriteString(",")
			}
			r := (i * 7919) % 5_000
			res := map[string]any{"ruleId": fmt.Sprintf("R%05d", tool*5_000+r), "level": "warning",
				"message": map[string]string{"text": fmt.Sprintf("%s found in handler %d", word(r), i)},
				"locations": []any{map[string]any{"physicalLocation": map[string]any{
					"artifactLocation": map[string]string{"uri": fmt.Sprintf("src/svc%03d/file%04d.go", i%97, i%2000)},
					"region":           map[string]int{"startLine": 1 + i/2000}}}}}
			b, _ := json.Marshal(res)
			w.Write(b)
		}
		w.WriteString("]}]}\n")
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
}

var words = []string{"sql injection", "path traversal", "weak hash", "hardcoded secret", "open redirect", "xss", "ssrf", "insecure tls", "race", "deserialization"}

func word(i int) string {
	if i == 4_999 {
		return "quokka" // one rule in 5,000: a rare search term
	}
	return words[i%len(words)]
}

// BenchmarkConsolePages renders the console's pages, server side (from the
// request to the last byte of HTML, through the API and the store), on the
// data directory $CANOPY_CONSOLE_DATA (skipped when unset), e.g. the 1M
// findings of TestWriteBenchReports:
//
//	CANOPY_CONSOLE_DATA=/tmp/console1m go test ./internal/console -run XXX -bench ConsolePages -benchtime 20x
func BenchmarkConsolePages(b *testing.B) {
	dir := os.Getenv("CANOPY_CONSOLE_DATA")
	if dir == "" {
		b.Skip("CANOPY_CONSOLE_DATA not set")
	}
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "canopy.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	p, err := pipeline.New(pipeline.Options{Store: st})
	if err != nil {
		b.Fatal(err)
	}
	a, err := api.New(api.Options{Store: st, Pipeline: p})
	if err != nil {
		b.Fatal(err)
	}
	con, err := console.New(console.Options{API: a, Store: st})
	if err != nil {
		b.Fatal(err)
	}
	secret, tok, err := api.NewToken("bench-"+strconv.FormatInt(time.Now().UnixNano(), 36), pipeline.DefaultTenant, store.RoleViewer, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	if err := st.CreateToken(ctx, tok); err != nil {
		b.Fatal(err)
	}
	defer st.RevokeToken(ctx, tok.ID)
	// sign in once
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("POST", "/login", nil)
	req.PostForm = url.Values{"token": {secret}}
	con.ServeHTTP(rec, req)
	cookies := rec.Result().Cookies()
	if len(cookies) == 0 {
		b.Fatalf("sign-in: %d %s", rec.Code, rec.Body)
	}
	for _, page := range []string{"/", "/findings", "/findings?severity=high", "/findings?source=Scanner03&severity=critical",
		"/findings?sort=risk", "/findings?q=quokka", "/findings?q=traversal", "/incidents", "/responsibility", "/posture"} {
		b.Run(page, func(b *testing.B) {
			for b.Loop() {
				rec := httptest.NewRecorder()
				req := httptest.NewRequest("GET", page, nil)
				for _, c := range cookies {
					req.AddCookie(c)
				}
				con.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("%s: %d %s", page, rec.Code, rec.Body)
				}
			}
		})
	}
}
