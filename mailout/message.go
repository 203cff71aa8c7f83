// Package mailout sends the service's mail: it renders each outbox row
// into a complete message (headers, threading, both parts, the agreement
// attached, optional DKIM), and delivers the rows over SMTP with retries.
package mailout

import (
	"bytes"
	"crypto"
	"fmt"
	"net/mail"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/emersion/go-msgauth/dkim"
	gomail "github.com/wneessen/go-mail"

	"github.com/inwriting/inwriting/agreements"
)

// Renderer renders a mail kind's subject, text and HTML for its data.
// *templates.Set meets it.
type Renderer interface {
	Render(name string, data any) (subject, text, html string, err error)
}

// Identity is who the service is in its mail.
type Identity struct {
	// Address is the service's mailbox, e.g. service@example.org. Replies
	// go to its plus-addresses: service+TOKEN@example.org.
	Address string

	// Name is the From display name, e.g. "inwriting".
	Name string

	// PublicURL is the https base URL of the service's web listener, for
	// RFC 8058 one-click unsubscribe; "" for none.
	PublicURL string

	// NoPlus says that the server refuses Address's plus-addresses:
	// replies go to Address itself, and the subject tag and the thread
	// headers carry the token.
	NoPlus bool
}

// Validate checks the identity.
func (id Identity) Validate() error {
	a, err := mail.ParseAddress(id.Address)
	if err != nil || a.Address != id.Address || !strings.Contains(id.Address, "@") {
		return fmt.Errorf("the service address %q is not an address like service@example.org", id.Address)
	}
	if strings.Contains(id.Address, "+") {
		return fmt.Errorf("the service address %q must not have a +tag: the service adds its own", id.Address)
	}
	if id.PublicURL != "" && !strings.HasPrefix(id.PublicURL, "https://") {
		return fmt.Errorf("the public URL %q must start with https://", id.PublicURL)
	}
	return nil
}

func (id Identity) split() (local, domain string) {
	local, domain, _ = strings.Cut(id.Address, "@")
	return local, domain
}

// ReplyAddress returns the address that carries token (see
// agreements.ReplyAddress).
func (id Identity) ReplyAddress(token string) string {
	if id.NoPlus {
		return id.Address
	}
	return agreements.ReplyAddress(id.Address, token)
}

// DKIM signs outgoing mail.
type DKIM struct {
	Domain   string
	Selector string
	Signer   crypto.Signer
}

// signedHeaders are the headers DKIM signs: those a forger would change,
// including both List-Unsubscribe headers (RFC 8058 §4).
var signedHeaders = []string{
	"From", "To", "Subject", "Date", "Message-ID", "In-Reply-To", "References", "Reply-To",
	"Auto-Submitted", "List-Id", "List-Unsubscribe", "List-Unsubscribe-Post", "MIME-Version", "Content-Type",
}

// Composer turns outbox rows into complete messages.
type Composer struct {
	Identity  Identity
	Templates Renderer
	DKIM      *DKIM // nil: unsigned
}

// Compose renders m as the whole message to send, dated date: Message's
// message in a fixed header order, DKIM-signed when so configured.
func (c *Composer) Compose(m *agreements.OutboxMail, date time.Time) ([]byte, error) {
	msg, err := c.Message(m, date)
	if err != nil {
		return nil, err
	}
	var w bytes.Buffer
	if _, err := msg.WriteTo(&w); err != nil {
		return nil, fmt.Errorf("write message: %w", err)
	}
	b := bytes.NewBuffer(orderHeaders(w.Bytes()))
	if c.DKIM == nil {
		return b.Bytes(), nil
	}
	// go-mail's own signer breaks long h= lists; go-msgauth signs the bytes.
	var signed bytes.Buffer
	if err := dkim.Sign(&signed, b, &dkim.SignOptions{
		Domain: c.DKIM.Domain, Selector: c.DKIM.Selector, Signer: c.DKIM.Signer,
		HeaderCanonicalization: dkim.CanonicalizationRelaxed, BodyCanonicalization: dkim.CanonicalizationRelaxed,
		HeaderKeys: presentHeaders(b.Bytes()),
	}); err != nil {
		return nil, fmt.Errorf("dkim sign: %w", err)
	}
	return signed.Bytes(), nil
}

// Message builds m as a go-mail message dated date, unsigned.
func (c *Composer) Message(m *agreements.OutboxMail, date time.Time) (*gomail.Msg, error) {
	subject, text, html, err := c.Templates.Render(string(m.Kind), &m.Data)
	if err != nil {
		return nil, err
	}
	if m.ReplyToken != "" {
		subject += " " + agreements.SubjectTag(m.ReplyToken)
	}
	local, domain := c.Identity.split()
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	if err := msg.FromFormat(c.Identity.Name, c.Identity.Address); err != nil {
		return nil, fmt.Errorf("from: %w", err)
	}
	if err := msg.AddToFormat(m.ToName, m.To); err != nil {
		return nil, fmt.Errorf("to: %w", err)
	}
	if err := msg.ReplyToFormat(c.Identity.Name, c.Identity.ReplyAddress(m.ReplyToken)); err != nil {
		return nil, fmt.Errorf("reply-to: %w", err)
	}
	msg.Subject(subject)
	msg.SetMessageIDWithValue(m.MessageID)
	msg.SetDateWithValue(date.UTC())
	if m.ThreadID != "" {
		msg.SetGenHeaderPreformatted(gomail.HeaderInReplyTo, "<"+m.ThreadID+">")
		msg.SetGenHeaderPreformatted(gomail.HeaderReferences, "<"+m.ThreadID+">")
	}
	// RFC 3834 §5: automatic mail says so; Exchange's own flag asks its
	// auto-replies not to answer it.
	msg.SetGenHeaderPreformatted(gomail.Header("Auto-Submitted"), "auto-generated")
	msg.SetGenHeaderPreformatted(gomail.Header("X-Auto-Response-Suppress"), "All")
	// RFC 2919 List-Id: one list per agreement, so a party can filter it.
	if m.AgreementID != 0 {
		msg.SetGenHeaderPreformatted(gomail.Header("List-Id"), fmt.Sprintf("Agreement %d <%d.agreements.%s>", m.AgreementID, m.AgreementID, domain))
	} else {
		msg.SetGenHeaderPreformatted(gomail.Header("List-Id"), fmt.Sprintf("inwriting <%s.%s>", local, domain))
	}
	// RFC 2369 List-Unsubscribe, and RFC 8058 one-click with an https URL.
	if m.CommandsToken != "" {
		// Without plus-addressing the token rides in the subject.
		subject := "unsubscribe"
		if c.Identity.NoPlus {
			subject = url.PathEscape("unsubscribe " + agreements.SubjectTag(m.CommandsToken))
		}
		mailto := "<mailto:" + c.Identity.ReplyAddress(m.CommandsToken) + "?subject=" + subject + ">"
		if c.Identity.PublicURL != "" {
			link := strings.TrimRight(c.Identity.PublicURL, "/") + "/unsubscribe/" + m.CommandsToken
			msg.SetGenHeaderPreformatted(gomail.Header("List-Unsubscribe"), "<"+link+">, "+mailto)
			msg.SetGenHeaderPreformatted(gomail.Header("List-Unsubscribe-Post"), "List-Unsubscribe=One-Click")
		} else {
			msg.SetGenHeaderPreformatted(gomail.Header("List-Unsubscribe"), mailto)
		}
	}
	msg.SetBodyString(gomail.TypeTextPlain, text)
	msg.AddAlternativeString(gomail.TypeTextHTML, html)
	if a := m.Data.Agreement; a != nil {
		if err := msg.AttachReader(a.AttachmentName(), strings.NewReader(a.CanonicalText),
			gomail.WithFileContentType(gomail.ContentType("text/plain; charset=utf-8")),
			gomail.WithFileDescription("SHA-256 "+a.Fingerprint)); err != nil {
			return nil, fmt.Errorf("attach: %w", err)
		}
		if cal := m.Data.Calendar; cal != "" {
			if err := msg.AttachReader(fmt.Sprintf("agreement-%d-checkins.ics", a.ID), strings.NewReader(cal),
				gomail.WithFileContentType(gomail.ContentType("text/calendar; charset=utf-8")),
				gomail.WithFileDescription("The check-ins, for your calendar")); err != nil {
				return nil, fmt.Errorf("attach: %w", err)
			}
		}
	}
	return msg, nil
}

// presentHeaders returns the signedHeaders that raw has: signing an absent
// header would stop anyone adding it, which is harmless but confusing.
func presentHeaders(raw []byte) []string {
	head, _, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
	lower := strings.ToLower("\r\n" + string(head))
	var keys []string
	for _, h := range signedHeaders {
		if strings.Contains(lower, "\r\n"+strings.ToLower(h)+":") {
			keys = append(keys, h)
		}
	}
	return keys
}

// headerOrder is the order of the top-level header fields in our mail; go-mail
// writes them in map order, and the same message should be the same bytes.
var headerOrder = []string{
	"date", "from", "to", "reply-to", "subject", "message-id", "in-reply-to", "references",
	"auto-submitted", "x-auto-response-suppress", "list-id", "list-unsubscribe", "list-unsubscribe-post",
	"mime-version", "content-type",
}

// orderHeaders rewrites raw's top-level header in headerOrder, fields it
// does not list last in their own order, each with its folded lines.
func orderHeaders(raw []byte) []byte {
	head, body, ok := bytes.Cut(raw, []byte("\r\n\r\n"))
	if !ok {
		return raw
	}
	var fields [][]byte
	for _, line := range bytes.SplitAfter(append(head, "\r\n"...), []byte("\r\n")) {
		if len(line) == 0 {
			continue
		}
		if (line[0] == ' ' || line[0] == '\t') && len(fields) > 0 {
			fields[len(fields)-1] = append(fields[len(fields)-1], line...)
			continue
		}
		fields = append(fields, append([]byte(nil), line...))
	}
	rank := func(f []byte) int {
		name, _, _ := bytes.Cut(f, []byte(":"))
		for i, h := range headerOrder {
			if strings.EqualFold(string(name), h) {
				return i
			}
		}
		return len(headerOrder)
	}
	sort.SliceStable(fields, func(i, j int) bool { return rank(fields[i]) < rank(fields[j]) })
	out := bytes.Join(fields, nil)
	out = append(out, "\r\n"...)
	return append(out, body...)
}
