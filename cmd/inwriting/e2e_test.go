package main_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-message/mail"
	gomail "github.com/wneessen/go-mail"

	"github.com/inwriting/inwriting/agreements"
	"github.com/inwriting/inwriting/internal/mailstack"
	"github.com/inwriting/inwriting/internal/mailtest"
	"github.com/inwriting/inwriting/mailin"
)

// stackEnv points the CLI at the mail stack, with inwriting@ as the
// service's mailbox, and starts "serve". It stops serve when the test ends.
type stackEnv struct {
	*env
	st *mailstack.Stack
	db *agreements.DB // a second handle on serve's database, for looking

	// stop stops serve and returns how it ended; it is called at the end
	// of the test if the test has not.
	stop func() result
}

// serveOnStack is serveOn the mail stack (Postfix and Dovecot).
func serveOnStack(t *testing.T, opts ...func(*env)) *stackEnv {
	return serveOn(t, mailstack.Require(t), opts...)
}

// eachServer runs fn as a subtest on each server of the matrix: the mail
// stack, and mox and maddy where scripts/mailmatrix started them.
func eachServer(t *testing.T, fn func(t *testing.T, st *mailstack.Stack)) {
	for _, st := range mailstack.Matrix(t) {
		t.Run(st.Name, func(t *testing.T) { fn(t, st) })
	}
}

// onServer returns text, an agreement written for example.test, with
// the addresses of st's domain.
func onServer(st *mailstack.Stack, text string) string {
	return strings.ReplaceAll(text, "@example.test", "@"+st.Domain)
}

// serveOn points the CLI at st, with inwriting@ as the service's mailbox,
// checks it with doctor, and starts "serve" until the test ends.
func serveOn(t *testing.T, st *mailstack.Stack, opts ...func(*env)) *stackEnv {
	if err := st.Empty("inwriting"); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t)
	for _, o := range opts {
		o(e)
	}
	imapHost, imapPort, _ := strings.Cut(st.IMAP, ":")
	smtpHost, smtpPort, _ := strings.Cut(st.Submission, ":")
	for k, v := range map[string]string{
		"INWRITING_SERVICE_ADDRESS": st.Address("inwriting"),
		"INWRITING_IMAP_HOST":       imapHost, "INWRITING_IMAP_PORT": imapPort, "INWRITING_IMAP_TLS": "starttls",
		"INWRITING_IMAP_USERNAME": st.Username("inwriting"), "INWRITING_IMAP_PASSWORD": st.Password("inwriting"),
		"INWRITING_IMAP_CA_FILE": st.CAFile,
		"INWRITING_SMTP_HOST":    smtpHost, "INWRITING_SMTP_PORT": smtpPort, "INWRITING_SMTP_TLS": "starttls",
		"INWRITING_SMTP_USERNAME": st.Username("inwriting"), "INWRITING_SMTP_PASSWORD": st.Password("inwriting"),
		"INWRITING_SMTP_CA_FILE": st.CAFile,
		"INWRITING_LOG_LEVEL":    "debug",
		"INWRITING_NIGHT":        "off", // the wall clock's hour must not decide what is sent
	} {
		e.vars[k] = v
	}
	if st.NoPlus {
		e.vars["INWRITING_SERVICE_PLUS_ADDRESSING"] = "false"
	}
	if r := e.run("", "doctor"); r.code != 0 {
		t.Fatalf("doctor: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	s := &stackEnv{env: e, st: st}
	s.start(t)
	db := agreements.NewDB(filepath.Join(e.vars["INWRITING_DATA_DIR"], "inwriting.db"))
	db.Reader = mailin.Reader{}
	db.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	waitUntil(t, func() bool { return db.Open(context.Background()) == nil })
	t.Cleanup(func() { db.Close() })
	s.db = db
	return s
}

// start runs "serve" until stop, or the end of the test.
func (s *stackEnv) start(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan result, 1)
	go func() { done <- s.runCtx(ctx, false, "", "serve") }()
	s.stop = sync.OnceValue(func() result {
		cancel()
		select {
		case r := <-done:
			if r.code != 0 || t.Failed() {
				t.Logf("serve: exit %d\n%s", r.code, r.stderr)
			}
			return r
		case <-time.After(30 * time.Second):
			t.Error("serve did not stop within 30 s")
			return result{code: -1}
		}
	})
	t.Cleanup(func() { s.stop() })
}

// restart stops serve and starts it again, on the same database and
// mailbox, whose folders are there now.
func (s *stackEnv) restart(t *testing.T) {
	t.Helper()
	if r := s.stop(); r.code != 0 {
		t.Fatalf("serve: exit %d\n%s", r.code, r.stderr)
	}
	s.start(t)
}

func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	mailtest.Eventually(t, "the mail stack or the sandbox", cond)
}

// sentMail waits for the outbox mail of kind to address about agreement id
// to be sent, and returns it.
func (s *stackEnv) sentMail(t *testing.T, id int64, kind agreements.MailKind, to string) *agreements.OutboxMail {
	t.Helper()
	var found *agreements.OutboxMail
	waitUntil(t, func() bool {
		ms, err := s.db.FindOutbox(context.Background(), agreements.OutboxFilter{Status: agreements.MailSent})
		if err != nil {
			return false
		}
		for _, m := range ms {
			if m.AgreementID == id && m.Kind == kind && m.To == to {
				found = m
				return true
			}
		}
		return false
	})
	return found
}

// fetch waits for the message with Message-ID id in user's INBOX and
// returns it whole. Each look is a session of its own, as a mail client
// that polls makes: a server may end a session (mox does when mail
// arrives during a search), and that is no reason to stop looking.
func (s *stackEnv) fetch(t *testing.T, user, id string) []byte {
	t.Helper()
	var raw []byte
	look := func() error {
		c, err := imapclient.DialStartTLS(s.st.IMAP, &imapclient.Options{TLSConfig: s.st.TLS})
		if err != nil {
			return err
		}
		defer c.Close()
		if err := c.Login(s.st.Username(user), s.st.Password(user)).Wait(); err != nil {
			return err
		}
		if _, err := c.Select("INBOX", nil).Wait(); err != nil {
			return err
		}
		data, err := c.UIDSearch(&imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "Message-ID", Value: id}}}, nil).Wait()
		if err != nil || len(data.AllUIDs()) == 0 {
			return err
		}
		bufs, err := c.Fetch(imap.UIDSetNum(data.AllUIDs()[0]), &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{{Peek: true}}}).Collect()
		if err != nil || len(bufs) != 1 {
			return fmt.Errorf("fetch: %v", err)
		}
		raw = bufs[0].FindBodySection(&imap.FetchItemBodySection{})
		return nil
	}
	var last error
	waitUntil(t, func() bool {
		last = look()
		return raw != nil
	})
	if raw == nil {
		t.Fatalf("fetch %s of %s: %v", id, user, last)
	}
	return raw
}

// replyAs answers the mail raw as user would in a mail client: to its
// Reply-To, threaded, with the original quoted below text, submitted
// through Postfix.
func (s *stackEnv) replyAs(t *testing.T, user string, raw []byte, text string, extra ...string) string {
	t.Helper()
	m, id := replyMsg(t, s.st.Address(user), raw, text, extra...)
	s.submit(t, user, m)
	return id
}

// submit sends m as user through the server's submission port, as a
// mail client does.
func (s *stackEnv) submit(t *testing.T, user string, m *gomail.Msg) {
	t.Helper()
	host, port, _ := strings.Cut(s.st.Submission, ":")
	var p int
	fmt.Sscan(port, &p)
	c, err := gomail.NewClient(host, gomail.WithPort(p), gomail.WithTLSPolicy(gomail.TLSMandatory), gomail.WithTLSConfig(s.st.TLS),
		gomail.WithSMTPAuth(gomail.SMTPAuthPlain), gomail.WithUsername(s.st.Username(user)), gomail.WithPassword(s.st.Password(user)))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.DialAndSend(m); err != nil {
		t.Fatal(err)
	}
}

// replyMsg is the reply from address from to the mail raw that a mail
// client writes: to its Reply-To, "Re:" subject, threaded, with the
// original's text quoted below text, and extra headers ("Name: value"). It
// returns the reply and its Message-ID, in angle brackets.
func replyMsg(t *testing.T, from string, raw []byte, text string, extra ...string) (*gomail.Msg, string) {
	t.Helper()
	r, err := mail.CreateReader(strings.NewReader(string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	replyTo, err := r.Header.AddressList("Reply-To")
	if err != nil || len(replyTo) == 0 {
		t.Fatalf("no Reply-To: %v", err)
	}
	subject, _ := r.Header.Subject()
	origID, _ := r.Header.MessageID()
	sender, _ := r.Header.AddressList("From")
	var quoted strings.Builder
	for {
		p, err := r.NextPart()
		if err != nil {
			break
		}
		if h, ok := p.Header.(*mail.InlineHeader); ok {
			if ct, _, _ := h.ContentType(); ct == "text/plain" {
				b, _ := io.ReadAll(p.Body)
				for _, l := range strings.Split(string(b), "\n") {
					quoted.WriteString("> " + strings.TrimRight(l, "\r") + "\n")
				}
			}
		}
	}
	m := gomail.NewMsg()
	m.From(from)
	m.To(replyTo[0].Address)
	if !strings.HasPrefix(strings.ToLower(subject), "re:") {
		subject = "Re: " + subject
	}
	m.Subject(subject)
	m.SetGenHeaderPreformatted(gomail.HeaderInReplyTo, "<"+origID+">")
	m.SetGenHeaderPreformatted(gomail.HeaderReferences, "<"+origID+">")
	for _, h := range extra {
		k, v, _ := strings.Cut(h, ": ")
		m.SetGenHeaderPreformatted(gomail.Header(k), v)
	}
	_, domain, _ := strings.Cut(from, "@")
	user, _, _ := strings.Cut(from, "@")
	id := fmt.Sprintf("reply.%d.%s@%s", time.Now().UnixNano(), user, domain)
	m.SetMessageIDWithValue(id)
	who := "inwriting"
	if len(sender) > 0 {
		who = sender[0].String()
	}
	m.SetBodyString(gomail.TypeTextPlain, text+"\n\nOn Fri, Nov 27, 2026 at 10:00 AM "+who+" wrote:\n"+quoted.String())
	return m, "<" + id + ">"
}

// handled waits until the store has handled the message with key.
func (s *stackEnv) handled(t *testing.T, key string) (outcome, folder string) {
	t.Helper()
	waitUntil(t, func() bool {
		return s.db.SQL().QueryRow(`SELECT outcome, folder FROM inbox WHERE message_key = ?`, key).Scan(&outcome, &folder) == nil
	})
	return outcome, folder
}

func (s *stackEnv) newAgreement(t *testing.T, text string) int64 {
	t.Helper()
	before, _ := s.db.FindAgreements(context.Background(), agreements.AgreementFilter{})
	p := s.write(fmt.Sprintf("a%d.txt", len(before)), text)
	s.mustRun("new", "--from-file", p)
	as, err := s.db.FindAgreements(context.Background(), agreements.AgreementFilter{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	return as[0].ID
}

const agreementText = `Title: %s
From: Alice Example <alice@example.test>
To: %s
Time zones: Alice Europe/Lisbon, Bob America/Chicago

What went wrong:
I said I would call when I was late, and twice I did not.

I will:
1. Call or text before 18:00 when I will be home after 19:00.
2. Tell Bob myself when plans change.

Bob will:
1. Ask me directly when something worries him.

Check in: every Sunday at 19:00
`

// TestServe_ConfirmByEmail: on every server of the matrix, both parties
// confirm by reply from their own mailbox, with serve restarted between
// the two (its folders are there by then), and both get the confirmed
// copy.
func TestServe_ConfirmByEmail(t *testing.T) {
	eachServer(t, func(t *testing.T, st *mailstack.Stack) {
		s := serveOn(t, st)
		id := s.newAgreement(t, onServer(st, fmt.Sprintf(agreementText, "Evenings and phone calls", "Bob Example <bob@example.test>")))

		// Each receives their own copy, and replies from their own mailbox.
		var replies []string
		for i, user := range []string{"alice", "bob"} {
			if i == 1 {
				s.restart(t)
			}
			m := s.sentMail(t, id, agreements.MailConfirmRequest, s.st.Address(user))
			raw := s.fetch(t, user, m.MessageID)
			if h := mailtest.Parse(t, raw).Header; st.NoPlus && strings.Contains(h.Get("Reply-To"), "+") {
				t.Fatalf("Reply-To with plus-addressing off: %s", h.Get("Reply-To"))
			}
			key := s.replyAs(t, user, raw, "I agree")
			if outcome, folder := s.handled(t, key); outcome != "confirmed" || folder != "Processed" {
				t.Fatalf("reply %s: %s in %s", key, outcome, folder)
			}
			replies = append(replies, key)
		}
		// Both receive the confirmed copy.
		for _, user := range []string{"alice", "bob"} {
			m := s.sentMail(t, id, agreements.MailConfirmed, s.st.Address(user))
			raw := s.fetch(t, user, m.MessageID)
			if !strings.Contains(string(raw), "Everyone has confirmed") {
				t.Fatalf("%s's confirmed copy:\n%s", user, raw)
			}
		}
		show := s.mustRun("show", fmt.Sprint(id))
		for _, want := range append([]string{"Status:    active", "current, confirmed by all"}, replies...) {
			if !strings.Contains(show, want) {
				t.Fatalf("show lacks %q:\n%s", want, show)
			}
		}
	})
}

func TestServe_NeverConfirms(t *testing.T) {
	s := serveOnStack(t)
	id := s.newAgreement(t, fmt.Sprintf(agreementText, "Never confirms", "Bob Example <bob@example.test>"))
	alice := s.fetch(t, "alice", s.sentMail(t, id, agreements.MailConfirmRequest, s.st.Address("alice")).MessageID)
	bobMail := s.sentMail(t, id, agreements.MailConfirmRequest, s.st.Address("bob"))
	bob := s.fetch(t, "bob", bobMail.MessageID)

	t.Run("WrongAddress", func(t *testing.T) {
		// Bob answers Alice's mail (her token) from his own mailbox.
		key := s.replyAs(t, "bob", alice, "I agree")
		if outcome, folder := s.handled(t, key); outcome != "rejected-sender" || folder != "Rejected" {
			t.Fatalf("%s in %s", outcome, folder)
		}
	})
	t.Run("DisplayNameTrick", func(t *testing.T) {
		key := s.replyAs(t, "bob", alice, "I agree", "X-Note: from bob, named as alice")
		if outcome, _ := s.handled(t, key); outcome != "rejected-sender" {
			t.Fatalf("outcome %s", outcome)
		}
	})
	t.Run("OutOfOffice", func(t *testing.T) {
		before, _ := s.db.FindOutbox(context.Background(), agreements.OutboxFilter{})
		key := s.replyAs(t, "alice", alice, "I am away until Monday.", "Auto-Submitted: auto-replied")
		if outcome, _ := s.handled(t, key); outcome != "auto-reply" {
			t.Fatalf("outcome %s", outcome)
		}
		after, _ := s.db.FindOutbox(context.Background(), agreements.OutboxFilter{})
		if len(after) != len(before) {
			t.Fatalf("an out-of-office reply was answered (%d mails queued)", len(after)-len(before))
		}
	})
	t.Run("QualifiedIsAComment", func(t *testing.T) {
		key := s.replyAs(t, "bob", bob, "I agree except point 2")
		if outcome, _ := s.handled(t, key); outcome != "comment" {
			t.Fatalf("outcome %s", outcome)
		}
		m := s.sentMail(t, id, agreements.MailComment, s.st.Address("alice"))
		raw := s.fetch(t, "alice", m.MessageID)
		if !strings.Contains(string(raw), "except point 2") {
			t.Fatalf("alice's copy of the comment lacks it:\n%s", raw)
		}
	})
	cs, err := s.db.FindConfirmations(context.Background(), id)
	if err != nil || len(cs) != 0 {
		t.Fatalf("%d confirmations, want 0 (%v)", len(cs), err)
	}
}

// TestServe_Bounce: on every server, mail to an address that cannot take
// it marks the address, and the other party is told, once: from the
// server's delivery status notification, or its refusal of the recipient.
func TestServe_Bounce(t *testing.T) {
	eachServer(t, func(t *testing.T, st *mailstack.Stack) {
		s := serveOn(t, st)
		text := strings.Replace(strings.Replace(fmt.Sprintf(agreementText, "Bounces", "Carol <"+st.BounceTo+">"), "Bob will:", "Carol will:", 1), "Bob America/Chicago", "Carol America/Chicago", 1)
		id := s.newAgreement(t, strings.ReplaceAll(text, "alice@example.test", s.st.Address("alice")))
		m := s.sentMail(t, id, agreements.MailBounceNotice, s.st.Address("alice"))
		raw := s.fetch(t, "alice", m.MessageID)
		if !strings.Contains(string(raw), st.BounceTo) {
			t.Fatalf("the bounce notice does not name Carol's address:\n%s", raw)
		}
		if !st.BounceDSN {
			return
		}
		var outcome string
		if err := s.db.SQL().QueryRow(`SELECT outcome FROM inbox WHERE outcome = 'bounce'`).Scan(&outcome); err != nil {
			t.Fatalf("no bounce handled: %v", err)
		}
	})
}

// TestServe_CheckInRound lives through one check-in round on every
// server of the matrix: the clock jumps to Sunday evening, both parties get their
// check-in at 19:00 their time, answer by mail, and each gets the other's
// answer in a digest.
func TestServe_CheckInRound(t *testing.T) {
	eachServer(t, func(t *testing.T, st *mailstack.Stack) {
		var mu sync.Mutex
		offset := time.Duration(0)
		clock := func() time.Time {
			mu.Lock()
			defer mu.Unlock()
			return time.Now().Add(offset)
		}
		s := serveOn(t, st, func(e *env) { e.now, e.tick = clock, 200*time.Millisecond })
		text := onServer(st, strings.Replace(fmt.Sprintf(agreementText, "One round", "Bob Example <bob@example.test>"), "Time zones: Alice Europe/Lisbon, Bob America/Chicago", "Time zone: UTC", 1))
		id := s.newAgreement(t, text)
		for _, user := range []string{"alice", "bob"} {
			raw := s.fetch(t, user, s.sentMail(t, id, agreements.MailConfirmRequest, s.st.Address(user)).MessageID)
			s.handled(t, s.replyAs(t, user, raw, "I agree"))
		}
		a, err := s.db.FindAgreementByID(context.Background(), id)
		if err != nil || a.Status != agreements.StatusActive {
			t.Fatalf("agreement: %v %v", a, err)
		}
		// Jump to the next Sunday, 19:01 UTC.
		now := clock()
		days := (7 - int(now.Weekday())) % 7
		target := time.Date(now.Year(), now.Month(), now.Day(), 19, 1, 0, 0, time.UTC).AddDate(0, 0, days)
		if !target.After(now) {
			target = target.AddDate(0, 0, 7)
		}
		mu.Lock()
		offset = target.Sub(time.Now())
		mu.Unlock()

		answers := map[string]string{"alice": "1 kept, 2 partly\nSomething good about Bob: he asked me first.", "bob": "1 kept\nSomething good about Alice: she called at six."}
		for _, user := range []string{"alice", "bob"} {
			m := s.sentMail(t, id, agreements.MailCheckIn, s.st.Address(user))
			raw := s.fetch(t, user, m.MessageID)
			if !strings.Contains(string(raw), "Time for your check-in") {
				t.Fatalf("%s's check-in:\n%s", user, raw)
			}
			if outcome, _ := s.handled(t, s.replyAs(t, user, raw, answers[user])); outcome != "checkin" {
				t.Fatalf("%s's answer: %s", user, outcome)
			}
		}
		// Each receives the other's answer.
		for user, other := range map[string]string{"alice": "she called at six", "bob": "he asked me first"} {
			m := s.sentMail(t, id, agreements.MailDigest, s.st.Address(user))
			raw := s.fetch(t, user, m.MessageID)
			body := strings.ReplaceAll(string(raw), "=\r\n", "")
			if !strings.Contains(body, other) || !strings.Contains(body, "said about you") {
				t.Fatalf("%s's digest lacks %q:\n%s", user, other, raw)
			}
		}
	})
}
