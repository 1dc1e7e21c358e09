package notify

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"
)

// fakeChannel records what it is asked to send and fails when told to.
type fakeChannel struct {
	name string
	mu   sync.Mutex
	sent []sentNotice
	fail error
}

type sentNotice struct {
	n  Notice
	to Contact
}

func (f *fakeChannel) Name() string { return f.name }
func (f *fakeChannel) Kind() string { return "fake" }
func (f *fakeChannel) Send(_ context.Context, n Notice, to Contact) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, sentNotice{n: n, to: to})
	return f.fail
}

func (f *fakeChannel) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.sent)
}

func (f *fakeChannel) last(t *testing.T) sentNotice {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.sent) == 0 {
		t.Fatalf("channel %s sent nothing", f.name)
	}
	return f.sent[len(f.sent)-1]
}

// world is a policy with a provider, two customers and a vendor, each
// contact on its own fake channel.
type world struct {
	esc   *Escalator
	store *MemoryStore
	ch    map[string]*fakeChannel
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{store: NewMemoryStore(), ch: map[string]*fakeChannel{}}
	chans := map[string]Channel{}
	for _, name := range []string{"a-oncall", "a-manager", "a-ciso", "b-oncall", "p-noc", "v-soc"} {
		f := &fakeChannel{name: name}
		w.ch[name] = f
		chans[name] = f
	}
	policy := &Policy{
		Deadlines: DefaultDeadlines(),
		Parties: map[string]Party{
			"customer-a": {ID: "customer-a", Kind: PartyCustomer, Chain: []Contact{
				{ID: "oncall", Channels: []string{"a-oncall"}},
				{ID: "manager", Channels: []string{"a-manager"}},
				{ID: "ciso", Channels: []string{"a-ciso"}},
			}},
			"customer-b": {ID: "customer-b", Kind: PartyCustomer, Chain: []Contact{{ID: "oncall", Channels: []string{"b-oncall"}}},
				Deadlines: map[Severity]time.Duration{SeverityCritical: 5 * time.Minute}},
			"provider": {ID: "provider", Kind: PartyProvider, Chain: []Contact{{ID: "noc", Channels: []string{"p-noc"}}}},
			"vendor":   {ID: "vendor", Kind: PartyVendor, Chain: []Contact{{ID: "soc", Channels: []string{"v-soc"}}}},
		},
	}
	ids := 0
	esc, err := NewEscalator(Options{
		Store: w.store, Policy: policy, Channels: chans,
		Deliverer: fastDeliverer(nil, nil),
		NewID:     func() string { ids++; return fmt.Sprintf("n%03d", ids) },
		AckURL:    func(n Notice) string { return "https://canopy.example/notices/" + n.ID + "/ack" },
	})
	if err != nil {
		t.Fatal(err)
	}
	w.esc = esc
	return w
}

func criticalRequest() Request {
	return Request{Tenant: "acme", Party: "customer-a", Severity: SeverityCritical,
		Subject: Subject{Kind: SubjectIncident, ID: "INC-42"}, Title: "Public bucket with PII"}
}

func (w *world) get(t *testing.T, id string) Notice {
	t.Helper()
	n, err := w.store.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestCriticalEscalatesAndAckStops(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	n, err := w.esc.Notify(ctx, criticalRequest(), t0)
	if err != nil {
		t.Fatal(err)
	}
	if n.State != StateOpen || n.Contact != "oncall" || n.EscalationLevel != 0 || !n.Deadline.Equal(t0.Add(15*time.Minute)) ||
		!n.DeliveredAt.Equal(t0) || n.AckURL != "https://canopy.example/notices/n001/ack" {
		t.Fatalf("created notice: %+v", n)
	}
	if got := w.ch["a-oncall"].last(t); got.n.ID != n.ID || got.to.ID != "oncall" {
		t.Errorf("first contact got %+v", got)
	}

	steps := []struct {
		at        time.Duration
		escalated []string
	}{
		{10 * time.Minute, nil},
		{15*time.Minute - time.Second, nil},
		{15 * time.Minute, []string{"n001"}}, // the deadline itself is overdue
	}
	for _, s := range steps {
		rep, err := w.esc.Tick(ctx, t0.Add(s.at))
		if err != nil || fmt.Sprint(rep.Escalated) != fmt.Sprint(s.escalated) {
			t.Fatalf("tick at +%v: %+v, %v", s.at, rep, err)
		}
	}
	n = w.get(t, "n001")
	if n.EscalationLevel != 1 || n.Contact != "manager" || !n.NotifiedAt.Equal(t0.Add(15*time.Minute)) ||
		!n.Deadline.Equal(t0.Add(30*time.Minute)) || !n.DeliveredAt.Equal(t0.Add(15*time.Minute)) {
		t.Fatalf("after escalation: %+v", n)
	}
	if got := w.ch["a-manager"].last(t); got.n.EscalationLevel != 1 || got.to.ID != "manager" {
		t.Errorf("manager got %+v", got)
	}
	if w.ch["a-oncall"].count() != 1 {
		t.Errorf("first contact notified %d times", w.ch["a-oncall"].count())
	}

	acked, err := w.esc.Ack(ctx, "n001", "alice@acme.example", "containing", t0.Add(20*time.Minute))
	if err != nil || acked.State != StateAcknowledged || acked.AckedBy != "alice@acme.example" || acked.AckNote != "containing" ||
		!acked.AckedAt.Equal(t0.Add(20*time.Minute)) {
		t.Fatalf("ack: %+v, %v", acked, err)
	}
	rep, err := w.esc.Tick(ctx, t0.Add(3*time.Hour))
	if err != nil || len(rep.Escalated)+len(rep.Exhausted)+len(rep.Redelivered) != 0 {
		t.Errorf("tick after ack: %+v, %v", rep, err)
	}
	if w.ch["a-ciso"].count() != 0 {
		t.Error("escalated past an acknowledgement")
	}
	if _, err := w.esc.Ack(ctx, "n001", "bob", "", t0.Add(4*time.Hour)); !errors.Is(err, ErrAlreadyAcknowledged) {
		t.Errorf("second ack: %v", err)
	}
	if got := w.get(t, "n001"); got.AckedBy != "alice@acme.example" {
		t.Errorf("second ack overwrote the first: %+v", got)
	}
	if _, err := w.esc.Ack(ctx, "no-such-notice", "bob", "", t0); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown id: %v", err)
	}
	if _, err := w.esc.Ack(ctx, "n001", "", "", t0); err == nil {
		t.Error("ack without a name accepted")
	}
}

func TestEscalationExhaustsChain(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	if _, err := w.esc.Notify(ctx, criticalRequest(), t0); err != nil {
		t.Fatal(err)
	}
	for i, want := range []struct {
		escalated, exhausted int
		contact              string
		state                State
	}{
		{1, 0, "manager", StateOpen},
		{1, 0, "ciso", StateOpen},
		{0, 1, "ciso", StateExhausted},
		{0, 0, "ciso", StateExhausted},
	} {
		rep, err := w.esc.Tick(ctx, t0.Add(time.Duration(i+1)*15*time.Minute))
		if err != nil || len(rep.Escalated) != want.escalated || len(rep.Exhausted) != want.exhausted {
			t.Fatalf("tick %d: %+v, %v", i, rep, err)
		}
		if n := w.get(t, "n001"); n.Contact != want.contact || n.State != want.state {
			t.Fatalf("tick %d: %+v", i, n)
		}
	}
	// Still visible, and still acknowledgeable.
	list, _ := w.store.List(ctx, Filter{State: StateExhausted})
	if len(list) != 1 || list[0].ID != "n001" {
		t.Errorf("exhausted list: %+v", list)
	}
	if n, err := w.esc.Ack(ctx, "n001", "ciso", "late", t0.Add(2*time.Hour)); err != nil || n.State != StateAcknowledged {
		t.Errorf("late ack: %+v %v", n, err)
	}
}

func TestDeadlinesBySeverityAndParty(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	tests := []struct {
		party string
		sev   Severity
		want  time.Duration
	}{
		{"customer-a", SeverityCritical, 15 * time.Minute},
		{"customer-a", SeverityHigh, time.Hour},
		{"customer-a", SeverityMedium, 8 * time.Hour},
		{"customer-a", SeverityLow, 24 * time.Hour},
		{"customer-a", SeverityInformational, 0},
		{"customer-b", SeverityCritical, 5 * time.Minute}, // party override
		{"customer-b", SeverityHigh, time.Hour},
	}
	for _, tt := range tests {
		req := criticalRequest()
		req.Party, req.Severity = tt.party, tt.sev
		n, err := w.esc.Notify(ctx, req, t0)
		if err != nil {
			t.Fatal(err)
		}
		var got time.Duration
		if !n.Deadline.IsZero() {
			got = n.Deadline.Sub(t0)
		}
		if got != tt.want {
			t.Errorf("%s %s: deadline %v, want %v", tt.party, tt.sev, got, tt.want)
		}
	}
	// Informational never escalates on time.
	rep, _ := w.esc.Tick(ctx, t0.Add(1000*time.Hour))
	for _, id := range rep.Escalated {
		if w.get(t, id).Severity == SeverityInformational {
			t.Errorf("informational notice %s escalated", id)
		}
	}
}

func TestUndeliveredEscalatesAtNextTick(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	w.ch["a-oncall"].fail = &SendError{Channel: "a-oncall", Kind: "fake", Status: 404, Message: "channel_not_found"}
	n, err := w.esc.Notify(ctx, criticalRequest(), t0)
	if !errors.Is(err, ErrUndelivered) || n.ID == "" {
		t.Fatalf("notify: %+v, %v", n, err)
	}
	stored := w.get(t, n.ID)
	if stored.DeliveryError == "" || !stored.DeliveredAt.IsZero() {
		t.Fatalf("stored: %+v", stored)
	}
	rep, err := w.esc.Tick(ctx, t0.Add(time.Minute)) // long before the deadline
	if err != nil || len(rep.Escalated) != 1 {
		t.Fatalf("tick: %+v, %v", rep, err)
	}
	if got := w.get(t, n.ID); got.Contact != "manager" || got.DeliveryError != "" || got.DeliveredAt.IsZero() {
		t.Errorf("after tick: %+v", got)
	}
}

func TestPendingDeliveryIsRedelivered(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	// A notice stored by a process that stopped before delivering it.
	n := Notice{ID: "n-crash", Tenant: "acme", Party: "customer-a", Contact: "oncall", Severity: SeverityHigh,
		Subject: Subject{Kind: SubjectFinding, ID: "F-1"}, Title: "t", CreatedAt: t0, NotifiedAt: t0,
		Deadline: t0.Add(time.Hour), State: StateOpen}
	if err := w.store.Create(ctx, n); err != nil {
		t.Fatal(err)
	}
	if rep, _ := w.esc.Tick(ctx, t0.Add(time.Minute)); len(rep.Redelivered) != 0 {
		t.Errorf("redelivered too early: %+v", rep)
	}
	rep, err := w.esc.Tick(ctx, t0.Add(5*time.Minute))
	if err != nil || len(rep.Redelivered) != 1 || w.ch["a-oncall"].count() != 1 {
		t.Fatalf("tick: %+v, %v", rep, err)
	}
	if got := w.get(t, "n-crash"); got.DeliveredAt.IsZero() || got.EscalationLevel != 0 {
		t.Errorf("after redelivery: %+v", got)
	}
}

// TestStaleEscalationLosesToAck replays the race of a Tick that read a
// notice just before it was acknowledged: the escalation must not happen.
func TestStaleEscalationLosesToAck(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	n, _ := w.esc.Notify(ctx, criticalRequest(), t0)
	snapshot := w.get(t, n.ID)
	if _, err := w.esc.Ack(ctx, n.ID, "alice", "", t0.Add(16*time.Minute)); err != nil {
		t.Fatal(err)
	}
	action, err := w.esc.handleDue(ctx, snapshot, t0.Add(16*time.Minute))
	if err != nil || action != actionNone {
		t.Fatalf("stale escalation: %v, %v", action, err)
	}
	if got := w.get(t, n.ID); got.State != StateAcknowledged || got.EscalationLevel != 0 || w.ch["a-manager"].count() != 0 {
		t.Errorf("after stale tick: %+v", got)
	}
}

func TestPublishAdvisory(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	adv := Advisory{Tenant: "platform", From: "provider", Ref: "ADV-2025-014", Category: AdvisoryPlatformVulnerability,
		Severity: SeverityHigh, Title: "Hypervisor escape patched; reboot required", URL: "https://status.provider.example/adv/14"}
	notices, err := w.esc.Publish(ctx, adv, t0)
	if err != nil || len(notices) != 2 {
		t.Fatalf("publish: %d notices, %v", len(notices), err)
	}
	for i, party := range []string{"customer-a", "customer-b"} {
		n := notices[i]
		if n.Party != party || n.From != "provider" || n.Subject.Kind != SubjectAdvisory || n.Subject.ID != "ADV-2025-014" ||
			n.Subject.Category != AdvisoryPlatformVulnerability || !n.Deadline.Equal(t0.Add(time.Hour)) {
			t.Errorf("notice %d: %+v", i, n)
		}
	}
	if w.ch["a-oncall"].count() != 1 || w.ch["b-oncall"].count() != 1 || w.ch["p-noc"].count() != 0 {
		t.Error("advisory not delivered to each customer's first contact only")
	}
	// Advisories escalate like any notice.
	rep, _ := w.esc.Tick(ctx, t0.Add(time.Hour))
	if len(rep.Escalated) != 1 || len(rep.Exhausted) != 1 { // customer-a has a next contact, customer-b not
		t.Errorf("advisory tick: %+v", rep)
	}

	bad := []struct {
		name string
		mod  func(*Advisory)
	}{
		{"from a customer", func(a *Advisory) { a.From = "customer-a" }},
		{"from a vendor", func(a *Advisory) { a.From = "vendor" }},
		{"to the provider", func(a *Advisory) { a.To = []string{"provider"} }},
		{"to an unknown party", func(a *Advisory) { a.To = []string{"nobody"} }},
		{"unknown category", func(a *Advisory) { a.Category = "gossip" }},
		{"no ref", func(a *Advisory) { a.Ref = "" }},
	}
	for _, b := range bad {
		a := adv
		b.mod(&a)
		if _, err := w.esc.Publish(ctx, a, t0); err == nil {
			t.Errorf("%s: accepted", b.name)
		}
	}
	// Targeted advisory.
	a := adv
	a.To = []string{"customer-b"}
	if ns, err := w.esc.Publish(ctx, a, t0); err != nil || len(ns) != 1 || ns[0].Party != "customer-b" {
		t.Errorf("targeted: %+v %v", ns, err)
	}
}

func TestNotifyValidation(t *testing.T) {
	w := newWorld(t)
	bad := []struct {
		name string
		mod  func(*Request)
	}{
		{"unknown party", func(r *Request) { r.Party = "nobody" }},
		{"bad severity", func(r *Request) { r.Severity = "urgent" }},
		{"no title", func(r *Request) { r.Title = " " }},
		{"no subject id", func(r *Request) { r.Subject.ID = "" }},
		{"advisory through Notify", func(r *Request) { r.Subject.Kind = SubjectAdvisory }},
	}
	for _, b := range bad {
		r := criticalRequest()
		b.mod(&r)
		if _, err := w.esc.Notify(context.Background(), r, t0); err == nil {
			t.Errorf("%s: accepted", b.name)
		}
	}
	if n, _ := w.store.List(context.Background(), Filter{}); len(n) != 0 {
		t.Errorf("invalid requests stored %d notices", len(n))
	}
}

func TestPolicyValidation(t *testing.T) {
	chans := map[string]Channel{"c": &fakeChannel{name: "c"}}
	bad := []Policy{
		{Parties: map[string]Party{"p": {ID: "p", Kind: "landlord", Chain: []Contact{{ID: "x", Channels: []string{"c"}}}}}},
		{Parties: map[string]Party{"p": {ID: "p", Kind: PartyCustomer}}},
		{Parties: map[string]Party{"p": {ID: "p", Kind: PartyCustomer, Chain: []Contact{{ID: "x", Channels: []string{"missing"}}}}}},
		{Parties: map[string]Party{"p": {ID: "p", Kind: PartyCustomer, Chain: []Contact{{ID: "x", Channels: []string{"c"}}, {ID: "x", Channels: []string{"c"}}}}}},
		{Parties: map[string]Party{"p": {ID: "q", Kind: PartyCustomer, Chain: []Contact{{ID: "x", Channels: []string{"c"}}}}}},
		{Deadlines: map[Severity]time.Duration{SeverityHigh: -time.Minute}},
		{Deadlines: map[Severity]time.Duration{"urgent": time.Minute}},
	}
	for i, p := range bad {
		if err := p.Validate(chans); err == nil {
			t.Errorf("policy %d accepted", i)
		}
	}
}

// TestEscalationOverWebhooks runs the whole path over HTTP: the first
// contact's webhook receives the notice, the deadline passes, the second
// contact's webhook receives the escalated notice, and every attempt is
// reported to the audit hook.
func TestEscalationOverWebhooks(t *testing.T) {
	ctx := context.Background()
	var verr []error
	var mu sync.Mutex
	verify := func(_ int, r *http.Request, body []byte) (int, http.Header, string) {
		if err := verifyAsDocumented(r, body, t0); err != nil {
			mu.Lock()
			verr = append(verr, err)
			mu.Unlock()
			return 401, nil, ""
		}
		return 200, nil, ""
	}
	first, second := &capture{reply: verify}, &capture{reply: verify}
	s1, s2 := newReceiver(t, first), newReceiver(t, second)
	c := loopbackClient(t)
	w1, _ := NewWebhook("first-hook", WebhookConfig{URL: NewSecret(s1.URL), Secret: NewSecret(webhookKey)}, c)
	w2, _ := NewWebhook("second-hook", WebhookConfig{URL: NewSecret(s2.URL), Secret: NewSecret(webhookKey)}, c)
	var attempts []Attempt
	var amu sync.Mutex
	esc, err := NewEscalator(Options{
		Store: NewMemoryStore(),
		Policy: &Policy{Deadlines: DefaultDeadlines(), Parties: map[string]Party{
			"vendor": {ID: "vendor", Kind: PartyVendor, Chain: []Contact{
				{ID: "soc", Channels: []string{"first-hook"}}, {ID: "lead", Channels: []string{"second-hook"}}}},
		}},
		Channels:  map[string]Channel{"first-hook": w1, "second-hook": w2},
		Deliverer: fastDeliverer(&attempts, &amu),
	})
	if err != nil {
		t.Fatal(err)
	}
	req := criticalRequest()
	req.Party = "vendor"
	n, err := esc.Notify(ctx, req, t0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := esc.Tick(ctx, t0.Add(15*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if len(verr) != 0 || first.count() != 1 || second.count() != 1 {
		t.Fatalf("first %d second %d verify errors %v", first.count(), second.count(), verr)
	}
	m := decodeJSON(t, second.last(t).body)
	if str(t, m, "notice", "id") != n.ID || path(t, m, "notice", "escalation_level") != float64(1) ||
		str(t, m, "contact", "id") != "lead" || str(t, m, "delivery_id") != n.ID+".1" {
		t.Errorf("escalated payload: %s", second.last(t).body)
	}
	if len(attempts) != 2 || attempts[0].Channel != "first-hook" || attempts[1].Channel != "second-hook" ||
		attempts[1].Notice.EscalationLevel != 1 || attempts[0].Err != nil || attempts[1].Err != nil {
		t.Errorf("attempts: %+v", attempts)
	}
}

func TestRunStopsOnCancel(t *testing.T) {
	w := newWorld(t)
	if _, err := w.esc.Notify(context.Background(), criticalRequest(), t0); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	w.esc.opts.Now = func() time.Time { return t0.Add(time.Hour) }
	if err := w.esc.Run(ctx, time.Hour); err != nil {
		t.Fatal(err)
	}
}

// cancelChannel cancels the delivery and fails with the context's error once it is cancelled.
type cancelChannel struct{ cancel context.CancelFunc }

func (c cancelChannel) Name() string { return "cancel" }
func (c cancelChannel) Kind() string { return "fake" }
func (c cancelChannel) Send(ctx context.Context, _ Notice, _ Contact) error {
	c.cancel()
	return &SendError{Channel: "cancel", Kind: "fake", Message: "cancelled", Err: ctx.Err()}
}

func TestCancelledDeliveryStaysPending(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	store := NewMemoryStore()
	esc, err := NewEscalator(Options{Store: store, Channels: map[string]Channel{"c": cancelChannel{cancel}},
		Deliverer: fastDeliverer(nil, nil),
		Policy: &Policy{Deadlines: DefaultDeadlines(), Parties: map[string]Party{
			"p": {ID: "p", Kind: PartyCustomer, Chain: []Contact{{ID: "a", Channels: []string{"c"}}, {ID: "b", Channels: []string{"c"}}}}}}})
	if err != nil {
		t.Fatal(err)
	}
	req := criticalRequest()
	req.Party = "p"
	n, err := esc.Notify(ctx, req, t0)
	if !errors.Is(err, ErrUndelivered) {
		t.Fatalf("err = %v", err)
	}
	got, _ := store.Get(context.Background(), n.ID)
	if got.DeliveryError != "" || !got.DeliveredAt.IsZero() || got.EscalationLevel != 0 {
		t.Errorf("cancelled delivery recorded as the contact's failure: %+v", got)
	}
}
