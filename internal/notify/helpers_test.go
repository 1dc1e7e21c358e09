package notify

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// t0 is the fixed "now" of the tests.
var t0 = time.Date(2025, 3, 14, 9, 26, 0, 0, time.UTC)

// loopbackClient returns a client that may reach httptest servers on
// 127.0.0.1 over http, with a fixed clock.
func loopbackClient(t *testing.T) *Client {
	t.Helper()
	c, err := NewClient(ClientOptions{
		AllowHosts:        []string{"127.0.0.1"},
		AllowLoopback:     true,
		AllowInsecureHTTP: true,
		Now:               func() time.Time { return t0 },
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// sampleNotice is a critical incident notice.
func sampleNotice() Notice {
	return Notice{
		ID: "n-0001", Tenant: "acme", Party: "customer-a", Contact: "oncall",
		Subject:   Subject{Kind: SubjectIncident, ID: "INC-42", URL: "https://canopy.example/incidents/INC-42"},
		Severity:  SeverityCritical,
		Title:     "Public S3 bucket with PII exposed",
		Body:      "Bucket acme-exports is public.\nIt holds customer records.",
		Links:     []Link{{Title: "Runbook", URL: "https://wiki.example/runbooks/s3"}},
		AckURL:    "https://canopy.example/notices/n-0001/ack",
		CreatedAt: t0, NotifiedAt: t0, Deadline: t0.Add(15 * time.Minute),
		State: StateOpen,
	}
}

// capture is an HTTP receiver that records requests and answers with a
// handler-chosen status and body.
type capture struct {
	mu       sync.Mutex
	requests []captured
	reply    func(n int, r *http.Request, body []byte) (int, http.Header, string)
}

type captured struct {
	r    *http.Request
	body []byte
}

func (c *capture) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	c.mu.Lock()
	c.requests = append(c.requests, captured{r: r, body: body})
	n := len(c.requests)
	c.mu.Unlock()
	status, h, out := 200, http.Header(nil), ""
	if c.reply != nil {
		status, h, out = c.reply(n, r, body)
	}
	for k, vs := range h {
		w.Header()[k] = vs
	}
	w.WriteHeader(status)
	io.WriteString(w, out)
}

func (c *capture) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.requests)
}

func (c *capture) last(t *testing.T) captured {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.requests) == 0 {
		t.Fatal("receiver got no request")
	}
	return c.requests[len(c.requests)-1]
}

// newReceiver starts an httptest server around c.
func newReceiver(t *testing.T, c *capture) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(c)
	t.Cleanup(srv.Close)
	return srv
}

// decodeJSON unmarshals body into a generic map, failing the test.
func decodeJSON(t *testing.T, body []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, body)
	}
	return m
}

// path walks a decoded JSON value by keys and indexes.
func path(t *testing.T, v any, keys ...any) any {
	t.Helper()
	for _, k := range keys {
		switch k := k.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("at %q: not an object: %v", k, v)
			}
			v, ok = m[k]
			if !ok {
				t.Fatalf("missing key %q in %v", k, m)
			}
		case int:
			a, ok := v.([]any)
			if !ok || k >= len(a) {
				t.Fatalf("at [%d]: not an array or too short: %v", k, v)
			}
			v = a[k]
		}
	}
	return v
}

func str(t *testing.T, v any, keys ...any) string {
	t.Helper()
	s, ok := path(t, v, keys...).(string)
	if !ok {
		t.Fatalf("%v: not a string", keys)
	}
	return s
}

// noSleep records the waits a Deliverer asks for and returns at once.
type noSleep struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (s *noSleep) sleep(_ context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.waits = append(s.waits, d)
	return nil
}

// fastDeliverer retries without waiting, recording attempts.
func fastDeliverer(attempts *[]Attempt, mu *sync.Mutex) *Deliverer {
	s := &noSleep{}
	return NewDeliverer(DeliveryOptions{
		MaxAttempts: 3, Sleep: s.sleep, Jitter: func() float64 { return 0.5 },
		Now: func() time.Time { return t0 },
		OnAttempt: func(_ context.Context, a Attempt) {
			if attempts != nil {
				mu.Lock()
				*attempts = append(*attempts, a)
				mu.Unlock()
			}
		},
	})
}
