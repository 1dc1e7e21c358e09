package notify_test

import (
	"context"
	"fmt"
	"time"

	"github.com/canopy-sec/canopy/internal/notify"
)

// printChannel stands in for a real channel: it prints what it would send.
type printChannel struct{ name string }

func (p printChannel) Name() string { return p.name }
func (p printChannel) Kind() string { return "print" }
func (p printChannel) Send(_ context.Context, n notify.Notice, to notify.Contact) error {
	fmt.Printf("%s -> %s: [%s] %s (level %d)\n", p.name, to.ID, n.Severity, n.Title, n.EscalationLevel)
	return nil
}

// The escalation flow: notify the responsible party, escalate when the
// deadline passes, stop on acknowledgement.
func ExampleEscalator() {
	ctx := context.Background()
	start := time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)
	esc, err := notify.NewEscalator(notify.Options{
		Store: notify.NewMemoryStore(),
		Policy: &notify.Policy{
			Deadlines: notify.DefaultDeadlines(),
			Parties: map[string]notify.Party{
				"acme": {ID: "acme", Kind: notify.PartyCustomer, Chain: []notify.Contact{
					{ID: "oncall", Channels: []string{"chat"}},
					{ID: "ciso", Channels: []string{"mail"}},
				}},
			},
		},
		Channels: map[string]notify.Channel{"chat": printChannel{"chat"}, "mail": printChannel{"mail"}},
		NewID:    func() string { return "n1" },
	})
	if err != nil {
		panic(err)
	}
	n, _ := esc.Notify(ctx, notify.Request{
		Tenant: "acme", Party: "acme", Severity: notify.SeverityCritical,
		Subject: notify.Subject{Kind: notify.SubjectIncident, ID: "INC-42"},
		Title:   "Credential exfiltration from build runner",
	}, start)
	fmt.Println("deadline:", n.Deadline.Format(time.Kitchen))

	rep, _ := esc.Tick(ctx, start.Add(16*time.Minute))
	fmt.Println("escalated:", rep.Escalated)

	n, _ = esc.Ack(ctx, "n1", "ciso@acme.example", "isolating the runner", start.Add(20*time.Minute))
	fmt.Println("state:", n.State)
	// Output:
	// chat -> oncall: [critical] Credential exfiltration from build runner (level 0)
	// deadline: 9:15AM
	// mail -> ciso: [critical] Credential exfiltration from build runner (level 1)
	// escalated: [n1]
	// state: acknowledged
}
