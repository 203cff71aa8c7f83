package main_test

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/inwriting/inwriting/agreements"
	"github.com/inwriting/inwriting/internal/mailtest"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// startText is an agreement as Alice writes it in a new mail to the
// service, with Bob in Cc: no Title, From or To lines, a closing.
const startText = `What went wrong:
I said I would call when I was late, and twice I did not.

I will:
1. Call or text before 18:00 when I will be home after 19:00.
2. Tell Bob myself when plans change.

Bob will:
1. Ask me directly when something worries him.

Check in: every Sunday at 19:00
Time zones: Alice Europe/Lisbon, Bob America/Chicago

Thanks,
Alice
`

// sendAs sends a new message from user to the service, with cc in Cc, as
// a mail client does, through Postfix; it returns its Message-ID, in
// angle brackets.
func (s *stackEnv) sendAs(t *testing.T, user, subject, body string, cc ...string) string {
	t.Helper()
	m := gomail.NewMsg()
	if err := m.FromFormat(strings.ToUpper(user[:1])+user[1:]+" Example", s.st.Address(user)); err != nil {
		t.Fatal(err)
	}
	if err := m.To(s.st.Address("inwriting")); err != nil {
		t.Fatal(err)
	}
	for _, c := range cc {
		if err := m.AddCcFormat(strings.ToUpper(c[:1])+c[1:]+" Example", s.st.Address(c)); err != nil {
			t.Fatal(err)
		}
	}
	m.Subject(subject)
	id := fmt.Sprintf("start.%d.%s@%s", time.Now().UnixNano(), user, s.st.Domain)
	m.SetMessageIDWithValue(id)
	m.SetBodyString(gomail.TypeTextPlain, body)
	s.submit(t, user, m)
	return "<" + id + ">"
}

// outboxTo returns the mails queued to address, of any agreement or none.
func (s *stackEnv) outboxTo(t *testing.T, address string) []*agreements.OutboxMail {
	t.Helper()
	ms, err := s.db.FindOutbox(context.Background(), agreements.OutboxFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var out []*agreements.OutboxMail
	for _, m := range ms {
		if m.To == address {
			out = append(out, m)
		}
	}
	return out
}

func allowStart(allow string, perDay int) func(*env) {
	return func(e *env) {
		e.vars["INWRITING_START_ALLOW"] = allow
		e.vars["INWRITING_START_PER_DAY"] = fmt.Sprint(perDay)
	}
}

// TestServe_StartByEmail: Alice, whose domain may start agreements,
// writes one to the service with Bob in Cc; both get the copy to confirm,
// Alice too, and both confirming makes it active.
func TestServe_StartByEmail(t *testing.T) {
	s := serveOnStack(t, allowStart("@example.test", 3))
	key := s.sendAs(t, "alice", "Evenings and phone calls", startText, "bob")
	if outcome, folder := s.handled(t, key); outcome != "started" || folder != "Processed" {
		t.Fatalf("the start: %s in %s", outcome, folder)
	}
	as, err := s.db.FindAgreements(context.Background(), agreements.AgreementFilter{Limit: 1})
	if err != nil || len(as) != 1 || as[0].Terms.Title != "Evenings and phone calls" || as[0].Status != agreements.StatusPending {
		t.Fatalf("agreements: %v, %v", as, err)
	}
	id := as[0].ID
	for _, user := range []string{"alice", "bob"} {
		raw := s.fetch(t, user, s.sentMail(t, id, agreements.MailConfirmRequest, s.st.Address(user)).MessageID)
		if outcome, _ := s.handled(t, s.replyAs(t, user, raw, "I agree")); outcome != "confirmed" {
			t.Fatalf("%s confirms: %s", user, outcome)
		}
	}
	for _, user := range []string{"alice", "bob"} {
		s.sentMail(t, id, agreements.MailConfirmed, s.st.Address(user))
	}
	if a, err := s.db.FindAgreementByID(context.Background(), id); err != nil || a.Status != agreements.StatusActive {
		t.Fatalf("after both confirmed: %v, %v", a, err)
	}
}

// TestServe_StartByEmail_Answered: what cannot start an agreement is
// answered to its writer alone, once, up to the day's limit; a sender
// who may not start gets nothing at all; nobody they named hears of it.
func TestServe_StartByEmail_Answered(t *testing.T) {
	s := serveOnStack(t, allowStart("alice@example.test", 2))
	for _, tt := range []struct {
		from, outcome string
		body          string
		cc            []string
	}{
		{"alice", "start-too-many", startText, []string{"bob", "ann"}},
		{"alice", "start-unclear", strings.Replace(startText, "Check in: every Sunday at 19:00\n", "", 1), []string{"bob"}},
		{"alice", "start-limit", startText, []string{"bob"}},
		{"ben", "start-refused", startText, []string{"ann"}},
	} {
		key := s.sendAs(t, tt.from, "Evenings", tt.body, tt.cc...)
		if outcome, _ := s.handled(t, key); outcome != tt.outcome {
			t.Fatalf("from %s to %v: %s, want %s", tt.from, tt.cc, outcome, tt.outcome)
		}
	}
	// Alice has her three answers (the last says the day is full) and
	// nobody else has anything.
	waitUntil(t, func() bool {
		n := 0
		for _, m := range s.outboxTo(t, s.st.Address("alice")) {
			if m.Kind == agreements.MailStartHelp && m.Status == agreements.MailSent {
				n++
			}
		}
		return n == 3
	})
	help := s.outboxTo(t, s.st.Address("alice"))[1]
	raw := s.fetch(t, "alice", help.MessageID)
	body := strings.ReplaceAll(string(raw), "=\r\n", "")
	for _, want := range []string{"is missing how often to check in", "Bob will:", "Check in: (how often"} {
		if !strings.Contains(body, want) {
			t.Errorf("the answer to the unclear start lacks %q:\n%s", want, raw)
		}
	}
	for _, user := range []string{"bob", "ann", "ben"} {
		if ms := s.outboxTo(t, s.st.Address(user)); len(ms) != 0 {
			t.Errorf("%s was sent %d mails", user, len(ms))
		}
	}
	if as, _ := s.db.FindAgreements(context.Background(), agreements.AgreementFilter{}); len(as) != 0 {
		t.Errorf("%d agreements started", len(as))
	}
}

// TestServe_AmendByEmail: Bob replies "amend:" to his confirmed copy;
// both get version 2 to confirm, with what changed (testdata/
// amend-by-email.txt), version 1 staying in force until both confirm it.
func TestServe_AmendByEmail(t *testing.T) {
	s := serveOnStack(t)
	id := s.newAgreement(t, fmt.Sprintf(agreementText, "Evenings and phone calls", "Bob Example <bob@example.test>"))
	for _, user := range []string{"alice", "bob"} {
		raw := s.fetch(t, user, s.sentMail(t, id, agreements.MailConfirmRequest, s.st.Address(user)).MessageID)
		s.handled(t, s.replyAs(t, user, raw, "I agree"))
	}
	raw := s.fetch(t, "bob", s.sentMail(t, id, agreements.MailConfirmed, s.st.Address("bob")).MessageID)
	amend := "amend:\nI will:\n1. Ask Alice directly when something worries me.\n2. Say so the same day when I am upset.\nCheck in: every Sunday at 18:00\n\nBob"
	if outcome, _ := s.handled(t, s.replyAs(t, "bob", raw, amend)); outcome != "amended" {
		t.Fatalf("the amendment: %s", outcome)
	}
	if a, _ := s.db.FindAgreementByID(context.Background(), id); a.Version != 1 || a.Proposed != 2 || a.Status != agreements.StatusActive {
		t.Fatalf("while version 2 waits: version %d, proposed %d, %s", a.Version, a.Proposed, a.Status)
	}
	var texts []string
	for _, user := range []string{"alice", "bob"} {
		m := s.sentMail(t, id, agreements.MailConfirmRequest, s.st.Address(user))
		if m.Data.Agreement.Version != 2 {
			m = nil
			waitUntil(t, func() bool {
				for _, x := range s.outboxTo(t, s.st.Address(user)) {
					if x.Kind == agreements.MailConfirmRequest && x.Data.Agreement.Version == 2 && x.Status == agreements.MailSent {
						m = x
						return true
					}
				}
				return false
			})
		}
		raw := s.fetch(t, user, m.MessageID)
		texts = append(texts, strings.ReplaceAll(mailtest.Parse(t, raw).Text, "\r\n", "\n"))
		s.handled(t, s.replyAs(t, user, raw, "I agree"))
	}
	changes := regexp.MustCompile(`(?s)It changes version 1.*?\n\n(?:.*?\n\n)?What changed from version 1.*?\n\n`).FindString(texts[0])
	if changes == "" {
		t.Fatalf("Alice's request to confirm version 2 shows no changes:\n%s", texts[0])
	}
	mailtest.Golden(t, filepath.Join("testdata", "amend-by-email.txt"), []byte(changes), *update)
	waitUntil(t, func() bool {
		a, err := s.db.FindAgreementByID(context.Background(), id)
		return err == nil && a.Version == 2 && a.Proposed == 0
	})
}
