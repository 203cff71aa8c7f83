package agreements_test

import (
	"context"
	"fmt"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/inwriting/inwriting/agreements"
)

// startBody is an agreement as Alice would write it in a mail to the
// service, with Bob in Cc.
const startBody = `What went wrong:
I said I would call when I was late, and twice I did not.

I will:
1. Call before 18:00 when late.
2. Tell Bob when plans change.

Bob will:
- Ask directly when worried.

Check in: every Sunday at 19:00
Time zones: Alice Europe/Lisbon, Bob America/Chicago

Alice
`

// startCase is a store where Alice's domain may start agreements by mail.
type startCase struct {
	db  *agreements.DB
	n   int
	now time.Time
}

func newStartCase(t *testing.T) *startCase {
	db := MustOpenDB(t)
	c := &startCase{db: db, now: Now}
	db.Now = func() time.Time { return c.now }
	db.ServiceAddress = "service@example.test"
	db.Start = agreements.StartRules{Allow: []string{"@example.test"}, PerDay: 3, DeclinedWait: 30 * 24 * time.Hour}
	return c
}

// message is a new message from Alice to the service, with cc in Cc.
func (c *startCase) message(from, subject, body string, cc ...string) agreements.Inbound {
	c.n++
	in := agreements.Inbound{
		Key: fmt.Sprintf("<s%d@example.test>", c.n), MessageID: fmt.Sprintf("<s%d@example.test>", c.n),
		Mailbox: "INBOX", UIDValidity: 1, UID: uint32(c.n),
		From: from, FromName: "Alice Example", Subject: subject, Body: body, AuthResult: "dkim=pass", AuthPass: true,
		To: []*mail.Address{{Name: "inwriting", Address: "service@example.test"}},
	}
	for _, a := range cc {
		addr, err := mail.ParseAddress(a)
		if err != nil {
			panic(err)
		}
		in.Cc = append(in.Cc, addr)
	}
	return in
}

func (c *startCase) record(t *testing.T, in agreements.Inbound) agreements.InboundOutcome {
	t.Helper()
	out, err := c.db.RecordInbound(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestStart_ByMail: an allowed person's message with the other person in
// Cc starts an agreement; both are asked to confirm it, the initiator
// too (their message is not their confirmation), and both confirming
// makes it active.
func TestStart_ByMail(t *testing.T) {
	ctx := context.Background()
	c := newStartCase(t)
	out := c.record(t, c.message("alice@example.test", "Re: Evenings and phone calls", startBody, "Bob Example <bob@example.test>"))
	if out.Outcome != "started" || out.AgreementID == 0 || out.Folder != agreements.FolderProcessed {
		t.Fatalf("outcome %+v, want started", out)
	}
	a, err := c.db.FindAgreementByID(ctx, out.AgreementID)
	if err != nil {
		t.Fatal(err)
	}
	if a.Status != agreements.StatusPending || a.Terms.Title != "Evenings and phone calls" || a.Terms.Parties[0].Address != "alice@example.test" ||
		a.Terms.Parties[1].Name != "Bob Example" || a.Terms.Parties[1].TimeZone != "America/Chicago" || len(a.Terms.Parties[0].Commitments) != 2 {
		t.Fatalf("agreement = %+v", a)
	}
	if strings.Contains(strings.Join(a.Terms.Parties[1].Commitments, "\n"), "Alice") {
		t.Errorf("the signature became a commitment: %q", a.Terms.Parties[1].Commitments)
	}
	ms := outbox(t, c.db, agreements.OutboxFilter{})
	to := map[string]agreements.MailKind{}
	for _, m := range ms {
		to[m.To] = m.Kind
	}
	if len(ms) != 2 || to["alice@example.test"] != agreements.MailConfirmRequest || to["bob@example.test"] != agreements.MailConfirmRequest {
		t.Fatalf("queued %v; want a request to confirm to each", to)
	}
	cs, err := c.db.FindConfirmations(ctx, a.ID)
	if err != nil || len(cs) != 0 {
		t.Fatalf("confirmations after the start: %d, %v; want none", len(cs), err)
	}
	for _, m := range ms {
		in := agreements.Inbound{Key: "<ok-" + m.To + ">", MessageID: "<ok-" + m.To + ">", From: m.To, Tokens: []string{m.ReplyToken}, Body: "I agree", AuthResult: "dkim=pass", AuthPass: true}
		if out := c.record(t, in); out.Outcome != "confirmed" {
			t.Fatalf("%s confirms: %+v", m.To, out)
		}
	}
	if a, _ := c.db.FindAgreementByID(ctx, a.ID); a.Status != agreements.StatusActive {
		t.Fatalf("after both confirmed: %s", a.Status)
	}
}

// TestStart_Answered: what cannot start an agreement gets one answer, to
// its writer alone; nobody else hears of it, and no agreement is made.
func TestStart_Answered(t *testing.T) {
	for _, tt := range []struct {
		name, body string
		cc         []string
		outcome    string
		reason     string
		says       string // in the answer's Problem or Understood
	}{
		{"ThirdPerson", startBody, []string{"bob@example.test", "Carol <carol@example.test>"}, "start-too-many", agreements.StartTooMany, "Carol <carol@example.test>"},
		{"NoSchedule", strings.Replace(startBody, "Check in: every Sunday at 19:00\n", "", 1), []string{"bob@example.test"}, "start-unclear", agreements.StartUnreadable, "how often to check in"},
		{"Chatter", "Hi! Can we set something up for Bob and me?\nThanks", []string{"bob@example.test"}, "start-unclear", agreements.StartUnreadable, "Line 1"},
		{"NoTimeZone", strings.Replace(startBody, "Time zones: Alice Europe/Lisbon, Bob America/Chicago\n", "", 1), []string{"bob@example.test"}, "start-unclear", agreements.StartUnreadable, "time zone"},
		{"WrongName", strings.Replace(startBody, "Bob will:", "Robert will:", 1), []string{"bob@example.test"}, "start-unclear", agreements.StartUnreadable, `"Robert" is not one of the parties`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := newStartCase(t)
			out := c.record(t, c.message("alice@example.test", "Evenings", tt.body, tt.cc...))
			if out.Outcome != tt.outcome || out.AgreementID != 0 {
				t.Fatalf("outcome %+v, want %s and no agreement", out, tt.outcome)
			}
			ms := outbox(t, c.db, agreements.OutboxFilter{})
			if len(ms) != 1 || ms[0].To != "alice@example.test" || ms[0].Kind != agreements.MailStartHelp || ms[0].Data.Reason != tt.reason {
				t.Fatalf("queued %d mails (%v); want one %s answer to Alice alone", len(ms), kinds(ms), tt.reason)
			}
			d := ms[0].Data
			if all := d.Problem + "\n" + strings.Join(d.Understood, "\n"); !strings.Contains(all, tt.says) {
				t.Errorf("the answer says %q, want it to name %q", all, tt.says)
			}
			if tt.reason == agreements.StartUnreadable && !strings.Contains(strings.ToLower(d.Template), "bob will:") {
				t.Errorf("the template to send back lacks Bob's heading:\n%s", d.Template)
			}
			if ms[0].ThreadID != strings.Trim(fmt.Sprintf("<s%d@example.test>", c.n), "<>") {
				t.Errorf("the answer threads under %q, not the message it answers", ms[0].ThreadID)
			}
			if as, err := c.db.FindAgreements(context.Background(), agreements.AgreementFilter{}); err != nil || len(as) != 0 {
				t.Fatalf("%d agreements, %v; want none", len(as), err)
			}
		})
	}
}

// TestStart_NotStarts: mail that is no start is not read as one: a
// sender who may not start gets no answer at all, a message with nobody
// else in it is unmatched, and a sender who fails authentication when
// it is required is rejected.
func TestStart_NotStarts(t *testing.T) {
	t.Run("NotAllowed", func(t *testing.T) {
		c := newStartCase(t)
		out := c.record(t, c.message("mallory@elsewhere.test", "Evenings", startBody, "bob@example.test"))
		if out.Outcome != "start-refused" || out.Folder != agreements.FolderUnmatched {
			t.Fatalf("outcome %+v, want start-refused", out)
		}
		if ms := outbox(t, c.db, agreements.OutboxFilter{}); len(ms) != 0 {
			t.Fatalf("queued %v to a stranger's message; want nothing", kinds(ms))
		}
	})
	t.Run("NobodyElse", func(t *testing.T) {
		c := newStartCase(t)
		if out := c.record(t, c.message("alice@example.test", "Evenings", startBody)); out.Outcome != "unmatched" {
			t.Fatalf("outcome %+v, want unmatched", out)
		}
		if ms := outbox(t, c.db, agreements.OutboxFilter{}); len(ms) != 0 {
			t.Fatalf("queued %v; want nothing", kinds(ms))
		}
	})
	t.Run("NotToTheService", func(t *testing.T) {
		c := newStartCase(t)
		in := c.message("alice@example.test", "Evenings", startBody, "bob@example.test")
		in.To = []*mail.Address{{Address: "service+unknowntoken@example.test"}}
		if out := c.record(t, in); out.Outcome != "unmatched" {
			t.Fatalf("outcome %+v, want unmatched", out)
		}
	})
	t.Run("AuthRequired", func(t *testing.T) {
		c := newStartCase(t)
		c.db.RequireAuth = true
		in := c.message("alice@example.test", "Evenings", startBody, "bob@example.test")
		in.AuthPass, in.AuthResult = false, "dkim=fail"
		if out := c.record(t, in); out.Outcome != "rejected-auth" || out.Folder != agreements.FolderRejected {
			t.Fatalf("outcome %+v, want rejected-auth", out)
		}
		if ms := outbox(t, c.db, agreements.OutboxFilter{}); len(ms) != 0 {
			t.Fatalf("queued %v; want nothing", kinds(ms))
		}
	})
}

// TestStart_DailyLimit: one person's start messages are answered up to
// the day's limit; the next is told once, and the rest get nothing.
func TestStart_DailyLimit(t *testing.T) {
	c := newStartCase(t)
	c.db.Start.PerDay = 2
	for i, want := range []string{"started", "start-unclear", "start-limit", "start-limit"} {
		body := startBody
		if i == 1 {
			body = "What went wrong:\nx"
		}
		if out := c.record(t, c.message("alice@example.test", fmt.Sprintf("Evenings %d", i), body, "bob@example.test")); out.Outcome != want {
			t.Fatalf("message %d: %+v, want %s", i+1, out, want)
		}
	}
	limits := 0
	for _, m := range outbox(t, c.db, agreements.OutboxFilter{}) {
		if m.Kind == agreements.MailStartHelp && m.Data.Reason == agreements.StartLimit {
			limits++
		}
	}
	if limits != 1 {
		t.Fatalf("%d answers about the limit, want 1", limits)
	}
	c.now = c.now.Add(25 * time.Hour)
	if out := c.record(t, c.message("alice@example.test", "Evenings tomorrow", startBody, "bob@example.test")); out.Outcome != "started" {
		t.Fatalf("the next day: %+v, want started", out)
	}
}

// TestStart_AfterDecline: a person who declined an agreement the sender
// started is not invited by them again for a while; the sender is told
// until when. The mails that end an agreement say how to start a new one,
// to those who may.
func TestStart_AfterDecline(t *testing.T) {
	c := newStartCase(t)
	out := c.record(t, c.message("alice@example.test", "Evenings", startBody, "bob@example.test"))
	var bobTok string
	for _, m := range outbox(t, c.db, agreements.OutboxFilter{}) {
		if m.To == "bob@example.test" {
			bobTok = m.ReplyToken
		}
	}
	if out := c.record(t, agreements.Inbound{Key: "<no@x>", MessageID: "<no@x>", From: "bob@example.test", Tokens: []string{bobTok}, Body: "I decline", AuthResult: "none"}); out.Outcome != "declined" {
		t.Fatalf("Bob declines: %+v", out)
	}
	for _, m := range outbox(t, c.db, agreements.OutboxFilter{}) {
		if m.Kind == agreements.MailDeclined && m.Data.StartAt != "service@example.test" {
			t.Errorf("declined to %s: StartAt %q, want the service's address (the domain may start)", m.To, m.Data.StartAt)
		}
	}
	c.now = c.now.Add(24 * time.Hour)
	again := c.record(t, c.message("alice@example.test", "Evenings, again", startBody, "bob@example.test"))
	if again.Outcome != "start-declined" {
		t.Fatalf("a new start a day later: %+v, want start-declined", again)
	}
	last := outbox(t, c.db, agreements.OutboxFilter{})
	if m := last[len(last)-1]; m.Kind != agreements.MailStartHelp || m.To != "alice@example.test" || m.Data.Until.Sub(Now) < 29*24*time.Hour {
		t.Fatalf("the answer: %s to %s until %v", m.Kind, m.To, m.Data.Until)
	}
	c.now = Now.Add(31 * 24 * time.Hour)
	if out := c.record(t, c.message("alice@example.test", "Evenings, later", startBody, "bob@example.test")); out.Outcome != "started" || out.AgreementID == again.AgreementID || out.AgreementID == 0 {
		t.Fatalf("after the wait: %+v, want a new agreement", out)
	}
	_ = out
}

// TestStart_NotAllowedToStart: mails that end an agreement promise no
// start by mail to a reader who may not.
func TestStart_NotAllowedToStart(t *testing.T) {
	c := newInboundCase(t)
	c.db.Start = agreements.StartRules{Allow: []string{"bob@example.test"}}
	if out := c.record(t, c.reply("alice@example.test", c.tokenOf(t, 0, agreements.MailConfirmRequest), "I decline")); out.Outcome != "declined" {
		t.Fatalf("Alice declines: %+v", out)
	}
	for _, m := range outbox(t, c.db, agreements.OutboxFilter{}) {
		if m.Kind != agreements.MailDeclined {
			continue
		}
		if want := map[string]string{"alice@example.test": "", "bob@example.test": "service@example.test"}[m.To]; m.Data.StartAt != want {
			t.Errorf("declined to %s: StartAt %q, want %q", m.To, m.Data.StartAt, want)
		}
	}
}
