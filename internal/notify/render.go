package notify

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// fact is one labelled line of a rendered notice.
type fact struct {
	label string
	value string
	link  string // optional http(s) URL for value
}

// displayTime formats t for people: UTC, minute precision.
func displayTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

// oneLine collapses whitespace, so a field cannot add lines (or headers).
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// safeLink returns s when it is an absolute http(s) URL, "" otherwise: a
// link from a record never becomes javascript: or a relative path.
func safeLink(s string) string {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return ""
	}
	return u.String()
}

// headline is the notice's one-line summary: "[CRITICAL] title", marked
// when escalated.
func headline(n Notice) string {
	h := fmt.Sprintf("[%s] %s", strings.ToUpper(string(n.Severity)), oneLine(n.Title))
	if n.EscalationLevel > 0 {
		h = fmt.Sprintf("[ESCALATED L%d] %s", n.EscalationLevel, h)
	}
	return h
}

// subjectText describes the subject: "incident INC-42",
// "advisory ADV-7 (platform_vulnerability)".
func subjectText(s Subject) string {
	t := oneLine(string(s.Kind) + " " + s.ID)
	if s.Category != "" {
		t += " (" + string(s.Category) + ")"
	}
	return t
}

// deadlineText says when to acknowledge.
func deadlineText(n Notice) string {
	if n.Deadline.IsZero() {
		return "no deadline"
	}
	return displayTime(n.Deadline)
}

// facts lists the notice's labelled lines in display order.
func facts(n Notice) []fact {
	fs := []fact{
		{label: "Severity", value: string(n.Severity)},
		{label: "Party", value: oneLine(n.Party)},
	}
	if n.From != "" {
		fs = append(fs, fact{label: "From", value: oneLine(n.From)})
	}
	fs = append(fs, fact{label: "Subject", value: subjectText(n.Subject), link: safeLink(n.Subject.URL)})
	if n.Tenant != "" {
		fs = append(fs, fact{label: "Tenant", value: oneLine(n.Tenant)})
	}
	fs = append(fs, fact{label: "Acknowledge by", value: deadlineText(n)})
	if n.EscalationLevel > 0 {
		fs = append(fs, fact{label: "Escalation", value: fmt.Sprintf("level %d, to %s", n.EscalationLevel, oneLine(n.Contact))})
	}
	fs = append(fs, fact{label: "Notice", value: oneLine(n.ID)})
	return fs
}

// links returns the notice's links with safe URLs only.
func links(n Notice) []Link {
	var out []Link
	for _, l := range n.Links {
		if u := safeLink(l.URL); u != "" {
			t := oneLine(l.Title)
			if t == "" {
				t = u
			}
			out = append(out, Link{Title: t, URL: u})
		}
	}
	return out
}

// ackHint tells the contact how to acknowledge.
func ackHint(n Notice) string {
	if u := safeLink(n.AckURL); u != "" {
		return u
	}
	return "canopy notices ack " + oneLine(n.ID)
}

// markdownFlavor selects the small differences between the markdown
// subsets of DingTalk, WeCom and Feishu (lark_md).
type markdownFlavor int

const (
	mdDingTalk markdownFlavor = iota
	mdWeCom
	mdFeishu
)

// renderMarkdown renders the notice for the chat platforms' markdown
// subsets: headings, bold, links and quotes, which all three support.
func renderMarkdown(n Notice, flavor markdownFlavor, withHeadline bool) string {
	var b strings.Builder
	if withHeadline {
		h := headline(n)
		if flavor == mdWeCom {
			h = fmt.Sprintf(`<font color="%s">%s</font>`, wecomColor(n.Severity), h)
		}
		fmt.Fprintf(&b, "### %s\n", h)
	}
	// DingTalk needs a blank line between lines to break them.
	sep := "\n"
	if flavor == mdDingTalk {
		sep = "\n\n"
	}
	for _, f := range facts(n) {
		v := f.value
		if f.link != "" {
			v = fmt.Sprintf("[%s](%s)", v, f.link)
		}
		fmt.Fprintf(&b, "**%s:** %s%s", f.label, v, sep)
	}
	if body := strings.TrimSpace(n.Body); body != "" {
		for _, line := range strings.Split(body, "\n") {
			fmt.Fprintf(&b, "> %s%s", strings.TrimRight(line, "\r "), sep)
		}
	}
	for _, l := range links(n) {
		fmt.Fprintf(&b, "[%s](%s)%s", l.Title, l.URL, sep)
	}
	if u := safeLink(n.AckURL); u != "" {
		fmt.Fprintf(&b, "**[Acknowledge](%s)**", u)
	} else {
		fmt.Fprintf(&b, "Acknowledge: `%s`", ackHint(n))
	}
	return b.String()
}

func wecomColor(s Severity) string {
	switch s {
	case SeverityCritical, SeverityHigh:
		return "warning"
	case SeverityMedium:
		return "comment"
	}
	return "info"
}

// renderText renders the notice as plain text (e-mail, fallbacks).
func renderText(n Notice) string {
	var b strings.Builder
	b.WriteString(headline(n))
	b.WriteString("\n\n")
	for _, f := range facts(n) {
		fmt.Fprintf(&b, "%s: %s\n", f.label, f.value)
		if f.link != "" {
			fmt.Fprintf(&b, "  %s\n", f.link)
		}
	}
	if body := strings.TrimSpace(n.Body); body != "" {
		b.WriteString("\n")
		b.WriteString(body)
		b.WriteString("\n")
	}
	if ls := links(n); len(ls) > 0 {
		b.WriteString("\nLinks:\n")
		for _, l := range ls {
			fmt.Fprintf(&b, "- %s: %s\n", l.Title, l.URL)
		}
	}
	fmt.Fprintf(&b, "\nAcknowledge: %s\n", ackHint(n))
	return b.String()
}

// fitMarkdown renders the notice within maxBytes, shortening the body
// first (so the facts and the acknowledgement line survive), then dropping
// the links, and only then cutting the end.
func fitMarkdown(n Notice, flavor markdownFlavor, withHeadline bool, maxBytes int) string {
	s := renderMarkdown(n, flavor, withHeadline)
	if len(s) <= maxBytes {
		return s
	}
	// Quoting adds bytes per body line, so one cut may not be enough.
	for i := 0; i < 8 && len(s) > maxBytes && n.Body != ""; i++ {
		keep := len(n.Body) - (len(s) - maxBytes) - 16
		if keep < 0 {
			keep = 0
		}
		n.Body = truncateBytes(n.Body, keep)
		s = renderMarkdown(n, flavor, withHeadline)
	}
	if len(s) <= maxBytes {
		return s
	}
	n.Links = nil
	if s = renderMarkdown(n, flavor, withHeadline); len(s) <= maxBytes {
		return s
	}
	return truncateBytes(s, maxBytes)
}
